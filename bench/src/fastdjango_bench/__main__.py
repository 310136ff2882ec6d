"""``python -m fastdjango_bench bench | smoke | profile`` (the Makefile's bench and profile
targets; tests/bench runs the smoke)."""

from __future__ import annotations

import argparse
import shlex
import sys
from dataclasses import replace
from datetime import UTC, datetime

from fastdjango_bench.harness.plan import SCENARIOS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fastdjango_bench")
    sub = parser.add_subparsers(dest="command", required=True)
    bench = sub.add_parser("bench", help="the benchmark: table, goals, docs/benchmarks.md, chart")
    bench.add_argument("--duration", type=float, default=6.0, help="seconds per run (6)")
    bench.add_argument("--rounds", type=int, default=2, help="times each run is made (2)")
    bench.add_argument("--warmup", type=float, default=1.0, help="seconds of warm-up per run (1)")
    bench.add_argument("--connections", type=int, default=32)
    bench.add_argument(
        "--only", default="", help=f"comma-separated scenarios of: {', '.join(SCENARIOS)}"
    )
    bench.add_argument("--no-docs", action="store_true", help="print only; leave docs/ alone")
    smoke = sub.add_parser("smoke", help="every scenario for a second: same JSON, no errors")
    profile = sub.add_parser("profile", help="a py-spy flame graph of a service under load")
    profile.add_argument("--service", choices=("rest", "graphql"), default="rest")
    profile.add_argument("--scenario", choices=list(SCENARIOS), default=None)
    profile.add_argument("--seconds", type=int, default=15)
    for command in (bench, smoke, profile):
        command.add_argument("--project", default="fastdjango-bench", help="compose project name")
        command.add_argument("--keep", action="store_true", help="leave the stack running")
    args = parser.parse_args(argv)

    from fastdjango_bench.harness import report
    from fastdjango_bench.harness.runner import Settings, measure, smoke_settings

    if args.command == "profile":
        from fastdjango_bench.harness.profile import profile as record

        output = record(
            Settings(),
            service=args.service,
            scenario=args.scenario,
            seconds=args.seconds,
            project=args.project,
            keep=args.keep,
        )
        print(f"flame graph: {output.relative_to(report.ROOT)}")
        return 0

    if args.command == "smoke":
        result = measure(smoke_settings(), project=args.project, keep=args.keep, lock=False)
    else:
        settings = replace(
            Settings(),
            duration=args.duration,
            warmup=args.warmup,
            rounds=args.rounds,
            connections=args.connections,
        )
        only = {name for name in args.only.split(",") if name} or None
        unknown = (only or set()) - set(SCENARIOS)
        if unknown:
            parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
        result = measure(settings, project=args.project, keep=args.keep, only=only, lock=True)
    print(report.table(result))
    print()
    print("\n".join(report.summary_lines(result)))
    if args.command == "bench" and not args.no_docs and result.results and not only:
        date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        given = sys.argv[1:] if argv is None else argv
        command = (
            "make bench"
            if given == ["bench"]
            else shlex.join(["python", "-m", "fastdjango_bench", *given])
        )
        chart = report.ASSETS / "bench.png"
        report.chart(result, chart)
        (report.ASSETS / "results.json").write_text(result.as_json() + "\n")
        text = report.section(result, date=date, command=command, chart="benchmarks/bench.png")
        report.update_docs(text)
        print(
            f"\nwrote {report.DOCS.relative_to(report.ROOT)} and {chart.relative_to(report.ROOT)}"
        )
    for problem in result.problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    return 1 if result.problems else 0


if __name__ == "__main__":
    sys.exit(main())
