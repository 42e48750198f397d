"""A smoke run of the benchmark suite: it must run and print its table (tiny workloads, no speed claims).

The full suite (``python -m bench``, minutes) is not part of the tests; this proves it still works.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_quick_suite_runs_and_reports_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "bench.md"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--quick",
            "--only",
            "filters,store,fanout,workspaces,follow-ups,team,unfurl",
            "--markdown",
            str(out),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    table = out.read_text()
    assert table.startswith("machine: ")
    for figure in ("match one day", "settings update", "start-up: open", "post run wall time", "429s hit"):
        assert figure in table, figure
    # Correctness holds even in the smoke run: no post lost or doubled, one day list for every channel.
    assert "| 0 OK" in table.split("lost / duplicate posts")[1].splitlines()[0]
    assert "| 1 OK" in table.split("HF day lists fetched")[1].splitlines()[0]
    # Many workspaces: every channel of every workspace once, each with its own workspace's token.
    assert "| 0 OK" in table.split("lost / duplicate / wrong-token posts")[1].splitlines()[0]
    # The benchmarks of issues 16 and 17 run too (they seed the store by workspace since issue 15).
    for figure in (
        "thread replies (owed posts)",
        "charts uploaded",
        "limit lifted: card latency",
        "render, first page",
    ):
        assert figure in table, figure
    assert "none twice OK" in table and "FAILED" not in proc.stdout
