from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, SecretStr

from domain import inputs
from rest_api.schemas.common import Input, Output


class TokenRequest(Input):
    username: str = Field(max_length=inputs.USERNAME_MAX_LENGTH)
    password: SecretStr = Field(max_length=1024)
    name: str = Field(default="", max_length=100, description="What the token is for.")


class TokenOut(Output):
    token: str = Field(description="Send it as `Authorization: Bearer <token>`. Shown once.")
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (the scheme's name, not a secret)
    expires_at: datetime | None


class MeOut(Output):
    id: int
    username: str
    display_name: str
    email: str
    is_staff: bool
