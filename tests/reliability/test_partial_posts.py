"""A digest that only partly reached Slack, and a post whose answer was lost on the way back.

Both are the ambiguous corners of "exactly once": what the channel shows must match the ledger, no
paper may be shown twice, and none may be marked as posted when the channel never saw it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from bot.models import RunRecord, RunState
from bot.posting.planning import Plan
from bot.posting.reconcile import digest_metadata
from bot.ui.render import render_digest
from tests.conftest import Clock, RunningBot, texts_of
from tests.fakes import FakeHF, FakeSlack, make_entry
from tests.fakes.slack import Call
from tests.reliability.conftest import FRIDAY, FRIDAY_0900, THURSDAY, digest_posts, subscribe, unpaced

CHANNEL = "C0001"
PAPERS = 30


def _keys_shown(posts: list[Call]) -> list[str]:
    """Paper ids in the order the channel shows them (each card links its HF page once)."""
    shown = []
    for post in posts:
        text = texts_of(post.args)
        shown += [f"2608.{i:05d}" for i in range(1, PAPERS + 1) if f"papers/2608.{i:05d}" in text]
    return shown


@pytest.fixture
def big_day(bot: RunningBot, clock: Clock, fake_hf: FakeHF, fake_slack: FakeSlack) -> None:
    """30 papers with long abstracts: the digest needs several messages."""
    fake_hf.days[THURSDAY] = [
        make_entry(f"2608.{i:05d}", f"Paper number {i}", upvotes=200 - i, day=THURSDAY, abstract="Words. " * 400)
        for i in range(1, PAPERS + 1)
    ]
    subscribe(bot, clock, CHANNEL)
    bot.store.update_channel(CHANNEL, lambda c: c.replace(max_papers=PAPERS))
    unpaced(bot)
    fake_slack.reset()


@pytest.mark.usefixtures("big_day")
def test_a_digest_cut_short_sends_the_rest_later_once_and_never_repeats_the_first_part(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    fake_slack.fail("chat.postMessage", "internal_error", status=500, channel=CHANNEL, after=1)
    runner = bot.services.runner

    first = runner.run_due(FRIDAY_0900)

    assert first.outcomes[CHANNEL] == "posted" and first.errors[CHANNEL] == "internal_error"
    (message_1,) = digest_posts(fake_slack, CHANNEL)
    shown_first = _keys_shown([message_1])
    assert 0 < len(shown_first) < PAPERS
    record = bot.store.get_run(CHANNEL, FRIDAY)
    assert record.state == RunState.POSTED
    assert [k.split(":")[-1] for k in record.paper_keys] == shown_first  # only what the channel saw
    assert len(record.unsent) == PAPERS - len(shown_first)
    assert {k.split(":")[-1] for k in bot.store.posted_keys(CHANNEL)} == set(shown_first)

    runner.run_due(FRIDAY_0900 + timedelta(minutes=4))  # before the retry delay: nothing
    assert len(digest_posts(fake_slack, CHANNEL)) == 1

    second = runner.run_due(FRIDAY_0900 + timedelta(minutes=6))
    assert second.outcomes[CHANNEL] == "posted" and second.ok
    posts = digest_posts(fake_slack, CHANNEL)
    assert len(posts) >= 2
    assert "continued" in texts_of(posts[1].args)
    shown = _keys_shown(posts)
    assert sorted(shown) == sorted(f"2608.{i:05d}" for i in range(1, PAPERS + 1))  # every paper exactly once
    record = bot.store.get_run(CHANNEL, FRIDAY)
    assert record.unsent == () and len(record.ts) == len(posts) and len(record.paper_keys) == PAPERS
    assert len(set(record.ts)) == len(posts) and all(fake_slack.message(CHANNEL, ts) for ts in record.ts)

    for hours in (1, 3, 8):  # later ticks that day: nothing more
        runner.run_due(FRIDAY_0900 + timedelta(hours=hours))
    assert len(digest_posts(fake_slack, CHANNEL)) == len(posts)


@pytest.mark.usefixtures("big_day")
def test_a_digest_cut_short_by_an_archived_channel_records_only_what_arrived(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    fake_slack.fail("chat.postMessage", "is_archived", channel=CHANNEL, after=1)
    runner = bot.services.runner

    summary = runner.run_due(FRIDAY_0900)
    for minutes in (10, 30, 120):
        runner.run_due(FRIDAY_0900 + timedelta(minutes=minutes))

    assert summary.outcomes[CHANNEL] == "posted"
    (message_1,) = digest_posts(fake_slack, CHANNEL)
    assert bot.store.get_channel(CHANNEL).paused_reason == "is_archived"
    record = bot.store.get_run(CHANNEL, FRIDAY)
    assert [k.split(":")[-1] for k in record.paper_keys] == _keys_shown([message_1])
    assert len(bot.store.posted_keys(CHANNEL)) == len(_keys_shown([message_1]))


@pytest.mark.usefixtures("big_day")
def test_a_continuation_that_fails_every_time_gives_up_after_the_attempts(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    fake_slack.fail("chat.postMessage", "internal_error", status=500, channel=CHANNEL, after=1, times=1000)
    runner = bot.services.runner
    for minutes in range(0, 24 * 60, 5):
        runner.run_due(FRIDAY_0900 + timedelta(minutes=minutes))
    record = bot.store.get_run(CHANNEL, FRIDAY)
    assert len(digest_posts(fake_slack, CHANNEL)) == 1
    assert record.attempts == 5 and record.unsent  # bounded, and the ledger still says what is missing
    # the first run (message 1 sent, message 2 refused), then 4 continuations of one failed message each
    assert len(fake_slack.posts(CHANNEL, include_failed=True)) == 2 + 4


def test_a_reset_after_slack_stored_the_post_is_found_in_history_not_posted_again(
    bot: RunningBot, clock: Clock, fake_hf: FakeHF, fake_slack: FakeSlack
) -> None:
    fake_hf.days[THURSDAY] = [make_entry(f"2608.{i:05d}", f"Paper {i}", upvotes=50 - i, day=THURSDAY) for i in (1, 2)]
    subscribe(bot, clock, CHANNEL)
    fake_slack.reset()
    fake_slack.fail("chat.postMessage", channel=CHANNEL, drop_after_answer=True)

    summary = bot.services.runner.run_due(FRIDAY_0900)

    assert summary.outcomes[CHANNEL] == "posted" and summary.ok
    attempts = fake_slack.posts(CHANNEL, include_failed=True)
    assert len(attempts) == 1  # no transport retry of a post whose answer was lost
    assert len(fake_slack.calls("conversations.history", CHANNEL)) == 1  # asked Slack instead
    record = bot.store.get_run(CHANNEL, FRIDAY)
    assert record.state == RunState.POSTED and len(record.ts) == 1
    assert fake_slack.message(CHANNEL, record.ts[0]) is not None  # the ts of the message Slack kept
    bot.services.runner.run_due(FRIDAY_0900 + timedelta(hours=2))
    assert len(fake_slack.posts(CHANNEL, include_failed=True)) == 1


def test_a_reset_when_history_cannot_be_read_keeps_at_most_once(
    bot: RunningBot, clock: Clock, fake_hf: FakeHF, fake_slack: FakeSlack
) -> None:
    fake_hf.days[THURSDAY] = [make_entry("2608.00001", "Paper 1", upvotes=10, day=THURSDAY)]
    subscribe(bot, clock, CHANNEL)
    fake_slack.reset()
    fake_slack.fail("chat.postMessage", channel=CHANNEL, drop_after_answer=True)
    fake_slack.fail("conversations.history", "missing_scope", channel=CHANNEL, times=100)

    summary = bot.services.runner.run_due(FRIDAY_0900)
    bot.services.runner.run_due(FRIDAY_0900 + timedelta(hours=2))

    assert summary.errors[CHANNEL].startswith("connection_lost")
    assert len(fake_slack.posts(CHANNEL, include_failed=True)) == 1  # the one Slack kept; never a second
    record = bot.store.get_run(CHANNEL, FRIDAY)
    assert record.state == RunState.POSTED and record.error.startswith("connection_lost")


@pytest.mark.parametrize("reached_slack", [True, False], ids=["it-posted", "it-never-posted"])
def test_a_claim_a_dead_process_left_yesterday_is_settled_before_todays_post(
    bot: RunningBot, clock: Clock, fake_hf: FakeHF, fake_slack: FakeSlack, reached_slack: bool
) -> None:
    """Killed between claim and ledger write, restarted only the next day: the old claim's papers are
    neither lost (it never posted) nor repeated (it did)."""
    fake_hf.days[THURSDAY] = [make_entry(f"2608.{i:05d}", f"Paper {i}", upvotes=50 - i, day=THURSDAY) for i in (1, 2)]
    subscribe(bot, clock, CHANNEL)
    runner = bot.services.runner
    config = bot.store.get_channel(CHANNEL)
    plan = runner.plan(config, FRIDAY_0900)
    _claim_of_a_dead_process(bot, plan, "deadbeef", FRIDAY - timedelta(days=1), FRIDAY_0900 - timedelta(days=1))
    if reached_slack:  # the dead process's post, tagged with its run id as every digest is
        bot.services.poster.post_message(
            CHANNEL,
            text="Trending papers",
            blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "papers/2608.00001 papers/2608.00002"}}],
            metadata={"event_type": "papers_bot_digest", "event_payload": {"run_id": "deadbeef"}},
        )

    summary = runner.run_due(FRIDAY_0900)

    settled = bot.store.get_run(CHANNEL, FRIDAY - timedelta(days=1))
    digests = digest_posts(fake_slack, CHANNEL)
    if reached_slack:
        assert settled.state == RunState.POSTED and len(settled.ts) == 1
        assert summary.outcomes[CHANNEL] == "nothing" and len(digests) == 1  # only the dead process's
    else:
        assert settled.state == RunState.FAILED
        assert summary.outcomes[CHANNEL] == "posted" and len(digests) == 1
        assert _keys_shown(digests) == ["2608.00001", "2608.00002"]


def _claim_of_a_dead_process(bot: RunningBot, plan: Plan, run_id: str, local_date: date, claimed_at: datetime) -> None:
    """The ledger row a process writes before calling Slack, left behind because it was killed."""
    record = RunRecord(
        channel_id=CHANNEL,
        local_date=local_date,
        state=RunState.CLAIMED,
        run_id=run_id,
        claimed_at=claimed_at,
        days=plan.days,
        paper_keys=tuple(p.key for p in plan.selection.papers),
    )
    assert bot.store.claim_run(record)


@pytest.mark.usefixtures("big_day")
def test_a_run_killed_after_its_first_message_sends_only_the_rest_after_restart(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    """The dead process's first message is found by its tag, which names the papers it showed: the
    ledger records exactly those, and a continuation brings the others."""
    runner = bot.services.runner
    plan = runner.plan(bot.store.get_channel(CHANNEL), FRIDAY_0900)
    _claim_of_a_dead_process(bot, plan, "killed-run", FRIDAY, FRIDAY_0900 - timedelta(minutes=3))
    first = render_digest(plan.selection.papers, days=plan.days)[0]
    bot.services.poster.post_message(  # what the killed process got out before it died
        CHANNEL, text=first.text, blocks=first.blocks, metadata=digest_metadata("killed-run", FRIDAY, first.paper_keys)
    )

    runner.run_due(FRIDAY_0900)
    settled = bot.store.get_run(CHANNEL, FRIDAY)
    assert settled.state == RunState.POSTED and settled.paper_keys == first.paper_keys
    assert len(settled.unsent) == PAPERS - len(first.paper_keys) > 0

    runner.run_due(FRIDAY_0900 + timedelta(minutes=3))  # the retry delay after the claim has passed
    posts = digest_posts(fake_slack, CHANNEL)
    assert sorted(_keys_shown(posts)) == sorted(f"2608.{i:05d}" for i in range(1, PAPERS + 1))
    done = bot.store.get_run(CHANNEL, FRIDAY)
    assert done.unsent == () and len(done.paper_keys) == PAPERS and len(done.ts) == len(posts)
