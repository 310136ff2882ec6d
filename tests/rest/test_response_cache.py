"""The shared response cache (domain.asgi.http_cache): an anonymous read asked again is answered
from the bytes kept in Redis, before any routing; it carries the ETag a fresh render of the same
content gets; any write, from any service, makes it stale; and nothing a signed-in viewer reads
is ever given to someone else."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from typing import Any

import pytest
from django.test import Client
from starlette.routing import Router

from domain import db
from domain.blog.models import Post
from domain.blog.records import PostView
from domain.blog.services.posts import post_update
from domain.cache import Namespace
from tests.factories import make_post, make_user
from tests.infra import wait_for_redis
from tests.rest.helpers import bearer, problem

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def work(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Counts of what serving a request costs: requests that reached the router (where FastAPI
    validates parameters and routes run), domain cache reads (records decoded) and read models
    built from rows."""
    counts: Counter[str] = Counter()

    def counting(name: str, original: Any) -> Any:
        def counted(*args: Any, **kwargs: Any) -> Any:
            counts[name] += 1
            return original(*args, **kwargs)

        return counted

    monkeypatch.setattr(Router, "__call__", counting("routed", Router.__call__))
    monkeypatch.setattr(Namespace, "get_or_set", counting("cache reads", Namespace.get_or_set))
    monkeypatch.setattr(PostView, "from_row", counting("records", PostView.from_row))
    return counts


@pytest.fixture
def hello(user: Any) -> Post:
    return make_post(user, "Hello", tags=["greeting"])


async def counted(client: Any, url: str, **kwargs: Any) -> tuple[Any, int]:
    with db.track_queries() as log:
        response = await client.get(url, **kwargs)
    return response, log.count


@pytest.mark.parametrize("url", ["/api/v1/posts", "/api/v1/posts/hello", "/api/v1/tags"])
async def test_a_repeated_anonymous_read_is_answered_before_routing(client, hello, work, url):
    first, queries = await counted(client, url)
    assert first.status_code == 200
    assert work["routed"] == 1
    assert queries > 0

    work.clear()
    again, queries = await counted(client, url)
    assert again.status_code == 200
    assert again.content == first.content
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["cache-control"] == "public, max-age=0, must-revalidate"
    assert again.headers["content-type"] == "application/json"
    assert queries == 0
    assert work == Counter(), "no routing, no cache decode, no record"


async def test_a_conditional_hit_is_304_before_routing(client, hello, work):
    etag = (await client.get("/api/v1/posts")).headers["etag"]
    work.clear()
    response, queries = await counted(client, "/api/v1/posts", headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag
    assert (queries, work["routed"]) == (0, 0)


async def test_cached_bytes_and_a_fresh_render_share_an_etag_until_a_write(client, hello, user):
    stored = await client.get("/api/v1/posts/hello")  # rendered, and kept
    cached = await client.get("/api/v1/posts/hello")  # the kept bytes
    fresh = await client.get("/api/v1/posts/hello", headers=await db.run(bearer, user))
    assert stored.headers["etag"] == cached.headers["etag"] == fresh.headers["etag"]
    assert fresh.content == cached.content
    assert fresh.headers["cache-control"].startswith("private")

    await db.run(post_update, actor=user, slug="hello", title="Hello again")
    after = await client.get("/api/v1/posts/hello")
    assert after.json()["title"] == "Hello again"
    assert after.headers["etag"] != cached.headers["etag"]


def _write_through_rest(user: Any, client: Any) -> Any:
    async def write() -> None:
        headers = await db.run(bearer, user)
        response = await client.patch("/api/v1/posts/hello", json={"title": "New"}, headers=headers)
        assert response.status_code == 200, response.text

    return write


def _write_through_graphql(user: Any, client: Any) -> Any:
    async def write() -> None:
        from asgi_lifespan import LifespanManager

        from domain.accounts.services import token_issue
        from graphql_api.app import create_app
        from tests.graphql.helpers import GraphQLClient, client_of

        token = (await db.run(token_issue, user=user)).token
        app = create_app()
        async with LifespanManager(app), client_of(app) as http:
            result = await GraphQLClient(http).data(
                'mutation { updatePost(input: {slug: "hello", title: "New"}) '
                "{ errors { message } post { title } } }",
                token=token,
            )
        assert result["updatePost"] == {"errors": [], "post": {"title": "New"}}

    return write


def _write_through_the_admin(user: Any, client: Any) -> Any:
    def change_in_admin() -> None:
        admin = make_user(is_staff=True, is_superuser=True)
        browser = Client()
        browser.force_login(admin)
        post = Post.objects.get(slug="hello")
        form = {
            "title": "New",
            "slug": post.slug,
            "author": post.author_id,
            "summary": post.summary,
            "body": post.body,
            "status": post.status,
            "published_at_0": post.published_at.strftime("%Y-%m-%d"),
            "published_at_1": post.published_at.strftime("%H:%M:%S"),
        }
        response = browser.post(f"/admin/blog/post/{post.pk}/change/", form)
        assert response.status_code == 302, response.content.decode()[:2000]

    async def write() -> None:
        await db.run(change_in_admin)

    return write


@pytest.mark.parametrize(
    "through", [_write_through_rest, _write_through_graphql, _write_through_the_admin]
)
async def test_a_write_from_any_service_makes_cached_responses_stale(client, hello, user, through):
    for url in ("/api/v1/posts", "/api/v1/posts/hello"):
        await client.get(url)
        assert (await counted(client, url))[1] == 0, "cached"
    await through(user, client)()
    listing, queries = await counted(client, "/api/v1/posts")
    assert queries > 0
    assert listing.json()["items"][0]["title"] == "New"
    assert (await client.get("/api/v1/posts/hello")).json()["title"] == "New"


async def test_what_a_signed_in_viewer_reads_is_never_shared(client, user, editor):
    await db.run(make_post, user, "Draft", status="draft")
    await db.run(make_post, user, "Public")
    author, staff = await db.run(bearer, user), await db.run(bearer, editor)
    for headers in (author, staff):
        drafts = await client.get("/api/v1/posts?status=draft", headers=headers)
        assert [p["slug"] for p in drafts.json()["items"]] == ["draft"]
        assert drafts.headers["cache-control"].startswith("private")
        draft = await client.get("/api/v1/posts/draft", headers=headers)
        assert draft.status_code == 200
    # Asked again without credentials: refused, not served from what the others were given.
    problem(await client.get("/api/v1/posts?status=draft"), 401, "not_authenticated")
    problem(await client.get("/api/v1/posts/draft"), 404, "not_found")
    # And the anonymous list, cached, never held the draft.
    for _ in range(2):
        listing = await client.get("/api/v1/posts")
        assert [p["slug"] for p in listing.json()["items"]] == ["public"]


async def test_a_token_is_checked_even_when_the_response_is_cached(client, hello):
    await client.get("/api/v1/posts")
    response = await client.get("/api/v1/posts", headers={"Authorization": "Bearer fdj_revoked"})
    problem(response, 401, "not_authenticated")


async def test_redis_down_serves_from_the_database(client, hello, monkeypatch, settings):
    from domain import cache as domain_cache

    await client.get("/api/v1/posts")
    breaker = domain_cache._breakers[settings.CACHES["default"]["LOCATION"]]
    monkeypatch.setattr(breaker, "down_until", float("inf"))
    response, queries = await counted(client, "/api/v1/posts")
    assert response.status_code == 200
    assert queries > 0
    assert "etag" in response.headers


async def test_the_response_cache_resumes_after_redis_restarts(client, hello, own_redis, caplog):
    """While Redis is stopped, reads are served from the database; once it is back, anonymous
    reads are answered from the response cache again (the connections the event loop held to
    the old Redis are dropped, not tried one failure at a time)."""
    caplog.set_level(logging.INFO, logger="domain.cache")
    for _ in range(3):  # cached, with a few connections kept idle
        await client.get("/api/v1/posts")
    own_redis.stop(timeout=1)
    for _ in range(3):
        response, queries = await counted(client, "/api/v1/posts")
        assert (response.status_code, queries > 0) == (200, True)
    own_redis.start()
    await asyncio.to_thread(wait_for_redis)
    deadline = time.monotonic() + 10
    served = []
    while len(served) < 3:  # three hits in a row
        assert time.monotonic() < deadline, "the response cache did not resume"
        await asyncio.sleep(0.25)  # past CACHE_RETRY_AFTER
        response, queries = await counted(client, "/api/v1/posts")
        assert response.status_code == 200
        served = [*served, queries] if queries == 0 else []
    logged = [r.getMessage() for r in caplog.records if r.name == "domain.cache"]
    assert sum("cache unavailable" in m for m in logged) == 1, logged  # once per outage
    assert "cache available again" in logged, logged


async def test_a_hung_redis_costs_the_response_cache_one_timeout(
    client, hello, own_redis, settings, monkeypatch
):
    """Redis paused (it accepts the command and never answers): the first lookup gives up at
    the link's deadline, which opens the breaker, and the reads after it are served from the
    database without asking Redis. Counted, not timed; the outer bound only turns a lookup that
    never gives up into a failure instead of a hung test."""
    from domain import cache as domain_cache

    settings.CACHE_RETRY_AFTER = 30
    await client.get("/api/v1/posts")  # a connection to Redis is kept idle
    commands = Counter[str]()
    link_call = domain_cache._Link.__call__

    async def counted_command(self: Any, *command: Any) -> Any:
        commands[command[0]] += 1
        return await link_call(self, *command)

    monkeypatch.setattr(domain_cache._Link, "__call__", counted_command)
    own_redis.pause()
    try:
        async with asyncio.timeout(10):
            for _ in range(5):
                response, queries = await counted(client, "/api/v1/posts")
                assert (response.status_code, queries > 0) == (200, True)
    finally:
        own_redis.unpause()
    assert commands == {"MGET": 1}
    assert not domain_cache._breakers[settings.CACHES["default"]["LOCATION"]].allows()
