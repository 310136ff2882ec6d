"""commentAdded over graphql-transport-ws, fed through Redis pub/sub: a comment written through any
app instance (or by the domain directly, as the admin and REST do) reaches the subscribers of every
instance, and only those of its post, and only while they may see it. WebSockets end when their
access does, are capped per process and per address, and a subscriber that falls behind is told."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
import redis.asyncio as redis
from asgi_lifespan import LifespanManager
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from httpx_ws import AsyncWebSocketSession, WebSocketDisconnect, aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport
from starlette.applications import Starlette

from domain import db
from domain.accounts.models import ApiToken
from domain.accounts.services import token_revoke, tokens_revoke
from domain.blog.cache import blog_cache
from domain.blog.events import CommentAdded, acomment_audience, publish_comment_added
from domain.blog.services.comments import acomment_add
from domain.blog.services.posts import apost_delete, apost_unpublish
from graphql_api.pubsub import CommentFeed, viewer_key
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


def ws_client(app: Starlette, address: str = "127.0.0.1") -> httpx.AsyncClient:
    """A client for WebSockets to ``app`` in-process (the client enters the transport), from
    the client ``address``."""
    transport = ASGIWebSocketTransport(app, client=(address, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@asynccontextmanager
async def connected(
    app: Starlette, token: str | None = None, address: str = "127.0.0.1"
) -> AsyncIterator[AsyncWebSocketSession]:
    """A graphql-transport-ws connection to ``app``, initialised (signed in with ``token``)."""
    async with (
        ws_client(app, address) as client,
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


# VISIBILITY, RE-CHECKED AT EVERY EVENT
# ------------------------------------------------------------------------------


async def ended_with(ws: AsyncWebSocketSession, code: str) -> str:
    """The subscription's last ``next`` carries an error with ``code``, then it completes; the
    error's message."""
    message = await ws.receive_json(timeout=5)
    assert message["type"] == "next", message
    assert message["payload"]["data"] is None
    (error,) = message["payload"]["errors"]
    assert error["extensions"]["code"] == code, error
    assert await ws.receive_json(timeout=5) == {"id": message["id"], "type": "complete"}
    return error["message"]


async def test_a_post_unpublished_after_subscribing_reaches_only_who_may_still_see_it(
    instances, posts, user, user_token, other_token
):
    a, _ = instances
    live = posts[0]
    async with (
        connected(a) as anonymous,
        connected(a, other_token) as bob,
        connected(a, user_token) as author,
    ):
        for ws in (anonymous, bob, author):
            await subscribe(ws, "live")
        await eventually(lambda: a.state.feed.subscriber_count(live.id) == 3)

        await apost_unpublish(actor=user, slug="live")
        await acomment_add(author=user, post_slug="live", body="Only for me now")

        assert (await next_comment(author))["body"] == "Only for me now"
        for ws in (anonymous, bob):
            assert await ended_with(ws, "NOT_FOUND") == "No post with this slug."
        await eventually(lambda: a.state.feed.subscriber_count(live.id) == 1)


async def test_an_event_in_flight_when_its_post_is_deleted_is_not_sent(instances, posts, user):
    a, _ = instances
    live = posts[0]
    async with connected(a) as ws:
        await subscribe(ws, "live")
        await eventually(lambda: a.state.feed.subscriber_count(live.id) == 1)
        comment = await db.run(factories.make_comment, live, user, "Just before")
        assert (await next_comment(ws))["body"] == "Just before"

        late = CommentAdded(
            comment_id=comment.id,
            post_id=live.id,
            post_slug="live",
            author_id=user.id,
            body="Announced after the post was deleted",
            created_at=comment.created_at,
        )
        await apost_delete(actor=user, slug="live")
        await db.run(publish_comment_added, late)
        assert await ended_with(ws, "NOT_FOUND") == "No post with this slug."


async def test_each_event_is_checked_once_for_all_the_subscribers_of_its_post(
    instances, posts, user, user_token, editor
):
    a, _ = instances
    feed = a.state.feed
    checked: list[list[int | None]] = []
    check = feed.audience

    async def counted(event: CommentAdded, viewers: Any) -> Any:
        checked.append(sorted(viewer_key(viewer) or 0 for viewer in viewers))
        return await check(event, viewers)

    feed.audience = counted
    async with (
        connected(a) as anonymous_1,
        connected(a) as anonymous_2,
        connected(a, user_token) as alice_1,
        connected(a, user_token) as alice_2,
    ):
        sockets = (anonymous_1, anonymous_2, alice_1, alice_2)
        for ws in sockets:
            await subscribe(ws, "live")
        await eventually(lambda: feed.subscriber_count(posts[0].id) == 4)
        await acomment_add(author=editor, post_slug="live", body="One")
        await acomment_add(author=editor, post_slug="live", body="Two")
        for ws in sockets:
            assert [(await next_comment(ws))["body"] for _ in range(2)] == ["One", "Two"]
    # Four subscribers, two distinct viewers (anonymous, alice): one check per event.
    assert checked == [[0, user.id], [0, user.id]]


# ACCESS THAT ENDS CLOSES THE SOCKETS
# ------------------------------------------------------------------------------


def _token_record(token: str) -> ApiToken:
    return ApiToken.objects.get(prefix=token[:12])


def revoke_as_the_admin_does(token: str) -> None:
    """The admin's change form: the token saved with ``revoked_at`` set."""
    record = _token_record(token)
    record.revoked_at = timezone.now()
    record.save()


def deactivate(user: Any) -> None:
    user.is_active = False
    user.save()


def expire_silently(token: str) -> None:
    """A write no signal reports (``QuerySet.update``), so no process is told."""
    ApiToken.objects.filter(prefix=token[:12]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )


async def closed_with(ws: AsyncWebSocketSession) -> tuple[int, str]:
    """Read until the server closes the socket (past anything still on its way): its close code
    and reason. Waiting more than 5 s for a message fails."""
    for _ in range(100):
        try:
            await ws.receive_json(timeout=5)
        except WebSocketDisconnect as closed:
            return closed.code, closed.reason
    raise AssertionError("the socket stayed open")


@pytest.mark.parametrize(
    "end_access",
    [
        pytest.param(lambda user, token: revoke_as_the_admin_does(token), id="token-revoked"),
        pytest.param(lambda user, token: _token_record(token).delete(), id="token-deleted"),
        pytest.param(
            lambda user, token: token_revoke(user=user, token=token), id="token-revoked-by-holder"
        ),
        pytest.param(
            lambda user, token: tokens_revoke(tokens=ApiToken.objects.filter(user=user)),
            id="tokens-revoked-in-bulk",
        ),
        pytest.param(lambda user, token: deactivate(user), id="user-deactivated"),
    ],
)
async def test_access_ending_closes_that_users_sockets_on_every_instance(
    instances, posts, user, user_token, other_token, editor, end_access
):
    a, b = instances
    live = posts[0]
    async with (
        connected(a, user_token) as alice_on_a,
        connected(b, user_token) as alice_on_b,
        connected(a, other_token) as bob,
    ):
        for ws in (alice_on_a, alice_on_b, bob):
            await subscribe(ws, "live")
        await eventually(lambda: a.state.feed.subscriber_count(live.id) == 2)
        await eventually(lambda: b.state.feed.subscriber_count(live.id) == 1)

        await db.run(end_access, user, user_token)

        for ws in (alice_on_a, alice_on_b):
            assert await closed_with(ws) == (
                4403,
                "Forbidden: the credentials are no longer valid",
            )
        await eventually(lambda: a.state.feed.subscriber_count(live.id) == 1)
        await eventually(lambda: b.state.feed.subscriber_count(live.id) == 0)
        await eventually(lambda: a.state.sockets.signed_in_count(user.id) == 0)
        # Someone else's socket is untouched.
        await acomment_add(author=editor, post_slug="live", body="Still here")
        assert (await next_comment(bob))["body"] == "Still here"


async def test_after_an_unannounced_revocation_the_next_operation_closes_the_socket(
    instances, posts, user_token
):
    a, _ = instances
    async with connected(a, user_token) as ws:
        await subscribe(ws, "live")
        await eventually(lambda: a.state.feed.subscriber_count(posts[0].id) == 1)
        await db.run(expire_silently, user_token)

        await subscribe(ws, "elsewhere", id="2")
        assert (await closed_with(ws))[0] == 4403
        await eventually(lambda: a.state.feed.subscriber_count(posts[0].id) == 0)
        assert a.state.feed.subscriber_count(posts[1].id) == 0


async def test_the_periodic_recheck_closes_a_socket_whose_token_stopped_working(
    make_app, posts, user_token
):
    app = make_app(ws_recheck_interval=0.2)
    async with LifespanManager(app), connected(app, user_token) as ws:
        await subscribe(ws, "live")
        await eventually(lambda: app.state.feed.subscriber_count() == 1)
        await db.run(expire_silently, user_token)
        assert (await closed_with(ws))[0] == 4403
        await eventually(lambda: app.state.feed.subscriber_count() == 0)


# CAPS
# ------------------------------------------------------------------------------


@asynccontextmanager
async def refused(app: Starlette, address: str = "127.0.0.1") -> AsyncIterator[str]:
    """Open a WebSocket that the server closes at once; yield its close reason (code 1013)."""
    async with (
        ws_client(app, address) as client,
        aconnect_ws("/graphql", client, subprotocols=["graphql-transport-ws"]) as ws,
    ):
        code, reason = await closed_with(ws)
    assert code == 1013
    yield reason


async def test_websockets_over_the_process_cap_are_closed_with_try_again_later(make_app, posts):
    app = make_app(ws_max_connections=2)
    async with LifespanManager(app):
        async with (
            connected(app, address="10.0.0.1"),
            connected(app, address="10.0.0.2"),
            refused(app, "10.0.0.3") as reason,
        ):
            assert reason == "Too many WebSocket connections on this server; try again later"
        assert app.state.sockets.open == 0
        async with connected(app, address="10.0.0.3"):
            assert app.state.sockets.open == 1


async def test_websockets_over_the_per_address_cap_are_closed(make_app, posts):
    app = make_app(ws_max_per_address=2)
    async with LifespanManager(app), connected(app), connected(app):
        async with refused(app) as reason:
            assert reason == "Too many WebSocket connections from this address"
        async with connected(app, address="10.0.0.9") as elsewhere:
            await subscribe(elsewhere, "live")
            await eventually(lambda: app.state.feed.subscriber_count() == 1)


async def test_subscriptions_over_the_process_cap_are_refused(make_app, posts):
    app = make_app(max_process_subscriptions=2)
    feed = app.state.feed
    async with LifespanManager(app), connected(app) as one, connected(app) as two:
        await subscribe(one, "live")
        await subscribe(one, "elsewhere", id="2")
        await eventually(lambda: feed.subscriber_count() == 2)

        await subscribe(two, "live")
        message = await two.receive_json(timeout=5)
        assert message["type"] == "error"
        (error,) = message["payload"]
        assert error["extensions"] == {"code": "UNAVAILABLE"}
        assert error["message"].startswith("This server holds as many subscriptions as it may")

        await one.send_json({"id": "2", "type": "complete"})
        await eventually(lambda: feed.subscriber_count() == 1)
        await subscribe(two, "live", id="3")
        await eventually(lambda: feed.subscriber_count() == 2)


# SLOW SUBSCRIBERS
# ------------------------------------------------------------------------------


async def test_a_subscriber_that_falls_behind_is_closed_and_told_it_missed_events(
    make_app, posts, editor, caplog
):
    app = make_app(subscription_buffer=1)
    feed = app.state.feed
    held = asyncio.Event()
    check = feed.audience

    async def slow(event: CommentAdded, viewers: Any) -> Any:
        await held.wait()
        return await check(event, viewers)

    feed.audience = slow
    async with LifespanManager(app), connected(app) as ws:
        await subscribe(ws, "live")
        await eventually(lambda: feed.subscriber_count() == 1)
        # "One" is held (its check waits), "Two" fills the buffer, "Three" does not fit.
        for body in ("One", "Two", "Three"):
            await acomment_add(author=editor, post_slug="live", body=body)
        await eventually(lambda: feed.subscriber_count() == 0)
        held.set()

        assert (await next_comment(ws))["body"] == "One"
        assert (await ended_with(ws, "EVENTS_DROPPED")).startswith(
            "This subscription fell too far behind and missed comments"
        )
    assert f"a subscriber of post {posts[0].id} fell 1 events behind" in caplog.text


async def test_one_check_per_event_costs_a_fraction_of_one_check_per_subscriber(posts, user):
    """What the batching buys, measured: 200 subscribers of one post held by 20 signed-in
    viewers and anonymous ones. Each event comes right after a write (the blog cache is stale, as
    after the comment that caused it): one check for the distinct viewers, against one check per
    subscriber."""
    viewers = [await db.run(factories.make_user) for _ in range(20)]
    subscribers = [viewers[i % 20] if i % 2 else AnonymousUser() for i in range(200)]
    distinct = list({viewer_key(s): s for s in subscribers}.values())
    event = CommentAdded(
        comment_id=1,
        post_id=posts[0].id,
        post_slug="live",
        author_id=user.id,
        body="x",
        created_at=timezone.now(),
    )

    async def per_event(check_one_event: Any) -> float:
        started = time.perf_counter()
        for _ in range(10):
            await db.run(blog_cache.invalidate)
            await check_one_event()
        return (time.perf_counter() - started) / 10

    async def batched() -> None:
        assert await acomment_audience(event, distinct) == [True] * len(distinct)

    async def one_per_subscriber() -> None:
        for subscriber in subscribers:
            assert await acomment_audience(event, [subscriber]) == [True]

    baseline = await per_event(one_per_subscriber)
    shared = await per_event(batched)
    print(f"\nper event: {shared * 1000:.2f} ms batched, {baseline * 1000:.2f} ms per subscriber")
    assert shared < 0.1 * baseline
