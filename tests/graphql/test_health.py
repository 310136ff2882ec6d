"""Health endpoints under the gateway's /graphql prefix, and the request context around them."""

from __future__ import annotations

import pytest

from domain.health import Readiness

pytestmark = pytest.mark.django_db(transaction=True)


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


async def test_not_ready_without_the_database(http, monkeypatch):
    async def database_down() -> Readiness:
        return Readiness(database=False, redis=True)

    monkeypatch.setattr("graphql_api.app.areadiness", database_down)
    response = await http.get("/graphql/health/ready")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
