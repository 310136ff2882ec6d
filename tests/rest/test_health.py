"""Liveness and readiness: PostgreSQL is required, Redis is not (the cache fails open). Readiness
answers promptly whatever the database threads and the pool are doing, and a flood of readiness
calls costs PostgreSQL one pooled connection, not one new connection per call."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from django.db import connection
from redis.exceptions import ConnectionError as RedisConnectionError

from domain import db, health
from domain.cache import FailOpenRedisCache
from tests.dbfaults import behind_proxy, database_settings

pytestmark = pytest.mark.django_db(transaction=True)

PROMPT = 1.0


@pytest.fixture(autouse=True)
def _no_cached_readiness():
    health.forget()
    yield
    health.forget()


async def timed_ready(client) -> tuple[float, int, dict]:
    started = time.perf_counter()
    response = await client.get("/api/health/ready")
    return time.perf_counter() - started, response.status_code, response.json()


async def test_live(client):
    response = await client.get("/api/health/live")
    assert response.json() == {"status": "ok"}


async def test_ready_when_postgres_and_redis_answer(client):
    response = await client.get("/api/health/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}


async def test_not_ready_without_postgres_and_ready_again_after(client):
    with behind_proxy() as proxy:
        proxy.stop()
        elapsed, status, body = await timed_ready(client)
        assert status == 503
        assert body == {"status": "unavailable", "checks": {"database": "down", "redis": "ok"}}
        assert elapsed < PROMPT, elapsed
        proxy.start()
        await asyncio.sleep(0.6)
        health.forget()
        assert (await timed_ready(client))[1] == 200


async def test_degraded_but_ready_without_redis(client, monkeypatch):
    def refuse(self: FailOpenRedisCache) -> None:
        raise RedisConnectionError("connection refused")

    monkeypatch.setattr(FailOpenRedisCache, "ping", refuse)
    response = await client.get("/api/health/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "checks": {"database": "ok", "redis": "down"}}


async def test_a_flood_of_readiness_calls_is_one_pooled_check(client, monkeypatch):
    checks = []
    real_check = health.check
    monkeypatch.setattr(health, "check", lambda: checks.append(1) or real_check())
    with behind_proxy() as proxy:
        answers = await asyncio.gather(*(client.get("/api/health/ready") for _ in range(200)))
        assert {answer.status_code for answer in answers} == {200}
        assert len(checks) == 1
        # The pool's first connection or two (it grows while a checkout waits), none per call.
        assert proxy.accepted <= 2
        await asyncio.sleep(1.1)  # the cached answer expires: the next call checks again
        await client.get("/api/health/ready")
        assert len(checks) == 2
        assert proxy.accepted <= 2


async def test_ready_promptly_while_every_database_thread_is_busy(client, settings):
    def sleep_in_postgres() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(1.5)")

    busy = [asyncio.ensure_future(db.run(sleep_in_postgres)) for _ in range(settings.DB_THREADS)]
    await asyncio.sleep(0.2)
    elapsed, status, _ = await timed_ready(client)
    assert status == 200
    assert elapsed < PROMPT, elapsed
    await asyncio.gather(*busy)


def hold_every_connection(stop: threading.Event, held: threading.Barrier) -> None:
    pool = connection.pool
    pool.open()
    conns = [pool.getconn() for _ in range(pool.max_size)]
    held.wait()
    stop.wait(10)
    for conn in conns:
        pool.putconn(conn)


async def test_ready_promptly_while_the_pool_is_exhausted(client):
    """Every connection in use means PostgreSQL answers: ready, without waiting for one."""
    with database_settings():
        stop, held = threading.Event(), threading.Barrier(2)
        holder = threading.Thread(target=hold_every_connection, args=(stop, held))
        holder.start()
        try:
            await asyncio.to_thread(held.wait)
            elapsed, status, _ = await timed_ready(client)
            assert status == 200
            assert elapsed < PROMPT, elapsed
        finally:
            stop.set()
            await asyncio.to_thread(holder.join)
