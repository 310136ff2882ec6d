"""Concurrent requests query PostgreSQL concurrently: routes reach the ORM through the domain's
database thread pool (domain/db.py), not Django's one-thread ``sync_to_async``.

Eight requests to the tag list, each made to run a 200 ms query first, finish together in about
250 ms instead of 1.6 s once the pool's connections are open. Run with ``-s`` to see the figures
(docs/rest.md quotes them).
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


async def test_eight_slow_requests_run_concurrently(client, monkeypatch):
    threads: set[str] = set()

    def slow_tag_list(**kwargs):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(%s)", [SLEEP])
        threads.add(threading.current_thread().name)
        return tag_list(**kwargs)

    monkeypatch.setattr(tags_router, "atag_list", db.to_async(slow_tag_list))
    serial = REQUESTS * SLEEP
    # The first burst also opens the pool's connections; the second is the steady state.
    for n, burst in enumerate(("cold pool", "warm pool")):
        threads.clear()
        started = time.perf_counter()
        # A page size of its own per request: none is answered from the shared response cache.
        urls = [f"/api/v1/tags?limit={n * REQUESTS + i + 1}" for i in range(REQUESTS)]
        responses = await asyncio.gather(*(client.get(url) for url in urls))
        elapsed = time.perf_counter() - started
        assert [response.status_code for response in responses] == [200] * REQUESTS
        print(
            f"\n{burst}: {REQUESTS} concurrent requests, each with a {SLEEP * 1000:.0f} ms query:"
            f" {elapsed * 1000:.0f} ms in all (serialised: {serial * 1000:.0f} ms;"
            f" {serial / elapsed:.1f}x), on {len(threads)} database threads"
        )
        # Opening connections is serialised by psycopg's pool, so only the warm bound is tight.
        assert elapsed < (serial if burst == "cold pool" else serial / 2), (burst, elapsed)
        assert len(threads) == REQUESTS, "each request ran on a thread of its own"
