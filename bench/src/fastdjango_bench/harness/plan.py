"""What is measured: the systems, the scenarios, and the requests each run sends.

Everything the runs need is read from the running product through its public URLs (the seeded
posts, an ETag, a token) and written to files the wrk scripts read.
"""

from __future__ import annotations

import base64
import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from fastdjango_bench.harness.stack import SUPERUSER, Stack, log
from fastdjango_bench.harness.wrk import Load

LIST = "/api/v1/posts"
PAGE = 20
# In a load's arguments: replaced by the list's current ETag when the run starts.
ETAG = "@ETAG@"


@dataclass(frozen=True)
class System:
    key: str
    label: str
    # The compose service whose processes serve it (their CPU is measured).
    service: str
    origin: str
    # The path its API paths start under ("/floor" at the baselines' port).
    prefix: str = ""

    @property
    def base(self) -> str:
        return f"{self.origin}{self.prefix}"


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    # A miss must reach PostgreSQL on every request, whatever the system.
    miss: bool = False


SCENARIOS = {
    s.key: s
    for s in (
        Scenario("list-hit", "REST list of 20, the same request (a cache hit where there is one)"),
        Scenario("list-304", "REST list, If-None-Match with the current ETag (304)"),
        Scenario("list-miss", "REST list, a new cursor every request", miss=True),
        Scenario("detail-hit", "REST post detail, the same post"),
        Scenario("detail-miss", "REST post detail, a post not asked for before", miss=True),
        Scenario("graphql-hit", "GraphQL 20 posts with author, category, tags: same document"),
        Scenario("graphql-miss", "GraphQL 20-post page, a new `after` every request", miss=True),
        Scenario("drafts", "REST draft list with a token (never cached)", miss=True),
        Scenario("write-mix", "REST list while comments are posted (~10/s, token)"),
        Scenario("static", "nginx serving a static file (the list page's bytes)"),
    )
}

# The GraphQL page asks for what the REST list returns.
GRAPHQL_PAGE = (
    "query Page($after: String) { posts(first: 20, after: $after) { edges { cursor node { "
    "id slug title summary status publishedAt createdAt updatedAt readTimeMinutes viewCount "
    "commentCount author { id username displayName } category { id slug name } "
    "tags { id slug name } } } pageInfo { hasNextPage endCursor } } }"
)
# Writes per second at most: one connection waiting this long between comments.
WRITE_DELAY_MS = 100


def systems(stack: Stack) -> dict[str, System]:
    found = (
        System("fastdjango", "Fast Django", "rest", stack.gateway),
        System(
            "fastdjango-direct", "Fast Django, REST without the gateway", "rest", stack.rest_direct
        ),
        System(
            "floor", "floor: FastAPI + psycopg, 1 SQL statement", "floor", stack.baselines, "/floor"
        ),
        System("ninja", "django-ninja, async, Django ASGI", "ninja", stack.baselines, "/ninja"),
        System("drf", "DRF on gunicorn", "drf", stack.baselines, "/drf"),
        System("sync", "sync FastAPI, lazy relations", "sync", stack.baselines, "/sync"),
        System("graphql", "Fast Django GraphQL", "graphql", stack.gateway),
        System("nginx", "nginx, static file", "gateway", stack.baselines),
    )
    return {system.key: system for system in found}


BASELINES = ("floor", "ninja", "drf", "sync")
REST = ("fastdjango", *BASELINES)


def encode_cursor(ordering: str, value: str, pk: int) -> str:
    raw = json.dumps([ordering, value, pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass
class Inputs:
    """The data every run draws from, read from the product once it is seeded."""

    workdir: Path
    ordering: str
    posts: list[dict[str, Any]]
    bounds: list[str]
    hit_slug: str
    miss_slugs: list[str]
    token: str
    comment_slug: str

    def file(self, name: str, text: str) -> str:
        path = self.workdir / name
        path.write_text(text)
        return f"@{path}"

    def cursor(self, index: int, pk: int = 1) -> str:
        return encode_cursor(self.ordering, self.bounds[index % len(self.bounds)], pk)


def current_etag(stack: Stack) -> str:
    """The list's ETag now (the write mix changes the list)."""
    response = httpx.get(f"{stack.gateway}{LIST}", timeout=60)
    response.raise_for_status()
    return response.headers["etag"]


def prepare(stack: Stack) -> Inputs:
    with httpx.Client(base_url=stack.gateway, timeout=60) as client:
        first = client.get(LIST)
        first.raise_for_status()
        stack.static_dir.joinpath("page.json").write_bytes(first.content)
        (stack.static_dir / "page.json").chmod(0o644)
        page = first.json()
        cursor = parse_qs(urlsplit(page["next"]).query)["cursor"][0]
        ordering = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))[0]
        posts, url = [], f"{LIST}?limit=100"
        while url:
            response = client.get(url)
            response.raise_for_status()
            posts += response.json()["items"]
            url = response.json()["next"]
        token = client.post(
            "/api/v1/auth/token",
            json={"username": SUPERUSER, "password": stack.superuser_password, "name": "bench"},
        )
        token.raise_for_status()
    # Bounds strictly between two neighbouring posts, each with at least a page after it.
    times = [datetime.fromisoformat(post["published_at"]) for post in posts]
    bounds = [
        (times[i] - timedelta(seconds=1)).isoformat()
        for i in range(len(times) - PAGE - 1)
        if times[i] - timedelta(seconds=1) > times[i + 1]
    ]
    log(f"{len(posts)} published posts, {len(bounds)} cursor bounds")
    slugs = [post["slug"] for post in posts[1:]]
    random.Random(1).shuffle(slugs)  # noqa: S311 (an order, not a secret)
    return Inputs(
        workdir=stack.workdir,
        ordering=ordering,
        posts=posts,
        bounds=bounds,
        hit_slug=posts[0]["slug"],
        miss_slugs=slugs,
        token=token.json()["token"],
        comment_slug=posts[1]["slug"],
    )


@dataclass(frozen=True)
class Run:
    scenario: str
    system: System
    load: Load
    expect: frozenset[int] = frozenset({200})
    warmup: Load | None = None
    writer: Load | None = None


class Planner:
    """Builds the runs; every miss load gets a salt of its own, so cursors never repeat."""

    def __init__(
        self, inputs: Inputs, found: dict[str, System], *, threads: int, connections: int
    ) -> None:
        self.inputs = inputs
        self.systems = found
        self.threads = threads
        self.connections = connections
        self.salt = 0
        (inputs.workdir / "bounds").write_text("\n".join(inputs.bounds) + "\n")

    def load(self, url: str, script: str, *args: str, **options: int) -> Load:
        threads = options.get("threads", self.threads)
        connections = options.get("connections", self.connections)
        return Load(url, script, args, threads=threads, connections=connections)

    def miss(self, base: str, template: str, *args: str) -> Load:
        self.salt += 1
        name = f"template-{self.salt}"
        return self.load(
            base,
            "miss",
            f"template={self.inputs.file(name, template)}",
            f"bounds=@{self.inputs.workdir / 'bounds'}",
            f"ordering={self.inputs.ordering}",
            f"salt={self.salt}",
            *args,
        )

    def graphql_miss(self, system: System) -> Load:
        body = json.dumps({"query": GRAPHQL_PAGE, "variables": {"after": "@CURSOR@"}})
        return self.miss(
            system.origin,
            body,
            "method=POST",
            "path=/graphql",
            "header=Content-Type: application/json",
        )

    def runs(self, number: int = 0, rounds: int = 1) -> list[Run]:
        """The runs of one round. Round by round, the posts of `detail-miss` are another share
        of them (each is new to the product's cache) and a scenario's systems run in the other
        order."""
        s, i = self.systems, self.inputs
        plan: list[Run] = []
        slugs = i.workdir / f"slugs-{number}"
        slugs.write_text("\n".join(i.miss_slugs[number::rounds]) + "\n")

        def add(scenario: str, system: str, load: Load, **extra: Any) -> None:
            warmup = extra.pop("warmup", load)
            plan.append(Run(scenario, s[system], load, warmup=warmup, **extra))

        # Without a cache a baseline's "hit" is its miss: only the floor's is measured twice.
        for key in ("fastdjango", "fastdjango-direct", "floor"):
            add("list-hit", key, self.load(f"{s[key].base}{LIST}", "static"))
        for key in ("fastdjango", "fastdjango-direct"):
            # The ETag is read just before the run (the write mix changes the list).
            header = f"header=If-None-Match: {ETAG}"
            add(
                "list-304",
                key,
                self.load(f"{s[key].base}{LIST}", "static", header),
                expect=frozenset({304}),
            )
        for key in REST:
            template = f"{s[key].prefix}{LIST}?cursor=@CURSOR@"
            miss = self.miss(s[key].origin, template)
            add("list-miss", key, miss, warmup=self.miss(s[key].origin, template))
        for key in ("fastdjango", "fastdjango-direct", "floor"):
            add("detail-hit", key, self.load(f"{s[key].base}{LIST}/{i.hit_slug}", "static"))
        for key in REST:
            # The product has a cache: each post once. The baselines have none: round again.
            load = self.load(
                s[key].origin,
                "slugs",
                f"slugs=@{slugs}",
                f"prefix={s[key].prefix}{LIST}/",
                f"once={int(key == 'fastdjango')}",
            )
            # Warmed up on the hit post: the slugs of the pass must be new to every cache.
            add(
                "detail-miss",
                key,
                load,
                warmup=self.load(f"{s[key].base}{LIST}/{i.hit_slug}", "static"),
            )
        graphql = s["graphql"]
        hit = json.dumps({"query": GRAPHQL_PAGE})
        add(
            "graphql-hit",
            "graphql",
            self.load(
                f"{graphql.base}/graphql",
                "static",
                "method=POST",
                f"body={i.file('graphql-hit.json', hit)}",
                "header=Content-Type: application/json",
            ),
        )
        add(
            "graphql-miss", "graphql", self.graphql_miss(graphql), warmup=self.graphql_miss(graphql)
        )
        bearer = f"header=Authorization: Bearer {i.token}"
        add(
            "drafts",
            "fastdjango",
            self.load(f"{s['fastdjango'].base}{LIST}?status=draft", "static", bearer),
        )
        add("static", "nginx", self.load(f"{s['nginx'].base}/static/page.json", "static"))
        writer = self.load(
            s["fastdjango"].base,
            "write",
            f"path={LIST}/{i.comment_slug}/comments",
            bearer,
            f"delay={WRITE_DELAY_MS}",
            threads=1,
            connections=1,
        )
        add(
            "write-mix",
            "fastdjango",
            self.load(f"{s['fastdjango'].base}{LIST}", "static"),
            writer=writer,
        )
        if number % 2:
            groups: dict[str, list[Run]] = {}
            for run in plan:
                groups.setdefault(run.scenario, []).append(run)
            plan = [run for group in groups.values() for run in reversed(group)]
        return plan
