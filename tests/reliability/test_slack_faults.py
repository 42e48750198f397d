"""Slack misbehaving mid-run: every channel still gets at most one post a day, one channel's failure
never stops the others, and a dead token or an uninstall stops the bot cleanly.

Single-fault basics (an archived and a missing channel pause; one 429 is waited out) are in
``tests/scenarios/test_daily_post.py``; here the faults are mixed inside one run and pushed past the
retry handlers' budgets.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import pytest

from bot.models import RunState
from bot.posting.runner import MAX_ATTEMPTS
from bot.posting.scheduler import PostScheduler
from tests.conftest import Clock, RunningBot, texts_of
from tests.fakes import FakeHF, FakeSlack, event_callback_body, make_day
from tests.reliability.conftest import FRIDAY, FRIDAY_0900, THURSDAY, digest_posts, subscribe, unpaced

CHANNELS = [f"C000{i}" for i in range(1, 8)]


def post_event(bot: RunningBot, event: dict[str, object], team_id: str = "T0001") -> int:
    return bot.post(event_callback_body(dict(event), team_id=team_id)).status_code


@pytest.fixture
def seven_channels(bot: RunningBot, clock: Clock, fake_hf: FakeHF, fake_slack: FakeSlack) -> list[str]:
    fake_hf.days[THURSDAY] = make_day(THURSDAY, 4)
    for channel in CHANNELS:
        subscribe(bot, clock, channel)
    fake_slack.reset()
    return CHANNELS


def test_mixed_faults_in_one_run_are_isolated_and_nothing_is_posted_twice(
    bot: RunningBot, fake_slack: FakeSlack, seven_channels: list[str]
) -> None:
    c1, c2, c3, c4, c5, c6, c7 = seven_channels
    fake_slack.fail("chat.postMessage", "ratelimited", status=429, retry_after=0, channel=c2)
    fake_slack.fail("chat.postMessage", "internal_error", status=500, channel=c3)
    fake_slack.fail("chat.postMessage", "service_unavailable", status=503, channel=c4)
    fake_slack.fail("chat.postMessage", "msg_blocks_too_long", channel=c5)
    fake_slack.fail("chat.postMessage", "invalid_blocks", channel=c6)
    fake_slack.not_member_channels.add(c7)
    runner = bot.services.runner

    first = runner.run_due(FRIDAY_0900)

    assert first.outcomes == {
        c1: "posted",  # untouched
        c2: "posted",  # Retry-After waited out inside the run
        c3: "failed",  # 5xx: retried by a later tick, not hammered now
        c4: "failed",
        c5: "posted",  # too long: re-sent compact
        c6: "posted",
        c7: "paused",  # not_in_channel: paused, explained by /papers status
    }
    assert [c.ok for c in fake_slack.calls("chat.postMessage", c2)] == [False, True]
    compact = digest_posts(fake_slack, c5)[0]
    assert all(b["type"] != "actions" for b in compact.args["blocks"])  # the one-line-per-paper form
    assert bot.store.get_channel(c7).paused_reason == "not_in_channel"
    assert "Invite me" in bot.command("status", channel=c7).text

    runner.run_due(FRIDAY_0900 + timedelta(minutes=2))  # too soon for the 5xx channels
    assert digest_posts(fake_slack, c3) == []
    runner.run_due(FRIDAY_0900 + timedelta(minutes=6))
    runner.run_due(FRIDAY_0900 + timedelta(hours=3))
    for channel in (c1, c2, c3, c4, c5, c6):
        assert len(digest_posts(fake_slack, channel)) == 1, channel
        assert bot.store.get_run(channel, FRIDAY).state == RunState.POSTED
    assert bot.store.get_run(c3, FRIDAY).attempts == 2
    assert digest_posts(fake_slack, c7) == []


def test_429_beyond_the_retry_budget_fails_the_run_and_a_later_tick_posts_once(
    bot: RunningBot, fake_slack: FakeSlack, seven_channels: list[str]
) -> None:
    unpaced(bot)
    c1, c2, *_ = seven_channels
    fake_slack.fail("chat.postMessage", "ratelimited", status=429, retry_after=0, channel=c2, times=50)
    first = bot.services.runner.run_due(FRIDAY_0900)
    assert first.outcomes[c2] == "failed" and first.errors[c2] == "ratelimited"
    assert first.outcomes[c1] == "posted"
    attempts = fake_slack.calls("chat.postMessage", c2)
    assert 1 < len(attempts) < 10 and not any(c.ok for c in attempts)  # retried, within a budget
    fake_slack.reset()  # the rate limit is over
    bot.services.runner.run_due(FRIDAY_0900 + timedelta(minutes=6))
    bot.services.runner.run_due(FRIDAY_0900 + timedelta(minutes=12))
    assert len(digest_posts(fake_slack, c2)) == 1 and digest_posts(fake_slack, c1) == []


def test_a_channel_failing_every_attempt_gives_up_for_the_day_without_posting_twice(
    bot: RunningBot, fake_slack: FakeSlack, seven_channels: list[str]
) -> None:
    unpaced(bot)
    c1 = seven_channels[0]
    fake_slack.fail("chat.postMessage", "internal_error", status=500, channel=c1, times=100)
    runner = bot.services.runner
    for minutes in range(0, 12 * 60, 15):
        runner.run_due(FRIDAY_0900 + timedelta(minutes=minutes))
    attempts = fake_slack.calls("chat.postMessage", c1)
    assert len(attempts) == MAX_ATTEMPTS and not any(c.ok for c in attempts)
    assert bot.store.get_run(c1, FRIDAY).attempts == MAX_ATTEMPTS
    assert all(len(digest_posts(fake_slack, c)) == 1 for c in seven_channels[1:])


def test_a_connection_reset_before_slack_had_the_post_is_checked_then_sent_once(
    bot: RunningBot, fake_slack: FakeSlack, seven_channels: list[str]
) -> None:
    c1 = seven_channels[0]
    fake_slack.fail("chat.postMessage", channel=c1, drop_connection=True)
    summary = bot.services.runner.run_due(FRIDAY_0900)
    assert summary.outcomes[c1] == "posted"
    assert [c.ok for c in fake_slack.calls("chat.postMessage", c1)] == [False, True]
    assert len(fake_slack.calls("conversations.history", c1)) == 1  # asked before sending again
    assert len(digest_posts(fake_slack, c1)) == 1


def test_a_connection_lost_twice_is_settled_from_history_and_sent_later_when_nothing_arrived(
    bot: RunningBot, fake_slack: FakeSlack, seven_channels: list[str]
) -> None:
    """Two resets in a row: the channel's history shows nothing arrived, so the run fails like any
    refused post and a later tick sends it, once. (It used to be closed as posted: a lost day.)"""
    c1, c2, *_ = seven_channels
    fake_slack.fail("chat.postMessage", channel=c1, drop_connection=True, times=2)
    runner = bot.services.runner
    summary = runner.run_due(FRIDAY_0900)
    assert summary.outcomes[c1] == "failed" and summary.errors[c1].startswith("connection_lost")
    assert bot.store.get_run(c1, FRIDAY).state == RunState.FAILED
    runner.run_due(FRIDAY_0900 + timedelta(hours=2))
    assert len(digest_posts(fake_slack, c1)) == 1  # sent once, by the later tick
    record = bot.store.get_run(c1, FRIDAY)
    assert record.state == RunState.POSTED and len(record.ts) == 1
    assert len(digest_posts(fake_slack, c2)) == 1


def test_a_connection_lost_twice_with_history_unreadable_is_not_retried_blindly(
    bot: RunningBot, fake_slack: FakeSlack, seven_channels: list[str]
) -> None:
    """When the history cannot say, the run is closed (at most once) and alerted, never re-sent."""
    c1, *_ = seven_channels
    fake_slack.fail("chat.postMessage", channel=c1, drop_connection=True, times=2)
    fake_slack.fail("conversations.history", "not_in_channel", times=100)
    runner = bot.services.runner
    assert runner.run_due(FRIDAY_0900).outcomes[c1] == "failed"
    runner.run_due(FRIDAY_0900 + timedelta(hours=2))
    assert len(fake_slack.calls("chat.postMessage", c1)) == 1  # no resend when history cannot say
    record = bot.store.get_run(c1, FRIDAY)
    assert record.state == RunState.POSTED and record.ts == () and record.error.startswith("connection_lost")


@pytest.mark.parametrize("code", ["token_revoked", "account_inactive", "invalid_auth"])
def test_a_dead_token_stops_the_run_and_later_ticks_cleanly(
    bot: RunningBot, fake_slack: FakeSlack, seven_channels: list[str], code: str, caplog: pytest.LogCaptureFixture
) -> None:
    fake_slack.fail("chat.postMessage", code, times=1000)
    runner = bot.services.runner
    with caplog.at_level(logging.INFO):
        first = runner.run_due(FRIDAY_0900)
        attempts_first_run = len(fake_slack.calls("chat.postMessage"))
        for minutes in range(1, 60):
            runner.run_due(FRIDAY_0900 + timedelta(minutes=minutes))

    assert first.stopped == code
    assert attempts_first_run <= first.workers  # only the posts already in flight
    assert len(fake_slack.calls("chat.postMessage")) == attempts_first_run  # later ticks do not call Slack
    assert digest_posts(fake_slack) == []
    assert not any(bot.store.get_channel(c).paused_reason for c in seven_channels)  # channels are fine
    assert f"Slack rejected the bot token ({code})" in caplog.text
    assert caplog.text.count("Slack rejected the bot token") <= first.workers  # logged, not once a minute
    assert PostScheduler(runner, bot.store).state()["token_rejected"] == code  # /healthz says why


def _run_then_uninstall(bot: RunningBot, fake_slack: FakeSlack, event: dict[str, object]) -> None:
    assert post_event(bot, event) == 200
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not all(bot.store.get_channel(c).paused_reason for c in CHANNELS):
        time.sleep(0.02)


@pytest.mark.parametrize(
    "event",
    [
        {"type": "app_uninstalled"},
        {"type": "tokens_revoked", "tokens": {"oauth": ["U0001"], "bot": ["UBOT"]}},
    ],
    ids=["app_uninstalled", "tokens_revoked"],
)
def test_uninstall_events_stop_that_workspaces_schedules(
    bot: RunningBot, clock: Clock, fake_slack: FakeSlack, seven_channels: list[str], event: dict[str, object]
) -> None:
    other = "C9999"
    bot.services.store.update_channel(other, lambda c: c.replace(subscribed=True, active_since=""), team_id="T0002")
    _run_then_uninstall(bot, fake_slack, event)

    summary = bot.services.runner.run_due(FRIDAY_0900)

    assert [c for c in seven_channels if bot.store.get_channel(c).paused_reason != event["type"]] == []
    assert digest_posts(fake_slack) == [p for p in digest_posts(fake_slack) if p.channel == other]
    assert summary.outcomes.get(other) == "posted"  # another workspace is not affected
    assert set(summary.outcomes) == {other}
    # Slack redelivers events; a second one changes nothing.
    assert post_event(bot, event) == 200
    bot.listener_pool.settle()
    # Reinstalled: /papers subscribe resumes a channel with its settings.
    assert "Subscribed" in bot.command("subscribe", channel=seven_channels[0]).text
    assert bot.store.get_channel(seven_channels[0]).active


def test_revoking_only_user_tokens_keeps_posting(
    bot: RunningBot, fake_slack: FakeSlack, seven_channels: list[str]
) -> None:
    assert post_event(bot, {"type": "tokens_revoked", "tokens": {"oauth": ["U0001"]}}) == 200
    time.sleep(0.3)  # the listener runs after the ack
    assert not any(c.paused_reason for c in bot.store.channels())
    assert bot.services.runner.run_due(FRIDAY_0900).count("posted") == len(seven_channels)


def test_status_after_an_uninstall_says_how_to_resume(
    bot: RunningBot, fake_slack: FakeSlack, seven_channels: list[str]
) -> None:
    _run_then_uninstall(bot, fake_slack, {"type": "app_uninstalled"})
    text = bot.command("status", channel=seven_channels[0]).text
    assert "Paused" in text and "/papers subscribe" in text
    assert texts_of({"text": text})  # a readable reply, not an error


def test_a_cut_off_run_whose_history_cannot_be_read_is_not_reposted_and_is_reported_once(
    alerting_bot: RunningBot, clock: Clock, fake_hf: FakeHF, fake_slack: FakeSlack
) -> None:
    """Without ``channels:history`` the restarted bot cannot tell whether Slack got the message, so it
    keeps the safe side (at most once) and says so in the alert channel, once."""
    from datetime import date

    from bot.models import RunRecord

    bot = alerting_bot
    fake_hf.days[THURSDAY] = make_day(THURSDAY, 2)
    subscribe(bot, clock, "C0001")
    bot.store.claim_run(RunRecord("C0001", FRIDAY, RunState.CLAIMED, "dead-run", FRIDAY_0900 - timedelta(minutes=1)))
    fake_slack.fail("conversations.history", "missing_scope", times=100)
    runner = bot.services.runner
    for minutes in (5, 10, 60):
        runner.run_due(FRIDAY_0900 + timedelta(minutes=minutes))
    assert digest_posts(fake_slack, "C0001") == []
    assert len(fake_slack.calls("conversations.history")) == 1  # asked once, not every minute
    [alert] = [texts_of(c.args) for c in fake_slack.posts("CALERTS")]
    assert "<#C0001>" in alert and "cannot be read" in alert
    assert bot.store.get_run("C0001", date(2026, 8, 21)).state == RunState.CLAIMED


def test_opening_app_home_publishes_the_home_tab_for_that_user(bot: RunningBot, fake_slack: FakeSlack) -> None:
    assert post_event(bot, {"type": "app_home_opened", "user": "U0042", "tab": "home"}) == 200
    assert post_event(bot, {"type": "app_home_opened", "user": "U0043", "tab": "messages"}) == 200
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not fake_slack.calls("views.publish"):
        time.sleep(0.02)
    bot.listener_pool.settle()
    [call] = fake_slack.calls("views.publish")  # the messages tab publishes nothing
    assert call.args["user_id"] == "U0042" and call.args["view"]["type"] == "home"


def test_a_dead_token_in_one_workspace_stops_only_that_workspace(
    bot: RunningBot, fake_slack: FakeSlack, seven_channels: list[str]
) -> None:
    """Two installations: T0002's token is revoked (the fake answers ``invalid_auth``); T0001's
    channels still get their posts, now and on later ticks, and T0002 is never called again."""
    from bot.slack.client import SlackPoster, make_web_client

    other = ["C9001", "C9002"]
    for channel in other:
        bot.services.store.update_channel(
            channel, lambda c: c.replace(subscribed=True, active_since=""), team_id="T0002"
        )
    revoked = SlackPoster(make_web_client("xoxb-invalid", fake_slack.api_url))
    bot.services.runner.workspaces.add("T0002", revoked)

    first = bot.services.runner.run_due(FRIDAY_0900)
    assert first.stopped == "invalid_auth"
    assert {first.outcomes[c] for c in seven_channels} == {"posted"}  # the default token's workspace
    assert {first.outcomes.get(c, "not started") for c in other} <= {"failed", "not started"}
    calls_to_revoked = len([c for c in fake_slack.calls("chat.postMessage") if c.channel in other])

    later = bot.services.runner.run_due(FRIDAY_0900 + timedelta(minutes=5))
    assert not set(later.outcomes) & set(other)  # not even tried
    assert len([c for c in fake_slack.calls("chat.postMessage") if c.channel in other]) == calls_to_revoked
    assert bot.services.runner.token_rejected == "invalid_auth"
    workspaces = bot.services.runner.workspaces
    assert (workspaces.rejected("T0002"), workspaces.rejected("T0001")) == ("invalid_auth", "")
    assert {c.channel for c in digest_posts(fake_slack)} == set(seven_channels)
