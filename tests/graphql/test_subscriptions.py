"""commentAdded over graphql-transport-ws, fed through Redis pub/sub: a comment written through any
app instance (or by the domain directly, as the admin and REST do) reaches the subscribers of every
instance, and only those of its post."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import httpx
import pytest
import redis.asyncio as redis
from asgi_lifespan import LifespanManager
from django.conf import settings
from httpx_ws import AsyncWebSocketSession, WebSocketDisconnect, aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport
from starlette.applications import Starlette

from domain import db
from domain.blog.services.comments import acomment_add
from graphql_api.pubsub import CommentFeed
from tests import factories
from tests.graphql.helpers import GraphQLClient, client_of, eventually
from tests.infra import free_port

pytestmark = pytest.mark.django_db(transaction=True)

COMMENT_ADDED = """
subscription($slug: String!) {
  commentAdded(postSlug: $slug) { body author { username } post { slug commentCount } }
}
"""
ADD_COMMENT = """
mutation($slug: String!, $body: String!) {
  addComment(input: {postSlug: $slug, body: $body}) { errors { code } }
}
"""


def ws_client(app: Starlette) -> httpx.AsyncClient:
    """A client for WebSockets to ``app`` in-process (the client enters the transport)."""
    return httpx.AsyncClient(transport=ASGIWebSocketTransport(app), base_url="http://testserver")


@asynccontextmanager
async def connected(
    app: Starlette, token: str | None = None
) -> AsyncIterator[AsyncWebSocketSession]:
    """A graphql-transport-ws connection to ``app``, initialised (signed in with ``token``)."""
    async with (
        ws_client(app) as client,
        aconnect_ws("/graphql", client, subprotocols=["graphql-transport-ws"]) as ws,
    ):
        assert ws.subprotocol == "graphql-transport-ws"
        init = {"Authorization": f"Bearer {token}"} if token else {}
        await ws.send_json({"type": "connection_init", "payload": init})
        assert await ws.receive_json(timeout=5) == {"type": "connection_ack"}
        yield ws


async def subscribe(ws: AsyncWebSocketSession, slug: str, id: str = "1") -> None:
    payload = {"query": COMMENT_ADDED, "variables": {"slug": slug}}
    await ws.send_json({"id": id, "type": "subscribe", "payload": payload})


async def next_comment(ws: AsyncWebSocketSession) -> dict[str, Any]:
    message = await ws.receive_json(timeout=5)
    assert message["type"] == "next", message
    return message["payload"]["data"]["commentAdded"]


@pytest.fixture
def posts(user: Any) -> tuple[Any, Any, Any]:
    return (
        factories.make_post(user, "Live"),
        factories.make_post(user, "Elsewhere"),
        factories.make_post(user, "Secret", status="draft"),
    )


@pytest.fixture
async def instances(make_app: Any, posts: Any) -> AsyncIterator[tuple[Starlette, Starlette]]:
    """Two app instances, each with its own comment feed, sharing the test Redis."""
    apps = make_app(), make_app()
    async with AsyncExitStack() as stack:
        for app in apps:
            await stack.enter_async_context(LifespanManager(app))
        for app in apps:
            await eventually(app.state.feed.connected.is_set)
        yield apps


async def test_comments_from_any_instance_or_service_reach_subscribers_of_the_post(
    instances, posts, other_token, editor
):
    a, b = instances
    live, elsewhere, _ = posts
    async with connected(a) as ws, connected(a) as other_ws:
        await subscribe(ws, "live")
        await subscribe(other_ws, "elsewhere")
        await eventually(lambda: a.state.feed.subscriber_count(live.id) == 1)
        await eventually(lambda: a.state.feed.subscriber_count(elsewhere.id) == 1)

        async with client_of(b) as http:
            result = await GraphQLClient(http).data(
                ADD_COMMENT, {"slug": "live", "body": "Through B"}, token=other_token
            )
        assert result == {"addComment": {"errors": []}}
        assert await next_comment(ws) == {
            "body": "Through B",
            "author": {"username": "bob"},
            "post": {"slug": "live", "commentCount": 1},
        }

        # As the admin or the REST service would: the domain service, no GraphQL involved.
        await acomment_add(author=editor, post_slug="live", body="From the admin")
        second = await next_comment(ws)
        assert (second["body"], second["author"]["username"]) == ("From the admin", "editor")

        # The other post's subscriber heard neither: its first event is its own post's comment.
        await acomment_add(author=editor, post_slug="elsewhere", body="Elsewhere")
        assert (await next_comment(other_ws))["body"] == "Elsewhere"


async def test_an_invisible_draft_cannot_be_followed_but_its_author_can(
    instances, posts, user_token, other_token
):
    a, _ = instances
    async with connected(a, other_token) as ws:
        await subscribe(ws, "secret")
        assert await ws.receive_json(timeout=5) == {
            "id": "1",
            "type": "error",
            "payload": [
                {
                    "message": "No post with this slug.",
                    "locations": [{"line": 3, "column": 3}],
                    "path": ["commentAdded"],
                    "extensions": {"code": "NOT_FOUND"},
                }
            ],
        }
    secret = posts[2]
    async with connected(a, user_token) as ws:
        await subscribe(ws, "secret")
        await eventually(lambda: a.state.feed.subscriber_count(secret.id) == 1)
        await acomment_add(author=secret.author, post_slug="secret", body="Note to self")
        assert (await next_comment(ws))["body"] == "Note to self"


async def test_unusable_credentials_close_the_connection(instances):
    a, _ = instances
    async with (
        ws_client(a) as client,
        aconnect_ws("/graphql", client, subprotocols=["graphql-transport-ws"]) as ws,
    ):
        await ws.send_json(
            {"type": "connection_init", "payload": {"Authorization": "Bearer fdj_x"}}
        )
        with pytest.raises(WebSocketDisconnect) as closed:
            await ws.receive_json(timeout=5)
    assert closed.value.code == 4403


async def test_completing_a_subscription_unsubscribes_it(instances, posts):
    a, _ = instances
    live = posts[0]
    async with connected(a) as ws:
        await subscribe(ws, "live")
        await eventually(lambda: a.state.feed.subscriber_count(live.id) == 1)
        await ws.send_json({"id": "1", "type": "complete"})
        await eventually(lambda: a.state.feed.subscriber_count(live.id) == 0)


async def test_the_feed_reconnects_when_redis_drops_it(instances, posts, editor):
    a, _ = instances
    live = posts[0]
    async with connected(a) as ws:
        await subscribe(ws, "live")
        await eventually(lambda: a.state.feed.subscriber_count(live.id) == 1)
        admin = redis.from_url(str(settings.CACHES["default"]["LOCATION"]))
        try:
            assert await admin.client_kill_filter(_type="pubsub") >= 2
        finally:
            await admin.aclose()
        await eventually(lambda: not a.state.feed.connected.is_set())
        await eventually(a.state.feed.connected.is_set, seconds=10)
        await db.run(factories.make_comment, live, editor, "After the outage")
        assert (await next_comment(ws))["body"] == "After the outage"


async def test_websocket_messages_are_bounded(instances):
    a, _ = instances
    async with connected(a) as ws:
        query = "subscription { __typename }" + " " * settings.API_MAX_BODY_BYTES
        await ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": query}})
        with pytest.raises(WebSocketDisconnect) as closed:
            await ws.receive_json(timeout=5)
    assert closed.value.code == 1009


async def test_the_feed_starts_and_stops_without_redis():
    feed = CommentFeed(f"redis://127.0.0.1:{free_port()}/0")
    await feed.start(wait=0.3)
    assert not feed.connected.is_set()
    await feed.stop()


async def test_operations_on_one_connection_share_no_loaded_data(instances, posts, user):
    a, _ = instances
    query = '{ post(slug: "live") { author { displayName } } }'

    async def author_name(ws: AsyncWebSocketSession, id: str) -> str:
        await ws.send_json({"id": id, "type": "subscribe", "payload": {"query": query}})
        message = await ws.receive_json(timeout=5)
        assert await ws.receive_json(timeout=5) == {"id": id, "type": "complete"}
        return message["payload"]["data"]["post"]["author"]["displayName"]

    def rename() -> None:
        user.first_name, user.last_name = "Alice", "Liddell"
        user.save()

    async with connected(a) as ws:
        assert await author_name(ws, "1") == "alice"
        await db.run(rename)
        assert await author_name(ws, "2") == "Alice Liddell"
