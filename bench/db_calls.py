"""Time database calls through ``domain.db.run`` under different connection settings, in-process,
against the PostgreSQL at DATABASE_URL (migrated and seeded on first use):

    DATABASE_URL=postgres://user:password@127.0.0.1:5432/bench \\
        flock /tmp/fastdjango-timing.lock uv run python bench/db_calls.py

Two questions, each answered side by side in one run:

* the pool's liveness check (one small read per ``db.run``): Django's stock backend with
  ``CONN_HEALTH_CHECKS`` (psycopg_pool's empty statement per checkout) against domain.db's
  ``DB_LIVENESS_CHECK`` modes;
* prepared statements: ``selectors.post_list`` and ``post_detail`` (domain.compiled's hot reads)
  and a plain ORM read, with the cache bypassed (every call a miss): nothing prepared, only the
  compiled reads prepared, and every query bound server-side and prepared.

Each configuration runs in a process of its own (the backend and the pool are chosen at start-up),
and the configurations take turns for PASSES passes, so load from elsewhere on the machine falls on
all of them alike. A cell is the lowest over the passes of the 10th percentile of one call's
milliseconds: on a shared machine that is the closest to the cost itself.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

# "prepared": DB_PREPARED_STATEMENTS (server-side parameters for every query); "threshold":
# DB_PREPARE_THRESHOLD (-1: nothing prepared, not even domain.compiled's hot reads).
CONFIGS: dict[str, dict[str, Any]] = {
    "stock Django + psycopg_pool check": {"engine": "stock", "prepared": False, "threshold": -1},
    "DB_LIVENESS_CHECK=query": {"liveness": "query", "prepared": False, "threshold": -1},
    "DB_LIVENESS_CHECK=socket": {"liveness": "socket", "prepared": False, "threshold": -1},
    "DB_LIVENESS_CHECK=none": {"liveness": "none", "prepared": False, "threshold": -1},
    "socket, server-side binding, nothing prepared": {"prepared": True, "threshold": -1},
    "socket, compiled reads prepared (threshold 5)": {"prepared": False, "threshold": 5},
    "socket, everything prepared (threshold 5)": {"prepared": True, "threshold": 5},
    "socket, everything prepared (threshold 0)": {"prepared": True, "threshold": 0},
}
CALLS = int(os.environ.get("BENCH_CALLS", "200"))
ROUNDS = 3
PASSES = int(os.environ.get("BENCH_PASSES", "5"))


def configure(config: dict[str, Any]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "domain.settings")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-" + "x" * 40)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["DB_PREPARED_STATEMENTS"] = "true" if config["prepared"] else "false"
    os.environ["DB_PREPARE_THRESHOLD"] = str(config["threshold"])
    os.environ["DB_LIVENESS_CHECK"] = config.get("liveness", "socket")
    # The pool of one API process, as in the stack.
    os.environ.setdefault("DB_POOL_MAX_SIZE", "10")
    import django
    from django.conf import settings

    database = settings.DATABASES["default"]
    if config.get("engine") == "stock":
        database["ENGINE"] = "django.db.backends.postgresql"
        database["CONN_HEALTH_CHECKS"] = True
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    django.setup()


def prepare_data() -> None:
    from django.core.management import call_command

    from domain.blog.models import Post

    call_command("migrate", verbosity=0)
    if not Post.objects.exists():
        call_command("seed_demo", posts=500, comments=2000, verbosity=0)


def p10(samples: list[float]) -> float:
    """The 10th percentile: on a shared machine, closer to a call's own cost than the mean."""
    return statistics.quantiles(samples, n=10)[0]


async def per_call_ms(call: Any) -> tuple[float, int]:
    """Milliseconds per ``db.run(call)`` (10th percentile of CALLS x ROUNDS calls), and the
    database round trips one call makes."""
    from domain import db

    for _ in range(20):
        await db.run(call)  # warm: the pool, psycopg's prepared statements
    samples = []
    for _ in range(ROUNDS * CALLS):
        started = time.perf_counter()
        await db.run(call)
        samples.append((time.perf_counter() - started) * 1000)
    with db.track_queries() as log:
        await db.run(call)
    return p10(samples), log.round_trips


def checkout_ms(stock: bool) -> float:
    """Milliseconds to take a connection from the pool and give it back: the liveness check's own
    cost (psycopg_pool's check for the stock backend, DB_LIVENESS_CHECK for ours)."""
    from django.db import connection

    from domain import db

    pool = connection.pool
    pool.open()
    pool.wait()
    samples = []
    for _ in range(ROUNDS * CALLS * 2):
        started = time.perf_counter()
        conn = pool.getconn() if stock else db.checkout(connection)
        pool.putconn(conn)
        samples.append((time.perf_counter() - started) * 1000)
    return p10(samples)


def child(name: str) -> None:
    configure(CONFIGS[name])
    from domain.blog import selectors
    from domain.blog.models import Post, Tag

    prepare_data()
    # Every post_list call a cache miss: the loader runs each time.
    selectors.blog_cache.get_or_set = lambda kind, key, load, **_: load()  # type: ignore[method-assign]
    tag_id = Tag.objects.values_list("id", flat=True).first()
    slug = Post.objects.filter(status="published").values_list("slug", flat=True).first()
    second_page = selectors.post_list(viewer=None).next_cursor

    def small_read() -> object:
        return Tag.objects.filter(id=tag_id).values_list("slug", flat=True).first()

    def first_page() -> object:
        return selectors.post_list(viewer=None)

    def next_page() -> object:
        return selectors.post_list(viewer=None, cursor=second_page)

    def detail() -> object:
        return selectors.post_detail(viewer=None, slug=slug)

    checkout = checkout_ms(stock=CONFIGS[name].get("engine") == "stock")

    async def measure() -> dict[str, tuple[float, float]]:
        return {
            "checkout": (checkout, 0),
            "small read": await per_call_ms(small_read),
            "post_list": await per_call_ms(first_page),
            "post_list, page 2": await per_call_ms(next_page),
            "post_detail": await per_call_ms(detail),
        }

    print(json.dumps(asyncio.run(measure())))


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child(sys.argv[2])
        return
    if "DATABASE_URL" not in os.environ:
        sys.exit("Set DATABASE_URL to a PostgreSQL the benchmark may migrate and seed.")
    print(
        f"{CALLS * ROUNDS} calls per cell and pass, {PASSES} passes taking turns: the lowest 10th "
        "percentile of ms per call (database round trips per call; the stock backend's are not "
        "counted); checkout: taking a connection from the pool and giving it back"
    )
    best: dict[str, dict[str, tuple[float, float]]] = {}
    for _ in range(PASSES):
        for name in CONFIGS:
            out = subprocess.run(  # noqa: S603 (this script, with a name from CONFIGS)
                [sys.executable, __file__, "--child", name],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            row = json.loads(out.strip().splitlines()[-1])
            kept = best.setdefault(name, row)
            for column, (ms, trips) in row.items():
                if ms < kept[column][0]:
                    kept[column] = (ms, trips)
    columns = list(next(iter(best.values())))
    print(f"{'':45}" + "".join(f"{column:>22}" for column in columns))
    for name, row in best.items():
        cells = "".join(f"{f'{ms:.3f} ms ({trips})':>22}" for ms, trips in row.values())
        print(f"{name:45}{cells}")


if __name__ == "__main__":
    main()
