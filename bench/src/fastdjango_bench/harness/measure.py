"""What a run costs, measured outside the systems so that every one is measured alike: CPU time of
a container's processes from /proc, and SQL statements from PostgreSQL's pg_stat_statements."""

from __future__ import annotations

import os
from collections import defaultdict

import psycopg

_TICK = os.sysconf("SC_CLK_TCK")


def _stats() -> dict[int, tuple[int, float]]:
    """``pid -> (ppid, CPU seconds of the process and its reaped children)`` for every process."""
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                raw = stat.read()
        except OSError:  # exited meanwhile
            continue
        # The command name is in parentheses and may hold anything: split after the last ')'.
        fields = raw[raw.rindex(b")") + 2 :].split()
        utime, stime, cutime, cstime = (int(value) for value in fields[11:15])
        found[int(entry.name)] = (int(fields[1]), (utime + stime + cutime + cstime) / _TICK)
    return found


def cpu_seconds(roots: dict[str, int]) -> dict[str, float]:
    """CPU seconds used so far by each process tree (``name -> root PID``): a container's main
    process and everything it started (gunicorn's worker, PostgreSQL's backends, nginx's
    workers), not processes docker exec'd into it (health checks)."""
    stats = _stats()
    children: dict[int, list[int]] = defaultdict(list)
    for pid, (ppid, _) in stats.items():
        children[ppid].append(pid)
    totals = {}
    for name, root in roots.items():
        total, todo = 0.0, [root]
        while todo:
            pid = todo.pop()
            if pid in stats:
                total += stats[pid][1]
                todo.extend(children.get(pid, ()))
        totals[name] = total
    return totals


def find(command: str) -> int | None:
    """The PID of the oldest process named ``command`` (e.g. the Docker engine, which turns every
    log line the containers write into a file: a cost per request no container is billed for)."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/comm") as comm:
                    if comm.read().strip() == command:
                        found.append(int(entry.name))
            except OSError:
                continue
    return min(found) if found else None


_STATEMENTS = """
    SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements
    WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND query NOT ILIKE '%pg_stat_statements%'
"""


class Statements:
    """Statements PostgreSQL executed in the bench database (utility statements too: BEGIN,
    COMMIT, SET), counted by pg_stat_statements between :meth:`reset` and :meth:`count`.
    Empty statements (a pool's liveness probe) are round trips it does not see."""

    def __init__(self, conninfo: str) -> None:
        self.connection = psycopg.connect(conninfo, autocommit=True)
        self.connection.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")

    def reset(self) -> None:
        self.connection.execute("SELECT pg_stat_statements_reset()")

    def count(self) -> int:
        row = self.connection.execute(_STATEMENTS).fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        self.connection.close()
