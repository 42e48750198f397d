"""The weekly recap end to end (issue 16): opted in per channel with ``/papers set recap``, posted once
per ISO week at the channel's local time with team signals first, its chart uploaded into the thread
through ``files_upload_v2`` (the bytes checked at the fake's upload URL), and without the chart, said
once, where uploads are disabled."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.models import PaperRef, RunKind, RunState, Signal, SignalKind
from tests.conftest import Clock, RunningBot, texts_of
from tests.fakes import FakeHF, FakeSlack, make_entry
from tests.test_cli import bot_env, run_bot

PNG = b"\x89PNG\r\n\x1a\n"
WEEK = "2026-W34"  # Mon 17 – Sun 23 Aug 2026
FRIDAY_0900 = datetime(2026, 8, 21, 9, 0, tzinfo=UTC)


def fill_week(fake_hf: FakeHF) -> None:
    fake_hf.days["2026-08-17"] = [
        make_entry("2608.10001", "Agents that plan", upvotes=90, day="2026-08-17"),
        make_entry("2608.10002", "A diffusion model for cats", upvotes=300, day="2026-08-17"),
    ]
    fake_hf.days["2026-08-19"] = [
        make_entry("2608.10003", "LLM agents with memory", upvotes=40, day="2026-08-19"),
        make_entry("2608.10004", "Agents that browse", upvotes=10, day="2026-08-19"),
    ]
    fake_hf.days["2026-08-10"] = [make_entry("2608.09999", "Agents from last week", upvotes=999, day="2026-08-10")]


def opt_in(bot: RunningBot, channel: str = "C0001", spec: str = "fri 16:00", zone: str = "") -> str:
    if zone:
        bot.command(f"subscribe {zone}", channel=channel)
    bot.command("follow agents", channel=channel)
    return bot.command(f"set recap {spec}", channel=channel).text


def signal(bot: RunningBot, key: str, user: str, channel: str = "C0001") -> None:
    bot.store.add_signal(Signal("T0001", channel, user, SignalKind.SAVE, PaperRef(key, "x"), FRIDAY_0900))


def recap_posts(fake_slack: FakeSlack, channel: str = "C0001") -> list:
    return [c for c in fake_slack.posts(channel) if "Weekly recap" in texts_of(c.args) and not c.args.get("thread_ts")]


def test_the_recap_posts_once_at_the_channels_time_signals_first_with_its_chart_in_the_thread(
    bot: RunningBot, fake_hf: FakeHF, fake_slack: FakeSlack
) -> None:
    fill_week(fake_hf)
    reply = opt_in(bot)
    assert "set recap Fri 16:00 (UTC)" in reply or "recap Fri 16:00" in reply
    signal(bot, "2608.10004", "U0002")
    signal(bot, "2608.10004", "U0003")
    signal(bot, "2608.10003", "U0002")
    recaps = bot.services.recaps
    assert recaps is not None

    assert recaps.run_due(datetime(2026, 8, 21, 15, 59, tzinfo=UTC)).outcomes == {}
    summary = recaps.run_due(datetime(2026, 8, 21, 16, 0, tzinfo=UTC))
    assert summary.outcomes == {"C0001": "posted"}, summary.errors

    [post] = recap_posts(fake_slack)
    text = texts_of(post.args)
    order = [t for t in ("Agents that browse", "LLM agents with memory", "Agents that plan") if t in text]
    assert sorted(order, key=text.index) == ["Agents that browse", "LLM agents with memory", "Agents that plan"]
    assert "👥 2 here" in text and "cats" not in text and "last week" not in text  # the filter, this week only
    assert "Mon 17 – Sun 23 Aug 2026" in text
    week_requests = [r for r in fake_hf.requests if r.params.get("week")]
    assert [r.params["week"] for r in week_requests] == [WEEK]

    [chart] = fake_slack.files("C0001")
    assert chart["data"].startswith(PNG) and chart["filename"] == f"recap-{WEEK}.png"
    ts = next(ts for (c, ts), m in fake_slack._messages.items() if m.get("text") == post.args["text"])
    assert chart["thread_ts"] == ts
    assert "Agents that browse: 10 upvotes, signalled by 2 people here" in chart["alt_txt"]
    [complete] = fake_slack.calls("files.completeUploadExternal")
    assert complete.ok and json.loads(complete.args["files"])[0]["title"].startswith(f"Week {WEEK}")

    entry = bot.store.get_entry("C0001", RunKind.RECAP, WEEK)
    assert entry is not None and entry.state == RunState.POSTED and entry.ts == (ts,)
    assert entry.paper_keys == () and bot.store.posted_keys("C0001") == set()  # the daily post is unaffected
    for later in (datetime(2026, 8, 21, 16, 5, tzinfo=UTC), datetime(2026, 8, 23, 23, 0, tzinfo=UTC)):
        assert recaps.run_due(later).outcomes in ({}, {"C0001": "skipped"})
    assert len(recap_posts(fake_slack)) == 1 and len(fake_slack.files()) == 1


def test_the_slot_is_in_the_channels_time_zone_and_caught_up_within_the_week(
    bot: RunningBot, fake_hf: FakeHF, fake_slack: FakeSlack, clock: Clock
) -> None:
    fill_week(fake_hf)
    clock.set(datetime(2026, 8, 17, 9, 0, tzinfo=UTC))  # turned on Monday
    opt_in(bot, zone="Asia/Tokyo")  # Fri 16:00 in Tokyo is 07:00 UTC
    recaps = bot.services.recaps
    assert recaps is not None
    assert recaps.run_due(datetime(2026, 8, 21, 6, 59, tzinfo=UTC)).outcomes == {}
    # The bot was down from Friday 07:00 UTC until Sunday: the recap still goes out, once.
    assert recaps.run_due(datetime(2026, 8, 23, 10, 0, tzinfo=UTC)).outcomes == {"C0001": "posted"}
    # Monday in Tokyo: a new week whose slot has not come.
    assert recaps.run_due(datetime(2026, 8, 23, 16, 0, tzinfo=UTC)).outcomes == {}
    assert len(recap_posts(fake_slack)) == 1


def test_turned_on_after_this_weeks_slot_the_recap_starts_next_week(
    bot: RunningBot, fake_hf: FakeHF, fake_slack: FakeSlack, clock: Clock
) -> None:
    fill_week(fake_hf)
    clock.set(datetime(2026, 8, 21, 17, 0, tzinfo=UTC))
    opt_in(bot)
    recaps = bot.services.recaps
    assert recaps is not None
    assert recaps.run_due(datetime(2026, 8, 21, 17, 1, tzinfo=UTC)).outcomes == {}
    assert "off" in bot.command("set recap off").text.lower()
    assert bot.store.get_channel("C0001").recap_day is None
    assert "already off" in bot.command("set recap off").text
    assert "neither a weekday" in bot.command("set recap someday").text
    assert recap_posts(fake_slack) == []


def test_without_the_week_list_the_recap_uses_the_days_already_fetched(
    bot: RunningBot, fake_hf: FakeHF, fake_slack: FakeSlack
) -> None:
    fill_week(fake_hf)
    opt_in(bot)
    for day in ("2026-08-17", "2026-08-19"):  # the daily posts fetched these days (the archive keeps them)
        bot.services.feed.papers(datetime.fromisoformat(day).date())
    fake_hf.fail("/api/daily_papers", 503, times=50)
    recaps = bot.services.recaps
    assert recaps is not None
    assert recaps.run_due(datetime(2026, 8, 21, 16, 0, tzinfo=UTC)).outcomes == {"C0001": "posted"}
    text = texts_of(recap_posts(fake_slack)[0].args)
    assert "Agents that plan" in text and "Agents that browse" in text


def test_where_uploads_are_disabled_the_recap_goes_without_the_chart_and_says_so_once(
    bot: RunningBot, fake_hf: FakeHF, fake_slack: FakeSlack
) -> None:
    fill_week(fake_hf)
    fake_hf.days["2026-08-24"] = [make_entry("2608.20001", "Agents next week", upvotes=5, day="2026-08-24")]
    opt_in(bot)
    fake_slack.uploads_disabled = True
    recaps = bot.services.recaps
    assert recaps is not None
    assert recaps.run_due(datetime(2026, 8, 21, 16, 0, tzinfo=UTC)).outcomes == {"C0001": "posted"}
    assert recaps.run_due(datetime(2026, 8, 28, 16, 0, tzinfo=UTC)).outcomes == {"C0001": "posted"}
    assert len(recap_posts(fake_slack)) == 2 and fake_slack.files() == []
    notes = [c for c in fake_slack.posts("C0001") if c.args.get("thread_ts")]
    assert len(notes) == 1 and "file uploads are turned off in this workspace" in notes[0].args["text"]
    assert bot.store.get_channel("C0001").recap_notice == "file_uploads_disabled"


def test_post_now_recaps_a_given_week_once(tmp_path: Path, fake_slack: FakeSlack, fake_hf: FakeHF) -> None:
    from bot.store.tinydb_store import TinyStore

    fill_week(fake_hf)
    db = tmp_path / "db.json"
    with TinyStore(db) as store:
        store.update_channel("C0001", lambda c: c.replace(recap_day=4, recap_time="16:00", filter_text="agents"))
        store.update_channel("C0002", lambda c: c.replace(subscribed=True))  # no recap here
    env = bot_env(fake_slack, fake_hf, db)
    first = run_bot("post-now", "--kind", "recap", "--week", WEEK, env=env, cwd=tmp_path)
    again = run_bot("post-now", "--kind", "recap", "--week", WEEK, env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "C0001: posted" and "C0001: skipped" in again.stdout
    assert len(recap_posts(fake_slack)) == 1 and fake_slack.posts("C0002") == []
    assert fake_slack.files("C0001")[0]["data"].startswith(PNG)
    bad = run_bot("post-now", "--kind", "recap", "--week", "2026-W60", env=env, cwd=tmp_path)
    assert bad.returncode != 0 and "has no week 60" in bad.stderr
    mixed = run_bot("post-now", "--week", WEEK, env=env, cwd=tmp_path)
    assert mixed.returncode == 2 and "--kind recap" in mixed.stderr


def test_status_shows_the_recap_and_the_last_digest_not_the_recap(
    bot: RunningBot, fake_hf: FakeHF, fake_slack: FakeSlack, clock: Clock
) -> None:
    fill_week(fake_hf)
    clock.set(FRIDAY_0900 - timedelta(days=1))
    bot.command("subscribe 08:00")
    opt_in(bot)
    clock.set(FRIDAY_0900)
    recaps = bot.services.recaps
    assert recaps is not None
    recaps.run_due(datetime(2026, 8, 21, 16, 0, tzinfo=UTC))
    text = bot.command("status").text
    assert "Weekly recap:* Fri 16:00 (UTC)" in text


def test_the_settings_form_turns_the_recap_on_and_off(bot: RunningBot, fake_slack: FakeSlack) -> None:
    from bot.ui.settings_view import BLOCK_RECAP_DAY, BLOCK_RECAP_TIME
    from tests.scenarios.test_settings_modal import field, open_modal, submit

    view = open_modal(bot, fake_slack)
    assert field(view, BLOCK_RECAP_DAY)["initial_option"]["value"] == "off"
    assert submit(bot, view, **{BLOCK_RECAP_DAY: "2", BLOCK_RECAP_TIME: "17:30"}).status_code == 200
    bot.listener_pool.settle()
    config = bot.store.get_channel("C0001")
    assert (config.recap_day, config.recap_time) == (2, "17:30") and config.recap_since
    [told] = fake_slack.wait_for_calls("chat.postEphemeral")
    assert "*Weekly recap:* Wed 17:30 (UTC)" in told.args["text"]
    again = open_modal(bot, fake_slack)
    assert field(again, BLOCK_RECAP_DAY)["initial_option"]["value"] == "2"
    assert field(again, BLOCK_RECAP_TIME)["initial_time"] == "17:30"
    submit(bot, again, **{BLOCK_RECAP_DAY: "off"})
    bot.listener_pool.settle()
    assert bot.store.get_channel("C0001").recap_day is None


def test_a_recap_claim_a_dead_process_left_is_settled_from_history(
    bot: RunningBot, fake_hf: FakeHF, fake_slack: FakeSlack
) -> None:
    from bot.models import RunRecord
    from bot.posting.reconcile import digest_metadata

    fill_week(fake_hf)
    opt_in(bot)
    recaps = bot.services.recaps
    assert recaps is not None
    friday_1600 = datetime(2026, 8, 21, 16, 0, tzinfo=UTC)
    # Killed after the claim, before Slack was called: nothing in the channel.
    lost = RunRecord(
        "C0001", friday_1600.date(), RunState.CLAIMED, "dead-1", friday_1600, kind=RunKind.RECAP, period=WEEK
    )
    assert bot.store.claim_run(lost)
    assert recaps.run_due(friday_1600 + timedelta(minutes=1)).outcomes == {}  # within the lease: left alone
    assert recaps.run_due(friday_1600 + timedelta(minutes=5)).outcomes == {"C0001": "posted"}
    assert len(recap_posts(fake_slack)) == 1

    # Killed after Slack stored the recap, before it was recorded: found by its tag, never sent again.
    bot.command("set recap fri 16:00", channel="C0002")
    bot.store.update_channel("C0002", lambda c: c.replace(recap_since=""))
    ghost = RunRecord(
        "C0002", friday_1600.date(), RunState.CLAIMED, "dead-2", friday_1600, kind=RunKind.RECAP, period=WEEK
    )
    assert bot.store.claim_run(ghost)
    ts = bot.services.poster.post_message(
        "C0002", text="Weekly recap", metadata=digest_metadata("dead-2", ghost.local_date, [])
    )
    outcome = recaps.run_due(friday_1600 + timedelta(minutes=5)).outcomes
    assert outcome.get("C0002") == "skipped"
    entry = bot.store.get_entry("C0002", RunKind.RECAP, WEEK)
    assert entry is not None and entry.state == RunState.POSTED and entry.ts == (ts,)
    assert len(fake_slack.posts("C0002")) == 1


def test_a_connection_lost_after_slack_stored_the_recap_is_not_posted_again(
    bot: RunningBot, fake_hf: FakeHF, fake_slack: FakeSlack
) -> None:
    fill_week(fake_hf)
    opt_in(bot)
    recaps = bot.services.recaps
    assert recaps is not None
    fake_slack.fail("chat.postMessage", channel="C0001", drop_after_answer=True)
    friday_1600 = datetime(2026, 8, 21, 16, 0, tzinfo=UTC)
    assert recaps.run_due(friday_1600).outcomes == {"C0001": "posted"}
    assert recaps.run_due(friday_1600 + timedelta(minutes=10)).outcomes in ({}, {"C0001": "skipped"})
    assert len(recap_posts(fake_slack)) == 1
    entry = bot.store.get_entry("C0001", RunKind.RECAP, WEEK)
    assert entry is not None and entry.state == RunState.POSTED and entry.ts


def test_a_refused_recap_is_retried_later_and_posted_once(
    bot: RunningBot, fake_hf: FakeHF, fake_slack: FakeSlack
) -> None:
    fill_week(fake_hf)
    opt_in(bot)
    recaps = bot.services.recaps
    assert recaps is not None
    fake_slack.fail("chat.postMessage", "internal_error", status=500, channel="C0001", times=1)
    friday_1600 = datetime(2026, 8, 21, 16, 0, tzinfo=UTC)
    assert recaps.run_due(friday_1600).outcomes == {"C0001": "failed"}
    assert recaps.run_due(friday_1600 + timedelta(minutes=1)).outcomes == {}  # backing off
    assert recaps.run_due(friday_1600 + timedelta(minutes=6)).outcomes == {"C0001": "posted"}
    assert len(recap_posts(fake_slack)) == 1 and len(fake_slack.files()) == 1


def test_a_stopping_process_starts_no_recap_and_claims_nothing(
    bot: RunningBot, fake_hf: FakeHF, fake_slack: FakeSlack
) -> None:
    fill_week(fake_hf)
    opt_in(bot)
    recaps = bot.services.recaps
    assert recaps is not None
    recaps.stop()
    assert recaps.run_due(datetime(2026, 8, 21, 16, 0, tzinfo=UTC)).outcomes == {}
    assert bot.store.get_entry("C0001", RunKind.RECAP, WEEK) is None and recap_posts(fake_slack) == []
