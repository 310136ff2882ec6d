"""Health endpoints under the gateway's /graphql prefix, and the request context around them."""

from __future__ import annotations

import asyncio
import time

import pytest

from domain import health
from tests.dbfaults import behind_proxy

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _no_cached_readiness():
    health.forget()
    yield
    health.forget()


async def test_live(http):
    response = await http.get("/graphql/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["x-request-id"]


async def test_ready_reports_the_database_redis_and_the_comment_feed(http, app):
    response = await http.get("/graphql/health/ready", headers={"X-Request-ID": "probe-1"})
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "redis": "ok", "subscriptions": "ok"},
    }
    assert response.headers["x-request-id"] == "probe-1"


async def test_not_ready_without_the_database(http):
    with behind_proxy() as proxy:
        proxy.stop()
        started = time.perf_counter()
        response = await http.get("/graphql/health/ready")
        elapsed = time.perf_counter() - started
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "down", "redis": "ok", "subscriptions": "ok"},
    }
    assert elapsed < 1.0, elapsed


async def test_a_flood_of_readiness_calls_opens_no_connection_per_call(http):
    with behind_proxy() as proxy:
        answers = await asyncio.gather(*(http.get("/graphql/health/ready") for _ in range(200)))
        assert {answer.status_code for answer in answers} == {200}
        assert proxy.accepted <= 2
