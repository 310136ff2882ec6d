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
from domain.blog.selectors import tag_list
from rest_api.routers import tags as tags_router

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

    async def one_by_one() -> float:
        started = time.perf_counter()
        for _ in range(REQUESTS):
            assert (await client.get("/api/v1/tags")).status_code == 200
        return time.perf_counter() - started

    async def all_at_once() -> float:
        threads.clear()
        started = time.perf_counter()
        responses = await asyncio.gather(*(client.get("/api/v1/tags") for _ in range(REQUESTS)))
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
