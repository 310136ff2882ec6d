"""The services ride out their dependencies' outages without being restarted."""

from __future__ import annotations

import json
import time

from tests.e2e.burst import Burst
from tests.e2e.clients import graphql
from tests.e2e.stack import Stack

READS = ["/api/v1/posts", "/api/v1/tags", "/api/v1/categories"]


def test_a_postgres_restart_is_survived_without_restarting_the_services(stack: Stack):
    services = ("admin", "rest", "graphql")
    before = {service: stack.started_at(service) for service in services}
    (rest,) = stack.containers("rest")
    with Burst(stack.base_url, READS) as burst:
        time.sleep(1)
        stack.compose_command("stop", "postgres")
        time.sleep(4)
        # Readiness is asked directly (the gateway does not route health paths).
        assert stack.readiness(rest)[0] == 503, "readiness went red while PostgreSQL was down"
        stack.compose_command("start", "postgres")
        stack.wait_ready("rest", timeout=120)
        time.sleep(2)

    assert {o.status for o in burst.outcomes} <= {200, 503}, burst.statuses()
    assert not [o for o in burst.outcomes if "Traceback" in o.body or "psycopg" in o.body]
    unavailable = [o for o in burst.outcomes if o.status == 503]
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
            (rest,) = stack.containers("rest")
            status, ready = stack.readiness(rest)
            assert status == 200
            assert ready["checks"]["redis"] == "down"
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
    stack.wait_ready("rest")
    (rest,) = stack.containers("rest")
    assert stack.readiness(rest)[1]["checks"]["redis"] == "ok"
