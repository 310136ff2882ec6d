"""``make profile``: a py-spy flame graph of one of the product's services while a scenario of the
benchmark loads it.

py-spy runs on the host against the container's process (host PID, as root); where the kernel
refuses that ptrace, it runs in a throw-away container that shares the service container's PID
namespace and has CAP_SYS_PTRACE (py-spy's Linux binary is static, so it runs in any image).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from fastdjango_bench.harness.plan import Planner, systems
from fastdjango_bench.harness.report import ASSETS
from fastdjango_bench.harness.runner import Settings, started
from fastdjango_bench.harness.stack import Stack, log, run
from fastdjango_bench.harness.wrk import finish

DEFAULT_SCENARIO = {"rest": "list-miss", "graphql": "graphql-miss"}


def py_spy() -> str:
    beside = Path(sys.executable).with_name("py-spy")
    found = str(beside) if beside.exists() else shutil.which("py-spy")
    if not found:
        raise RuntimeError("py-spy is missing: run `make sync` (it is in the dev group)")
    return found


def record(stack: Stack, service: str, seconds: int, output: Path) -> None:
    # --gil: only the samples of the thread holding the GIL, i.e. where the worker's Python CPU
    # goes (time spent waiting for PostgreSQL or Redis is in no frame).
    args = ["record", "--gil", "--duration", str(seconds), "--rate", "100"]
    args += ["--format", "flamegraph"]
    spy = py_spy()
    host = subprocess.run(  # noqa: S603
        [spy, *args, "--pid", str(stack.pid(service)), "--output", str(output)],
        capture_output=True,
        text=True,
        check=False,
    )
    if host.returncode == 0:
        return
    log(f"py-spy on the host failed ({host.stderr.strip()[-300:]}); trying inside a container")
    image = f"fastdjango/bench:{stack.project}"
    run(
        [
            "docker",
            "run",
            "--rm",
            "--pid",
            f"container:{stack.container(service)}",
            "--cap-add",
            "SYS_PTRACE",
            "--user",
            "0",
            "--entrypoint",
            "/py-spy",
            "-v",
            f"{spy}:/py-spy:ro",
            "-v",
            f"{output.parent}:/out",
            image,
            *args,
            "--pid",
            "1",
            "--output",
            f"/out/{output.name}",
        ],
        env={**stack.env, "PATH": os.environ.get("PATH", "")},
        timeout=seconds + 120,
    )


def profile(
    settings: Settings,
    *,
    service: str,
    scenario: str | None,
    seconds: int,
    project: str,
    keep: bool,
) -> Path:
    scenario = scenario or DEFAULT_SCENARIO[service]
    output = ASSETS / f"profile-{service}-{scenario}.svg"
    output.parent.mkdir(parents=True, exist_ok=True)
    with started(settings, project=project, keep=keep) as (stack, inputs):
        planner = Planner(
            inputs, systems(stack), threads=settings.threads, connections=settings.connections
        )
        chosen = [
            r
            for r in planner.runs()
            if r.scenario == scenario
            and r.system.service == service
            and r.system.key != "fastdjango-direct"
        ]
        if not chosen:
            raise SystemExit(f"no scenario {scenario!r} loads the {service} service")
        load = chosen[0]
        if load.warmup:
            finish(load.warmup.start(settings.warmup or 1), 60)
        # The load outlasts the recording: py-spy sees only a loaded process.
        running = load.load.start(seconds + 3)
        log(f"recording {service} for {seconds} s under {scenario}")
        record(stack, service, seconds, output)
        outcome = finish(running, seconds + 60)
        log(f"{scenario}: {outcome.rate:.0f} req/s during the recording (py-spy's pauses included)")
    return output
