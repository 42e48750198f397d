"""The process: ``python -m bot serve`` start-up time to ready and idle resident memory.

``python -m bench.bench_process [--quick]``. Start-up is measured from ``Popen`` until ``GET /healthz``
answers 200 (interpreter, imports, settings, store open, scheduler, HTTP server), against the fakes,
with an empty database and with 10,000 channels. Idle memory is the process's RSS two seconds after
it became ready, nothing happening.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_store import seed
from bench.botproc import BotProcess
from bench.common import Result, Row, median, rss_kib, standalone
from bench.fakes_proc import FakeConfig, FakesProcess

NAME = "process"


def starts(urls: dict[str, str], db: Path, runs: int, idle: float) -> tuple[list[float], list[float]]:
    ready, rss = [], []
    for _ in range(runs):
        with BotProcess(urls, db) as bot:
            ready.append(bot.ready_after)
            time.sleep(idle)
            rss.append(rss_kib(bot.pid) / 1024)
    return ready, rss


def run(quick: bool = False) -> Result:
    runs = 1 if quick else 5
    idle = 0.2 if quick else 2.0
    big = 1000 if quick else 10_000
    result = Result()
    with tempfile.TemporaryDirectory(prefix="bench-process-") as tmp, FakesProcess(FakeConfig()) as fakes:
        empty_ready, empty_rss = starts(fakes.urls, Path(tmp) / "empty.json", runs, idle)
        big_db = Path(tmp) / "big.json"
        seed(big_db, big)
        big_ready, big_rss = starts(fakes.urls, big_db, max(1, runs - 2), idle)
    result.rows += [
        Row(
            "process",
            "start-up to /healthz, empty DB",
            median(empty_ready),
            "s",
            p99=max(empty_ready),
            samples=len(empty_ready),
        ),
        Row("process", "idle RSS, empty DB", median(empty_rss), "MiB", samples=len(empty_rss)),
        Row(
            "process",
            f"start-up to /healthz, {big:,} ch",
            median(big_ready),
            "s",
            p99=max(big_ready),
            samples=len(big_ready),
        ),
        Row("process", f"idle RSS, {big:,} ch", median(big_rss), "MiB", samples=len(big_rss)),
    ]
    result.notes.append(
        f"process: `python -m bot serve` (HTTP mode) against the fakes; p99 column = slowest start; RSS read "
        f"from /proc {idle:g} s after ready."
    )
    return result


if __name__ == "__main__":
    standalone(NAME, run)
