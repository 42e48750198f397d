"""The steady state a year of use leaves behind, for the store benchmarks.

A fresh database flatters every store: what matters is the ledger after months of daily posts. A
channel here has its settings (topics, exclusions, a change history of five entries) and, for each
of ``days`` days, one finished run (posted on six days of seven, "nothing new" on the seventh) whose
four papers joined its posted keys, with ``last_day`` at the newest day. The bot prunes runs older
than 120 days and keeps posted keys forever, so ``days=120`` is what a long-running bot holds and
``days=365`` is the upper bound of issue 13's goal.

Written straight into the files (the settings JSON in one write, the SQLite ledger in one
transaction): through the store's API each run would be two transactions, minutes for 240,000 runs,
measuring nothing of interest. The documents come from the real model classes, so they have the
store's exact shape.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bot.models import ChannelConfig, FilterChange, RunRecord, RunState
from bot.store import Store
from bot.store.base import SCHEMA_VERSION
from bot.store.sqlite_ledger import PostedLedger, SqliteLedger, ledger_path_for

__all__ = ["FIRST_DAY", "channel_id", "seed_steady_state", "store_side_of_post_run"]

FIRST_DAY = date(2026, 8, 21)  # the day after the seeded history: the next post run's day
PAPERS_PER_POST = 4


TEAM = "T0001"  # every seeded channel's workspace


def channel_id(n: int) -> str:
    return f"C{n:08d}"


def _config(n: int, last_day: date | None) -> ChannelConfig:
    history = tuple(FilterChange("U0001", "2026-01-02T09:00:00+00:00", f"followed topic {i}") for i in range(5))
    return ChannelConfig(
        channel_id(n),
        team_id=TEAM,
        subscribed=True,
        post_time=f"{7 + n % 4:02d}:30",
        timezone=("Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC")[n % 4],
        filter_text=f'"topic {n}", diffusion, rlhf, "model merging", -medical',
        last_day=last_day,
        subscribed_by="U0001",
        created_at="2026-01-01T09:00:00+00:00",
        history=history,
    )


def _history(n: int, days: int) -> Iterator[RunRecord]:
    channel = channel_id(n)
    for i in range(days, 0, -1):
        day = FIRST_DAY - timedelta(days=i)
        claimed = datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)
        record = RunRecord(
            channel, day, RunState.CLAIMED, f"r{n}-{i}", claimed, days=(day - timedelta(days=1),), team_id=TEAM
        )
        if i % 7 == 0:
            yield record.replace(state=RunState.NOTHING)
        else:
            keys = tuple(f"{day:%y%m}.{n % 100000:05d}{i % 1000:03d}{k}" for k in range(PAPERS_PER_POST))
            yield record.replace(state=RunState.POSTED, paper_keys=keys, ts=(f"{claimed.timestamp():.6f}",))


def seed_steady_state(path: Path, channels: int, days: int) -> None:
    """A TinyDB settings file and its SQLite ledger holding ``channels`` channels with ``days`` days of
    history each."""
    last_day = FIRST_DAY - timedelta(days=2) if days else None
    docs = {str(n + 1): _config(n, last_day).to_doc() for n in range(channels)}
    data = {"meta": {"1": {"schema_version": SCHEMA_VERSION}}, "channels": docs}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
    runs: list[RunRecord] = []
    posted: PostedLedger = {}
    for n in range(channels):
        for record in _history(n, days):
            runs.append(record)
            for key in record.paper_keys:
                posted.setdefault((TEAM, record.channel_id), {})[key] = record.days[0]
    ledger = SqliteLedger(ledger_path_for(path))
    try:
        last_days = {(TEAM, channel_id(n)): last_day for n in range(channels)} if last_day else {}
        ledger.replace_all(runs, posted, last_days)
    finally:
        ledger.close()


def store_side_of_post_run(store: Store, channels: int, day: date, workers: int = 8) -> float:
    """The store calls ``PostRunner`` makes for one post run to every channel, ``workers`` channels at a
    time (the minute tick's ``channels`` + ``get_runs``, then per channel ``get_run``, ``open_runs``,
    ``posted_keys``, ``claim_run`` and ``finish_run``); seconds for all of it. Slack and Hugging Face
    are left out: their pace is the pacer's, and the question is only what the store adds."""
    import time

    def one(n: int) -> None:
        channel = channel_id(n)
        if store.get_run(channel, day, team_id=TEAM) is not None:
            return
        store.open_runs(channel, team_id=TEAM)
        store.posted_keys(channel, team_id=TEAM)
        record = RunRecord(
            channel, day, RunState.CLAIMED, f"run{n}-{day}", datetime.now(UTC), days=(day,), team_id=TEAM
        )
        if store.claim_run(record):
            keys = tuple(f"2608.9{n % 10000:04d}{k}" for k in range(5))
            store.finish_run(record.replace(state=RunState.POSTED, paper_keys=keys, ts=("1.0",)))

    started = time.perf_counter()
    configs = store.channels()
    store.get_runs(((c.channel_id, day) for c in configs), team_id=TEAM)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(one, range(channels)))
    elapsed = time.perf_counter() - started
    done = store.get_runs(((channel_id(n), day) for n in range(channels)), team_id=TEAM)
    if sum(1 for r in done.values() if r.state == RunState.POSTED) != channels:
        raise RuntimeError(f"{type(store).__name__}: the post run did not record every channel's run")
    return elapsed
