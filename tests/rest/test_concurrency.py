"""Concurrent requests query PostgreSQL concurrently: routes reach the ORM through the domain's
database thread pool (domain/db.py), not Django's one-thread ``sync_to_async``.

Eight requests to the tag list, each made to run a 200 ms query first, are sent one after the
other and then all at once; at once they take a fraction of the serial time (about 250 ms against
1.7 s). The proof is that ratio, measured in the same test, never an absolute time: on a loaded
machine both slow down together. Run with ``-s`` to see the figures (docs/rest.md quotes them).
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from django.db import connection

from domain import db
from domain.blog.models import Post
from domain.blog.selectors import tag_list
from rest_api.routers import tags as tags_router
from tests.factories import make_post

pytestmark = pytest.mark.django_db(transaction=True)

REQUESTS = 8
SLEEP = 0.2
# Concurrent time over serial time: ~0.15 when the requests overlap, ~1 when they queue.
MAX_RATIO = 0.5


async def test_eight_slow_requests_run_concurrently(client, monkeypatch):
    threads: set[str] = set()

    def slow_tag_list(**kwargs):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(%s)", [SLEEP])
        threads.add(threading.current_thread().name)
        return tag_list(**kwargs)

    monkeypatch.setattr(tags_router, "atag_list", db.to_async(slow_tag_list))
    # A page size of its own per request: none is answered from the shared response cache.
    limits = iter(range(1, 100))

    async def one_by_one() -> float:
        started = time.perf_counter()
        for _ in range(REQUESTS):
            response = await client.get(f"/api/v1/tags?limit={next(limits)}")
            assert response.status_code == 200
        return time.perf_counter() - started

    async def all_at_once() -> float:
        threads.clear()
        started = time.perf_counter()
        urls = [f"/api/v1/tags?limit={next(limits)}" for _ in range(REQUESTS)]
        responses = await asyncio.gather(*(client.get(url) for url in urls))
        elapsed = time.perf_counter() - started
        assert [response.status_code for response in responses] == [200] * REQUESTS
        return elapsed

    await all_at_once()  # opens the pool's connections (psycopg's pool opens them one by one)
    serial = await one_by_one()
    concurrent = await all_at_once()
    print(
        f"\n{REQUESTS} requests, each with a {SLEEP * 1000:.0f} ms query: one by one"
        f" {serial * 1000:.0f} ms, at once {concurrent * 1000:.0f} ms"
        f" ({serial / concurrent:.1f}x), on {len(threads)} database threads"
    )
    assert concurrent < MAX_RATIO * serial, (concurrent, serial)
    assert len(threads) == REQUESTS, "each request ran on a thread of its own"


# WRITES THAT RACE
# ------------------------------------------------------------------------------
# Each update below is held for HOLD seconds between reading the post and saving it, and the
# racing requests are sent once it has read: without a row lock (or with a save of every column
# from a stale read) they would finish inside that window and be overwritten.

HOLD = 0.5


@pytest.fixture
def held_update(monkeypatch) -> threading.Event:
    """Make the first post update pause after its read; the event says it has read."""
    from domain.blog.services import posts

    has_read = threading.Event()
    validate = posts.full_clean

    def held(instance, **kwargs):
        if not has_read.is_set():
            has_read.set()
            time.sleep(HOLD)
        return validate(instance, **kwargs)

    monkeypatch.setattr(posts, "full_clean", held)
    return has_read


async def once_read(has_read: threading.Event) -> None:
    assert await asyncio.to_thread(has_read.wait, 10), "the update never read the post"


async def test_concurrent_patches_of_different_fields_lose_nothing(
    client, user, user_auth, held_update
):
    await db.run(make_post, user, "Shared", summary="old summary", body="old body")
    first = asyncio.create_task(
        client.patch("/api/v1/posts/shared", json={"title": "New title"}, headers=user_auth)
    )
    await once_read(held_update)
    second = await client.patch(
        "/api/v1/posts/shared", json={"summary": "new summary"}, headers=user_auth
    )
    assert [(await first).status_code, second.status_code] == [200, 200]
    saved = await db.run(Post.objects.values("title", "summary", "body").get)
    assert saved == {"title": "New title", "summary": "new summary", "body": "old body"}
    assert second.json()["title"] == "New title", "the later PATCH answers the merged post"


async def test_a_patch_racing_view_counts_loses_no_view(client, user, user_auth, held_update):
    views = 6
    await db.run(make_post, user, "Popular")
    patch = asyncio.create_task(
        client.patch("/api/v1/posts/popular", json={"title": "Renamed"}, headers=user_auth)
    )
    await once_read(held_update)
    counted = await asyncio.gather(
        *(client.post("/api/v1/posts/popular/views") for _ in range(views))
    )
    assert (await patch).status_code == 200
    assert sorted(response.json()["view_count"] for response in counted) == list(
        range(1, views + 1)
    )
    saved = await db.run(Post.objects.values("title", "view_count").get)
    assert saved == {"title": "Renamed", "view_count": views}
