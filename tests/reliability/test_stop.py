"""Stopping the bot (SIGTERM: a deploy, a restart) honours what it acknowledged: every command Slack
got a 200 for is carried out and answered before the store closes, and an idle kept-alive connection
does not hold the process up."""

from __future__ import annotations

import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from bot.store.tinydb_store import TinyStore
from tests.conftest import SIGNING_SECRET
from tests.fakes import FakeHF, FakeSlack, signed_headers, slash_command_body
from tests.reliability.procs import BotProcess, bot_env

BURST = 40


def test_a_stop_right_after_a_burst_of_acks_honours_every_one(
    tmp_path: Path, fake_slack: FakeSlack, fake_hf: FakeHF
) -> None:
    fake_slack.delay("response_url", 0.3)  # the answers are still going out when the stop comes
    fake_slack.delay("chat.postMessage", 0.3)
    bot = BotProcess("serve", bot_env(fake_slack, fake_hf, tmp_path / "db.json"), tmp_path)
    bot.wait_healthy()

    def subscribe(n: int) -> int:
        body = slash_command_body(
            "subscribe 08:00 UTC", channel_id=f"C{n:04d}", response_url=fake_slack.response_url(f"s{n}")
        )
        return httpx.post(
            f"{bot.url}/slack/events", content=body, headers=signed_headers(body, SIGNING_SECRET)
        ).status_code

    with ThreadPoolExecutor(BURST) as pool:
        statuses = list(pool.map(subscribe, range(BURST)))
    assert statuses == [200] * BURST  # all acknowledged
    bot.proc.send_signal(signal.SIGTERM)
    assert bot.wait(timeout=30) == 0

    replies = [fake_slack.responses(f"s{n}") for n in range(BURST)]
    assert all(len(r) == 1 and "Subscribed" in r[0]["text"] for r in replies), replies
    with TinyStore(tmp_path / "db.json") as store:
        assert sorted(c.channel_id for c in store.channels() if c.subscribed) == [f"C{n:04d}" for n in range(BURST)]
    assert "Something went wrong" not in bot.output and "Traceback" not in bot.output


def test_an_idle_kept_alive_connection_does_not_hold_up_the_stop(
    tmp_path: Path, fake_slack: FakeSlack, fake_hf: FakeHF
) -> None:
    bot = BotProcess("serve", bot_env(fake_slack, fake_hf, tmp_path / "db.json"), tmp_path)
    bot.wait_healthy()
    with httpx.Client() as client:  # keeps its connection open after the answer
        assert client.get(f"{bot.url}/healthz").status_code in (200, 503)
        started = time.monotonic()
        bot.proc.send_signal(signal.SIGTERM)
        assert bot.wait(timeout=30) == 0
        assert time.monotonic() - started < 5.0
