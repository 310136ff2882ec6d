"""``python -m rest_api`` serves the app with uvicorn against the test PostgreSQL and Redis, and
stops cleanly on SIGTERM."""

from __future__ import annotations

import signal

import httpx
import pytest

from tests.factories import make_post
from tests.serving import server, service_env

pytestmark = pytest.mark.django_db(transaction=True)


def test_uvicorn_serves_the_api(user):
    make_post(user, "Served")
    env = service_env(SERVICE_NAME="rest-test", LOG_LEVEL="INFO", UVICORN_GRACEFUL_TIMEOUT="5")
    with server(["-m", "rest_api"], env=env, probe="/api/health/ready") as running:
        base = running.url
        ready = httpx.get(f"{base}/api/health/ready").json()
        assert ready == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}
        docs = httpx.get(f"{base}/api/docs")
        assert docs.status_code == 200
        assert "/api/openapi.json" in docs.text
        assert httpx.get(f"{base}/api/openapi.json").json()["paths"]
        posts = httpx.get(f"{base}/api/v1/posts").json()
        assert [post["slug"] for post in posts["items"]] == ["served"]
        assert "server" not in httpx.get(f"{base}/api/health/live").headers
    # uvicorn shuts down gracefully, then re-raises the signal so the exit status tells why.
    assert running.returncode == -signal.SIGTERM, running.output
    assert "Application shutdown complete" in running.output, running.output
    assert "fastdjango.access: GET /api/v1/posts 200" in running.output, running.output
