"""What every benchmark shares: result rows, robust statistics, the machine, the table, child processes.

Why medians and p99 and never means: the machines we run on are small and shared (2 cores, noisy
neighbours); one descheduled run moves a mean but not a median. Every figure says how many runs or
samples it summarises so a reader can judge it.
"""

from __future__ import annotations

import json
import math
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

__all__ = [
    "REPO",
    "Result",
    "Row",
    "RssSampler",
    "free_port",
    "machine",
    "median",
    "p99",
    "percentile",
    "render_table",
    "rss_kib",
    "timed",
]


@dataclass
class Row:
    """One figure. ``ratio`` is ``baseline / value`` style speed-up or ``value / limit`` (see ``note``)."""

    bench: str
    metric: str
    value: float
    unit: str
    p99: float | None = None
    samples: int = 1
    baseline: str = ""  # the obvious alternative, measured in the same run, and its figure
    ratio: str = ""  # e.g. "12x faster" or "1.06x floor"
    goal: str = ""
    ok: bool | None = None  # None: no goal
    note: str = ""

    def cells(self) -> list[str]:
        p99_text = _fmt(self.p99, self.unit) if self.p99 is not None else ""
        verdict = "" if self.ok is None else ("OK" if self.ok else "MISS")
        return [
            self.bench,
            self.metric,
            _fmt(self.value, self.unit),
            p99_text,
            str(self.samples),
            self.baseline,
            self.ratio,
            f"{self.goal} {verdict}".strip(),
            self.note,
        ]


@dataclass
class Result:
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps({"rows": [asdict(r) for r in self.rows], "notes": self.notes})

    @classmethod
    def from_json(cls, text: str) -> Result:
        data = json.loads(text)
        return cls([Row(**r) for r in data["rows"]], list(data.get("notes", [])))


def _fmt(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value:.2f} s" if value >= 1 else f"{value * 1000:.1f} ms"
    if unit == "ms":
        return f"{value:.2f} ms" if value < 10 else f"{value:.0f} ms"
    if unit == "MiB":
        return f"{value:.1f} MiB"
    if unit in ("", "count"):
        return f"{value:,.0f}"
    return f"{value:.3g} {unit}"


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile, ``q`` in 0..100: the smallest sample with at least q % of them at or below it."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(q * len(ordered) / 100) - 1))]


def p99(values: Sequence[float]) -> float:
    """Nearest-rank 99th percentile: with fewer than 100 samples it is the maximum (said in the docs)."""
    return percentile(values, 99)


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f" | {kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    load = ""
    if hasattr(os, "getloadavg"):
        load = f" | load {os.getloadavg()[0]:.2f}"
    return f"{platform.platform()} | {cpu} | {os.cpu_count()} CPUs{mem} | Python {platform.python_version()}{load}"


def rss_kib(pid: int | None = None) -> int:
    """Resident memory of a process (this one by default) from /proc; 0 where /proc is missing."""
    try:
        for line in Path(f"/proc/{pid or 'self'}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class RssSampler:
    """Samples this process's RSS every ``interval`` s while active; ``peak`` in KiB."""

    def __init__(self, interval: float = 0.02) -> None:
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="rss-sampler")

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_kib())
            self._stop.wait(self.interval)

    @contextmanager
    def running(self) -> Iterator[RssSampler]:
        self.peak = rss_kib()
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join()
            self.peak = max(self.peak, rss_kib())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def render_table(rows: Sequence[Row]) -> str:
    """A Markdown table (readable in a terminal too)."""
    header = ["bench", "metric", "median", "p99", "n", "alternative (same run)", "ratio", "goal", "note"]
    table = [header, *(r.cells() for r in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |" for line in table]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def print_suite_rows(result: Result) -> None:
    """What a bench run on its own ends with: the rows ``python -m bench`` would put in BENCHMARKS.md."""
    print("\n## Rows for the suite\n")
    print(render_table(result.rows))
    for note in result.notes:
        print(f"- {note}")


def run_child(module: str, args: Sequence[str], timeout: float) -> subprocess.CompletedProcess[str]:
    """Run ``python -m <module> <args>`` from the repository root, with the repository importable."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def standalone(name: str, run: Callable[[bool], Result], argv: Sequence[str] | None = None) -> None:
    """``python -m bench.<name> [--quick] [--json]``: one benchmark on its own."""
    args = list(sys.argv[1:] if argv is None else argv)
    result = run("--quick" in args)
    if "--json" in args:
        print("BENCH-RESULT " + result.to_json())
        return
    print(f"machine: {machine()}")
    print(render_table(result.rows))
    for note in result.notes:
        print(f"- {note}")
