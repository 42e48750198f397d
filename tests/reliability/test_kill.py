"""SIGKILL at random points of post runs, then a restart: every channel gets the day's post exactly
once.

The hard window is "Slack accepted the post, the process died before the ledger recorded it":
``chat.postMessage`` has no idempotency key. Each digest carries its run id as Slack message
metadata, so the restarted bot settles a cut-off claim from the channel's history (``bot/posting/reconcile.py``):
found → recorded as posted, not found → posted now. The first half of the test checks the state the
kills leave (never a duplicate, the database always loads); the second half checks the restart.
"""

from __future__ import annotations

import contextlib
import json
import random
import signal
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.models import RunState
from bot.store.sqlite_ledger import ledger_path_for
from bot.store.tinydb_store import TinyStore
from tests.fakes import FakeHF, FakeSlack, make_day
from tests.reliability.conftest import THURSDAY, digest_posts
from tests.reliability.procs import BotProcess, bot_env

ITERATIONS = 8
NEW_CHANNELS_PER_RUN = 8


def _add_channels(db: Path, names: list[str]) -> None:
    with TinyStore(db) as store:  # opening also proves the database survived the last kill
        for name in names:
            store.update_channel(name, lambda c: c.replace(subscribed=True), team_id="T0001")


def _kill_somewhere(bot: BotProcess, fake_slack: FakeSlack, rng: random.Random, posts_before: int) -> str:
    """SIGKILL at a random point: during start-up or the HF fetch, or just after the n-th post reached
    Slack (so while Slack's answer or the ledger write is in flight)."""
    target = rng.randint(0, NEW_CHANNELS_PER_RUN)
    deadline = time.monotonic() + 20
    if target == 0:
        time.sleep(rng.uniform(0.1, 1.5))
        where = "start-up or fetch"
    else:
        while len(fake_slack.calls("chat.postMessage")) < posts_before + target:
            if bot.proc.poll() is not None or time.monotonic() > deadline:
                break
            time.sleep(0.002)
        time.sleep(rng.uniform(0.0, 0.08))
        where = f"after post {target}"
    bot.kill()
    return where


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_sigkill_during_post_runs_never_posts_twice(tmp_path: Path, fake_slack: FakeSlack, fake_hf: FakeHF) -> None:
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    db = tmp_path / "db.json"
    fake_hf.days[THURSDAY] = make_day(THURSDAY, 3)
    fake_hf.delay("/api/daily_papers", 0.05)
    fake_slack.delay("chat.postMessage", 0.05)  # Slack has the message 50 ms before the bot hears back
    env = bot_env(fake_slack, fake_hf, db)
    channels: list[str] = []
    kills: list[str] = []

    for i in range(ITERATIONS):
        fresh = [f"C{i:02d}{j:02d}" for j in range(NEW_CHANNELS_PER_RUN)]
        _add_channels(db, fresh)
        channels += fresh
        posts_before = len(fake_slack.calls("chat.postMessage"))
        bot = BotProcess("post-now", env, tmp_path, "--date", THURSDAY)
        kills.append(_kill_somewhere(bot, fake_slack, rng, posts_before))

    today = datetime.now(UTC).date()
    lost_answer, never_sent = [], []
    with TinyStore(db) as store:  # what the kills left behind
        for channel in channels:
            posts = digest_posts(fake_slack, channel)
            run = store.get_run(channel, today, team_id="T0001")
            assert len(posts) <= 1, f"{channel} posted {len(posts)} times (seed {seed}, kills {kills})"
            if run is not None and run.state == RunState.CLAIMED:
                (lost_answer if posts else never_sent).append(channel)
    _age_claims(db, timedelta(minutes=10))  # the restart comes after the claim lease ran out

    final = BotProcess("post-now", env, tmp_path, "--date", THURSDAY)  # the restart, left to finish
    assert final.wait() == 0, final.output

    with TinyStore(db) as store:
        for channel in channels:
            posts = digest_posts(fake_slack, channel)
            run = store.get_run(channel, today, team_id="T0001")
            assert len(posts) == 1, f"{channel} posted {len(posts)} times (seed {seed}, kills {kills})"
            assert run is not None and run.state == RunState.POSTED, (channel, run, seed)
            assert fake_slack.message(channel, run.ts[0]) is not None, channel  # the ledger has the real ts
            assert set(run.paper_keys) <= store.posted_keys(channel, team_id="T0001")
    assert list(tmp_path.glob(".*.tmp")) == []
    print(
        f"kill test seed {seed}: {len(channels)} channels, kills at {kills}; settled on restart: "
        f"{len(lost_answer)} posted but unrecorded, {len(never_sent)} claimed but never sent"
    )


def _age_claims(db: Path, by: timedelta) -> None:
    """Move every CLAIMED run's claim time back, as if the restart happened ``by`` later (in the SQLite
    ledger beside the settings file, with the bot stopped)."""
    with contextlib.closing(sqlite3.connect(ledger_path_for(db))) as conn, conn:
        for key, date_, doc in conn.execute("SELECT channel_id, local_date, doc FROM runs").fetchall():
            record = json.loads(doc)
            if record["state"] == RunState.CLAIMED:
                record["claimed_at"] = (datetime.fromisoformat(record["claimed_at"]) - by).isoformat()
                conn.execute(
                    "UPDATE runs SET doc = ? WHERE channel_id = ? AND local_date = ?", (json.dumps(record), key, date_)
                )
