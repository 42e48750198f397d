"""PostgreSQL next to TinyDB for the two store paths users feel: ``python -m bench.bench_store_pg``.

* **Settings update latency**: one ``update_channel`` (what ``/papers settings`` and every filter edit
  do) with 1,000 channels stored; median and p95 over many updates.
* **Post-run fan-out**: the store's share of one daily run to 1,000 channels, done the way
  ``PostRunner`` does it (a thread pool; per channel ``get_run``, ``posted_keys``, ``claim_run`` and
  ``finish_run``). Slack and Hugging Face are left out on purpose: their pace is set by the pacer
  (300 posts a minute), so the question is only whether the store keeps up with it.

PostgreSQL comes from ``$PAPERS_BOT_TEST_DATABASE_URL`` or a throwaway cluster started here (needs
``initdb``; default durability settings, fsync on, as TinyDB fsyncs every write), on loopback: a
managed database over a network adds its round trip to every figure.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.models import FilterChange, RunRecord, RunState
from bot.store import Store
from bot.store.sql_store import SqlStore
from bot.store.tinydb_store import TinyStore

TODAY = date(2026, 8, 21)


def seed(store: Store, channels: int) -> None:
    history = tuple(FilterChange("U1", "2026-08-01T00:00:00+00:00", f"added topic {i}") for i in range(5))
    for n in range(channels):
        store.update_channel(
            f"C{n:05d}",
            lambda c, n=n: c.replace(subscribed=True, filter_text=f'"topic {n}", llm, -medical', history=history),
        )
        if n % 2 == 0:  # half the channels have some history in the ledger
            record = RunRecord(f"C{n:05d}", date(2026, 8, 20), RunState.CLAIMED, f"old{n}", datetime.now(UTC))
            store.claim_run(record)
            keys = tuple(f"2608.{n:05d}{k}" for k in range(10))
            store.finish_run(record.replace(state=RunState.POSTED, days=(date(2026, 8, 19),), paper_keys=keys))


def settings_latency(store: Store, channels: int, updates: int) -> list[float]:
    timings = []
    for i in range(updates):
        channel = f"C{(i * 7919) % channels:05d}"
        started = time.perf_counter()
        store.update_channel(channel, lambda c, i=i: c.replace(max_papers=1 + i % 20, post_time=f"{8 + i % 3:02d}:00"))
        timings.append(time.perf_counter() - started)
    return timings


def fan_out(store: Store, channels: int, workers: int) -> float:
    def one(n: int) -> None:
        channel = f"C{n:05d}"
        if store.get_run(channel, TODAY) is not None:
            return
        store.posted_keys(channel)
        record = RunRecord(channel, TODAY, RunState.CLAIMED, f"run{n}", datetime.now(UTC), days=(TODAY,))
        if store.claim_run(record):
            keys = tuple(f"2608.9{n:04d}{k}" for k in range(5))
            store.finish_run(record.replace(state=RunState.POSTED, paper_keys=keys, ts=("1.0",)))

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(one, range(channels)))
    return time.perf_counter() - started


@contextmanager
def postgres_url() -> Iterator[str]:
    import os

    from tests import pg

    if os.environ.get(pg.ENV_VAR):
        with pg.fresh_schema(os.environ[pg.ENV_VAR]) as url:
            yield url
        return
    bin_dir = pg.find_pg_bin()
    if bin_dir is None:
        raise SystemExit(f"needs initdb/pg_ctl (apt-get install postgresql) or ${pg.ENV_VAR}")
    cluster = pg.PgCluster(bin_dir, durable=True).start()  # fsync on, like TinyDB's every write
    try:
        with pg.fresh_schema(cluster.url) as url:
            yield url
    finally:
        cluster.stop()


def measure(name: str, open_store: Callable[[], Store], args: argparse.Namespace) -> dict[str, float]:
    with open_store() as store:
        seed(store, args.channels)
        latencies = sorted(settings_latency(store, args.channels, args.updates))
        fan = fan_out(store, args.channels, args.workers)
        assert len([r for r in store.runs() if r.local_date == TODAY]) == args.channels
    result = {
        "update_p50_ms": statistics.median(latencies) * 1000,
        "update_p95_ms": latencies[int(len(latencies) * 0.95) - 1] * 1000,
        "fanout_s": fan,
        "fanout_per_channel_ms": fan / args.channels * 1000,
    }
    print(
        f"{name:<10} settings update p50 {result['update_p50_ms']:7.2f} ms  p95 {result['update_p95_ms']:7.2f} ms   "
        f"fan-out {args.channels} channels {result['fanout_s']:6.2f} s "
        f"({result['fanout_per_channel_ms']:.2f} ms/channel)"
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=1000)
    parser.add_argument("--updates", type=int, default=200)
    parser.add_argument("--workers", type=int, default=8, help="fan-out threads (PostRunner uses ~5-32)")
    args = parser.parse_args()
    print(f"{args.channels} channels, {args.updates} settings updates, fan-out with {args.workers} threads")
    with tempfile.TemporaryDirectory() as tmp:
        measure("TinyDB", lambda: TinyStore(Path(tmp) / "bench.json"), args)
    with postgres_url() as url:
        measure("PostgreSQL", lambda: SqlStore(url), args)


if __name__ == "__main__":
    main()
