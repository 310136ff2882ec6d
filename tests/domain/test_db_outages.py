"""domain.db through PostgreSQL restarts and outages (played by a proxy, tests/tcpproxy.py): after
PostgreSQL comes back the next read succeeds, traffic or not; while it is down, reads fail within a
second, not after the pool's timeout."""

from __future__ import annotations

import asyncio
import time

import pytest
from django.conf import settings
from django.db import connection

from domain import db
from domain.errors import Unavailable
from tests.dbfaults import behind_proxy

pytestmark = pytest.mark.django_db(transaction=True)

# The bound for a request while PostgreSQL is down, and for one after it is back.
PROMPT = 1.0
# Idle pooled connections to go stale: with psycopg_pool's own check, each dead one costs a
# request 1 s, 2 s, 4 s... of backoff, so three are enough to exceed its 5 s timeout.
IDLE = 6


def read() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        return cursor.fetchone()[0]


def idle_connections() -> int:
    return connection.pool.get_stats()["pool_available"]


async def fill_pool() -> None:
    """Use the pool, and wait until it holds IDLE idle connections."""
    assert await db.run(read) == 1
    for _ in range(100):
        if await db.run(idle_connections) >= IDLE:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the pool never held {IDLE} idle connections")


async def timed_read() -> tuple[float, int | Exception]:
    started = time.perf_counter()
    try:
        result: int | Exception = await db.run(read)
    except Unavailable as exc:
        result = exc
    return time.perf_counter() - started, result


@pytest.fixture
def proxy():
    with behind_proxy(pool={"min_size": IDLE}) as proxy:
        yield proxy


async def test_after_a_restart_and_silence_the_next_read_succeeds(proxy):
    await fill_pool()
    proxy.restart()
    await asyncio.sleep(2)  # nothing touches the pool meanwhile
    for _ in range(3):
        elapsed, result = await timed_read()
        assert result == 1, result
        assert elapsed < PROMPT, elapsed


async def test_after_a_restart_concurrent_reads_all_succeed(proxy):
    await fill_pool()
    proxy.restart()
    await asyncio.sleep(1)
    outcomes = await asyncio.gather(*(timed_read() for _ in range(IDLE)))
    assert [result for _, result in outcomes] == [1] * IDLE
    assert max(elapsed for elapsed, _ in outcomes) < PROMPT, outcomes


async def test_while_postgres_is_down_reads_fail_fast_and_the_next_after_it_succeeds(proxy):
    await fill_pool()
    proxy.stop()
    for _ in range(4):
        elapsed, result = await timed_read()
        assert isinstance(result, Unavailable), result
        assert elapsed < PROMPT, elapsed
    proxy.start()
    # No request for a while: the first one after PostgreSQL is back must succeed.
    await asyncio.sleep(settings.DB_RETRY_INTERVAL + 0.5)
    elapsed, result = await timed_read()
    assert result == 1, result
    assert elapsed < PROMPT, elapsed


async def test_down_from_the_start_fails_fast_too(proxy):
    """An empty pool that cannot connect: the waiting request fails when the attempt does."""
    proxy.stop()
    elapsed, result = await timed_read()
    assert isinstance(result, Unavailable), result
    assert elapsed < PROMPT, elapsed
    proxy.start()
    await asyncio.sleep(settings.DB_RETRY_INTERVAL + 0.5)
    assert (await timed_read())[1] == 1


async def test_a_connection_lost_mid_read_is_retried_once_on_a_fresh_one(proxy):
    await fill_pool()
    calls = []

    def read_twice() -> int:
        calls.append(1)
        if len(calls) == 1:
            read()
            proxy.restart()  # the server goes away between two statements of one unit
        return read()

    assert await db.run(read_twice) == 1
    assert len(calls) == 2


async def test_a_lost_write_is_not_repeated(proxy):
    """A statement that may have been applied is never sent twice: the unit fails instead."""
    await db.run(read)
    calls = []

    def write_then_read() -> int:
        calls.append(1)
        with connection.cursor() as cursor:
            cursor.execute("CREATE TEMPORARY TABLE IF NOT EXISTS t (n int)")
            cursor.execute("INSERT INTO t VALUES (1)")
        proxy.restart()
        return read()

    with pytest.raises(Unavailable):
        await db.run(write_then_read)
    assert len(calls) == 1
