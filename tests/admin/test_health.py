"""The admin's health endpoints and pages through PostgreSQL outages (gunicorn's gthread workers
take connections the way Django's test client does: on the request's thread, from the pool)."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.test import Client

from domain import health
from tests.dbfaults import behind_proxy

pytestmark = pytest.mark.django_db(transaction=True)

PROMPT = 1.0


@pytest.fixture(autouse=True)
def _no_cached_readiness():
    health.forget()
    yield
    health.forget()


def test_ready_and_not_ready():
    assert Client().get("/admin/health/ready").json()["status"] == "ok"
    with behind_proxy() as proxy:
        proxy.stop()
        health.forget()
        started = time.perf_counter()
        response = Client().get("/admin/health/ready")
        assert time.perf_counter() - started < PROMPT
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "down"


def test_a_flood_of_readiness_calls_opens_no_connection_per_call():
    with behind_proxy() as proxy, ThreadPoolExecutor(8) as threads:
        statuses = list(
            threads.map(lambda _: Client().get("/admin/health/ready").status_code, range(200))
        )
        assert set(statuses) == {200}
        assert proxy.accepted <= 2


def changelist(client: Client) -> tuple[float, int, object]:
    """An uncached page, then the connection back to the pool: what Django does on
    request_finished under gunicorn (its test client keeps the connection instead)."""
    started = time.perf_counter()
    response = client.get(f"/admin/blog/post/?q={uuid.uuid4().hex}")
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed, response.status_code, response


def test_after_a_restart_and_silence_the_next_page_is_served(admin_client):
    with behind_proxy(pool={"min_size": 4}) as proxy:
        assert changelist(admin_client)[1] == 200
        time.sleep(0.5)  # the pool fills up with idle connections
        proxy.restart()
        time.sleep(2)
        for _ in range(3):
            elapsed, status, _ = changelist(admin_client)
            assert status == 200
            assert elapsed < PROMPT, elapsed


def test_while_postgres_is_down_pages_are_a_prompt_503_problem(admin_client, settings):
    with behind_proxy() as proxy:
        assert changelist(admin_client)[1] == 200
        proxy.stop()
        for _ in range(3):
            elapsed, status, response = changelist(admin_client)
            assert status == 503
            assert response["Content-Type"] == "application/problem+json"
            assert int(response["Retry-After"]) > 0
            assert response.json()["code"] == "unavailable"
            assert elapsed < PROMPT, elapsed
        proxy.start()
        time.sleep(settings.DB_RETRY_INTERVAL + 0.5)
        elapsed, status, _ = changelist(admin_client)
        assert status == 200
        assert elapsed < PROMPT, elapsed
