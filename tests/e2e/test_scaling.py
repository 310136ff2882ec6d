"""Each API scales on its own: the gateway finds new replicas by itself, spreads requests over
all of them, and loses no request when one stops."""

from __future__ import annotations

import subprocess
import time
import uuid

import httpx

from tests.e2e.burst import Burst
from tests.e2e.stack import Stack

REPLICAS = 3


def served_by(container: str, request_ids: set[str]) -> set[str]:
    logs = subprocess.run(
        ["docker", "logs", container], capture_output=True, text=True, timeout=60, check=True
    )
    text = logs.stdout + logs.stderr
    return {request_id for request_id in request_ids if request_id in text}


def test_scaled_replicas_all_receive_requests_and_a_stopped_one_costs_nothing(stack: Stack):
    stack.scale("rest", REPLICAS)
    try:
        replicas = stack.containers("rest")
        assert len(replicas) == REPLICAS

        # The gateway resolves the service name every few seconds: wait until all answer.
        request_ids: set[str] = set()
        deadline = time.monotonic() + 30
        with httpx.Client(base_url=stack.base_url, timeout=10) as client:
            while time.monotonic() < deadline:
                batch = {f"scale-{uuid.uuid4().hex}" for _ in range(30)}
                for request_id in batch:
                    response = client.get("/api/health/live", headers={"X-Request-ID": request_id})
                    assert response.status_code == 200
                request_ids |= batch
                if all(served_by(name, request_ids) for name in replicas):
                    break
                time.sleep(1)
        reached = {name: len(served_by(name, request_ids)) for name in replicas}
        assert all(reached.values()), reached

        with Burst(stack.base_url, ["/api/v1/posts", "/api/health/live", "/api/v1/tags"]) as burst:
            time.sleep(2)
            subprocess.run(["docker", "stop", replicas[1]], check=True, timeout=60)
            time.sleep(4)
        failed = [o for o in burst.outcomes if o.status != 200]
        assert len(burst.outcomes) > 100
        assert not failed, failed[:5]
    finally:
        stack.scale("rest", 1)
    assert len(stack.containers("rest")) == 1
