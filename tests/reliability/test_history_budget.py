"""Settling cut-off posts within Slack's history limits for apps outside its Marketplace: one
``conversations.history`` request a minute per workspace, at most 15 messages each.

The fake Slack enforces both (a second read within the minute is a 429, asking for more than 15 is a
violation); its minute and the bot's are one simulated clock, so minutes pass without waiting. A
process died after claiming several channels' posts (one of them had reached Slack, and the channel
has had 20 messages since); the restarted bot settles them one read at a time, a minute apart, while
the channels that were not cut off post at once; nothing is posted twice and nothing is lost.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from bot.models import RunRecord, RunState
from bot.posting.reconcile import digest_metadata
from bot.slack.pacing import Pacer
from tests.conftest import Clock, RunningBot
from tests.fakes import FakeHF, FakeSlack, make_day
from tests.reliability.conftest import FRIDAY_0900, THURSDAY, digest_posts, subscribe, unpaced

FRIDAY = date(2026, 8, 21)
CUT_OFF = ("C0001", "C0002", "C0003")  # C0001's digest reached Slack before the process died
FRESH = "C0004"


class SimulatedTime:
    """Monotonic seconds that pass only when the test (or a waiting pacer) says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


@pytest.fixture
def budget(bot: RunningBot, fake_slack: FakeSlack) -> Iterator[SimulatedTime]:
    """Slack's limits in the fake and the bot's own budget (one read a minute) on one simulated clock."""
    time = SimulatedTime()
    fake_slack.history_per_minute = 1
    fake_slack.history_max_messages = 15
    fake_slack.history_clock = time
    bot.services.poster.history_pacer = Pacer(1 / 60, burst=1, key_interval=0.0, clock=time, sleep=time.sleep)
    yield time


@pytest.fixture
def cut_off(bot: RunningBot, clock: Clock, fake_hf: FakeHF, fake_slack: FakeSlack) -> str:
    """Three claims of a dead process; C0001's tagged digest is in Slack, followed by 20 messages."""
    fake_hf.days[THURSDAY] = make_day(THURSDAY, 3)
    unpaced(bot)
    for channel in (*CUT_OFF, FRESH):
        subscribe(bot, clock, channel)
    claimed_at = FRIDAY_0900 - timedelta(minutes=10)
    for channel in CUT_OFF:
        record = RunRecord(channel, FRIDAY, RunState.CLAIMED, f"dead-{channel}", claimed_at, days=(date(2026, 8, 20),))
        assert bot.store.claim_run(record.replace(team_id=bot.services.home_team))
    ts = bot.services.poster.post_message(
        "C0001",
        text="the digest",
        blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "the digest"}}],
        metadata=digest_metadata("dead-C0001", FRIDAY, ()),
    )
    for n in range(20):  # the channel goes on talking: the digest is on history's second page
        fake_slack.add_message("C0001", f"chatter {n}", user="U0002")
    fake_slack.reset()
    return ts


def history_calls(fake_slack: FakeSlack) -> list:
    return fake_slack.calls("conversations.history")


def test_cut_off_posts_are_settled_one_read_a_minute_and_the_others_post_at_once(
    bot: RunningBot, fake_slack: FakeSlack, budget: SimulatedTime, cut_off: str
) -> None:
    runner = bot.services.runner

    first = runner.run_due(FRIDAY_0900)

    assert first.outcomes[FRESH] == "posted"  # not held up by the channels waiting for history
    assert all(c.args.get("limit") in ("15", 15) for c in history_calls(fake_slack))
    ticks = 1
    while any(bot.store.get_run(c, FRIDAY).state == RunState.CLAIMED for c in CUT_OFF):  # type: ignore[union-attr]
        assert ticks < 10, "cut-off posts left unsettled"
        budget.sleep(60)  # the next minute's tick
        runner.run_due(FRIDAY_0900 + timedelta(minutes=ticks))
        ticks += 1

    calls = history_calls(fake_slack)
    assert [c.status for c in calls] == [200] * len(calls)  # never a 429: the bot kept to the budget
    assert len(calls) == 4  # C0001 needed two pages (15 + 6 messages), the others one each
    assert ticks >= 3  # one cut-off run settled per minute (C0001's second page waited for its minute)
    settled = bot.store.get_run("C0001", FRIDAY)
    assert settled is not None and settled.state == RunState.POSTED and settled.ts == (cut_off,)
    assert digest_posts(fake_slack, "C0001") == []  # found on the second page: never posted again
    for channel in ("C0002", "C0003"):  # never reached Slack: posted now, once
        assert len(digest_posts(fake_slack, channel)) == 1
        assert bot.store.get_run(channel, FRIDAY).state == RunState.POSTED  # type: ignore[union-attr]
    assert len(digest_posts(fake_slack, FRESH)) == 1
    assert fake_slack.violations == []


def test_post_now_waits_for_each_read_instead_of_leaving_runs_unsettled(
    bot: RunningBot, fake_slack: FakeSlack, budget: SimulatedTime, cut_off: str, clock: Clock
) -> None:
    started = budget()

    bot.services.runner.workers = 1  # simulated sleeps of parallel waiters do not add up like real ones
    summary = bot.services.runner.run_now(clock())

    assert all(bot.store.get_run(c, FRIDAY).state == RunState.POSTED for c in CUT_OFF)  # type: ignore[union-attr]
    calls = history_calls(fake_slack)
    assert [c.status for c in calls] == [200] * 4
    assert budget() - started >= 3 * 60  # four reads, a minute apart
    assert summary.outcomes["C0001"] in ("skipped", "nothing") and digest_posts(fake_slack, "C0001") == []
    assert {c: len(digest_posts(fake_slack, c)) for c in ("C0002", "C0003", FRESH)} == dict.fromkeys(
        ("C0002", "C0003", FRESH), 1
    )
