"""SIGKILL while users are changing settings: after every kill the database loads, and every change
a user saw acknowledged (the reply arrived) is in it.

A reply is sent only after ``update_channel`` returned, and each store write is an atomic
file replace, so an acknowledged change must survive any kill. The store's own crash test
(``tests/bot/store/test_tinydb_store.py``) hammers raw writes; this one goes through the running
bot over signed HTTP, as users would.
"""

from __future__ import annotations

import random
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest

from bot.store.tinydb_store import TinyStore
from tests.conftest import SIGNING_SECRET
from tests.fakes import FakeHF, FakeSlack, signed_headers, slash_command_body
from tests.reliability.procs import BotProcess, bot_env

ITERATIONS = 4


def _commands_until_killed(
    bot: BotProcess, fake_slack: FakeSlack, round_no: int, stop: threading.Event
) -> list[tuple[str, str]]:
    """Keep subscribing channels with distinct times; return (channel, time) pairs that were acknowledged."""
    acknowledged: list[tuple[str, str]] = []
    n = 0
    with httpx.Client(timeout=1) as http:
        while not stop.is_set():
            n += 1
            channel, at = f"C{round_no:02d}{n:04d}", f"{n % 24:02d}:{(n * 7) % 60:02d}"
            name = f"k{round_no}-{n}"
            body = slash_command_body(
                f"subscribe {at} Europe/Berlin", channel_id=channel, response_url=fake_slack.response_url(name)
            )
            try:
                status = http.post(
                    f"{bot.url}/slack/events", content=body, headers=signed_headers(body, SIGNING_SECRET)
                ).status_code
                if status != 200:
                    continue
                reply = fake_slack.wait_for_responses(1, name=name, timeout=1)[0]
            except (httpx.TransportError, AssertionError):
                break  # the process died mid-command: this change was never acknowledged
            if "Subscribed" in (reply.get("text") or ""):
                acknowledged.append((channel, at))
    return acknowledged


def _collect(
    into: list[tuple[str, str]], bot: BotProcess, fake_slack: FakeSlack, round_no: int, stop: threading.Event
) -> None:
    into.extend(_commands_until_killed(bot, fake_slack, round_no, stop))


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_every_acknowledged_change_survives_sigkill(tmp_path: Path, fake_slack: FakeSlack, fake_hf: FakeHF) -> None:
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    db = tmp_path / "db.json"
    env = bot_env(fake_slack, fake_hf, db)
    with TinyStore(db) as store:  # some bulk, so each write takes long enough to be interrupted
        for n in range(150):
            store.update_channel(f"BULK{n}", lambda c: c.replace(filter_text="model merging, " * 40))
    everything: list[tuple[str, str]] = []

    for round_no in range(ITERATIONS):
        bot = BotProcess("serve", env, tmp_path)
        bot.wait_healthy()
        stop = threading.Event()
        result: list[tuple[str, str]] = []
        writer = threading.Thread(target=_collect, args=(result, bot, fake_slack, round_no, stop))
        writer.start()
        time.sleep(rng.uniform(0.2, 1.0))
        bot.kill()
        stop.set()
        writer.join(timeout=10)
        everything += result

        with TinyStore(db) as store:  # loads after every kill …
            for channel, at in everything:  # … with every acknowledged change in it
                config = store.get_channel(channel, team_id="T0001")  # the commands' workspace
                assert config is not None and config.subscribed, (channel, seed)
                assert config.post_time == at and config.timezone == "Europe/Berlin", (channel, seed)
            assert store.get_channel("BULK149", team_id="T0001") is not None  # adopted at the first start
    assert len(everything) >= ITERATIONS, f"too few commands were acknowledged to test anything (seed {seed})"
    print(f"store crash test seed {seed}: {len(everything)} acknowledged changes survived {ITERATIONS} kills")
