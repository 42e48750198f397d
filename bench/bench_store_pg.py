"""PostgreSQL next to TinyDB for the two store paths users feel: ``python -m bench.bench_store_pg [--quick]``.

* **Settings update latency**: one ``update_channel`` (what ``/papers settings`` and every filter edit
  do) with 1,000 channels stored, and again with 100 and 10,000 to show how each backend scales. The
  two stores hold the same data and take turns, update by update, so load from other jobs falls on
  both alike. Median and p99 (nearest rank) over the updates.
* **Post run, 1,000 channels, 120-day ledger**: the store's share of one daily run, done the way
  ``PostRunner`` does it (``bench/ledger_seed.store_side_of_post_run``: the tick's one ledger query,
  then on a thread pool per channel ``get_run``, ``open_runs``, ``posted_keys``, ``claim_run`` and
  ``finish_run``). Slack and Hugging Face are left out on purpose: their pace is set by the pacer
  (285 posts a minute), so the question is only whether the store keeps up with it. Repeated for
  the next days (each run claims a new day); median of the runs.

Both stores are seeded with the same steady state (``bench/ledger_seed.py``): channels with topic
filters and a change history, and 120 days of runs and posted papers each, what a bot that prunes
runs after 120 days holds. TinyDB (settings) + SQLite (ledger) written directly, PostgreSQL by
``migrate-store``'s copy of them (``bot.store.migrate.copy_store``).

PostgreSQL comes from ``$PAPERS_BOT_TEST_DATABASE_URL`` or a throwaway cluster started here with
``initdb``/``pg_ctl`` (on ``PATH`` or under ``/usr/lib/postgresql/*/bin``; as root it runs as the
``postgres`` user, see ``tests/pg.py``), default durability (fsync and synchronous commit on, as
TinyDB fsyncs every write), on loopback and on the same disk as the TinyDB file: a managed database
over a network adds its round trip to every PostgreSQL figure. Without PostgreSQL the benchmark is
skipped and says so.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import Result, Row, machine, median, p99, print_suite_rows
from bench.ledger_seed import FIRST_DAY, TEAM, channel_id, seed_steady_state, store_side_of_post_run
from bot.store import Store

NAME = "store-pg"
LEDGER_DAYS = 120  # the steady state: the bot prunes runs after 120 days and keeps posted keys forever
SLACK_SLOT = 60 / (300 * 0.95)  # s between two posts at the pace the bot keeps (bot/slack/pacing.py)


@dataclass(frozen=True)
class Shape:
    channels: int  # the main size: updates and fan-out
    scales: tuple[int, ...]  # more sizes for the settings update only
    updates: int
    fanout_runs: int
    workers: int = 8  # fan-out threads (PostRunner sizes its pool from the pacer: ~5 at Slack's rate, 20 at 25/s)


FULL = Shape(channels=1_000, scales=(100, 10_000), updates=200, fanout_runs=3)
QUICK = Shape(channels=100, scales=(), updates=20, fanout_runs=1)


def postgres_available() -> bool:
    from tests import pg

    return bool(os.environ.get(pg.ENV_VAR)) or pg.find_pg_bin() is not None


@contextmanager
def postgres_server() -> Iterator[str]:
    """A server URL: ``$PAPERS_BOT_TEST_DATABASE_URL``, or a durable throwaway cluster for the run."""
    from tests import pg

    if os.environ.get(pg.ENV_VAR):
        yield os.environ[pg.ENV_VAR]
        return
    bin_dir = pg.find_pg_bin()
    if bin_dir is None:
        raise RuntimeError(f"needs initdb/pg_ctl (apt-get install postgresql) or ${pg.ENV_VAR}")
    cluster = pg.PgCluster(bin_dir, durable=True).start()  # fsync on, like TinyDB's every write
    try:
        yield cluster.url
    finally:
        cluster.stop()


@contextmanager
def both_stores(tmp: Path, server_url: str, channels: int, days: int) -> Iterator[tuple[Store, Store]]:
    """(TinyDB, PostgreSQL) holding the same ``channels`` channels; the PostgreSQL schema is dropped after."""
    from bot.store.migrate import copy_store
    from bot.store.sql_store import SqlStore
    from bot.store.tinydb_store import TinyStore
    from tests import pg

    path = tmp / f"store-{channels}.json"
    seed_steady_state(path, channels, days)
    with pg.fresh_schema(server_url) as url:
        copy_store(str(path), url)  # migrate-store: copies and reads everything back to verify
        with TinyStore(path) as tiny, SqlStore(url) as sql:
            yield tiny, sql


def settings_latency(stores: tuple[Store, ...], channels: int, updates: int) -> list[list[float]]:
    """``updates`` settings changes on spread-out channels; the stores take turns, change by change."""
    timings: list[list[float]] = [[] for _ in stores]
    for i in range(updates):
        channel = channel_id((i * 7919) % channels)
        for store, out in zip(stores, timings, strict=True):
            started = time.perf_counter()
            store.update_channel(
                channel,
                lambda c, i=i: c.replace(max_papers=1 + i % 20, post_time=f"{8 + i % 3:02d}:00"),
                team_id=TEAM,
            )
            out.append(time.perf_counter() - started)
    return timings


def fan_out(store: Store, channels: int, workers: int, day: date) -> float:
    return store_side_of_post_run(store, channels, day, workers)


@dataclass
class Measured:
    channels: int
    updates: dict[str, list[float]] = field(default_factory=dict)  # backend → seconds per update
    fanout: dict[str, list[float]] = field(default_factory=dict)  # backend → seconds per run


BACKENDS = ("TinyDB", "PostgreSQL")


def measure(shape: Shape, log: bool = False) -> list[Measured]:
    out: list[Measured] = []
    sizes = sorted({shape.channels, *shape.scales})
    with postgres_server() as server, tempfile.TemporaryDirectory(prefix="bench-store-pg-") as tmp:
        for channels in sizes:
            m = Measured(channels)
            # The full ledger where the post run is measured; a week elsewhere (settings updates only).
            days = LEDGER_DAYS if channels == shape.channels else 7
            with both_stores(Path(tmp), server, channels, days) as stores:
                for name, timings in zip(BACKENDS, settings_latency(stores, channels, shape.updates), strict=True):
                    m.updates[name] = timings
                if channels == shape.channels:
                    for run in range(shape.fanout_runs):
                        day = FIRST_DAY + timedelta(days=run)
                        for name, store in zip(BACKENDS, stores, strict=True):
                            m.fanout.setdefault(name, []).append(fan_out(store, channels, shape.workers, day))
            if log:
                report(m, shape.workers)
            out.append(m)
    return out


def report(m: Measured, workers: int) -> None:
    for name in BACKENDS:
        ms = [t * 1000 for t in m.updates[name]]
        line = f"{m.channels:>6,} channels  {name:<10} settings update p50 {median(ms):6.2f} ms  p99 {p99(ms):7.2f} ms"
        if name in m.fanout:
            runs = ", ".join(f"{s:.2f}" for s in m.fanout[name])
            line += (
                f"   fan-out ({workers} threads) {median(m.fanout[name]):6.2f} s "
                f"({median(m.fanout[name]) / m.channels * 1000:.2f} ms/channel; runs {runs} s)"
            )
        print(line, flush=True)


def compare(tiny: float, sql: float) -> str:
    """TinyDB's figure over PostgreSQL's, in words."""
    ratio = tiny / sql
    return f"PostgreSQL {ratio:.1f}x faster" if ratio >= 1 else f"PostgreSQL {1 / ratio:.1f}x slower"


def rows(measured: list[Measured], shape: Shape) -> Result:
    result = Result()
    for m in measured:
        tiny, sql = m.updates["TinyDB"], m.updates["PostgreSQL"]
        bench = f"store-pg {m.channels:,} ch"
        main_size = m.channels == shape.channels
        if main_size:
            result.rows.append(
                Row(bench, "settings update, TinyDB", median(tiny), "s", p99=p99(tiny), samples=len(tiny))
            )
        result.rows.append(
            Row(
                bench,
                "settings update, PostgreSQL",
                median(sql),
                "s",
                p99=p99(sql),
                samples=len(sql),
                baseline=f"TinyDB {median(tiny) * 1000:.1f} ms (p99 {p99(tiny) * 1000:.1f} ms)",
                ratio=f"{compare(median(tiny), median(sql))} (p99 {compare(p99(tiny), p99(sql)).split(' ', 1)[1]})",
            )
        )
        if not m.fanout:
            continue
        tiny_fan, sql_fan = median(m.fanout["TinyDB"]), median(m.fanout["PostgreSQL"])
        posting = m.channels * SLACK_SLOT
        for name, value in (("TinyDB", tiny_fan), ("PostgreSQL", sql_fan)):
            result.rows.append(
                Row(
                    bench,
                    f"post run, {m.channels:,} channels, {LEDGER_DAYS}-day ledger: store side, {name}",
                    value,
                    "s",
                    samples=len(m.fanout[name]),
                    baseline=f"TinyDB {tiny_fan:.2f} s" if name == "PostgreSQL" else "",
                    ratio=compare(tiny_fan, sql_fan) if name == "PostgreSQL" else "",
                    note=f"{value / m.channels * 1000:.1f} ms/channel on {shape.workers} threads = "
                    f"{value / posting:.1%} of the {posting:.0f} s the posts take at 285/min",
                )
            )
    source = "$PAPERS_BOT_TEST_DATABASE_URL" if os.environ.get("PAPERS_BOT_TEST_DATABASE_URL") else "a local cluster"
    result.notes.append(
        f"store-pg: the same data in both stores (filters, history, {LEDGER_DAYS} days of runs and posted papers "
        f"per channel); {shape.updates} updates on spread-out channels, the two stores taking turns; post run = "
        "channels + get_runs, then get_run, open_runs, posted_keys, claim_run, finish_run per channel on "
        f"{shape.workers} threads, median of {shape.fanout_runs} run(s). PostgreSQL: "
        f"{source}, fsync on, over loopback, same disk as TinyDB."
    )
    return result


def skipped() -> Result:
    return Result(notes=["store-pg: skipped (needs PostgreSQL: initdb/pg_ctl, or PAPERS_BOT_TEST_DATABASE_URL)"])


def run(quick: bool = False) -> Result:
    if not postgres_available():
        return skipped()
    shape = QUICK if quick else FULL
    return rows(measure(shape), shape)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the suite's smoke-run sizes")
    parser.add_argument("--channels", type=int, help="channels for the updates and the fan-out")
    parser.add_argument("--scales", help="more channel counts for the settings update, comma-separated")
    parser.add_argument("--updates", type=int)
    parser.add_argument("--runs", type=int, help="fan-out runs")
    parser.add_argument("--workers", type=int, help="fan-out threads")
    args = parser.parse_args(argv)
    base = QUICK if args.quick else FULL
    shape = Shape(
        channels=args.channels or base.channels,
        scales=tuple(int(s) for s in args.scales.split(",") if s.strip()) if args.scales is not None else base.scales,
        updates=args.updates or base.updates,
        fanout_runs=args.runs or base.fanout_runs,
        workers=args.workers or base.workers,
    )
    print(f"# bench_store_pg · {machine()}")
    if not postgres_available():
        print(skipped().notes[0])
        return
    result = rows(measure(shape, log=True), shape)
    print_suite_rows(result)


if __name__ == "__main__":
    main()
