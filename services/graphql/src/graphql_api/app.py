"""The GraphQL service's ASGI application (``python -m graphql_api`` serves it with uvicorn).

Routes, all under the ``/graphql`` prefix the gateway sends here:

* ``/graphql``: GraphQL over HTTP (GET and POST) and over WebSocket (graphql-transport-ws);
* ``/graphql/health/live``: the process answers;
* ``/graphql/health/ready``: PostgreSQL answers (503 if not); Redis and the comment feed are
  reported, not required.
"""

# ruff: noqa: E402 (Django is set up before any domain module is imported)
from __future__ import annotations

from domain.asgi import setup_django

setup_django()

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from django.conf import settings
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route, WebSocketRoute

from domain import db
from domain.asgi.http_cache import HttpCacheMiddleware
from domain.asgi.middleware import BodySizeLimitMiddleware, RequestContextMiddleware
from domain.blog.cache import blog_cache
from domain.health import areadiness
from graphql_api.config import Config
from graphql_api.middleware import WebSocketAdmissionMiddleware, WebSocketMessageLimitMiddleware
from graphql_api.pubsub import CommentFeed
from graphql_api.schema import build_schema
from graphql_api.sockets import Sockets
from graphql_api.view import GraphQLView


def _events_redis_url() -> str:
    """The Redis the domain publishes its events on: its cache's (``REDIS_URL``)."""
    return str(settings.CACHES["default"]["LOCATION"]).split(",")[0]


def _health_routes(feed: CommentFeed) -> list[BaseRoute]:
    async def live(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def ready(request: Request) -> JSONResponse:
        readiness = await areadiness()
        body = readiness.as_dict()
        body["checks"]["subscriptions"] = "ok" if feed.connected.is_set() else "down"  # type: ignore[index]
        return JSONResponse(body, status_code=200 if readiness.ready else 503)

    return [Route("/graphql/health/live", live), Route("/graphql/health/ready", ready)]


def create_app(config: Config | None = None) -> Starlette:
    """A GraphQL app with its own comment feed (one Redis subscription) for its lifetime."""
    config = config or Config.from_env()
    feed = CommentFeed(
        _events_redis_url(),
        buffer=config.subscription_buffer,
        max_subscriptions=config.max_process_subscriptions,
    )
    sockets = Sockets(
        max_open=config.ws_max_connections,
        max_per_address=config.ws_max_per_address,
        recheck_interval=config.ws_recheck_interval,
    )
    feed.on_access_changed = sockets.access_changed
    graphql = GraphQLView(build_schema(config), config=config, feed=feed, sockets=sockets)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await feed.start()
        try:
            yield
        finally:
            await feed.stop()
            await sockets.stop()
            await db.shutdown()

    app = Starlette(
        routes=[
            *_health_routes(feed),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
        ],
        middleware=[
            Middleware(RequestContextMiddleware),
            Middleware(BodySizeLimitMiddleware, max_bytes=settings.API_MAX_BODY_BYTES),
            Middleware(WebSocketAdmissionMiddleware, sockets=sockets),
            Middleware(WebSocketMessageLimitMiddleware, max_bytes=settings.API_MAX_BODY_BYTES),
            # Anonymous queries are answered from Redis before Strawberry parses them.
            Middleware(
                HttpCacheMiddleware, namespace=blog_cache, paths=["/graphql"], body_methods=["POST"]
            ),
        ],
        lifespan=lifespan,
    )
    app.state.feed = feed
    app.state.sockets = sockets
    app.state.schema = graphql.schema
    return app


app = create_app()
