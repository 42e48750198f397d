"""Follow-ups in the thread, end to end: channels subscribed over signed HTTP, the daily post sent to the
fake Slack, a fake Hugging Face whose paper gains a repository and a model between two days, and the
daily check run at a controlled clock. What is checked is what a channel member would see (a reply in
the post's thread) and what the ledger holds."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.models import RunKind, RunState
from bot.posting.follow_ups import FollowUpSummary
from bot.services import Services, build_services
from tests.conftest import Clock, RunningBot, texts_of
from tests.fakes import FakeHF, FakeSlack, make_entry

THURSDAY = "2026-08-20"
FRIDAY_0900 = datetime(2026, 8, 21, 9, 0, tzinfo=UTC)
CHECK = timedelta(hours=5)  # the daily check runs at 14:00 UTC
GROWS, STAYS, HAD_CODE = "2608.00001", "2608.00002", "2608.00003"


@pytest.fixture
def posted(bot: RunningBot, clock: Clock, fake_hf: FakeHF, fake_slack: FakeSlack) -> dict[str, str]:
    """Thursday's list posted on Friday in C0001, C0002 (follow-ups on, the default) and C0003 (turned
    off with the command), and the papers' baselines taken right after; returns channel -> post ts."""
    fake_hf.clock = clock  # the fake's timed answers follow the app's clock
    fake_hf.days[THURSDAY] = [
        make_entry(GROWS, "Grows <!channel> & co", upvotes=90, day=THURSDAY, ai_keywords=["agents"]),
        make_entry(STAYS, "Stays the same", upvotes=50, day=THURSDAY),
        make_entry(HAD_CODE, "Had code", upvotes=10, day=THURSDAY, github_repo="https://github.com/o/had"),
    ]
    clock.set(FRIDAY_0900 - timedelta(days=1))
    for channel in ("C0001", "C0002", "C0003"):
        bot.command("subscribe 09:00 UTC daily", channel=channel)
    assert "Set follow-ups off." in bot.command("set follow-ups off", channel="C0003").text
    assert not bot.store.get_channel("C0003").follow_ups  # type: ignore[union-attr]
    clock.set(FRIDAY_0900)
    summary = bot.services.runner.run_due(FRIDAY_0900)
    assert summary.count("posted") == 3
    fake_hf.reset()
    checker = bot.services.follow_ups
    assert checker is not None
    assert checker.tick(FRIDAY_0900 + timedelta(minutes=1)) is None  # baselines only; 14:00 has not come
    assert fake_hf.count("/api/papers/") == 3  # one look per paper, three channels posted them
    return {c: bot.store.get_run(c, FRIDAY_0900.date()).ts[0] for c in ("C0001", "C0002", "C0003")}  # type: ignore[union-attr]


def check(bot: RunningBot | Services, clock: Clock, at: datetime, *, tick: bool = False) -> FollowUpSummary:
    """The daily check at ``at`` (the app's and the fake's clock both moved there first); ``tick``: as the
    scheduler's minute does it (only when due)."""
    clock.set(at)
    checker = (bot.services if isinstance(bot, RunningBot) else bot).follow_ups
    assert checker is not None
    summary = checker.tick() if tick else checker.run()
    assert summary is not None, "the check was not due"
    return summary


def grow(fake_hf: FakeHF, at: datetime) -> None:
    fake_hf.change_paper(
        GROWS, at, githubRepo="https://github.com/acme/grows", githubStars=120, numTotalModels=2, numTotalSpaces=1
    )


def test_a_paper_that_gains_code_and_a_model_gets_one_reply_in_each_posts_thread(
    bot: RunningBot, fake_hf: FakeHF, fake_slack: FakeSlack, posted: dict[str, str], clock: Clock
) -> None:
    checker = bot.services.follow_ups
    assert checker is not None
    friday = check(bot, clock, FRIDAY_0900 + CHECK)  # the first day: nothing new, nothing asked again
    assert (friday.replies, friday.looked_up, fake_hf.count("/api/papers/")) == (0, 0, 3)

    saturday = FRIDAY_0900 + timedelta(days=1)
    grow(fake_hf, saturday)  # between the two days
    fake_hf.reset()
    summary = check(bot, clock, saturday + CHECK)

    assert fake_hf.count("/api/papers/") == 3  # one request per paper, whatever the number of channels
    assert (summary.replies, summary.announced) == (2, 6)  # C0001 and C0002: code, models, Spaces
    for channel in ("C0001", "C0002"):
        [reply] = fake_slack.thread(channel, posted[channel])
        text = texts_of(reply)
        assert "Code released: <https://github.com/acme/grows|acme/grows> (★ 120)" in text
        assert "2 models" in text and "1 Space" in text and "dataset" not in text
        assert "Grows &lt;!channel&gt; &amp; co" in text and "<!channel>" not in text  # escaped, no ping
        assert "Stays the same" not in text and "Had code" not in text
        assert reply["metadata"]["event_type"] == "papers_bot_follow_up"
    assert fake_slack.thread("C0003", posted["C0003"]) == []  # turned off
    # Nothing reached the channels themselves: each reply is in its thread.
    assert all(c.args.get("thread_ts") for c in fake_slack.posts() if "Code released" in texts_of(c.args))
    for item in ("code", "models", "spaces"):
        entry = bot.store.get_entry("C0001", RunKind.FOLLOW_UP, f"{GROWS}/{item}")
        assert entry is not None and entry.state == RunState.POSTED and entry.team_id == "T0001"
    assert bot.store.get_entry("C0001", RunKind.FOLLOW_UP, f"{HAD_CODE}/code") is None  # it had code when posted


def test_a_second_run_and_a_restarted_bot_send_nothing_again(
    bot: RunningBot, fake_hf: FakeHF, fake_slack: FakeSlack, posted: dict[str, str], settings, clock: Clock
) -> None:
    checker = bot.services.follow_ups
    assert checker is not None
    saturday = FRIDAY_0900 + timedelta(days=1)
    grow(fake_hf, saturday)
    assert check(bot, clock, saturday + CHECK).replies == 2
    fake_hf.reset()

    again = check(bot, clock, saturday + CHECK + timedelta(hours=1))
    assert (again.replies, again.looked_up) == (0, 0) and fake_hf.count("/api/papers/") == 0

    bot.services.store.close()  # a restart: another process over the same files
    restarted = build_services(settings, clock=clock, hf_sleep=lambda _s: None)
    try:
        assert restarted.follow_ups is not None
        later = check(restarted, clock, saturday + CHECK + timedelta(hours=2))
        sunday = check(restarted, clock, saturday + timedelta(days=1) + CHECK)  # the next day: asked, nothing new
    finally:
        restarted.close()
    assert (later.replies, sunday.replies, sunday.looked_up) == (0, 0, 3)
    for channel in ("C0001", "C0002"):
        assert len(fake_slack.thread(channel, posted[channel])) == 1


def test_what_appears_later_is_told_later_and_only_what_is_new(
    bot: RunningBot, fake_hf: FakeHF, fake_slack: FakeSlack, posted: dict[str, str], clock: Clock
) -> None:
    checker = bot.services.follow_ups
    assert checker is not None
    saturday, sunday = FRIDAY_0900 + timedelta(days=1), FRIDAY_0900 + timedelta(days=2)
    grow(fake_hf, saturday)
    fake_hf.change_paper(STAYS, sunday, numTotalDatasets=1)
    fake_hf.change_paper(GROWS, sunday, numTotalModels=3)  # more models: not news, they were told

    check(bot, clock, saturday + CHECK)
    check(bot, clock, sunday + CHECK)

    first, second = fake_slack.thread("C0001", posted["C0001"])
    assert "Code released" in texts_of(first)
    text = texts_of(second)
    assert "Stays the same" in text and "New on Hugging Face: " in text and "1 dataset" in text
    assert "Grows" not in text


def test_nothing_after_the_fourteen_day_window(
    bot: RunningBot, fake_hf: FakeHF, fake_slack: FakeSlack, posted: dict[str, str], clock: Clock
) -> None:
    checker = bot.services.follow_ups
    assert checker is not None
    late = FRIDAY_0900 + timedelta(days=15)
    grow(fake_hf, late - timedelta(hours=1))
    fake_hf.reset()
    summary = check(bot, clock, late + CHECK)
    assert (summary.threads, summary.replies) == (0, 0)
    assert fake_hf.count("/api/papers/") == 0  # papers out of the window are not even asked about
    assert fake_slack.thread("C0001", posted["C0001"]) == []


def test_turned_off_means_no_reply_and_turned_on_again_brings_the_news(
    bot: RunningBot, fake_hf: FakeHF, fake_slack: FakeSlack, posted: dict[str, str], clock: Clock
) -> None:
    checker = bot.services.follow_ups
    assert checker is not None
    saturday = FRIDAY_0900 + timedelta(days=1)
    grow(fake_hf, saturday)
    bot.command("set follow-ups off", channel="C0001")
    assert check(bot, clock, saturday + CHECK).replies == 1  # C0002 only
    assert fake_slack.thread("C0001", posted["C0001"]) == []
    assert "Follow-ups:* off" in bot.command("status", channel="C0001").text

    bot.command("set follow-ups on", channel="C0003")
    summary = check(bot, clock, saturday + timedelta(days=1) + CHECK)
    assert summary.replies == 1 and len(fake_slack.thread("C0003", posted["C0003"])) == 1


def test_status_and_posted_search_still_name_the_digest_after_a_follow_up(
    bot: RunningBot, fake_hf: FakeHF, fake_slack: FakeSlack, posted: dict[str, str], clock: Clock
) -> None:
    checker = bot.services.follow_ups
    assert checker is not None
    saturday = FRIDAY_0900 + timedelta(days=1)
    grow(fake_hf, saturday)
    check(bot, clock, saturday + CHECK)
    clock.set(saturday + CHECK)
    assert "Last post:* Fri 21 Aug 2026, 3 papers" in bot.command("status", channel="C0001").text
    found = bot.command(f"search --posted {GROWS}", channel="C0001").text
    assert "posted Fri 21 Aug 2026" in found


def test_hugging_face_failing_sends_nothing_and_the_check_runs_again_later(
    bot: RunningBot, fake_hf: FakeHF, fake_slack: FakeSlack, posted: dict[str, str], clock: Clock
) -> None:
    checker = bot.services.follow_ups
    assert checker is not None
    saturday = FRIDAY_0900 + timedelta(days=1)
    grow(fake_hf, saturday)
    fake_hf.fail("/api/papers/", 429, times=1000, headers={"RateLimit": '"api";r=0;t=1'})
    failed = check(bot, clock, saturday + CHECK)
    assert failed.replies == 0 and failed.hf_failed == 3
    assert not checker.due(saturday + CHECK + timedelta(minutes=10))  # waits before trying again
    assert checker.due(saturday + CHECK + timedelta(minutes=31))
    fake_hf.reset()
    recovered = check(bot, clock, saturday + CHECK + timedelta(minutes=31), tick=True)
    assert recovered is not None and recovered.replies == 2
    assert not checker.due(saturday + CHECK + timedelta(hours=2))  # done for the day
    assert date(2026, 8, 22) == (saturday + CHECK).date()
