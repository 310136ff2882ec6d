"""domain.db: ORM work from async code runs concurrently, returns its connections, is shed when
every database thread is busy, counts its round trips, and turns an unreachable database into
Unavailable."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import psycopg
import pytest
from asgiref.sync import sync_to_async
from django.conf import settings as django_settings
from django.db import (
    OperationalError,
    ProgrammingError,
    close_old_connections,
    connection,
    transaction,
)

from domain import db
from domain.errors import Unavailable
from tests.dbfaults import behind_proxy, database_settings

pytestmark = pytest.mark.django_db(transaction=True)

SLEEP = 0.2
CONCURRENT = 8
THREADS = django_settings.DB_THREADS


def sleep_in_postgres(seconds: float = SLEEP) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(%s)", [seconds])
    return threading.current_thread().name


def read() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        return cursor.fetchone()[0]


async def test_queries_from_concurrent_callers_run_concurrently():
    started = time.perf_counter()
    for _ in range(CONCURRENT):
        await db.run(sleep_in_postgres)
    serial = time.perf_counter() - started

    started = time.perf_counter()
    threads = await asyncio.gather(*(db.run(sleep_in_postgres) for _ in range(CONCURRENT)))
    concurrent = time.perf_counter() - started

    assert concurrent < 0.5 * serial, (concurrent, serial)
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


def connections_out() -> int:
    stats = connection.pool.get_stats()
    return stats["pool_size"] - stats["pool_available"]


def backend_pid() -> int:
    """Read, and return which server process answered."""
    read()
    return connection.connection.info.backend_pid


@pytest.fixture
def one_thread(monkeypatch: pytest.MonkeyPatch) -> Iterator[db.DatabaseThreads]:
    """db.run on a single database thread of the test's own."""
    threads = db.DatabaseThreads(1)
    monkeypatch.setattr(db, "_executor", threads)
    yield threads
    threads.shutdown()


async def test_idle_threads_give_their_connections_back(monkeypatch):
    monkeypatch.setattr(db, "HOLD_IDLE", 0.1)
    for _ in range(3):
        await asyncio.gather(*(db.run(sleep_in_postgres) for _ in range(CONCURRENT)))
    assert await asyncio.to_thread(connections_out) >= 1  # kept while work keeps coming
    # Threads already waiting wait out the HOLD_IDLE (1 s) they started with.
    # Only the test's own thread (pytest-django's flush between tests) may still hold one.
    for _ in range(60):
        if await asyncio.to_thread(connections_out) <= 1:
            break
        await asyncio.sleep(0.05)
    assert await asyncio.to_thread(connections_out) <= 1
    assert connection.pool.get_stats().get("requests_waiting", 0) == 0


async def test_a_thread_keeps_its_connection_from_call_to_call(one_thread):
    with db.track_queries() as log:
        first = await db.run(backend_pid)
        second = await db.run(backend_pid)
    assert first == second
    assert (log.checkouts, log.round_trips) == (1, 2)
    with db.track_queries() as log:
        await db.run(write_in_a_transaction)  # a committed transaction leaves it clean
        assert await db.run(backend_pid) == first
    assert log.checkouts == 0


def refused_statement() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELEC 1")


async def test_a_thread_hands_back_a_connection_that_saw_an_error(one_thread):
    await db.run(read)
    with pytest.raises(ProgrammingError):
        await db.run(refused_statement)
    with db.track_queries() as log:
        assert await db.run(read) == 1
    assert log.checkouts == 1


async def test_a_thread_hands_its_connection_back_after_hold_max(one_thread, monkeypatch):
    monkeypatch.setattr(db, "HOLD_MAX", 0.0)
    with db.track_queries() as log:
        await db.run(read)
        await db.run(read)
    assert log.checkouts == 2


async def test_a_pool_smaller_than_the_threads_gets_every_connection_back(one_thread, monkeypatch):
    monkeypatch.setattr(db, "HOLD_IDLE", 60.0)  # a kept connection would stay out
    with database_settings(pool={"max_size": THREADS - 1, "min_size": 1}):
        with db.track_queries() as log:
            await db.run(read)
            await db.run(read)
        assert log.checkouts == 2
        # The pool counts a connection it is still opening in the background (the first checkout
        # may have asked for one) as out until it is ready.
        for _ in range(40):
            if await asyncio.to_thread(connections_out) == 0:
                break
            await asyncio.sleep(0.05)
        assert await asyncio.to_thread(connections_out) == 0


async def test_a_kept_connection_the_server_closed_is_replaced(one_thread):
    first = await db.run(backend_pid)
    await asyncio.to_thread(terminate, first)
    with db.track_queries() as log:
        second = await db.run(backend_pid)
    assert second != first
    assert log.count == 1  # found dead before use: nothing failed, nothing ran twice


def terminate(pid: int) -> None:
    with psycopg.connect(**connection.get_connection_params()) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", [pid])
    time.sleep(0.1)  # the server's goodbye reaches the socket


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


async def test_an_unreachable_database_is_unavailable():
    def broken() -> None:
        raise OperationalError("refused")

    with pytest.raises(Unavailable):
        await db.run(broken)


# SHEDDING AND TIMEOUTS
# ------------------------------------------------------------------------------


async def test_a_call_that_finds_every_thread_busy_is_shed_not_queued(settings):
    settings.DB_QUEUE_TIMEOUT = 0.2
    busy = [asyncio.ensure_future(db.run(sleep_in_postgres, 1.5)) for _ in range(THREADS)]
    await asyncio.sleep(0.1)
    started = time.perf_counter()
    with pytest.raises(Unavailable):
        await db.run(read)
    waited = time.perf_counter() - started
    # Shed after the queue timeout, long before a thread would have been free.
    assert waited < 1.0, waited
    await asyncio.gather(*busy)
    assert await db.run(read) == 1


async def test_a_cancelled_caller_keeps_its_thread_counted_until_the_thread_is_done(settings):
    settings.DB_QUEUE_TIMEOUT = 0.2
    calls = [asyncio.ensure_future(db.run(sleep_in_postgres, 0.6)) for _ in range(THREADS)]
    await asyncio.sleep(0.1)
    for call in calls:
        call.cancel()
    # The threads are still sleeping: a new call must not be handed to a queue behind them.
    with pytest.raises(Unavailable):
        await db.run(read)
    await asyncio.sleep(0.8)
    assert await db.run(read) == 1


def hold_every_connection(stop: threading.Event, held: threading.Barrier) -> None:
    pool = connection.pool
    pool.open()
    conns = [pool.getconn() for _ in range(pool.max_size)]
    held.wait()
    stop.wait(10)
    for conn in conns:
        pool.putconn(conn)


async def test_pool_exhaustion_is_unavailable_within_the_pool_timeout():
    with database_settings(pool={"timeout": 0.5}):
        stop, held = threading.Event(), threading.Barrier(2)
        holder = threading.Thread(target=hold_every_connection, args=(stop, held))
        holder.start()
        try:
            await asyncio.to_thread(held.wait)
            started = time.perf_counter()
            with pytest.raises(Unavailable):
                await db.run(read)
            assert time.perf_counter() - started < 0.5 + 1.0
        finally:
            stop.set()
            await asyncio.to_thread(holder.join)
        assert await db.run(read) == 1


async def test_a_statement_timeout_is_unavailable_and_the_connection_stays_usable():
    with database_settings(options="-c statement_timeout=100"):
        started = time.perf_counter()
        with pytest.raises(Unavailable):
            await db.run(sleep_in_postgres, 2)
        assert time.perf_counter() - started < 1.0
        assert await db.run(read) == 1


# ROUND TRIPS
# ------------------------------------------------------------------------------


def write_in_a_transaction() -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.execute("SELECT 2")


async def test_a_read_costs_one_round_trip_and_at_most_one_checkout():
    await db.run(read)  # a pooled connection to take
    with db.track_queries() as log:
        await db.run(read)
    assert (log.count, log.liveness_checks, log.transaction_round_trips) == (1, 0, 0)
    assert log.checkouts <= 1  # none when the thread kept its connection
    assert log.round_trips == 1


async def test_a_transaction_counts_begin_and_commit():
    with db.track_queries() as log:
        await db.run(write_in_a_transaction)
    assert log.count == 2
    assert log.transaction_round_trips == 2  # BEGIN, COMMIT
    assert log.round_trips == 4


async def test_liveness_checked_by_query_costs_a_round_trip_per_call(settings):
    settings.DB_LIVENESS_CHECK = "query"
    with db.track_queries() as log:
        await db.run(read)
        await db.run(read)
    # A kept connection is checked before each call the way a checkout is.
    assert (log.liveness_checks, log.round_trips) == (2, 4)


async def test_counts_reach_enclosing_logs():
    with db.track_queries() as outer:
        with db.track_queries() as inner:
            await db.run(write_in_a_transaction)
        await db.run(read)
    assert (inner.count, inner.round_trips) == (2, 4)
    assert (outer.count, outer.round_trips) == (3, 5)
    assert inner.checkouts <= outer.checkouts <= inner.checkouts + 1


# PING
# ------------------------------------------------------------------------------


def test_ping_uses_the_pool_not_a_new_connection_each_time():
    with behind_proxy() as proxy:
        for _ in range(20):
            db.ping()
        # The pool's first connection or two (it grows while a checkout waits), none per call.
        assert proxy.accepted <= 2


def test_ping_raises_when_postgres_does_not_answer():
    with database_settings(PORT="1"), pytest.raises(OperationalError):
        db.ping()
