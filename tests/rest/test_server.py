"""``python -m rest_api`` serves the app with uvicorn against the test PostgreSQL and Redis, and
stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from urllib.parse import quote

import httpx
import pytest
from django.conf import settings

from tests.factories import make_post
from tests.infra import free_port

pytestmark = pytest.mark.django_db(transaction=True)


def database_url() -> str:
    db = settings.DATABASES["default"]
    credentials = f"{quote(db['USER'])}:{quote(db['PASSWORD'])}"
    return f"postgres://{credentials}@{db['HOST']}:{db['PORT']}/{quote(db['NAME'])}"


def wait_until_ready(base: str, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[0]
        try:
            if httpx.get(f"{base}/api/health/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("the server did not become ready")


def test_uvicorn_serves_the_api(user):
    make_post(user, "Served")
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "domain.settings",
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.CACHES["default"]["LOCATION"],
        "UVICORN_HOST": "127.0.0.1",
        "PORT": str(port),
        "UVICORN_GRACEFUL_TIMEOUT": "5",
        "SERVICE_NAME": "rest-test",
        "LOG_LEVEL": "INFO",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "rest_api"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(base, process)
        ready = httpx.get(f"{base}/api/health/ready").json()
        assert ready == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}
        docs = httpx.get(f"{base}/api/docs")
        assert docs.status_code == 200
        assert "/api/openapi.json" in docs.text
        assert httpx.get(f"{base}/api/openapi.json").json()["paths"]
        posts = httpx.get(f"{base}/api/v1/posts").json()
        assert [post["slug"] for post in posts["items"]] == ["served"]
        assert "server" not in httpx.get(f"{base}/api/health/live").headers
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    # uvicorn shuts down gracefully, then re-raises the signal so the exit status tells why.
    assert process.returncode == -signal.SIGTERM, output
    assert "Application shutdown complete" in output, output
    assert "fastdjango.access: GET /api/v1/posts 200" in output, output
