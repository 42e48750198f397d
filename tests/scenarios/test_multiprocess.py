"""Several ``python -m bot serve`` processes on one PostgreSQL database and one fake Slack.

Exactly one process (the advisory-lock leader) runs the post jobs; all of them answer slash commands.
The leader is SIGKILLed in the middle of the day's fan-out (while its posts are in flight at Slack),
a standby takes over within its check interval, and every subscribed channel ends up with the day's
post exactly once.

What the kill moment is, and why: the ledger is claimed *before* Slack is called. A process killed
after claiming but before its request reaches Slack leaves a claim that nobody posts until the
survivor settles it from Slack's history once the claim's lease has expired (``bot/posting/reconcile.py``,
2 minutes: too long to wait for here). So the tests kill while every worker of the leader is inside
a slowed-down ``chat.postMessage`` (the fake's latency), the realistic case of a kill during a post
run: each claim has reached Slack, and no channel may be posted a second time.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from bot.models import RunState
from bot.store.sql_store import SqlStore
from tests.conftest import BOT_TOKEN, SIGNING_SECRET
from tests.fakes import FakeHF, FakeSlack, make_entry, signed_headers, slash_command_body

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals"),
]

ROOT = Path(__file__).resolve().parents[2]
HELD_SECONDS = 3.5  # how long the fake Slack holds each call while leaders are being killed
QUIET = 1.2  # no new post for this long: every worker of the leader is waiting for Slack's answer
CHANNELS = [f"C{n:04d}" for n in range(1, 25)]


@pytest.fixture
def store_backend() -> str:
    return "postgres"  # this module is about PostgreSQL only; no TinyDB twin


class Bot:
    def __init__(self, proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.proc, self.url, self.log = proc, f"http://127.0.0.1:{port}", log

    def health(self) -> dict | None:
        if self.proc.poll() is not None:
            return None
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1).json()
        except httpx.HTTPError:
            return None

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def day_ready(pg_url: str, fake_hf: FakeHF, fake_slack: FakeSlack) -> None:
    """Papers on every recent day, channels subscribed since the day before yesterday: all due now."""
    today = datetime.now(UTC).date()
    for back in range(10):
        day = (today - timedelta(days=back)).isoformat()
        fake_hf.days[day] = [
            make_entry(f"26{back:02d}.0000{i}", f"Paper {back}-{i}", upvotes=9 - i, day=day) for i in range(3)
        ]
    since = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    with SqlStore(pg_url) as store:
        for channel in CHANNELS:
            store.update_channel(
                channel,
                lambda c: c.replace(
                    subscribed=True, post_time="00:00", timezone="UTC", weekdays=tuple(range(7)), active_since=since
                ),
            )


@pytest.fixture
def start_bots(
    pg_url: str, fake_slack: FakeSlack, fake_hf: FakeHF, tmp_path: Path
) -> Iterator[Callable[..., list[Bot]]]:
    bots: list[Bot] = []

    def start(n: int, command: str = "serve") -> list[Bot]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PAPERS_BOT_", "HF_", "DATABASE"))}
        env.update(
            PYTHONPATH=str(ROOT),
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=fake_slack.api_url,
            HF_ENDPOINT=fake_hf.base_url,
            DATABASE_URL=pg_url,
            PAPERS_BOT_LEADER_CHECK_SECONDS="0.3",
            LOG_LEVEL="INFO",
        )
        started = []
        for i in range(len(bots), len(bots) + n):
            port, log = free_port(), tmp_path / f"bot{i}.log"
            env_i = {**env, "PORT": str(port), "PAPERS_BOT_DB": str(tmp_path / f"bot{i}" / "db.json")}
            with log.open("wb") as out:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "bot", command], env=env_i, cwd=tmp_path, stdout=out, stderr=out
                )
            started.append(Bot(proc, port, log))
        bots.extend(started)
        if command == "serve":
            wait_for(lambda: all(b.health() for b in started), 30, "every bot to answer /healthz")
        return started

    yield start
    for bot in bots:
        if bot.proc.poll() is None:
            bot.proc.terminate()
            try:
                bot.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                bot.kill()


def digests(fake: FakeSlack) -> list:
    return [c for c in fake.posts() if c.args.get("blocks")]


def leaders(bots: list[Bot]) -> list[Bot]:
    return [b for b in bots if (b.health() or {}).get("leader")]


def wait_until_posts_are_held(fake_slack: FakeSlack, pg_url: str) -> int:
    """Wait for new posts, then until every claim in the ledger has its post at Slack and no new post
    has arrived for ``QUIET`` seconds; returns how many posts Slack has.

    Together these mean every worker is blocked inside a held ``chat.postMessage``: none is between
    its claim and its request (a busy machine can make that gap long), and none is free to claim more.
    """
    before = len(digests(fake_slack))
    wait_for(lambda: len(digests(fake_slack)) > before, 30, "the leader to post")
    with SqlStore(pg_url) as store:

        def claims_at_slack() -> bool:
            claimed = {r.channel_id for r in store.runs() if r.state == RunState.CLAIMED}
            return claimed <= {c.channel for c in digests(fake_slack)}

        seen, quiet_since = len(digests(fake_slack)), time.monotonic()
        give_up = quiet_since + 30
        while time.monotonic() - quiet_since < QUIET or not claims_at_slack():
            assert time.monotonic() < give_up, "the leader's posts were never all held at Slack"
            time.sleep(0.05)
            if len(digests(fake_slack)) != seen:
                seen, quiet_since = len(digests(fake_slack)), time.monotonic()
    assert seen < len(CHANNELS), "the run finished before the posts were held: nothing was tested"
    return seen


def kill_the_leader_mid_post(bots: list[Bot], fake_slack: FakeSlack, pg_url: str) -> Bot:
    """SIGKILL the leader once its posts are all at Slack, held there by the fake's latency."""
    wait_for(lambda: len(leaders(bots)) == 1, 15, "one leader")
    (leader,) = leaders(bots)
    wait_until_posts_are_held(fake_slack, pg_url)
    leader.kill()
    return leader


@pytest.mark.parametrize("processes", [2, 3])
def test_the_leader_killed_mid_run_and_every_channel_is_posted_exactly_once(
    processes: int, day_ready: None, start_bots: Callable[..., list[Bot]], fake_slack: FakeSlack, pg_url: str
) -> None:
    fake_slack.latency = HELD_SECONDS  # Slack answers slowly: every leader dies with its posts in flight
    bots = start_bots(processes)
    alive = list(bots)
    for _ in range(processes - 1):
        alive.remove(kill_the_leader_mid_post(alive, fake_slack, pg_url))
        wait_for(lambda: len(leaders(alive)) == 1, 10, "a standby to take over")
    fake_slack.latency = 0.0  # the last leader finishes the day

    wait_for(lambda: len(digests(fake_slack)) >= len(CHANNELS), 60, "every channel's post")
    time.sleep(1.0)  # anything extra would arrive now
    posted = sorted(c.channel for c in digests(fake_slack))
    assert posted == CHANNELS, "each subscribed channel gets the day's post exactly once"
    assert len(leaders(alive)) == 1
    with SqlStore(pg_url) as store:
        states = {r.channel_id: r.state for r in store.runs()}
    assert set(states) == set(CHANNELS)
    # A post the killed leader had in flight stays CLAIMED in the ledger (never repeated); after
    # bot/posting/reconcile.py's lease the survivor settles it from Slack's history. Everything else is POSTED.
    assert set(states.values()) <= {RunState.POSTED, RunState.CLAIMED}
    assert RunState.POSTED in states.values()


def test_a_clean_shutdown_mid_run_records_the_posts_it_made_and_leaves_the_rest_to_the_next_process(
    day_ready: None, start_bots: Callable[..., list[Bot]], fake_slack: FakeSlack, pg_url: str
) -> None:
    """SIGTERM (a deploy, a dyno restart) while posts are at Slack: they finish and are recorded as
    posted, no new channel is started, and the process exits cleanly."""
    fake_slack.latency = 2.0
    (first,) = start_bots(1)
    held = wait_until_posts_are_held(fake_slack, pg_url)
    first.proc.send_signal(signal.SIGTERM)
    assert first.proc.wait(timeout=20) == 0
    with SqlStore(pg_url) as store:
        states = {r.channel_id: r.state for r in store.runs()}
    assert sorted(states) == sorted(c.channel for c in digests(fake_slack))
    assert len(states) == held and set(states.values()) == {RunState.POSTED}
    assert "failed unexpectedly" not in first.log.read_text()

    fake_slack.latency = 0.0
    start_bots(1)
    wait_for(lambda: len(digests(fake_slack)) >= len(CHANNELS), 60, "every channel's post")
    time.sleep(1.0)  # anything extra would arrive now
    assert sorted(c.channel for c in digests(fake_slack)) == CHANNELS


def test_every_process_answers_commands_and_healthz_names_one_leader(
    start_bots: Callable[[int], list[Bot]], fake_slack: FakeSlack, pg_url: str
) -> None:
    bots = start_bots(2)
    wait_for(lambda: len(leaders(bots)) == 1, 10, "one leader")
    states = [b.health() or {} for b in bots]
    assert sorted(s["leader"] for s in states) == [False, True]
    assert all(s["election"] == "postgres-advisory-lock" for s in states)
    for n, bot in enumerate(bots):
        channel = f"C00{n}9"
        body = slash_command_body("subscribe", channel_id=channel, response_url=fake_slack.response_url(f"b{n}"))
        response = httpx.post(f"{bot.url}/slack/events", content=body, headers=signed_headers(body, SIGNING_SECRET))
        assert response.status_code == 200
        assert "Subscribed" in fake_slack.wait_for_responses(1, name=f"b{n}")[0]["text"]
    with SqlStore(pg_url) as store:
        assert {c.channel_id for c in store.channels() if c.subscribed} == {"C0009", "C0019"}
    for bot in bots:
        assert BOT_TOKEN not in bot.log.read_text()


def test_a_worker_process_alone_runs_the_posts(
    day_ready: None, start_bots: Callable[..., list[Bot]], fake_slack: FakeSlack
) -> None:
    """``python -m bot worker``: the scheduler without an HTTP server (the Procfile's worker line)."""
    (worker,) = start_bots(1, command="worker")
    wait_for(lambda: len(digests(fake_slack)) >= len(CHANNELS), 60, "every channel's post")
    assert sorted(c.channel for c in digests(fake_slack)) == CHANNELS
    assert worker.proc.poll() is None
    assert "post scheduler only" in worker.log.read_text()
