"""The embedded store (TinyDB settings + SQLite ledger) at the steady state of a year of use.

``python -m bench.bench_store [--quick]``. Issue 13's goal for the store that needs no server: 2,000
channels with 365 days of ledger each (``bench/ledger_seed.py``), and

* a configuration write (``update_channel``: what every ``/papers`` change and the settings modal do)
  with a p99 under 50 ms;
* the store's share of a post run to every channel under 5% of the time Slack's posting limit takes
  for the same run (300 posts a minute kept at 95%: 0.21 s a channel);
* the bot's resident memory with that database open under 200 MiB.

Also measured: start-up (open both files and list the channels, as the scheduler does first), and the
same post run with 10,000 channels x 120 days (the bot prunes runs after 120 days). The store runs in
this process; RSS is this process's, which holds nothing else of size.
"""

from __future__ import annotations

import gc
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import Result, Row, median, p99, rss_kib, standalone, timed
from bench.ledger_seed import FIRST_DAY, TEAM, channel_id, seed_steady_state, store_side_of_post_run

NAME = "store"
SLACK_SECONDS_PER_POST = 60 / (300 * 0.95)  # the pacer's pace (bot/slack/pacing.py)


def _dir_mib(path: Path) -> float:
    return sum(p.stat().st_size for p in path.parent.glob(path.stem + "*") if p.is_file()) / 2**20


def measure(channels: int, days: int, updates: int, opens: int, runs: int, result: Result) -> None:
    from bot.store.tinydb_store import TinyStore

    bench = f"store {channels:,} ch x {days} d"
    rng = random.Random(11)
    with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
        path = Path(tmp) / "papers-bot.json"
        started = time.perf_counter()
        seed_steady_state(path, channels, days)
        seeding = time.perf_counter() - started
        size = _dir_mib(path)

        def open_and_list() -> None:
            with TinyStore(path) as store:
                store.channels()

        open_and_list()  # warm the page cache: we measure the store, not the disk
        starts = timed(open_and_list, opens)

        gc.collect()
        rss_before = rss_kib()
        with TinyStore(path) as store:
            store.channels()
            latencies = []
            for _ in range(updates):
                cid = channel_id(rng.randrange(channels))
                value = rng.randint(1, 20)
                start = time.perf_counter()
                store.update_channel(cid, lambda c, v=value: c.replace(max_papers=v), team_id=TEAM)
                latencies.append(time.perf_counter() - start)
            run_times = [store_side_of_post_run(store, channels, FIRST_DAY + timedelta(days=i)) for i in range(runs)]
            rss_open = rss_kib()
    floor = channels * SLACK_SECONDS_PER_POST
    post_run = median(run_times)
    result.rows.append(
        Row(
            bench,
            "settings update (update_channel)",
            median(latencies),
            "s",
            p99=p99(latencies),
            samples=len(latencies),
            goal="p99 < 50 ms" if channels == 2000 else "",
            ok=p99(latencies) < 0.05 if channels == 2000 else None,
            note=f"{size:.0f} MiB on disk (settings + ledger)",
        )
    )
    result.rows.append(
        Row(
            bench,
            "store side of a post run to every channel",
            post_run,
            "s",
            samples=len(run_times),
            ratio=f"{post_run / floor:.1%} of Slack's {floor:.0f} s",
            goal="< 5% of the floor" if channels == 2000 else "",
            ok=post_run / floor < 0.05 if channels == 2000 else None,
            note=f"{post_run / channels * 1000:.2f} ms a channel on 8 threads",
        )
    )
    result.rows.append(
        Row(bench, "start-up: open + list channels", median(starts), "s", p99=max(starts), samples=opens)
    )
    if channels == 2000:
        rss = rss_open / 1024
        result.rows.append(
            Row(
                bench,
                "RSS with the database open, after the runs",
                rss,
                "MiB",
                goal="< 200 MiB",
                ok=rss < 200,
                note=f"+{(rss_open - rss_before) / 1024:.0f} MiB over the process before opening",
            )
        )
    result.notes.append(
        f"store {channels:,} x {days}: seeded in {seeding:.0f} s; {updates} updates on random channels; "
        f"{runs} post run(s) on successive days; page cache warm."
    )


def run(quick: bool = False) -> Result:
    result = Result()
    if quick:
        measure(channels=200, days=30, updates=20, opens=2, runs=1, result=result)
        return result
    measure(channels=2000, days=365, updates=200, opens=5, runs=3, result=result)
    measure(channels=10_000, days=120, updates=200, opens=3, runs=1, result=result)
    return result


if __name__ == "__main__":
    standalone(NAME, run)
