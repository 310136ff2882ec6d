"""The services ride out their dependencies' outages without being restarted."""

from __future__ import annotations

import json
import time

from tests.e2e.burst import Burst
from tests.e2e.clients import graphql
from tests.e2e.stack import Stack

READS = ["/api/health/ready", "/api/v1/posts", "/api/v1/tags", "/api/v1/categories"]


def test_a_postgres_restart_is_survived_without_restarting_the_services(stack: Stack):
    services = ("admin", "rest", "graphql")
    before = {service: stack.started_at(service) for service in services}
    with Burst(stack.base_url, READS) as burst:
        time.sleep(1)
        stack.compose_command("stop", "postgres")
        time.sleep(4)
        stack.compose_command("start", "postgres")
        stack.wait_until("/api/health/ready", 200, timeout=120)
        time.sleep(2)

    readiness = [o.status for o in burst.outcomes if o.path == "/api/health/ready"]
    assert 503 in readiness, "readiness went red while PostgreSQL was down"
    assert readiness[-1] == 200, "and green again after"
    assert {o.status for o in burst.outcomes} <= {200, 503}, burst.statuses()
    assert not [o for o in burst.outcomes if "Traceback" in o.body or "psycopg" in o.body]
    unavailable = [o for o in burst.outcomes if o.status == 503 and o.path != "/api/health/ready"]
    assert all(json.loads(o.body)["code"] == "unavailable" for o in unavailable)

    # Recovered by themselves: the same containers serve again, none was restarted.
    with stack.client() as client:
        for path in READS:
            assert client.get(path).status_code == 200, path
        assert graphql(client, "{ tags(first: 1) { edges { node { slug } } } }")
    assert {service: stack.started_at(service) for service in services} == before


def test_reads_and_writes_succeed_while_redis_is_stopped(stack: Stack, auth):
    stack.compose_command("stop", "redis")
    try:
        with stack.client() as client:
            ready = client.get("/api/health/ready")
            assert ready.status_code == 200
            assert ready.json()["checks"]["redis"] == "down"
            for path in READS:
                assert client.get(path).status_code == 200, path
            created = client.post(
                "/api/v1/posts",
                json={"title": "Written without Redis", "publish": True},
                headers=auth,
            )
            assert created.status_code == 201, created.text
            slug = created.json()["slug"]
            assert client.get(f"/api/v1/posts/{slug}").json()["title"] == "Written without Redis"
            data = graphql(
                client, "query ($slug: String!) { post(slug: $slug) { title } }", {"slug": slug}
            )
            assert data["post"]["title"] == "Written without Redis"
    finally:
        stack.compose_command("start", "redis")
    stack.wait_until("/api/health/ready", 200)
    with stack.client() as client:
        assert client.get("/api/health/ready").json()["checks"]["redis"] == "ok"
