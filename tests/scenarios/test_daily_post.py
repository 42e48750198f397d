"""The daily post end to end: subscriptions made over signed HTTP, the post job run at a controlled
clock, and what the fake Slack received checked as a channel member would see it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.models import RunRecord, RunState
from tests.conftest import Clock, RunningBot, texts_of
from tests.fakes import FakeHF, FakeSlack, make_day, make_entry

THURSDAY = "2026-08-20"
FRIDAY_0900 = datetime(2026, 8, 21, 9, 0, tzinfo=UTC)


def subscribe(bot: RunningBot, clock: Clock, channel: str, spec: str = "") -> None:
    """Subscribe as a user would, the day before, so today's slot is owed."""
    saved = clock()
    clock.set(saved - timedelta(days=1))
    bot.command(f"subscribe {spec}".strip(), channel=channel)
    clock.set(saved)


def digest_posts(fake: FakeSlack, channel: str | None = None) -> list:
    """Posted digests (not the one-line subscription notices)."""
    return [c for c in fake.posts(channel) if c.args.get("blocks")]


def titles_in_order(call_args: dict, titles: list[str]) -> list[str]:
    text = texts_of(call_args)
    return sorted((t for t in titles if t in text), key=text.index)


def test_post_goes_to_every_subscribed_channel_ranked_by_upvotes_with_one_fetch(
    bot: RunningBot, clock: Clock, fake_hf: FakeHF, fake_slack: FakeSlack
) -> None:
    fake_hf.days[THURSDAY] = [
        make_entry("2608.00001", "Middle", upvotes=20, day=THURSDAY),
        make_entry(
            "2608.00002", "Top", upvotes=99, day=THURSDAY, github_repo="https://github.com/o/r", github_stars=1500
        ),
        make_entry("2608.00003", "Bottom", upvotes=1, day=THURSDAY),
    ]
    for channel in ("C0001", "C0002", "C0003"):
        subscribe(bot, clock, channel)
    bot.command("unsubscribe", channel="C0003")
    fake_hf.reset()

    summary = bot.services.runner.run_due(FRIDAY_0900)

    assert summary.ok
    assert fake_hf.count("/api/daily_papers") == 1  # one fetch serves every channel
    assert fake_hf.requests[0].params["date"] == THURSDAY and fake_hf.requests[0].params["limit"] == "100"
    for channel in ("C0001", "C0002"):
        [post] = digest_posts(fake_slack, channel)
        assert titles_in_order(post.args, ["Top", "Middle", "Bottom"]) == ["Top", "Middle", "Bottom"]
        assert post.args["unfurl_links"] in (False, "false", "0", 0)
        assert "Thu 20 Aug 2026" in post.args["blocks"][0]["text"]["text"]
        assert "GitHub ★ 1.5k" in texts_of(post.args)
        assert post.args["text"]  # the notification fallback
    assert digest_posts(fake_slack, "C0003") == []
    run = bot.store.get_run("C0001", date(2026, 8, 21))
    assert run.state == RunState.POSTED and run.ts and set(run.paper_keys) == {"2608.00001", "2608.00002", "2608.00003"}


def test_second_run_the_same_day_posts_nothing(
    bot: RunningBot, clock: Clock, fake_hf: FakeHF, fake_slack: FakeSlack
) -> None:
    fake_hf.days[THURSDAY] = make_day(THURSDAY, 5)
    subscribe(bot, clock, "C0001")
    bot.services.runner.run_due(FRIDAY_0900)
    bot.services.runner.run_due(FRIDAY_0900 + timedelta(hours=3))
    # A restart: a new runner over the same store.
    bot.services.runner._not_before.clear()
    bot.services.runner.run_due(FRIDAY_0900 + timedelta(hours=5))
    assert len(digest_posts(fake_slack, "C0001")) == 1


def test_paper_text_is_escaped_and_cannot_ping(
    bot: RunningBot, clock: Clock, fake_hf: FakeHF, fake_slack: FakeSlack
) -> None:
    fake_hf.days[THURSDAY] = [
        make_entry(
            "2608.00001",
            "<!channel> Attention & <@U123> <https://evil.example|click>",
            upvotes=5,
            day=THURSDAY,
            authors=("<!everyone>", "Bob & Alice"),
            ai_summary="Use <!here> now",
        )
    ]
    subscribe(bot, clock, "C0001")
    bot.services.runner.run_due(FRIDAY_0900)
    [post] = digest_posts(fake_slack, "C0001")
    text = texts_of(post.args)
    for dangerous in ("<!channel>", "<!everyone>", "<!here>", "<@U123>", "<https://evil"):
        assert dangerous not in text
    assert "&lt;!channel&gt; Attention &amp; &lt;@U123&gt;" in text


def test_never_the_same_paper_twice_across_days(
    bot: RunningBot, clock: Clock, fake_hf: FakeHF, fake_slack: FakeSlack
) -> None:
    fake_hf.days[THURSDAY] = [make_entry("2608.00001", "Seen Thursday", upvotes=50, day=THURSDAY)]
    fake_hf.days["2026-08-21"] = [
        make_entry("2608.00001", "Seen Thursday", upvotes=80, day="2026-08-21"),  # listed again
        make_entry("2608.00002", "New Friday", upvotes=10, day="2026-08-21"),
    ]
    subscribe(bot, clock, "C0001", "09:00 UTC daily")
    bot.services.runner.run_due(FRIDAY_0900)
    bot.services.runner.run_due(FRIDAY_0900 + timedelta(days=1))
    first, second = digest_posts(fake_slack, "C0001")
    assert "Seen Thursday" in texts_of(first.args)
    assert "New Friday" in texts_of(second.args) and "Seen Thursday" not in texts_of(second.args)


def test_weekend_is_silent_and_monday_gets_friday(
    bot: RunningBot, clock: Clock, fake_hf: FakeHF, fake_slack: FakeSlack
) -> None:
    fake_hf.days[THURSDAY] = [make_entry("2608.00001", "Thursday paper", upvotes=5, day=THURSDAY)]
    fake_hf.days["2026-08-21"] = [make_entry("2608.00002", "Friday paper", upvotes=5, day="2026-08-21")]
    subscribe(bot, clock, "C0001", "09:00 UTC daily")
    for offset in range(4):  # Fri, Sat, Sun, Mon at 09:00 UTC
        bot.services.runner.run_due(FRIDAY_0900 + timedelta(days=offset))
    posts = digest_posts(fake_slack, "C0001")
    assert len(posts) == 2  # Friday (Thursday's list) and Sunday (Friday's list settled) — not Saturday
    assert "Thursday paper" in texts_of(posts[0].args)
    assert "Friday paper" in texts_of(posts[1].args)


def test_catch_up_after_downtime_is_one_post_of_at_most_three_days(
    bot: RunningBot, clock: Clock, fake_hf: FakeHF, fake_slack: FakeSlack
) -> None:
    days = ["2026-08-14", "2026-08-17", "2026-08-18", "2026-08-19", "2026-08-20"]  # Fri, Mon–Thu
    for i, day in enumerate(days):
        fake_hf.days[day] = [make_entry(f"2608.0010{i}", f"Paper of {day}", upvotes=10 + i, day=day)]
    clock.set(datetime(2026, 8, 16, 12, 0, tzinfo=UTC))
    bot.command("subscribe 09:00 UTC mon-fri")
    bot.services.runner.run_due(datetime(2026, 8, 17, 9, 0, tzinfo=UTC))  # Monday: gets Friday 14th
    # Down from Tuesday to Thursday; back on Friday the 21st.
    bot.services.runner.run_due(FRIDAY_0900)
    first, catch_up = digest_posts(fake_slack, "C0001")
    assert "Paper of 2026-08-14" in texts_of(first.args)
    text = texts_of(catch_up.args)
    assert "Catch-up" in catch_up.args["blocks"][0]["text"]["text"]
    assert [d for d in days if f"Paper of {d}" in text] == ["2026-08-18", "2026-08-19", "2026-08-20"]


def test_down_at_post_time_posts_once_when_back_the_same_day(
    bot: RunningBot, clock: Clock, fake_hf: FakeHF, fake_slack: FakeSlack
) -> None:
    fake_hf.days[THURSDAY] = make_day(THURSDAY, 3)
    subscribe(bot, clock, "C0001")
    runner = bot.services.runner
    assert runner.run_due(FRIDAY_0900 - timedelta(minutes=1)).outcomes == {}
    runner.run_due(FRIDAY_0900 + timedelta(hours=6))  # back at 15:00
    runner.run_due(FRIDAY_0900 + timedelta(hours=6, minutes=1))
    assert len(digest_posts(fake_slack, "C0001")) == 1


def test_crash_after_claim_never_reposts(bot: RunningBot, clock: Clock, fake_hf: FakeHF, fake_slack: FakeSlack) -> None:
    fake_hf.days[THURSDAY] = make_day(THURSDAY, 3)
    subscribe(bot, clock, "C0001")
    subscribe(bot, clock, "C0002")
    # A process died after claiming both runs; Slack had C0001's (tagged) message, not C0002's.
    for channel in ("C0001", "C0002"):
        bot.store.claim_run(
            RunRecord(
                channel, date(2026, 8, 21), RunState.CLAIMED, f"dead-{channel}", FRIDAY_0900 - timedelta(minutes=1)
            )
        )
    ts = bot.services.poster.post_message(
        "C0001",
        text="the digest",
        blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "the digest"}}],
        metadata={"event_type": "papers_bot_digest", "event_payload": {"run_id": "dead-C0001"}},
    )
    runner = bot.services.runner
    runner.run_due(FRIDAY_0900)  # within the claim lease: maybe still posting, leave it
    assert len(digest_posts(fake_slack)) == 1
    runner.run_due(FRIDAY_0900 + timedelta(minutes=5))  # the claims are orphans now: settled from history
    runner.run_due(FRIDAY_0900 + timedelta(minutes=30))
    assert len(digest_posts(fake_slack, "C0001")) == 1
    assert bot.store.get_run("C0001", date(2026, 8, 21)).ts == (ts,)
    assert len(digest_posts(fake_slack, "C0002")) == 1


@pytest.mark.parametrize(
    ("zone", "dates_and_expected_utc"),
    [
        # Berlin springs forward on 29 March 2026: 08:30 local is 07:30 UTC before, 06:30 UTC after.
        ("Europe/Berlin", [("2026-03-27", "07:30"), ("2026-03-30", "06:30")]),
        # New York falls back on 1 November 2026: 08:30 local is 12:30 UTC before, 13:30 UTC after.
        ("America/New_York", [("2026-10-30", "12:30"), ("2026-11-02", "13:30")]),
    ],
)
def test_schedule_follows_the_channel_clock_across_dst(
    bot: RunningBot,
    clock: Clock,
    fake_hf: FakeHF,
    fake_slack: FakeSlack,
    zone: str,
    dates_and_expected_utc: list[tuple[str, str]],
) -> None:
    for i in range(1, 20):
        day = date(2026, 3, 15) + timedelta(days=i)
        fake_hf.days[day.isoformat()] = [make_entry(f"2603.{i:05d}", f"March {i}", upvotes=i, day=day)]
        day = date(2026, 10, 20) + timedelta(days=i)
        fake_hf.days[day.isoformat()] = [make_entry(f"2610.{i:05d}", f"Autumn {i}", upvotes=i, day=day)]
    clock.set(datetime(2026, 3, 1, tzinfo=UTC))
    bot.command(f"subscribe 08:30 {zone} mon-fri")
    runner = bot.services.runner
    for day_text, expected in dates_and_expected_utc:
        hour, minute = (int(p) for p in expected.split(":"))
        slot = datetime.fromisoformat(day_text).replace(hour=hour, minute=minute, tzinfo=UTC)
        before = len(digest_posts(fake_slack))
        runner.run_due(slot - timedelta(minutes=1))
        assert len(digest_posts(fake_slack)) == before, f"posted before the slot on {day_text}"
        runner.run_due(slot)
        assert len(digest_posts(fake_slack)) == before + 1, f"no post at the slot on {day_text}"
        runner.run_due(slot + timedelta(hours=1))
        assert len(digest_posts(fake_slack)) == before + 1, f"second post on {day_text}"


def test_channel_errors_pause_that_channel_and_others_go_on(
    bot: RunningBot, clock: Clock, fake_hf: FakeHF, fake_slack: FakeSlack
) -> None:
    fake_hf.days[THURSDAY] = make_day(THURSDAY, 3)
    for channel in ("C0001", "C0002", "C0003"):
        subscribe(bot, clock, channel)
    fake_slack.archived_channels.add("C0002")
    fake_slack.missing_channels.add("C0003")

    summary = bot.services.runner.run_due(FRIDAY_0900)

    assert len(digest_posts(fake_slack, "C0001")) == 1
    assert bot.store.get_channel("C0002").paused_reason == "is_archived"
    assert bot.store.get_channel("C0003").paused_reason == "channel_not_found"
    assert summary.errors.keys() == {"C0002", "C0003"}
    # Paused channels are not retried; the next day they stay quiet.
    bot.services.runner.run_due(FRIDAY_0900 + timedelta(days=3))
    assert digest_posts(fake_slack, "C0002") == [] and digest_posts(fake_slack, "C0003") == []
    assert "archived" in bot.command("status", channel="C0002").text


def test_rate_limited_post_is_retried_after_retry_after_and_posted_once(
    bot: RunningBot, clock: Clock, fake_hf: FakeHF, fake_slack: FakeSlack
) -> None:
    fake_hf.days[THURSDAY] = make_day(THURSDAY, 2)
    subscribe(bot, clock, "C0001")
    fake_slack.fail("chat.postMessage", "ratelimited", status=429, retry_after=1, channel="C0001")
    bot.services.runner.run_due(FRIDAY_0900)
    attempts = [c for c in fake_slack.calls("chat.postMessage", "C0001") if c.args.get("blocks")]
    assert [c.ok for c in attempts] == [False, True]
    assert len(digest_posts(fake_slack, "C0001")) == 1


def test_hugging_face_outage_retries_later_the_same_day(
    bot: RunningBot, clock: Clock, fake_hf: FakeHF, fake_slack: FakeSlack
) -> None:
    fake_hf.days[THURSDAY] = make_day(THURSDAY, 2)
    subscribe(bot, clock, "C0001")
    fake_hf.fail("/api/daily_papers", status=503, times=4)  # every retry of one run
    summary = bot.services.runner.run_due(FRIDAY_0900)
    assert not summary.ok and digest_posts(fake_slack, "C0001") == []
    assert bot.store.get_run("C0001", date(2026, 8, 21)) is None  # nothing claimed: still owed
    bot.services.runner.run_due(FRIDAY_0900 + timedelta(minutes=30))
    assert len(digest_posts(fake_slack, "C0001")) == 1


def test_empty_weekday_list_waits_instead_of_posting_nothing_for_the_day(
    bot: RunningBot, clock: Clock, fake_hf: FakeHF, fake_slack: FakeSlack
) -> None:
    subscribe(bot, clock, "C0001")
    bot.store.update_channel("C0001", lambda c: c.replace(last_day=date(2026, 8, 19)))
    summary = bot.services.runner.run_due(FRIDAY_0900)
    assert summary.outcomes == {"C0001": "waiting"}
    fake_hf.days[THURSDAY] = make_day(THURSDAY, 2)
    bot.services.runner.run_due(FRIDAY_0900 + timedelta(minutes=45))
    assert len(digest_posts(fake_slack, "C0001")) == 1


def test_a_huge_day_is_split_into_valid_messages(
    bot: RunningBot, clock: Clock, fake_hf: FakeHF, fake_slack: FakeSlack
) -> None:
    entries = [
        make_entry(
            f"2608.{i:05d}",
            "T" * 2000,
            upvotes=100 - i,
            day=THURSDAY,
            authors=tuple(f"Author {n}" for n in range(600)),
            abstract="A long abstract. " * 800,
        )
        for i in range(1, 31)
    ]
    fake_hf.days[THURSDAY] = entries
    subscribe(bot, clock, "C0001")
    bot.store.update_channel("C0001", lambda c: c.replace(max_papers=30))
    bot.services.runner.run_due(FRIDAY_0900)
    posts = digest_posts(fake_slack, "C0001")
    assert len(posts) >= 2  # split, not rejected (the fake validates every limit)
    shown = "".join(texts_of(p.args) for p in posts)
    assert all(f"papers/2608.{i:05d}" in shown for i in range(1, 31))
