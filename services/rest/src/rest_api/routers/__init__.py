"""Routes, one module per area, joined into the versioned API here."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from rest_api.deps import get_viewer
from rest_api.problems import problem_responses
from rest_api.routers import auth, categories, comments, health, posts, tags

api_router = APIRouter(
    prefix="/api/v1",
    # Every endpoint authenticates a token that is sent, so a bad one is a 401 even where none is
    # needed; routes that use the viewer get this same, request-cached result.
    dependencies=[Depends(get_viewer)],
    responses=problem_responses(401, 422, 503),
)
for area in (posts, comments, categories, tags, auth):
    api_router.include_router(area.router)

health_router = health.router

__all__ = ["api_router", "health_router"]
