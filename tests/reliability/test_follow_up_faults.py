"""Follow-ups under faults: a process killed between claim and reply, an answer lost on the way back,
Slack refusing, two processes checking at once. Each reply still reaches its thread at most once, and
a reply that was not sent is sent later."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from bot.models import RunKind, RunRecord, RunState
from bot.posting.follow_up_plan import period_for
from bot.posting.follow_ups import follow_up_metadata
from bot.services import build_services
from tests.conftest import Clock, RunningBot, texts_of
from tests.fakes import FakeHF, FakeSlack, make_entry
from tests.reliability.conftest import FRIDAY_0900, THURSDAY, subscribe, unpaced

PAPER = "2608.00001"
SATURDAY_1400 = FRIDAY_0900 + timedelta(days=1, hours=5)


@pytest.fixture
def thread_ts(bot: RunningBot, clock: Clock, fake_hf: FakeHF) -> str:
    """One paper posted on Friday in C0001, its baseline taken, and code appearing on Saturday."""
    fake_hf.clock = clock
    fake_hf.days[THURSDAY] = [make_entry(PAPER, "Paper", upvotes=5, day=THURSDAY)]
    subscribe(bot, clock, "C0001", "09:00 UTC daily")
    unpaced(bot)
    bot.services.runner.run_due(FRIDAY_0900)
    assert bot.services.follow_ups is not None
    bot.services.follow_ups.take_baselines(FRIDAY_0900)
    fake_hf.change_paper(PAPER, FRIDAY_0900 + timedelta(days=1), githubRepo="https://github.com/o/r")
    clock.set(SATURDAY_1400)
    run = bot.store.get_run("C0001", FRIDAY_0900.date())
    assert run is not None
    return run.ts[0]


def claim_of_a_dead_process(bot: RunningBot, run_id: str) -> RunRecord:
    """What a process killed after claiming (and perhaps after sending) leaves in the ledger."""
    record = RunRecord(
        "C0001",
        SATURDAY_1400.date(),
        RunState.CLAIMED,
        run_id,
        SATURDAY_1400 - timedelta(minutes=10),
        paper_keys=(PAPER,),
        kind=RunKind.FOLLOW_UP,
        period=period_for(PAPER, "code"),
        team_id="T0001",
    )
    assert bot.store.claim_run(record)
    return record


def test_a_reply_sent_just_before_the_process_died_is_found_in_the_thread_not_sent_again(
    bot: RunningBot, fake_slack: FakeSlack, thread_ts: str
) -> None:
    claim_of_a_dead_process(bot, "dead-run")
    # The dead process's reply did reach the thread (its ts never reached the ledger).
    bot.services.poster.post_message(
        "C0001",
        text="Since this post: Paper: Code released",
        metadata=follow_up_metadata("dead-run", [period_for(PAPER, "code")]),
        thread_ts=thread_ts,
    )
    assert bot.services.follow_ups is not None
    summary = bot.services.follow_ups.run()
    assert (summary.replies, summary.settled) == (0, 1)
    [reply] = fake_slack.thread("C0001", thread_ts)
    entry = bot.store.get_entry("C0001", RunKind.FOLLOW_UP, period_for(PAPER, "code"))
    assert entry is not None and entry.state == RunState.POSTED and entry.ts == (reply["ts"],)


def test_a_reply_the_dead_process_never_sent_is_sent_once(
    bot: RunningBot, fake_slack: FakeSlack, thread_ts: str
) -> None:
    claim_of_a_dead_process(bot, "dead-run")
    assert bot.services.follow_ups is not None
    assert bot.services.follow_ups.run().replies == 1
    [reply] = fake_slack.thread("C0001", thread_ts)
    assert "Code released" in texts_of(reply)
    entry = bot.store.get_entry("C0001", RunKind.FOLLOW_UP, period_for(PAPER, "code"))
    assert entry is not None and entry.state == RunState.POSTED and entry.attempts == 2


def test_an_unreadable_thread_keeps_a_dead_claim_unsent_rather_than_risk_a_duplicate(
    bot: RunningBot, fake_slack: FakeSlack, thread_ts: str
) -> None:
    claim_of_a_dead_process(bot, "dead-run")
    fake_slack.fail("conversations.replies", "missing_scope")
    assert bot.services.follow_ups is not None
    assert bot.services.follow_ups.run().replies == 0
    assert fake_slack.thread("C0001", thread_ts) == []
    entry = bot.store.get_entry("C0001", RunKind.FOLLOW_UP, period_for(PAPER, "code"))
    assert entry is not None and entry.state == RunState.POSTED and entry.error == "unsettled"


def test_an_answer_lost_after_slack_stored_the_reply_is_settled_from_the_thread(
    bot: RunningBot, fake_slack: FakeSlack, thread_ts: str
) -> None:
    fake_slack.fail("chat.postMessage", drop_after_answer=True)
    assert bot.services.follow_ups is not None
    summary = bot.services.follow_ups.run()
    assert summary.replies == 1 and summary.errors == {}
    [reply] = fake_slack.thread("C0001", thread_ts)
    entry = bot.store.get_entry("C0001", RunKind.FOLLOW_UP, period_for(PAPER, "code"))
    assert entry is not None and entry.ts == (reply["ts"],)
    assert bot.services.follow_ups.run().replies == 0  # and never again


def test_a_refused_reply_is_tried_again_the_next_day_and_the_channel_is_not_paused(
    bot: RunningBot, fake_slack: FakeSlack, clock: Clock, thread_ts: str
) -> None:
    fake_slack.fail("chat.postMessage", "cannot_reply_to_message", channel="C0001")
    assert bot.services.follow_ups is not None
    refused = bot.services.follow_ups.run()
    assert refused.replies == 0 and refused.errors == {"C0001": "cannot_reply_to_message"}
    entry = bot.store.get_entry("C0001", RunKind.FOLLOW_UP, period_for(PAPER, "code"))
    assert entry is not None and entry.state == RunState.FAILED
    assert bot.store.get_channel("C0001").active  # type: ignore[union-attr]
    clock.set(SATURDAY_1400 + timedelta(days=1))
    assert bot.services.follow_ups.run().replies == 1
    assert len(fake_slack.thread("C0001", thread_ts)) == 1


@pytest.mark.parametrize("store_backend", [pytest.param("postgres", marks=pytest.mark.postgres)])
def test_two_processes_checking_at_once_reply_once(
    bot: RunningBot, fake_slack: FakeSlack, fake_hf: FakeHF, clock: Clock, settings, thread_ts: str
) -> None:
    """Leadership keeps a second checker away; in a hand-over both may run: the ledger lets one reply."""
    other = build_services(settings, clock=clock, hf_sleep=lambda _s: None)
    fake_slack.delay("chat.postMessage", 0.3)  # both are inside their replies at the same time
    try:
        results: list[int] = []
        checkers = [bot.services.follow_ups, other.follow_ups]
        threads = [threading.Thread(target=lambda c=c: results.append(c.run().replies)) for c in checkers if c]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    finally:
        other.close()
    assert sorted(results) == [0, 1]
    assert len(fake_slack.thread("C0001", thread_ts)) == 1


def test_only_the_scheduler_leader_checks_and_healthz_shows_the_last_check(
    bot: RunningBot, fake_slack: FakeSlack, thread_ts: str
) -> None:
    from bot.posting.leader import AlwaysLeader
    from bot.posting.scheduler import PostScheduler

    class Standby(AlwaysLeader):
        def is_leader(self) -> bool:
            return False

    checker = bot.services.follow_ups
    assert checker is not None
    for leader, replies in ((Standby(), 0), (AlwaysLeader(), 1)):
        scheduler = PostScheduler(bot.services.runner, bot.store, leader, follow_ups=checker)
        scheduler.follow_up_tick()  # the minute's job: starts the check on its own thread when leading
        if scheduler._follow_up_thread is not None:
            scheduler._follow_up_thread.join(30)
        assert len(fake_slack.thread("C0001", thread_ts)) == replies
    state = scheduler.state()["follow_ups"]
    assert state["check_time_utc"] == "14:00" and state["last_run"]["replies"] == 1
