"""What a REST client sees when PostgreSQL fails or is saturated: a prompt 503 problem with
Retry-After, never a wait for the pool's timeout, never a traceback; readiness stays prompt."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid

import psycopg
import pytest
from django.db import connection

from domain import db, health
from tests.dbfaults import behind_proxy, database_settings
from tests.rest.helpers import problem

pytestmark = pytest.mark.django_db(transaction=True)

PROMPT = 1.0


@pytest.fixture(autouse=True)
def _no_cached_readiness():
    health.forget()
    yield
    health.forget()


async def uncached_read(client) -> tuple[float, object]:
    """A search nobody can have cached: every call needs PostgreSQL."""
    started = time.perf_counter()
    response = await client.get("/api/v1/posts", params={"q": uuid.uuid4().hex})
    return time.perf_counter() - started, response


def unavailable(response) -> None:
    problem(response, 503, "unavailable")
    assert int(response.headers["retry-after"]) > 0
    assert "Traceback" not in response.text


async def test_postgres_down_is_a_prompt_503_and_back_is_served(client, settings):
    with behind_proxy() as proxy:
        elapsed, response = await uncached_read(client)
        assert response.status_code == 200
        proxy.stop()
        for _ in range(3):
            elapsed, response = await uncached_read(client)
            unavailable(response)
            assert elapsed < PROMPT, elapsed
        proxy.start()
        await asyncio.sleep(settings.DB_RETRY_INTERVAL + 0.3)
        elapsed, response = await uncached_read(client)
        assert response.status_code == 200, response.text
        assert elapsed < PROMPT, elapsed


async def test_a_restart_while_idle_costs_no_request(client):
    with behind_proxy(pool={"min_size": 4}) as proxy:
        assert (await uncached_read(client))[1].status_code == 200
        await asyncio.sleep(0.5)  # the pool holds its idle connections
        proxy.restart()
        await asyncio.sleep(1)
        for _ in range(3):
            elapsed, response = await uncached_read(client)
            assert response.status_code == 200, response.text
            assert elapsed < PROMPT, elapsed


async def test_busy_database_threads_shed_the_request_with_a_503(client, settings):
    settings.DB_QUEUE_TIMEOUT = 0.2

    def sleep_in_postgres() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(1.5)")

    busy = [asyncio.ensure_future(db.run(sleep_in_postgres)) for _ in range(settings.DB_THREADS)]
    await asyncio.sleep(0.2)
    elapsed, response = await uncached_read(client)
    unavailable(response)
    assert elapsed < PROMPT, elapsed  # not after the 1.5 s it takes a thread to free up
    ready = await client.get("/api/health/ready")
    assert ready.status_code == 200
    await asyncio.gather(*busy)


def hold_every_connection(stop: threading.Event, held: threading.Barrier) -> None:
    pool = connection.pool
    pool.open()
    conns = [pool.getconn() for _ in range(pool.max_size)]
    held.wait()
    stop.wait(10)
    for conn in conns:
        pool.putconn(conn)


async def test_an_exhausted_pool_is_a_503_within_its_timeout_and_readiness_stays_prompt(client):
    with database_settings(pool={"timeout": 0.5}):
        stop, held = threading.Event(), threading.Barrier(2)
        holder = threading.Thread(target=hold_every_connection, args=(stop, held))
        holder.start()
        try:
            await asyncio.to_thread(held.wait)
            elapsed, response = await uncached_read(client)
            unavailable(response)
            assert elapsed < 0.5 + PROMPT, elapsed
            started = time.perf_counter()
            ready = await client.get("/api/health/ready")
            assert ready.status_code == 200
            assert time.perf_counter() - started < PROMPT
        finally:
            stop.set()
            await asyncio.to_thread(holder.join)


async def test_a_statement_timeout_is_a_503(client):
    """A query stuck behind a lock past ``statement_timeout``: the request gets a 503."""
    with database_settings(options="-c statement_timeout=200"):
        params = connection.get_connection_params()
        for key in ("cursor_factory", "context", "prepare_threshold"):
            params.pop(key, None)
        with psycopg.connect(**params) as locker:
            locker.execute("LOCK TABLE blog_post IN ACCESS EXCLUSIVE MODE")
            elapsed, response = await uncached_read(client)
            locker.rollback()
        unavailable(response)
        assert elapsed < PROMPT, elapsed
        assert (await uncached_read(client))[1].status_code == 200
