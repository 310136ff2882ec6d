"""wrk (Debian's package), driven with the scripts in bench/lua, on 127.0.0.1 only."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from fastdjango_bench.harness.stack import ROOT, log, run

LUA = ROOT / "bench" / "lua"


def ensure_wrk() -> str:
    """The wrk binary; installed with apt (as root, like the project's other tools) if missing."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise RuntimeError("wrk is missing: install it (Debian/Ubuntu: apt-get install wrk)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    policy = run(["apt-cache", "policy", "wrk"], env=env).stdout
    if "Candidate: (none)" in policy or "Candidate:" not in policy:
        log("apt-get update")
        run(["apt-get", "update", "-qq"], env=env)
    log("apt-get install wrk")
    run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "wrk"], env=env)
    return shutil.which("wrk") or "wrk"


@dataclass(frozen=True)
class Load:
    """One wrk invocation: ``script`` (bench/lua/<script>.lua) against ``url`` with ``args``."""

    url: str
    script: str
    args: tuple[str, ...] = ()
    threads: int = 2
    connections: int = 32

    def command(self, duration: float, window: tuple[float, float] | None = None) -> list[str]:
        host = urlsplit(self.url).hostname
        if host != "127.0.0.1":
            raise ValueError(f"the benchmark only targets 127.0.0.1, not {host}")
        return [
            ensure_wrk(),
            f"-t{self.threads}",
            f"-c{self.connections}",
            f"-d{duration:g}s",
            "--timeout",
            "10s",
            "-s",
            str(LUA / f"{self.script}.lua"),
            self.url,
            "--",
            f"threads={self.threads}",
            *([f"window={window[0]:.6f},{window[1]:.6f}"] if window else []),
            *self.args,
        ]

    def start(
        self, duration: float, window: tuple[float, float] | None = None
    ) -> subprocess.Popen[str]:
        """Start wrk; ``window`` (time.monotonic() values) is when responses are also counted
        apart, for the costs sampled at its ends."""
        env = {**os.environ, "LUA_PATH": f"{LUA}/?.lua;;"}
        return subprocess.Popen(  # noqa: S603
            self.command(duration, window),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


@dataclass(frozen=True)
class Outcome:
    """What wrk saw: counts, latency (ms) and the statuses per code."""

    requests: int
    seconds: float
    errors: dict[str, int]
    p50: float
    p90: float
    p99: float
    statuses: dict[int, int]
    stopped: bool
    # Responses received within the measuring window.
    windowed: int = 0
    window_seconds: float = 0.0

    @property
    def rate(self) -> float:
        """Requests per second in the measuring window (steady state: no ramp-up, no requests
        cut off at the end), else over the whole run (a script that stopped early is timed by
        its own clock)."""
        if self.windowed and self.window_seconds and not self.stopped:
            return self.windowed / self.window_seconds
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    @property
    def socket_errors(self) -> int:
        return sum(count for name, count in self.errors.items() if name != "status")

    def unexpected(self, expected: set[int]) -> int:
        """Responses with a status other than ``expected`` (errors or not)."""
        return sum(count for status, count in self.statuses.items() if status not in expected)

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "rate": round(self.rate, 1),
            "p50_ms": round(self.p50, 2),
            "p90_ms": round(self.p90, 2),
            "p99_ms": round(self.p99, 2),
            "errors": self.errors,
            "statuses": {str(code): count for code, count in sorted(self.statuses.items())},
            "stopped": self.stopped,
            "windowed": self.windowed,
        }


def finish(
    process: subprocess.Popen[str], timeout: float, window: tuple[float, float] | None = None
) -> Outcome:
    out, err = process.communicate(timeout=timeout)
    line = next((row for row in out.splitlines() if row.startswith("BENCH ")), None)
    if process.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({process.returncode}):\n{out[-2000:]}{err[-2000:]}")
    data = json.loads(line.removeprefix("BENCH "))
    stopped = data["stopped"] > 0
    latency = data["latency_us"]
    return Outcome(
        requests=data["requests"],
        # A script that stops early (one pass over the slugs) is timed from its own clock.
        seconds=data["elapsed"] if stopped else data["duration_us"] / 1e6,
        errors=data["errors"],
        p50=latency["p50"] / 1000,
        p90=latency["p90"] / 1000,
        p99=latency["p99"] / 1000,
        statuses={int(code): count for code, count in data["statuses"].items()},
        stopped=stopped,
        windowed=data["windowed"],
        window_seconds=window[1] - window[0] if window else 0.0,
    )
