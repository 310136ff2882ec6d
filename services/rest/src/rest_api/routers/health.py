"""Health checks for the container runtime: no authentication, no cache. The gateway does not
route them (a 404 there), so they are not in the OpenAPI document either."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from domain.health import areadiness
from rest_api.schemas.health import Liveness, ReadinessOut

router = APIRouter(prefix="/api/health", tags=["health"], include_in_schema=False)


@router.get("/live", response_model=Liveness, summary="Liveness")
async def live() -> Liveness:
    """The process answers. Checks nothing else, so a database outage never restarts it."""
    return Liveness()


@router.get(
    "/ready",
    response_model=ReadinessOut,
    summary="Readiness",
    responses={503: {"model": ReadinessOut, "description": "PostgreSQL does not answer."}},
)
async def ready(response: Response) -> ReadinessOut:
    """Ready when PostgreSQL answers. A Redis outage is `degraded` but still ready: the cache
    fails open, so the service is slower, not wrong."""
    readiness = await areadiness()
    if not readiness.ready:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return ReadinessOut.model_validate(readiness.as_dict())
