"""Time: the post fires once per local date through DST gaps and folds in several zones, a clock that
jumps forward catches up with one post, a clock that jumps back never posts again, and a start-up
just before or just after the slot does the right thing.

The runner is ticked with an explicit ``now`` (what the one-minute scheduler tick passes), so the
tests sweep whole transition days in minutes of wall time; ``PostScheduler`` itself is started for
the start-up cases. ``tests/bot/test_schedule.py`` covers the pure slot arithmetic.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.posting.scheduler import PostScheduler
from tests.conftest import Clock, RunningBot
from tests.fakes import FakeHF, FakeSlack, make_day
from tests.reliability.conftest import digest_posts

STEP = timedelta(minutes=5)


def _papers_around(fake_hf: FakeHF, day: date) -> None:
    for back in range(-2, 12):
        d = day - timedelta(days=back)
        fake_hf.days[d.isoformat()] = make_day(d, 2, start_id=10001 + (back + 2) * 10)


def _subscribe_in(bot: RunningBot, clock: Clock, spec: str, before: datetime) -> None:
    clock.set(before - timedelta(days=3))
    assert "Subscribed" in bot.command(f"subscribe {spec}").text


def _sweep(bot: RunningBot, fake_slack: FakeSlack, start: datetime, end: datetime) -> list[datetime]:
    """Tick every five minutes; return the instants at which a digest went out."""
    runner = bot.services.runner
    fired = []
    now = start
    while now <= end:
        before = len(digest_posts(fake_slack))
        runner.run_due(now)
        if len(digest_posts(fake_slack)) > before:
            fired.append(now)
        now += STEP
    return fired


@pytest.mark.parametrize(
    ("zone", "day", "wall", "expected_utc"),
    [
        # spring forward: the wall time does not exist; the post goes out an hour "later" on the clock
        ("America/Los_Angeles", "2026-03-08", "02:30", "2026-03-08T10:30"),
        ("Europe/Helsinki", "2026-03-29", "03:30", "2026-03-29T01:30"),
        ("Australia/Sydney", "2026-10-04", "02:30", "2026-10-03T16:30"),
        # fall back: the wall time happens twice; the post goes out at the first one only
        ("America/Los_Angeles", "2026-11-01", "01:30", "2026-11-01T08:30"),
        ("Europe/Helsinki", "2026-10-25", "03:30", "2026-10-25T00:30"),
        ("Australia/Sydney", "2026-04-05", "02:30", "2026-04-04T15:30"),
        # no DST at all, as a control
        ("Asia/Kolkata", "2026-03-08", "02:30", "2026-03-07T21:00"),
    ],
)
def test_one_post_on_a_dst_transition_day(
    bot: RunningBot,
    clock: Clock,
    fake_hf: FakeHF,
    fake_slack: FakeSlack,
    zone: str,
    day: str,
    wall: str,
    expected_utc: str,
) -> None:
    local_day = date.fromisoformat(day)
    _papers_around(fake_hf, local_day)
    expected = datetime.fromisoformat(expected_utc).replace(tzinfo=UTC)
    _subscribe_in(bot, clock, f"{wall} {zone} daily", expected)
    local_midnight = datetime.combine(local_day, datetime.min.time(), tzinfo=ZoneInfo(zone)).astimezone(UTC)
    fake_slack.reset()

    fired = _sweep(bot, fake_slack, local_midnight, local_midnight + timedelta(hours=25))

    on_the_day = [f for f in fired if f.astimezone(ZoneInfo(zone)).date() == local_day]
    assert on_the_day == [expected], fired


def test_a_clock_jumping_forward_past_the_slot_catches_up_with_one_post(
    bot: RunningBot, clock: Clock, fake_hf: FakeHF, fake_slack: FakeSlack
) -> None:
    slot = datetime(2026, 8, 21, 9, 0, tzinfo=UTC)
    _papers_around(fake_hf, slot.date())
    _subscribe_in(bot, clock, "09:00 UTC daily", slot)
    fake_slack.reset()
    runner = bot.services.runner
    runner.run_due(slot - timedelta(minutes=2))
    runner.run_due(slot - timedelta(minutes=1))
    assert digest_posts(fake_slack) == []
    # The host slept or NTP stepped the clock: the next tick sees 11:37.
    fired = _sweep(bot, fake_slack, slot + timedelta(hours=2, minutes=37), slot + timedelta(hours=5))
    assert fired == [slot + timedelta(hours=2, minutes=37)]


def test_a_clock_jumping_back_over_the_slot_never_posts_again(
    bot: RunningBot, clock: Clock, fake_hf: FakeHF, fake_slack: FakeSlack
) -> None:
    slot = datetime(2026, 8, 21, 9, 0, tzinfo=UTC)
    _papers_around(fake_hf, slot.date())
    _subscribe_in(bot, clock, "09:00 UTC daily", slot)
    fake_slack.reset()
    assert _sweep(bot, fake_slack, slot, slot + timedelta(minutes=30)) == [slot]
    # Back two hours, then forward through the slot again; then back across midnight into yesterday.
    assert _sweep(bot, fake_slack, slot - timedelta(hours=2), slot + timedelta(hours=1)) == []
    yesterday_slot = slot - timedelta(days=1)
    # Yesterday's slot looks owed, but its papers are older than what today's post already showed.
    assert _sweep(bot, fake_slack, yesterday_slot - timedelta(minutes=10), yesterday_slot + timedelta(hours=1)) == []
    assert _sweep(bot, fake_slack, slot, slot + timedelta(hours=1)) == []
    assert len(digest_posts(fake_slack)) == 1


def test_changing_the_schedule_after_todays_post_does_not_post_again_today(
    bot: RunningBot, clock: Clock, fake_hf: FakeHF, fake_slack: FakeSlack
) -> None:
    slot = datetime(2026, 8, 21, 7, 0, tzinfo=UTC)  # 09:00 in Berlin
    _papers_around(fake_hf, slot.date())
    _subscribe_in(bot, clock, "09:00 Europe/Berlin daily", slot)
    fake_slack.reset()
    assert _sweep(bot, fake_slack, slot, slot + timedelta(minutes=10)) == [slot]
    clock.set(slot + timedelta(hours=1))
    assert "Subscribed" in bot.command("subscribe 17:00 America/New_York").text  # still the 21st there
    assert _sweep(bot, fake_slack, slot + timedelta(hours=1), slot + timedelta(hours=16)) == []


def _start_scheduler_at(bot: RunningBot, clock: Clock, now: datetime) -> PostScheduler:
    clock.set(now)
    scheduler = PostScheduler(bot.services.runner, bot.store)
    bot.services.scheduler = scheduler  # closed with the bot
    scheduler.start()
    deadline = time.monotonic() + 5
    while scheduler.ticks == 0 or scheduler.scheduler.get_job("startup-tick") is not None:
        assert time.monotonic() < deadline, "the start-up tick did not run"
        time.sleep(0.02)
    time.sleep(0.2)  # a tick with nothing due returns at once; one that posts is waited for below
    return scheduler


@pytest.mark.parametrize("offset_s", [-30, -1, 0, 1, 30, 3 * 3600])
def test_start_up_just_before_or_after_the_slot(
    bot: RunningBot, clock: Clock, fake_hf: FakeHF, fake_slack: FakeSlack, offset_s: int
) -> None:
    slot = datetime(2026, 8, 21, 9, 0, tzinfo=UTC)
    _papers_around(fake_hf, slot.date())
    _subscribe_in(bot, clock, "09:00 UTC daily", slot)
    fake_slack.reset()

    scheduler = _start_scheduler_at(bot, clock, slot + timedelta(seconds=offset_s))

    expected_now = 1 if offset_s >= 0 else 0
    if expected_now:
        fake_slack.wait_for_calls("chat.postMessage", 1)
    assert len(digest_posts(fake_slack)) == expected_now  # after the slot: the start-up tick posts at once
    clock.set(slot + timedelta(minutes=1))  # the next minute's tick
    scheduler.tick()
    clock.set(slot + timedelta(minutes=2))
    scheduler.tick()
    assert len(digest_posts(fake_slack)) == 1
    assert scheduler.state()["running"] is True
