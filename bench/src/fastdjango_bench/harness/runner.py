"""Runs the plan: same JSON first, then each run with its cost measured, then the checks that make
a number mean what its row says."""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from fastdjango_bench.harness.measure import Statements, cpu_seconds, find
from fastdjango_bench.harness.plan import (
    BASELINES,
    ETAG,
    GRAPHQL_PAGE,
    LIST,
    PAGE,
    SCENARIOS,
    Inputs,
    Planner,
    Run,
    System,
    current_etag,
    prepare,
    systems,
)
from fastdjango_bench.harness.stack import Stack, log
from fastdjango_bench.harness.wrk import Outcome, finish

# Serialises timing-sensitive runs on a machine shared by several checkouts; "" turns it off.
TIMING_LOCK = os.environ.get("BENCH_TIMING_LOCK", "/tmp/fastdjango-timing.lock")  # noqa: S108


@dataclass(frozen=True)
class Settings:
    duration: float = 6.0
    warmup: float = 1.0
    # Every run is made this many times; the best is kept (see measure()).
    rounds: int = 2
    threads: int = 2
    connections: int = 32
    # Run again, three times longer, a run in which no request completed (the smoke on a busy
    # machine: the slowest baselines need a few seconds for one page).
    retry_empty: bool = False
    seed_args: tuple[str, ...] = (
        # ~8,000 published posts: each round of the detail miss has 4,000 unseen posts, several
        # seconds at the product's rate (with 2,000 posts a run ended after ~1.3 s).
        "--users", "10", "--categories", "12", "--posts", "10000", "--tags", "30",
        "--comments", "40000",
    )  # fmt: skip


def smoke_settings() -> Settings:
    """Every scenario for a second or two (the slowest baselines need one to answer at all on a
    busy machine), on the Makefile's demo data: a check, not a timing."""
    return Settings(
        duration=2.0,
        warmup=0.0,
        rounds=1,
        threads=2,
        connections=4,
        retry_empty=True,
        seed_args=("--users", "10", "--posts", "500", "--comments", "2000"),
    )


@dataclass
class Result:
    scenario: str
    system: System
    outcome: Outcome
    statements: int
    cpu: dict[str, float]
    # The requests the costs were measured over (see :func:`execute`).
    measured: int
    writes: Outcome | None = None
    problems: list[str] = field(default_factory=list)
    # The rate of every round of this run (the result is the best one's).
    rates: list[float] = field(default_factory=list)

    def per_request(self, value: float) -> float:
        return value / self.measured if self.measured else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "system": self.system.key,
            "label": self.system.label,
            **self.outcome.as_dict(),
            "measured_requests": self.measured,
            "rates_per_round": [round(rate, 1) for rate in self.rates],
            "sql_per_request": round(self.per_request(self.statements), 3),
            "cpu_ms_per_request": {
                name: round(self.per_request(seconds) * 1000, 3)
                for name, seconds in self.cpu.items()
            },
            "writes": self.writes.as_dict() if self.writes else None,
            "problems": self.problems,
        }


@contextmanager
def timing_lock() -> Iterator[None]:
    if not TIMING_LOCK:
        yield
        return
    with open(TIMING_LOCK, "a") as lock:
        log(f"waiting for {TIMING_LOCK}")
        fcntl.flock(lock, fcntl.LOCK_EX)
        log("measuring")
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _parsed(response: httpx.Response) -> tuple[int, Any]:
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, response.text[:200]


def same_json(stack: Stack, inputs: Inputs, found: dict[str, System]) -> list[str]:
    """Every baseline (and REST without the gateway) answers what the product answers: the same
    status and the same parsed JSON for the same list cursors and post slugs."""
    no_category = next((p["slug"] for p in inputs.posts if p["category"] is None), inputs.hit_slug)
    paths = [
        LIST,
        f"{LIST}?cursor={inputs.cursor(len(inputs.bounds) // 2)}",
        f"{LIST}?cursor={inputs.cursor(len(inputs.bounds) - 1)}",
        f"{LIST}/{inputs.hit_slug}",
        f"{LIST}/{no_category}",
        f"{LIST}/no-such-post-bench",
    ]
    problems = []
    with httpx.Client(timeout=60) as client:
        for path in paths:
            expected = _parsed(client.get(f"{stack.gateway}{path}"))
            if path != paths[-1] and expected[0] != 200:
                problems.append(f"product: {path} answered {expected[0]}")
            for key in ("fastdjango-direct", *BASELINES):
                got = _parsed(client.get(f"{found[key].base}{path}"))
                if path == paths[-1]:
                    if got[0] != 404:
                        problems.append(f"{key}: {path} answered {got[0]}, not 404")
                elif got != expected:
                    problems.append(f"{key}: {path} differs from the product's: {str(got)[:300]}")
        # GraphQL: the page with and without a cursor, the same posts as REST's.
        for cursor in (None, inputs.cursor(len(inputs.bounds) // 2)):
            body: dict[str, Any] = {"query": GRAPHQL_PAGE}
            if cursor:
                body["variables"] = {"after": cursor}
            answer = client.post(f"{stack.gateway}/graphql", json=body)
            rest = client.get(
                f"{stack.gateway}{LIST}", params={"cursor": cursor} if cursor else None
            )
            data = answer.json() if answer.status_code == 200 else {}
            edges = (data.get("data") or {}).get("posts", {}).get("edges", [])
            slugs = [edge["node"]["slug"] for edge in edges]
            if data.get("errors") or len(edges) != PAGE:
                problems.append(f"graphql: {answer.status_code} {str(data)[:300]}")
            elif slugs != [item["slug"] for item in rest.json()["items"]]:
                problems.append(f"graphql: the page after {cursor} has other posts than REST's")
        drafts = client.get(
            f"{stack.gateway}{LIST}?status=draft",
            headers={"Authorization": f"Bearer {inputs.token}"},
        )
        statuses = {item["status"] for item in drafts.json().get("items", [])}
        if drafts.status_code != 200 or statuses != {"draft"}:
            problems.append(f"drafts: {drafts.status_code} {statuses}")
    return problems


def quiesce(pid: int, *, limit: float = 30.0) -> None:
    """Wait until the process tree of ``pid`` is idle: a system still working through the
    requests a previous load left in flight would be measured twice."""
    deadline = time.monotonic() + limit
    previous = cpu_seconds({"app": pid})["app"]
    quiet = 0
    while quiet < 2 and time.monotonic() < deadline:
        time.sleep(0.15)
        now = cpu_seconds({"app": pid})["app"]
        quiet = quiet + 1 if now - previous < 0.01 else 0
        previous = now


def _sleep_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.monotonic()))


def execute(run: Run, stack: Stack, statements: Statements, settings: Settings) -> Result:
    """One run. Its costs are sampled at the ends of a window inside the run (a tenth of it in
    from each end, at most a second) and divided by the responses received within the window:
    steady state, with nothing left in flight counted on either side."""
    roots = {
        "app": stack.pid(run.system.service),
        "postgres": stack.pid("postgres"),
        "redis": stack.pid("redis"),
        "gateway": stack.pid("gateway"),
    }
    engine = find("dockerd")
    if engine:
        roots["dockerd"] = engine
    if run.warmup and settings.warmup:
        finish(run.warmup.start(settings.warmup), settings.warmup + 60)
    quiesce(roots["app"])
    if any(ETAG in arg for arg in run.load.args):
        etag = current_etag(stack)
        args = tuple(arg.replace(ETAG, etag) for arg in run.load.args)
        run = replace(run, load=replace(run.load, args=args))
    statements.reset()
    started = time.monotonic()
    margin = min(1.0, settings.duration / 10)
    window = (started + margin, started + settings.duration - margin)
    writer = run.writer.start(settings.duration, window) if run.writer else None
    load = run.load.start(settings.duration, window)
    whole_before, whole_count = cpu_seconds(roots), statements.count()
    _sleep_until(window[0])
    before, count_before = cpu_seconds(roots), statements.count()
    _sleep_until(window[1])
    after, count_after = cpu_seconds(roots), statements.count()
    outcome = finish(load, settings.duration + 60, window)
    writes = finish(writer, 60, window) if writer else None
    windowed = outcome.windowed + (writes.windowed if writes else 0)
    if windowed < 10:
        # Too few responses inside the window (a short smoke, a pass that ended early): the
        # whole run's costs over its completed requests, once everything in flight is done.
        quiesce(roots["app"])
        before, count_before = whole_before, whole_count
        after, count_after = cpu_seconds(roots), statements.count()
        windowed = outcome.requests + (writes.requests if writes else 0)
    result = Result(
        scenario=run.scenario,
        system=run.system,
        outcome=outcome,
        statements=count_after - count_before,
        cpu={name: after[name] - before[name] for name in roots},
        measured=windowed,
        writes=writes,
    )
    result.problems = check(run, result)
    return result


def check(run: Run, result: Result) -> list[str]:
    """What would make the row's number not mean what the row says."""
    problems = []
    outcome = result.outcome
    if outcome.requests == 0:
        problems.append("no request completed")
    if outcome.socket_errors or outcome.errors.get("status"):
        problems.append(f"errors: {outcome.errors}")
    unexpected = outcome.unexpected(set(run.expect))
    if unexpected:
        problems.append(f"{unexpected} responses not {sorted(run.expect)}: {outcome.statuses}")
    if SCENARIOS[run.scenario].miss and result.per_request(result.statements) < 0.9:
        problems.append(f"a miss should reach PostgreSQL: {result.statements} statements")
    if result.writes is not None:
        writes = result.writes
        if writes.requests == 0 or writes.unexpected({201}) or writes.socket_errors:
            problems.append(f"writes: {writes.requests} sent, statuses {writes.statuses}")
    return problems


@dataclass
class Report:
    settings: Settings
    results: list[Result]
    problems: list[str]
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)
    published: int = 0

    def as_json(self) -> str:
        return json.dumps(
            {
                "settings": {
                    "duration_s": self.settings.duration,
                    "rounds": self.settings.rounds,
                    "threads": self.settings.threads,
                    "connections": self.settings.connections,
                    "seed": " ".join(self.settings.seed_args),
                    "published_posts": self.published,
                },
                "load_average": {"before": self.load_before, "after": self.load_after},
                "results": [result.as_dict() for result in self.results],
                "problems": self.problems,
            },
            indent=1,
        )


@contextmanager
def started(
    settings: Settings, *, project: str, keep: bool = False
) -> Iterator[tuple[Stack, Inputs]]:
    """The bench project, built, started and seeded, with the inputs the runs need; torn down
    (volumes too) afterwards."""
    stack = Stack(project=project, seed_args=settings.seed_args, keep=keep)
    try:
        stack.up()
        stack.seed()
        yield stack, prepare(stack)
    finally:
        stack.down()


def measure(
    settings: Settings,
    *,
    project: str,
    keep: bool = False,
    only: set[str] | None = None,
    lock: bool,
) -> Report:
    """Start the bench project, check that every system answers the same JSON, run the plan
    (all scenarios, or ``only`` those) ``settings.rounds`` times, tear the project down.

    Each run is kept from its best round: whatever else the machine does can only slow a run
    down, so the faster of two is the nearer to what the system can do. Every round's rate is in
    the results, and a problem in any round is a problem of the run."""
    with started(settings, project=project, keep=keep) as (stack, inputs):
        found = systems(stack)
        problems = same_json(stack, inputs, found)
        if problems:
            return Report(settings, [], problems, os.getloadavg())
        planner = Planner(inputs, found, threads=settings.threads, connections=settings.connections)
        statements = Statements(stack.pg_conninfo)
        best: dict[tuple[str, str], Result] = {}
        try:
            with timing_lock() if lock else _nothing():
                report = Report(settings, [], problems, os.getloadavg())
                report.published = len(inputs.posts)
                for number in range(settings.rounds):
                    # Warm from the first round on: later rounds need no warm-up.
                    this = settings if number == 0 else replace(settings, warmup=0.0)
                    for run in planner.runs(number, settings.rounds):
                        if only is not None and run.scenario not in only:
                            continue
                        result = _run(run, stack, statements, this)
                        problems += [
                            f"{run.scenario} {run.system.key}: {p}" for p in result.problems
                        ]
                        key = (run.scenario, run.system.key)
                        rates = [*best[key].rates, result.outcome.rate] if key in best else []
                        if key not in best or result.outcome.rate > best[key].outcome.rate:
                            best[key] = result
                        best[key].rates = rates or [result.outcome.rate]
                order = [(r.scenario, r.system.key) for r in planner.runs(0, settings.rounds)]
                report.results = [best[key] for key in order if key in best]
                report.load_after = os.getloadavg()
        finally:
            statements.close()
        return report


def _run(run: Run, stack: Stack, statements: Statements, settings: Settings) -> Result:
    result = execute(run, stack, statements, settings)
    if settings.retry_empty and result.outcome.requests == 0:
        result = execute(run, stack, statements, replace(settings, duration=settings.duration * 3))
    log(
        f"{run.scenario:<13} {run.system.key:<18} {result.outcome.rate:9.1f} req/s"
        f"  p99 {result.outcome.p99:8.1f} ms"
        f"  sql/req {result.per_request(result.statements):6.2f}"
        + (f"  PROBLEM: {'; '.join(result.problems)}" if result.problems else "")
    )
    return result


@contextmanager
def _nothing() -> Iterator[None]:
    yield
