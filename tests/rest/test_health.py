"""Liveness and readiness: PostgreSQL is required, Redis is not (the cache fails open)."""

from __future__ import annotations

import pytest
from django.db import OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError

from domain import db
from domain.cache import FailOpenRedisCache

pytestmark = pytest.mark.django_db(transaction=True)


async def test_live(client):
    response = await client.get("/api/health/live")
    assert response.json() == {"status": "ok"}


async def test_ready_when_postgres_and_redis_answer(client):
    response = await client.get("/api/health/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}


async def test_not_ready_without_postgres(client, monkeypatch):
    def refuse(timeout: int = 2) -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr(db, "ping", refuse)
    response = await client.get("/api/health/ready")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["checks"]["database"] == "down"


async def test_degraded_but_ready_without_redis(client, monkeypatch):
    def refuse(self: FailOpenRedisCache) -> None:
        raise RedisConnectionError("connection refused")

    monkeypatch.setattr(FailOpenRedisCache, "ping", refuse)
    response = await client.get("/api/health/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "checks": {"database": "ok", "redis": "down"}}
