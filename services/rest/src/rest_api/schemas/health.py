from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

Check = Literal["ok", "down"]


class Liveness(BaseModel):
    status: Literal["ok"] = "ok"


class ReadinessChecks(BaseModel):
    database: Check
    redis: Check


class ReadinessOut(BaseModel):
    status: Literal["ok", "degraded", "unavailable"]
    checks: ReadinessChecks
