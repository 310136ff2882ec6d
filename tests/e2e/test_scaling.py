"""Each API scales on its own, and losing a replica costs clients nothing.

The gateway finds new replicas by itself within seconds and spreads requests over them. Under
steady traffic (readers and a writer, every request timed), a replica that is stopped finishes
what it has in flight, one that is SIGKILLed or paused is skipped after its first failure, and no
request takes more than a second longer than the same traffic did before. Writes are never sent
twice: the only writes that can fail are those in flight on a replica that died or stalled, and
the client's retry with its Idempotency-Key then writes exactly once.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import quote

import pytest

from tests.e2e.burst import Burst, Outcome, Write, percentile
from tests.e2e.stack import Stack

# How soon the gateway must see a change of replicas (it re-resolves names every 2 s).
PICKED_UP_WITHIN = 10
# "No request slower than 1 s beyond normal latency" (normal: the same traffic, undisturbed).
BEYOND_NORMAL = 1.0
CALM_SECONDS = 5
GRAPHQL_READ = "/graphql?query=" + quote("{ tags(first: 3) { edges { node { slug } } } }")
READS = ["/api/v1/posts", "/api/v1/tags", "/api/v1/categories", GRAPHQL_READ]
READERS, WRITERS = 4, 1


def docker(*args: str) -> None:
    subprocess.run(["docker", *args], check=True, capture_output=True, timeout=120)


@pytest.fixture
def replicas(stack: Stack) -> Iterator[None]:
    """Three rest replicas and two graphql ones (those stopped or killed earlier are started
    again), and back to one of each afterwards."""
    try:
        stack.scale_many(rest=3, graphql=2)
        for service in ("rest", "graphql"):
            for container in stack.compose_command("ps", "-a", "-q", service).split():
                docker("start", container)
        stack.wait_ready("rest", "graphql")
        assert (len(stack.containers("rest")), len(stack.containers("graphql"))) == (3, 2)
        yield
    finally:
        for service in ("rest", "graphql"):
            for container in stack.compose_command("ps", "-q", service).split():
                subprocess.run(["docker", "unpause", container], capture_output=True, check=False)
                wait_healthy(container)
        stack.scale_many(rest=1, graphql=1)


@pytest.fixture(scope="module")
def commented(stack: Stack, auth: dict[str, str]) -> str:
    """A published post the writers comment on."""
    with stack.client() as client:
        response = client.post(
            "/api/v1/posts", json={"title": "Busy", "publish": True}, headers=auth
        )
    assert response.status_code == 201, response.text
    return response.json()["slug"]


def comment_writes(slug: str, auth: dict[str, str]) -> Callable[[int], Write]:
    def write(n: int) -> Write:
        key = f"burst-{uuid.uuid4().hex}"
        return Write(f"/api/v1/posts/{slug}/comments", {"body": key}, key, headers=auth)

    return write


def wait_healthy(container: str, timeout: float = 90) -> None:
    """Until the container's health check passes (after a pause it has failed for a while)."""
    deadline = time.monotonic() + timeout
    while True:
        status = subprocess.run(
            ["docker", "inspect", "--format", "{{.State.Health.Status}}", container],
            capture_output=True, text=True, timeout=30, check=False,
        ).stdout.strip()  # fmt: skip
        if status in ("healthy", ""):  # "": gone or not running
            return
        assert time.monotonic() < deadline, f"{container} stayed {status}"
        time.sleep(1)


def calm(burst: Burst) -> list[Outcome]:
    return [o for o in burst.outcomes if o.ended < burst.marks["disturbed"]]


def assert_problem(outcome: Outcome, status: int, code: str) -> None:
    assert outcome.status == status, outcome
    problem = json.loads(outcome.body)
    assert (problem["status"], problem["code"], problem["request_id"]) == (
        status,
        code,
        outcome.request_id,
    ), problem


def settle_writes(stack: Stack, burst: Burst, slug: str, auth: dict[str, str]) -> None:
    """Retry every failed write as a client would, with its Idempotency-Key; then each write
    that was ever attempted is in the database exactly once."""
    attempted = {o.key: o for o in burst.outcomes if o.method == "POST"}
    with stack.client() as client:
        for outcome in burst.failed(list(attempted.values())):
            retried = client.post(
                outcome.path,
                json={"body": outcome.key},
                headers={**auth, "Idempotency-Key": outcome.key or ""},
            )
            assert retried.status_code == 201, retried.text
    assert re.fullmatch(r"[a-z0-9-]+", slug)
    rows = stack.psql(
        "SELECT c.body, count(*) FROM blog_comment c JOIN blog_post p ON p.id = c.post_id"  # noqa: S608
        f" WHERE p.slug = '{slug}' GROUP BY c.body"
    )
    counts = dict(line.split("|") for line in rows.splitlines() if line)
    assert not {body: n for body, n in counts.items() if n != "1"}, "a write was duplicated"
    assert set(attempted) <= set(counts), "a write was lost"


def assert_within_normal(burst: Burst, outcomes: list[Outcome], extra: float = 0.0) -> float:
    normal = percentile(calm(burst), 0.99)
    slow = [o for o in outcomes if o.seconds > normal + BEYOND_NORMAL + extra]
    assert not slow, (
        f"normal (p99) {normal:.3f} s",
        sorted(o.seconds for o in slow)[-5:],
        slow[:3],
    )
    return normal


# SCALING
# ------------------------------------------------------------------------------------------


def test_new_replicas_get_traffic_within_seconds_and_scaling_down_fails_nothing(stack: Stack):
    try:
        stack.scale_many(rest=3, graphql=2)  # returns when the new replicas are healthy
        ready = time.monotonic()
        sent: list[tuple[str, str, float]] = []  # (request ID, service, seconds after ready)
        with stack.client(timeout=10) as client:
            while time.monotonic() - ready < PICKED_UP_WITHIN + 2:
                for service, path in (("rest", "/api/v1/tags"), ("graphql", GRAPHQL_READ)):
                    request_id = f"scale-{uuid.uuid4().hex}"
                    response = client.get(path, headers={"X-Request-ID": request_id})
                    assert response.status_code == 200
                    sent.append((request_id, service, time.monotonic() - ready))
                time.sleep(0.05)
        # Which replica served what, read once the measurement is over.
        for service, count in (("rest", 3), ("graphql", 2)):
            replicas = stack.containers(service)
            assert len(replicas) == count
            for name in replicas:
                logs = stack.container_logs(name)
                served = [t for request_id, s, t in sent if s == service and request_id in logs]
                assert served, f"{name} never got a request"
                assert served[0] < PICKED_UP_WITHIN, f"{name} first served after {served[0]:.1f} s"

        # Scaling down while traffic flows fails no request and slows none.
        with Burst(stack.base_url, READS, readers=READERS) as burst:
            time.sleep(CALM_SECONDS)
            burst.mark("disturbed")
            stack.scale_many(rest=1, graphql=1)
            time.sleep(PICKED_UP_WITHIN)
        assert not burst.failed(), burst.failed()[:5]
        assert_within_normal(burst, burst.between(burst.marks["disturbed"]))
    finally:
        stack.scale_many(rest=1, graphql=1)
    assert len(stack.containers("rest")) == 1


# FAILURES
# ------------------------------------------------------------------------------------------


@contextmanager
def row_locked(stack: Stack, slug: str, seconds: float) -> Iterator[subprocess.Popen[bytes]]:
    """Hold the post's row lock for ``seconds`` from another session: a write to it waits."""
    (postgres,) = stack.containers("postgres")
    assert re.fullmatch(r"[a-z0-9-]+", slug)
    sql = (
        f"BEGIN; SELECT 1 FROM blog_post WHERE slug = '{slug}' FOR UPDATE;"  # noqa: S608
        f" SELECT pg_sleep({seconds}); COMMIT;"
    )
    session = subprocess.Popen(
        ["docker", "exec", postgres, "psql", "-U", "fastdjango", "-d", "fastdjango", "-c", sql],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    holding = (
        "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(%'"
        " AND state = 'active' AND pid <> pg_backend_pid()"
    )
    deadline = time.monotonic() + 30
    while stack.psql(holding).strip() == "0":
        assert time.monotonic() < deadline, "the lock was never taken"
        time.sleep(0.1)
    try:
        yield session
    finally:
        session.wait(timeout=seconds + 60)
        assert session.returncode == 0, session.stderr and session.stderr.read()


def waiting_replicas(stack: Stack, expected: int) -> set[str]:
    """The rest replicas whose database sessions wait for a lock, once ``expected`` do."""
    addresses = {stack.address(name): name for name in stack.containers("rest")}
    query = "SELECT host(client_addr) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
    deadline = time.monotonic() + 20
    while len(waiting := stack.psql(query).split()) < expected:
        assert time.monotonic() < deadline, f"only {len(waiting)} writes reached the lock"
        time.sleep(0.1)
    return {addresses[address] for address in waiting}


def test_replicas_stopped_or_killed_under_load_cost_no_request_and_no_latency(
    stack: Stack, auth: dict[str, str], commented: str, replicas: None
):
    with stack.client() as client:
        created = client.post("/api/v1/posts", json={"title": "Drained"}, headers=auth)
    drained = created.json()["slug"]
    edits: list[tuple[str, int]] = []  # (request ID, status) of writes in flight during a stop

    def edit(n: int) -> None:
        request_id = f"drain-{uuid.uuid4().hex}"
        with stack.client(timeout=60) as client:
            response = client.patch(
                f"/api/v1/posts/{drained}",
                json={"summary": f"edit {n}"},
                headers={**auth, "X-Request-ID": request_id},
            )
        edits.append((request_id, response.status_code))

    burst = Burst(
        stack.base_url,
        READS,
        readers=READERS,
        write=comment_writes(commented, auth),
        writers=WRITERS,
    )
    with burst:
        time.sleep(CALM_SECONDS)
        burst.mark("disturbed")
        # docker stop (SIGTERM) a replica while slow writes are in flight on it.
        with row_locked(stack, drained, seconds=5):
            threads = [threading.Thread(target=edit, args=(n,)) for n in range(6)]
            for thread in threads:
                thread.start()
            stopped = sorted(waiting_replicas(stack, expected=6))[0]
            docker("stop", stopped)
            stop_returned = burst.now()
        released = burst.now()
        for thread in threads:
            thread.join(timeout=60)
        # SIGKILL a second replica of rest and one of graphql.
        burst.mark("killing")
        killed = next(name for name in stack.containers("rest") if name != stopped)
        docker("kill", killed)
        docker("kill", stack.containers("graphql")[0])
        burst.mark("killed")
        time.sleep(PICKED_UP_WITHIN)

    print(f"{len(burst.outcomes)} requests, {burst.statuses()}; normal (p99) "
          f"{percentile(calm(burst), 0.99):.3f} s, slowest after: "
          f"{max(o.seconds for o in burst.between(burst.marks['disturbed'])):.3f} s")  # fmt: skip
    assert len(burst.outcomes) > 200
    # Drained: every write in flight during the stop succeeded, and the stopped replica held some
    # of them until they were done (it exited only after the lock was released).
    assert sorted(status for _, status in edits) == [200] * 6, edits
    assert stop_returned >= released - 0.5
    stopped_logs = stack.container_logs(stopped)
    assert any(request_id in stopped_logs for request_id, _ in edits)

    assert not burst.failed([o for o in burst.outcomes if o.method == "GET"])
    # A write in flight on the SIGKILLed replica cannot be answered (it may or may not have been
    # committed) and is never resent: a 502, only then, at most one per writer.
    lost = burst.failed()
    assert len(lost) <= WRITERS, lost
    for outcome in lost:
        assert_problem(outcome, 502, "bad_gateway")
        assert outcome.started <= burst.marks["killed"]
        assert outcome.ended >= burst.marks["killing"]
    settle_writes(stack, burst, commented, auth)
    assert_within_normal(burst, burst.between(burst.marks["disturbed"]))


def test_a_paused_replica_holds_a_few_requests_and_none_beyond_the_read_timeout(
    stack: Stack, auth: dict[str, str], commented: str, replicas: None
):
    """A paused (frozen) replica accepts connections and never answers. The requests it holds
    wait GATEWAY_READ_TIMEOUT; then reads go to another replica and writes, which nginx may not
    resend, get a 504. A response it had begun to send when it froze stays cut off (nginx
    cannot take back what it passed on). After its first timeout it gets no requests until
    fail_timeout (10 s)."""
    timeout = float(stack.settings["GATEWAY_READ_TIMEOUT"])
    victim = stack.containers("rest")[0]
    burst = Burst(
        stack.base_url,
        READS,
        readers=READERS,
        write=comment_writes(commented, auth),
        writers=WRITERS,
    )
    with burst:
        time.sleep(CALM_SECONDS)
        burst.mark("disturbed")
        docker("pause", victim)
        try:
            time.sleep(timeout + 5)
        finally:
            docker("unpause", victim)
        burst.mark("unpaused")
        time.sleep(3)

    disturbed = burst.between(burst.marks["disturbed"])
    normal = percentile(calm(burst), 0.99)
    held = [o for o in disturbed if o.seconds > normal + BEYOND_NORMAL]
    print(f"{len(burst.outcomes)} requests, {burst.statuses()}; normal (p99) {normal:.3f} s; "
          f"held: {sorted(round(o.seconds, 2) for o in held)}")  # fmt: skip
    # Only what was in flight on it, or sent to it before its first timeout, waited; no longer
    # than the timeout, plus a normal answer from another replica.
    assert len(held) <= 2 * (READERS + WRITERS), held
    assert_within_normal(burst, disturbed, extra=timeout)
    frozen_at = burst.marks["disturbed"]
    for outcome in burst.failed():
        if outcome.status == 0:  # cut off: the response had begun when the replica froze
            assert "message body" in outcome.body, outcome
            assert outcome.started <= frozen_at + 1, outcome
            assert outcome.seconds <= timeout + 1, outcome
        else:
            assert outcome.method == "POST", outcome
            assert_problem(outcome, 504, "gateway_timeout")
    assert len(burst.failed()) <= READERS + WRITERS
    settle_writes(stack, burst, commented, auth)
    # Its health checks failed while it was frozen; they pass again by themselves.
    wait_healthy(victim)
