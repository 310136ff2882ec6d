"""The run as people read it: a table per scenario and system, the issue's goals as ratios, a
chart, and the generated section of docs/benchmarks.md."""

from __future__ import annotations

import os
import platform
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from fastdjango_bench.harness.plan import SCENARIOS
from fastdjango_bench.harness.runner import Report, Result
from fastdjango_bench.harness.stack import ROOT

DOCS = ROOT / "docs" / "benchmarks.md"
ASSETS = ROOT / "docs" / "benchmarks"
BEGIN = "<!-- make bench: generated from here -->"
END = "<!-- make bench: generated up to here -->"


@dataclass(frozen=True)
class Goal:
    label: str
    numerator: tuple[str, str]
    denominator: tuple[str, str]
    target: float


GOALS = (
    Goal("REST list, cache hit ÷ floor", ("list-hit", "fastdjango"), ("list-hit", "floor"), 1.5),
    Goal(
        "REST detail, cache hit ÷ floor", ("detail-hit", "fastdjango"), ("detail-hit", "floor"), 1.5
    ),
    Goal("REST list, 304 ÷ floor list", ("list-304", "fastdjango"), ("list-hit", "floor"), 2.0),
    Goal("REST list, miss ÷ floor miss", ("list-miss", "fastdjango"), ("list-miss", "floor"), 0.5),
    Goal(
        "REST detail, miss ÷ floor miss",
        ("detail-miss", "fastdjango"),
        ("detail-miss", "floor"),
        0.5,
    ),
    Goal(
        "REST list, miss ÷ django-ninja miss",
        ("list-miss", "fastdjango"),
        ("list-miss", "ninja"),
        4.0,
    ),
    Goal(
        "REST detail, miss ÷ django-ninja miss",
        ("detail-miss", "fastdjango"),
        ("detail-miss", "ninja"),
        4.0,
    ),
    Goal(
        "GraphQL page, miss ÷ REST list miss",
        ("graphql-miss", "graphql"),
        ("list-miss", "fastdjango"),
        0.7,
    ),
    Goal(
        "GraphQL repeated query ÷ floor list",
        ("graphql-hit", "graphql"),
        ("list-hit", "floor"),
        1.0,
    ),
)


def ratios(results: list[Result]) -> list[tuple[Goal, float | None]]:
    rate = {(r.scenario, r.system.key): r.outcome.rate for r in results}
    found = []
    for goal in GOALS:
        top, bottom = rate.get(goal.numerator), rate.get(goal.denominator)
        found.append((goal, top / bottom if top is not None and bottom else None))
    return found


def machine() -> str:
    model = "unknown CPU"
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)[1]  # type: ignore[index]
    except (OSError, TypeError):
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    system = platform.freedesktop_os_release().get("PRETTY_NAME", platform.system())
    docker = subprocess.run(
        ["docker", "version", "-f", "{{.Server.Version}}"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return (
        f"{os.cpu_count()} x {model}, {memory:.0f} GB, {system}, kernel {platform.release()}, "
        f"Docker {docker or '?'}"
    )


def _ms(value: float) -> str:
    return f"{value:.2f}" if value < 10 else f"{value:.1f}" if value < 100 else f"{value:.0f}"


def table(report: Report) -> str:
    rows = [
        "| Scenario | System | req/s | p50 ms | p99 ms | errors | SQL/req "
        "| CPU ms/req: app | PostgreSQL |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    last = None
    for result in report.results:
        o = result.outcome
        cpu = result.cpu
        title = SCENARIOS[result.scenario].title if result.scenario != last else ""
        last = result.scenario
        errors = o.socket_errors + o.errors.get("status", 0)
        rows.append(
            f"| {title} | {result.system.label} | {o.rate:,.0f} | {_ms(o.p50)} | {_ms(o.p99)} "
            f"| {errors} | {result.per_request(result.statements):.2f} "
            f"| {result.per_request(cpu['app']) * 1000:.2f} "
            f"| {result.per_request(cpu['postgres']) * 1000:.2f} |"
        )
        if result.writes:
            w = result.writes
            rows.append(
                f"| | (the comments written meanwhile) | {w.rate:,.1f} "
                f"| {_ms(w.p50)} | {_ms(w.p99)} "
                f"| {w.socket_errors + w.errors.get('status', 0)} | | | |"
            )
    return "\n".join(rows)


def goals(report: Report) -> str:
    rows = ["| Goal (issue 9) | Measured | Target | |", "| --- | ---: | ---: | --- |"]
    for goal, value in ratios(report.results):
        shown = f"{value:.2f}×" if value is not None else "not measured"  # noqa: RUF001
        met = "met" if value is not None and value >= goal.target else "**not met**"
        rows.append(f"| {goal.label} | {shown} | ≥ {goal.target:g}× | {met} |")  # noqa: RUF001
    return "\n".join(rows)


def summary_lines(report: Report) -> list[str]:
    lines = []
    for goal, value in ratios(report.results):
        shown = f"{value:6.2f}x" if value is not None else "   n/a "
        met = "met" if value is not None and value >= goal.target else "NOT MET"
        lines.append(f"{goal.label:<42} {shown}  (target >= {goal.target:g}x)  {met}")
    return lines


def section(report: Report, *, date: str, command: str, chart: str | None) -> str:
    s = report.settings
    load = ", ".join(f"{value:.1f}" for value in report.load_before)
    after = ", ".join(f"{value:.1f}" for value in report.load_after)
    parts = [
        BEGIN,
        f"### Latest run: {date}",
        "",
        f"- Command: `{command}`",
        f"- Machine: {machine()}",
        f"- Load: wrk -t{s.threads} -c{s.connections}, {s.duration:g} s per run after a "
        f"{s.warmup:g} s warm-up, each run {s.rounds} times (the best kept; every round's rate "
        f"is in `docs/benchmarks/results.json`); data: `seed_demo {' '.join(s.seed_args)}` "
        f"({report.published:,} published posts)",
        f"- Load average of the machine (1, 5, 15 min) when the runs began: {load}; when they "
        f"ended: {after}",
        "",
        table(report),
        "",
        goals(report),
    ]
    if chart:
        parts += ["", f"![req/s per scenario and system]({chart})"]
    if report.problems:
        parts += ["", "Problems in this run:", "", *[f"- {p}" for p in report.problems]]
    parts += ["", END]
    return "\n".join(parts)


def update_docs(text: str, path: Path = DOCS) -> None:
    """Replace the generated section of ``path`` (only that: the rest is written by hand)."""
    doc = path.read_text()
    if BEGIN in doc and END in doc:
        head, rest = doc.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        path.write_text(head + text + tail)
    else:
        path.write_text(doc.rstrip("\n") + "\n\n" + text + "\n")


COLOURS = {
    "fastdjango": "#1f77b4",
    "graphql": "#1f77b4",
    "fastdjango-direct": "#9ecae1",
    "floor": "#2ca02c",
    "ninja": "#ff7f0e",
    "drf": "#d62728",
    "sync": "#8c564b",
    "nginx": "#7f7f7f",
}
LEGEND = {
    "fastdjango": "Fast Django (REST or GraphQL)",
    "fastdjango-direct": "Fast Django REST, no gateway",
    "floor": "floor: FastAPI + psycopg, 1 SQL",
    "ninja": "django-ninja (async)",
    "drf": "DRF (gunicorn)",
    "sync": "sync FastAPI, lazy relations",
    "nginx": "nginx static file",
}


def chart(report: Report, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scenarios = list(dict.fromkeys(r.scenario for r in report.results))
    figure, axes = plt.subplots(figsize=(13, 5.5))
    seen: set[str] = set()
    for x, scenario in enumerate(scenarios):
        rows = [r for r in report.results if r.scenario == scenario]
        width = 0.8 / len(rows)
        for n, result in enumerate(rows):
            key = "fastdjango" if result.system.key == "graphql" else result.system.key
            label = None if key in seen else LEGEND[key]
            seen.add(key)
            position = x - 0.4 + width * (n + 0.5)
            axes.bar(position, result.outcome.rate, width * 0.9, color=COLOURS[key], label=label)
            axes.text(
                position,
                result.outcome.rate,
                f"{result.outcome.rate:,.0f}",
                ha="center",
                va="bottom",
                fontsize=6,
                rotation=90,
            )
    axes.set_yscale("log")
    axes.set_ylabel("requests/s (log scale)")
    axes.set_xticks(range(len(scenarios)), scenarios, rotation=20, ha="right")
    axes.set_title(
        f"Fast Django and its baselines, one worker each, wrk -c{report.settings.connections}"
    )
    axes.legend(fontsize=8, ncols=2, loc="upper left")
    axes.grid(axis="y", which="both", alpha=0.3)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
