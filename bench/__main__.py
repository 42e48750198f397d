"""``python -m bench``: every benchmark against the local fakes, one table. See BENCHMARKS.md.

    .venv/bin/python -m bench                 # everything (~22 minutes on 2 cores)
    .venv/bin/python -m bench --quick         # a smoke run of every benchmark (seconds; used by the tests)
    .venv/bin/python -m bench --only fanout,ack --markdown results.md

Each benchmark runs in a child process of its own, so one's memory, threads and CPU pinning cannot
colour another's figures. A module joins the suite by defining ``run(quick: bool) -> bench.common.Result``
(a benchmark that needs something the machine lacks returns no rows and a note saying so).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import REPO, Result, Row, machine, render_table, run_child

# (name, module); the order is the table's.
BENCHES: list[tuple[str, str]] = [
    ("filters", "bench.bench_filters"),
    ("semantic", "bench.bench_semantic"),
    ("store", "bench.bench_store"),
    ("ack", "bench.bench_ack"),
    ("process", "bench.bench_process"),
    ("search", "bench.bench_search"),
    ("store-pg", "bench.bench_store_pg"),
    ("fanout", "bench.bench_fanout"),
    ("workspaces", "bench.bench_workspaces"),
    ("unfurl", "bench.bench_unfurl"),
    ("follow-ups", "bench.bench_follow_ups"),
    ("team", "bench.bench_team"),
]
MARK = "BENCH-RESULT "


def child(module: str, quick: bool) -> int:
    """Inside the child: run one benchmark and print its result as one JSON line."""
    result = importlib.import_module(module).run(quick)
    print(MARK + result.to_json(), flush=True)
    return 0


def run_one(name: str, module: str, quick: bool) -> Result:
    """One benchmark in a child process; its rows come back as one JSON line."""
    timeout = 300 if quick else 1800
    proc = run_child("bench", ["--child", module, *(["--quick"] if quick else [])], timeout)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(MARK):
            return Result.from_json(line[len(MARK) :])
    raise RuntimeError(f"{name} failed (exit {proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny workloads: checks the suite runs, not speed")
    parser.add_argument("--only", default="", help="comma-separated names: " + ",".join(n for n, _ in BENCHES))
    parser.add_argument("--markdown", type=Path, help="also write the table and notes to this file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child, args.quick)

    wanted = {n.strip() for n in args.only.split(",") if n.strip()}
    unknown = wanted - {n for n, _ in BENCHES}
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    rows: list[Row] = []
    notes: list[str] = []
    failed: list[str] = []
    header = f"machine: {machine()}"
    print(header, flush=True)
    for name, module in BENCHES:
        if wanted and name not in wanted:
            continue
        if not (REPO / (module.replace(".", "/") + ".py")).exists():
            notes.append(f"{name}: {module} not present, skipped")
            continue
        started = time.perf_counter()
        print(f"running {name} ...", end=" ", flush=True)
        try:
            result = run_one(name, module, args.quick)
        except Exception as exc:  # one broken benchmark must not hide the others' figures
            print("FAILED", flush=True)
            failed.append(f"{name}: {exc}")
            continue
        print(f"{time.perf_counter() - started:.0f} s", flush=True)
        rows += result.rows
        notes += result.notes

    text = "\n".join(
        [
            header,
            "",
            render_table(rows),
            "",
            *(f"- {n}" for n in notes),
            *(["", "FAILED:", *failed] if failed else []),
        ]
    )
    print()
    print(text)
    if args.markdown:
        args.markdown.write_text(text + "\n", encoding="utf-8")
    return 1 if failed else 0  # a missed goal is a finding to read in the table, not a crash


if __name__ == "__main__":
    sys.exit(main())
