"""Routes, one module per area, joined into the versioned API here."""

from __future__ import annotations

from fastapi import FastAPI, Security

from rest_api.deps import viewer_scheme
from rest_api.problems import problem_responses
from rest_api.routers import auth, categories, comments, health, posts, tags

AREAS = (posts, comments, categories, tags, auth)


def include_routes(app: FastAPI) -> None:
    """Each area under ``/api/v1``, then the health checks.

    The areas are included in the app directly rather than through one ``/api/v1`` router: since
    FastAPI 0.137 included routers stay a tree that every request walks, and the extra level
    cost each request more than its routing did otherwise."""
    for area in AREAS:
        app.include_router(
            area.router,
            prefix="/api/v1",
            # Every endpoint authenticates a token that is sent, so a bad one is a 401 even where
            # none is needed; routes that use the viewer get this same, request-cached result.
            dependencies=[Security(viewer_scheme)],
            responses=problem_responses(401, 422, 503),
        )
    app.include_router(health.router)


__all__ = ["include_routes"]
