"""The ASGI application: ``rest_api.main:app`` (``python -m rest_api`` serves it).

Paths carry the ``/api`` prefix themselves: the gateway forwards ``/api/...`` unchanged, so links,
``/api/docs`` and the OpenAPI URL are the same through the gateway and without it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version

from fastapi import FastAPI

from domain.asgi import setup_django


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    from domain import db

    # Stop the database threads, then close the connection pool, so PostgreSQL sees clean
    # disconnects rather than broken connections at every deploy.
    await db.shutdown()


def create_app() -> FastAPI:
    setup_django()
    # Django must be set up before anything imports models.
    from django.conf import settings

    from domain.asgi.http_cache import HttpCacheMiddleware
    from domain.asgi.middleware import BodySizeLimitMiddleware, RequestContextMiddleware
    from domain.blog.cache import blog_cache
    from rest_api import inputs, openapi, problems
    from rest_api.routers import include_routes

    app = FastAPI(
        title="Fast Django REST API",
        version=version("fastdjango-rest"),
        description=openapi.DESCRIPTION,
        openapi_url="/api/openapi.json",
        # Served by rest_api.openapi from local files, not FastAPI's CDN.
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        # A redirect to the slash-less URL would be built from the Host header; a 404 is honest.
        redirect_slashes=False,
        # FastAPI's native OpenTelemetry wraps every request and route in spans even with no
        # provider configured: measurable on a cache hit, and nothing receives them.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    include_routes(app)
    problems.install(app)
    openapi.install(app)
    # Outermost last: request context (ID, query count, access log), then the catch-all 500, then
    # undecodable URLs (refused before the cache keys on them), HTTP caching (a cached read is
    # answered there, before any routing), then the body limit, so even a refused request is
    # logged with its request ID.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.API_MAX_BODY_BYTES)
    app.add_middleware(HttpCacheMiddleware, namespace=blog_cache, paths=["/api/v1/"])
    app.add_middleware(inputs.UndecodableInputMiddleware)
    app.add_middleware(problems.UnhandledErrorMiddleware)
    app.add_middleware(RequestContextMiddleware)
    return app


app = create_app()
