"""Concurrency: many users changing one channel at the same moment lose nothing, even while a post
run is going; and a second bot process on the same database refuses to start instead of posting
twice. The first two run on TinyDB and on PostgreSQL. (The store-level thread tests are in
``tests/bot/store/``.)"""

from __future__ import annotations

import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.store.tinydb_store import TinyStore
from tests.conftest import Clock, CommandResult, RunningBot
from tests.fakes import FakeHF, FakeSlack, make_day
from tests.reliability.conftest import FRIDAY_0900, THURSDAY, digest_posts
from tests.reliability.procs import BotProcess, bot_env

# Lost updates are a property of the store: TinyDB's file lock and PostgreSQL's row locks each get these.
BOTH_STORES = pytest.mark.parametrize("store_backend", ["tinydb", pytest.param("postgres", marks=pytest.mark.postgres)])


def _all_at_once(bot: RunningBot, texts: list[str], channel: str = "C0001") -> list[CommandResult]:
    """Send every command at the same instant, each from its own user."""
    start = threading.Barrier(len(texts))

    def send(i: int) -> CommandResult:
        start.wait()
        return bot.command(texts[i], channel=channel, user=f"U{i:04d}")

    with ThreadPoolExecutor(max_workers=len(texts)) as pool:
        return list(pool.map(send, range(len(texts))))


@BOTH_STORES
def test_fifty_simultaneous_filter_changes_from_different_users_are_all_kept(bot: RunningBot) -> None:
    results = _all_at_once(bot, [f"follow topic{i:02d}" for i in range(50)])

    assert all(r.status == 200 and "Followed" in r.text for r in results), [
        r.text for r in results if "Followed" not in r.text
    ]
    stored = bot.store.get_channel("C0001").filter_text
    assert all(f"topic{i:02d}" in stored for i in range(50)), stored
    history = bot.store.get_channel("C0001").history
    assert history and len({h.user_id for h in history}) == len(history)  # every entry names its own user


@BOTH_STORES
def test_filter_changes_racing_a_post_run_lose_nothing_and_post_once(
    bot: RunningBot, fake_hf: FakeHF, fake_slack: FakeSlack, clock: Clock
) -> None:
    fake_hf.days[THURSDAY] = make_day(THURSDAY, 6)
    clock.set(FRIDAY_0900 - timedelta(days=1))
    assert "Subscribed" in bot.command("subscribe").text
    clock.set(FRIDAY_0900)
    fake_slack.delay("chat.postMessage", 0.05)
    texts = [f"exclude term{i:02d}" for i in range(20)] + [f"follow subject{i:02d}" for i in range(20)]

    runs = []
    runner = bot.services.runner
    poster = threading.Thread(
        target=lambda: runs.extend(runner.run_due(FRIDAY_0900 + timedelta(seconds=s)) for s in range(3))
    )
    poster.start()
    results = _all_at_once(bot, texts)
    poster.join()

    assert all("Something went wrong" not in r.text for r in results)
    config = bot.store.get_channel("C0001")
    assert config.subscribed and config.active  # the run's ledger writes did not undo the subscription
    shown = config.filter_text.casefold()
    assert all(f"term{i:02d}" in shown and f"subject{i:02d}" in shown for i in range(20)), shown
    assert len(digest_posts(fake_slack, "C0001")) <= 1  # zero if every paper got excluded first
    assert sum(r.count("posted") for r in runs) == len(digest_posts(fake_slack, "C0001"))


def test_a_second_process_on_the_same_database_refuses_to_start(
    tmp_path: Path, fake_slack: FakeSlack, fake_hf: FakeHF
) -> None:
    db = tmp_path / "db.json"
    fake_hf.days[THURSDAY] = make_day(THURSDAY, 2)
    with TinyStore(db) as store:
        store.update_channel("C0001", lambda c: c.replace(subscribed=True, active_since=datetime.now().isoformat()))
    env = bot_env(fake_slack, fake_hf, db)
    first = BotProcess("serve", env, tmp_path)
    try:
        first.wait_healthy()
        for command in (["serve"], ["post-now", "--date", THURSDAY], ["socket"]):
            second = subprocess.run(
                [sys.executable, "-m", "bot", *command],
                env={**env, "SLACK_APP_TOKEN": "xapp-1-test"},
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert second.returncode == 2, (command, second.stdout, second.stderr)
            assert "Another papers-bot process is already using" in second.stderr
            assert "Traceback" not in second.stderr
        assert digest_posts(fake_slack) == []  # the refused post-now posted nothing
        assert first.health()["ok"] is True  # and the first process is unharmed
    finally:
        first.stop()
