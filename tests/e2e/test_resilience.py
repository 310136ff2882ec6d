"""The services ride out their dependencies' outages without being restarted: reads that no cache
can answer, on every service, through the gateway; readiness asked from inside the network."""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import pytest

from tests.e2e.clients import admin_login, graphql
from tests.e2e.inside import (
    READINESS,
    connections,
    get_from_inside,
    sessions,
    wait_for_postgres,
)
from tests.e2e.stack import SUPERUSER, Stack

READS = ["/api/v1/posts", "/api/v1/tags", "/api/v1/categories"]
SERVICES = ("admin", "rest", "graphql")
# Nothing is sent for this long after PostgreSQL is back (the "idle" period).
SILENCE = 30
# The bound for an answer while PostgreSQL is down ("within 1 s"), with a margin for
# two shared cores and the gateway in between.
PROMPT = 1.5
# After it is back: a read must succeed at once, not after psycopg_pool's backoff (5 s).
RECOVERED = 2.0
# A readiness answer is reused this long (READINESS_CACHE_SECONDS, 1 s, plus a margin).
READINESS_CACHED = 1.2
SEARCH = "query ($s: String) { posts(first: 5, filter: {search: $s}) { edges { node { slug } } } }"


@dataclass
class Answer:
    service: str
    status: int
    seconds: float
    response: httpx.Response


class Readers:
    """Uncached reads on each service: a search for a word nobody wrote, new every time, so no
    cache can answer and every read takes a pooled connection."""

    def __init__(self, stack: Stack) -> None:
        self.api = stack.client()
        self.admin = stack.client()
        admin_login(self.admin, SUPERUSER, stack.superuser_password)

    def close(self) -> None:
        self.api.close()
        self.admin.close()

    def read(self, service: str) -> Answer:
        word = uuid.uuid4().hex
        started = time.perf_counter()
        if service == "rest":
            response = self.api.get("/api/v1/posts", params={"q": word})
        elif service == "graphql":
            response = self.api.post("/graphql", json={"query": SEARCH, "variables": {"s": word}})
        else:
            response = self.admin.get("/admin/blog/post/", params={"q": word})
        return Answer(service, response.status_code, time.perf_counter() - started, response)

    def fill_pools(self) -> None:
        """Concurrent reads, so every process's pool holds several connections to go stale."""
        with ThreadPoolExecutor(8) as threads:
            answers = list(threads.map(self.read, [s for s in SERVICES for _ in range(16)]))
        assert {a.status for a in answers} == {200}, [(a.service, a.status) for a in answers]


def graphql_error_code(answer: Answer) -> str | None:
    errors = answer.response.json().get("errors") or [{}]
    return errors[0].get("extensions", {}).get("code")


def assert_served(answer: Answer) -> None:
    assert answer.status == 200, (answer.service, answer.status, answer.response.text[:300])
    if answer.service == "graphql":
        assert "errors" not in answer.response.json(), answer.response.text[:300]


@pytest.fixture(scope="module")
def readers(stack: Stack):
    """One admin session for the module: the gateway rate-limits logins per address."""
    readers = Readers(stack)
    try:
        yield readers
    finally:
        readers.close()


def test_a_postgres_restart_then_silence_costs_no_request(stack: Stack, readers: Readers):
    before = {service: stack.started_at(service) for service in SERVICES}
    readers.fill_pools()
    stack.compose_command("restart", "postgres")
    wait_for_postgres(stack)
    time.sleep(SILENCE)

    # The first uncached read on each service, on the first try, without a backoff.
    answers = [readers.read(service) for service in SERVICES]
    assert [(a.service, a.status) for a in answers] == [(s, 200) for s in SERVICES]
    for answer in answers:
        assert_served(answer)
        assert answer.seconds < RECOVERED, (answer.service, answer.seconds)
    # None of them was restarted to get there.
    assert {service: stack.started_at(service) for service in SERVICES} == before


def test_while_postgres_is_down_requests_get_a_prompt_503(stack: Stack, readers: Readers):
    readers.fill_pools()
    stack.compose_command("stop", "postgres")
    stopped = time.monotonic()
    try:
        for _ in range(3):
            for service in SERVICES:
                answer = readers.read(service)
                assert answer.seconds < PROMPT, (service, answer.seconds)
                assert answer.status == 503, (service, answer.response.text[:300])
                assert int(answer.response.headers["retry-after"]) > 0
                if service == "graphql":
                    assert graphql_error_code(answer) == "UNAVAILABLE", answer.response.text
                    continue
                assert answer.response.headers["content-type"] == "application/problem+json"
                assert answer.response.json()["code"] == "unavailable"
                assert int(answer.response.headers["retry-after"]) > 0
                assert "Traceback" not in answer.response.text
        # Readiness, from inside the network as a container runtime asks it, once an answer
        # cached before PostgreSQL went (by a health check, say) has expired.
        time.sleep(max(0.0, READINESS_CACHED - (time.monotonic() - stopped)))
        for url, status, seconds in get_from_inside(stack, list(READINESS.values())):
            assert status == 503, url
            assert seconds < PROMPT, (url, seconds)
    finally:
        stack.compose_command("start", "postgres")
    wait_for_postgres(stack)
    time.sleep(1)
    for service in SERVICES:
        assert_served(readers.read(service))


def test_a_readiness_flood_leaves_postgres_connections_bounded(stack: Stack):
    urls = list(READINESS.values())
    get_from_inside(stack, urls)  # every pool has its connection
    time.sleep(1.5)
    sessions_before, open_before = sessions(stack), connections(stack)
    peak = [open_before]
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            peak.append(connections(stack))
            time.sleep(0.2)

    # The scheduler opens a session per purge round (every 2 s here): not the flood's doing.
    stack.compose_command("pause", "scheduler")
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        answers = get_from_inside(stack, urls, repeat=200, workers=48)
        done.set()
        watcher.join(timeout=30)
        time.sleep(1.5)  # PostgreSQL counts a session when its backend reports, not at once
        sessions_after = sessions(stack)
    finally:
        done.set()
        stack.compose_command("unpause", "scheduler")
        # Its health checks failed while it was paused; the tests after this one need it healthy.
        stack.wait_healthy("scheduler")

    assert len(answers) == 600
    assert {status for _, status, _ in answers} == {200}
    # A process asks PostgreSQL at most once per cached period, on a pooled connection.
    assert sessions_after - sessions_before <= 8, (sessions_before, sessions_after)
    assert max(peak) <= open_before + 8, (open_before, peak)


def test_reads_and_writes_succeed_while_redis_is_stopped(stack: Stack, auth):
    stack.compose_command("stop", "redis")
    time.sleep(READINESS_CACHED)
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
    time.sleep(READINESS_CACHED)
    (rest,) = stack.containers("rest")
    assert stack.readiness(rest)[1]["checks"]["redis"] == "ok"
