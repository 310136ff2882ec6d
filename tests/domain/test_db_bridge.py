"""domain.db: ORM work from async code runs concurrently, returns its connections, and turns an
unreachable database into Unavailable."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from asgiref.sync import sync_to_async
from django.db import close_old_connections, connection

from domain import db
from domain.errors import Unavailable

pytestmark = pytest.mark.django_db(transaction=True)

SLEEP = 0.2
CONCURRENT = 8


def sleep_in_postgres() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(%s)", [SLEEP])
    return threading.current_thread().name


async def test_queries_from_concurrent_callers_run_concurrently():
    started = time.perf_counter()
    threads = await asyncio.gather(*(db.run(sleep_in_postgres) for _ in range(CONCURRENT)))
    elapsed = time.perf_counter() - started
    assert elapsed < CONCURRENT * SLEEP / 2, elapsed
    assert len(set(threads)) == CONCURRENT
    assert all(name.startswith("db") for name in threads)


async def test_djangos_default_bridge_serialises_them():
    """The problem db.run solves: sync_to_async's default runs every call on one thread."""
    started = time.perf_counter()
    await asyncio.gather(*(sync_to_async(sleep_in_postgres)() for _ in range(4)))
    assert time.perf_counter() - started >= 4 * SLEEP
    # Nothing gives that thread's connection back unless asked (Django would on request_finished).
    await sync_to_async(close_old_connections)()


def pool_stats() -> dict[str, int]:
    return connection.pool.get_stats()


async def test_every_call_gives_its_connection_back():
    for _ in range(3):
        await asyncio.gather(*(db.run(sleep_in_postgres) for _ in range(CONCURRENT)))
    stats = await db.run(pool_stats)
    # Only the test's own thread (pytest-django's flush between tests) may still hold one.
    assert stats["pool_size"] - stats["pool_available"] <= 1, stats
    assert stats.get("requests_waiting", 0) == 0, stats


async def test_the_callers_context_reaches_the_thread():
    with db.track_queries(capture=True) as log:
        await db.run(sleep_in_postgres)
        await asyncio.gather(db.run(sleep_in_postgres), db.run(sleep_in_postgres))
    assert log.count == 3
    assert all("pg_sleep" in sql for sql in log.statements)


async def test_async_twin_keeps_the_name_and_result():
    def add(a: int, b: int) -> int:
        return a + b

    aadd = db.to_async(add)
    assert aadd.__name__ == "aadd"
    assert await aadd(2, b=3) == 5


async def test_an_unreachable_database_is_unavailable(settings):
    def broken() -> None:
        raise __import__("django.db", fromlist=["OperationalError"]).OperationalError("refused")

    with pytest.raises(Unavailable):
        await db.run(broken)


def test_ping():
    db.ping()
