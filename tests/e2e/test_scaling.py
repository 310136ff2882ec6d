"""Each API scales on its own: the gateway finds new replicas by itself within seconds, spreads
requests over all of them, and loses no request when one stops or the service scales down."""

from __future__ import annotations

import subprocess
import time
import uuid

import httpx

from tests.e2e.burst import Burst
from tests.e2e.stack import Stack

# How soon the gateway must see a change of replicas (nginx re-resolves names every 5 s).
PICKED_UP_WITHIN = 10
READS = ["/api/v1/posts", "/api/health/live", "/api/v1/tags", "/graphql/health/live"]


def served_by(container: str, request_ids: set[str]) -> set[str]:
    logs = subprocess.run(
        ["docker", "logs", container], capture_output=True, text=True, timeout=60, check=True
    )
    text = logs.stdout + logs.stderr
    return {request_id for request_id in request_ids if request_id in text}


def seconds_until_every_replica_serves(stack: Stack, service: str, path: str) -> float:
    """Send requests until each running replica of ``service`` has logged one of them."""
    replicas = stack.containers(service)
    started = time.monotonic()
    request_ids: set[str] = set()
    with httpx.Client(base_url=stack.base_url, timeout=10) as client:
        while time.monotonic() - started < 3 * PICKED_UP_WITHIN:
            batch = {f"scale-{uuid.uuid4().hex}" for _ in range(20)}
            for request_id in batch:
                response = client.get(path, headers={"X-Request-ID": request_id})
                assert response.status_code == 200
            request_ids |= batch
            if all(served_by(name, request_ids) for name in replicas):
                return time.monotonic() - started
            time.sleep(0.5)
    reached = {name: len(served_by(name, request_ids)) for name in replicas}
    raise AssertionError(f"not every replica of {service} was reached: {reached}")


def test_scaled_replicas_all_receive_requests_and_a_stopped_one_costs_nothing(stack: Stack):
    try:
        stack.scale_many(rest=3, graphql=2)
        assert len(stack.containers("rest")) == 3
        assert len(stack.containers("graphql")) == 2
        # Measured from when the new replicas are healthy (`up --wait` has returned).
        assert (
            seconds_until_every_replica_serves(stack, "rest", "/api/health/live") < PICKED_UP_WITHIN
        )
        assert (
            seconds_until_every_replica_serves(stack, "graphql", "/graphql/health/live")
            < PICKED_UP_WITHIN
        )

        victim = stack.containers("rest")[1]
        with Burst(stack.base_url, READS) as burst:
            time.sleep(2)
            subprocess.run(["docker", "stop", victim], check=True, timeout=60)
            time.sleep(PICKED_UP_WITHIN)
        assert len(burst.outcomes) > 100
        failed = [o for o in burst.outcomes if o.status != 200]
        assert not failed, failed[:5]

        # Scaling down while traffic flows fails no request either.
        with Burst(stack.base_url, READS) as burst:
            time.sleep(1)
            stack.scale_many(rest=1, graphql=1)
            time.sleep(PICKED_UP_WITHIN)
        failed = [o for o in burst.outcomes if o.status != 200]
        assert not failed, failed[:5]
    finally:
        stack.scale_many(rest=1, graphql=1)
    assert len(stack.containers("rest")) == 1
