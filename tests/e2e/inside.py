"""Reaching into the stack's containers with ``docker exec``: PostgreSQL's own view of its
connections, and HTTP calls made from inside the compose network (the health paths are for
containers and orchestrators, not for clients through the gateway)."""

from __future__ import annotations

import json
import subprocess
import textwrap
import time

from tests.e2e.stack import DATABASE, Stack

# Each service's readiness endpoint, from inside the compose network.
READINESS = {
    "rest": "http://rest:8000/api/health/ready",
    "graphql": "http://graphql:8000/graphql/health/ready",
    "admin": "http://admin:8000/admin/health/ready",
}


def exec_in(stack: Stack, service: str, *command: str, timeout: float = 120) -> str:
    container = stack.containers(service)[0]
    result = subprocess.run(
        ["docker", "exec", container, *command],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} in {container} failed:\n{result.stderr}")
    return result.stdout


# The probes below connect to the maintenance database (``postgres``), so that asking does not
# count itself among the application's sessions (a watcher polling every 0.2 s adds dozens).


def sessions(stack: Stack) -> int:
    """Connections PostgreSQL has accepted to the application's database since it started."""
    sql = f"SELECT sessions FROM pg_stat_database WHERE datname = '{DATABASE}'"  # noqa: S608
    return int(stack.psql(sql, database="postgres").strip())


def connections(stack: Stack) -> int:
    """Connections open to the application's database right now."""
    sql = f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{DATABASE}'"  # noqa: S608
    return int(stack.psql(sql, database="postgres").strip())


def postgres_accepts(stack: Stack) -> bool:
    try:
        exec_in(stack, "postgres", "pg_isready", "-h", "127.0.0.1", "-q", timeout=10)
    except AssertionError:
        return False
    return True


def wait_for_postgres(stack: Stack, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if postgres_accepts(stack):
            return
        time.sleep(0.5)
    raise AssertionError(f"PostgreSQL did not accept connections within {timeout} s")


# A stdlib-only client run with the service image's Python: GET every URL of `urls` `repeat`
# times from `workers` threads and print one JSON line per answer: [url, status, seconds].
_CLIENT = textwrap.dedent(
    """
    import json, sys, time, urllib.error, urllib.request
    from concurrent.futures import ThreadPoolExecutor
    urls, repeat, workers = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])

    def get(url):
        request = urllib.request.Request(url, headers={"Host": "localhost"})
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except OSError as exc:
            status = 0
        return [url, status, time.perf_counter() - started]

    with ThreadPoolExecutor(workers) as pool:
        for answer in pool.map(get, [url for url in urls for _ in range(repeat)]):
            print(json.dumps(answer))
    """
)


def get_from_inside(
    stack: Stack, urls: list[str], *, repeat: int = 1, workers: int = 1, via: str = "rest"
) -> list[tuple[str, int, float]]:
    """GET ``urls`` from inside the ``via`` container; return (url, status, seconds) per call."""
    out = exec_in(stack, via, "python", "-c", _CLIENT, json.dumps(urls), str(repeat), str(workers))
    return [tuple(json.loads(line)) for line in out.splitlines() if line.strip()]  # type: ignore[misc]
