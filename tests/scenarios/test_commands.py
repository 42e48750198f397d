"""Signed ``/papers`` commands over real HTTP, answered through the response URL."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from bot.ui.commands import COMMANDS
from tests.conftest import Clock, RunningBot
from tests.fakes import FakeHF, FakeSlack, make_day, make_entry, slash_command_body


def test_subscribe_with_defaults_stores_the_channel_and_announces_it(bot: RunningBot, fake_slack: FakeSlack) -> None:
    result = bot.command("subscribe", channel="C0001", user="U0042")

    assert result.status == 200
    assert result.reply["response_type"] == "ephemeral"
    assert "Subscribed" in result.text and "09:00 Mon–Fri (UTC)" in result.text
    stored = bot.store.get_channel("C0001")
    assert stored is not None and stored.subscribed
    assert (stored.post_time, stored.timezone, stored.weekdays) == ("09:00", "UTC", (0, 1, 2, 3, 4))
    assert stored.subscribed_by == "U0042"
    announcement = fake_slack.posts("C0001")
    assert len(announcement) == 1 and "<@U0042> subscribed this channel" in announcement[0].args["text"]


def test_subscribe_with_schedule_and_status_shows_next_post_in_channel_zone(bot: RunningBot, clock: Clock) -> None:
    clock.set(datetime(2026, 8, 21, 10, 0, tzinfo=UTC))  # Friday 12:00 in Berlin
    bot.command("subscribe 08:30 Europe/Berlin mon-fri")

    status = bot.command("status")

    assert "08:30 Mon–Fri (Europe/Berlin)" in status.text
    assert "Next post:* Mon 24 Aug 2026, 08:30 CEST" in status.text
    stored = bot.store.get_channel("C0001")
    assert stored.timezone == "Europe/Berlin" and stored.post_time == "08:30"


def test_resubscribe_changes_only_what_is_given(bot: RunningBot) -> None:
    bot.command("subscribe 07:15 Asia/Kolkata daily")
    bot.command("subscribe 10:00")
    stored = bot.store.get_channel("C0001")
    assert (stored.post_time, stored.timezone, stored.weekdays) == ("10:00", "Asia/Kolkata", tuple(range(7)))


def test_a_time_zone_typed_as_a_city_or_in_lower_case_is_stored_by_its_iana_name(bot: RunningBot) -> None:
    bot.command("subscribe 08:30 berlin mon-fri")
    assert bot.store.get_channel("C0001").timezone == "Europe/Berlin"
    result = bot.command("subscribe america/new_york")
    assert "(America/New_York)" in result.text
    assert bot.store.get_channel("C0001").timezone == "America/New_York"
    typo = bot.command("subscribe Europe/Berln")
    assert "Did you mean Europe/Berlin" in typo.text
    assert bot.store.get_channel("C0001").timezone == "America/New_York"


def test_invalid_schedule_explains_and_stores_nothing(bot: RunningBot) -> None:
    for text, expected in [
        ("subscribe 25:00", "not a valid time"),
        ("subscribe 09:00 Mars/Olympus", "not a time zone"),
        ("subscribe 09:00 UTC mon-funday", "not a weekday"),
    ]:
        result = bot.command(text)
        assert result.status == 200
        assert expected in result.text
        assert "Example: `/papers subscribe 08:30 Europe/Berlin mon-fri`" in result.text
    assert bot.store.get_channel("C0001") is None


def test_unsubscribe_stops_posts_and_keeps_settings(bot: RunningBot) -> None:
    bot.command("subscribe 08:00 Europe/Paris")
    result = bot.command("unsubscribe")
    assert "Unsubscribed" in result.text
    stored = bot.store.get_channel("C0001")
    assert not stored.subscribed and stored.timezone == "Europe/Paris"
    assert "not subscribed" in bot.command("status").text
    assert "nothing to stop" in bot.command("unsubscribe").text


def test_help_lists_every_command_with_an_example(bot: RunningBot) -> None:
    text = bot.command("help").text
    for name in COMMANDS:
        assert f"• `/papers {name}" in text
    assert "Example: `/papers subscribe 08:30 Europe/Berlin mon-fri`" in text
    # every setting `set` knows
    assert "| format compact|full | related on|off | follow-ups on|off | recap &lt;day&gt; &lt;HH:MM&gt;|off`" in text
    assert bot.command("").text == text  # bare /papers shows help too
    assert bot.command("help follow").text == text  # help about a command is help, not a search


def test_a_no_argument_command_followed_by_words_searches_and_changes_nothing(
    bot: RunningBot, fake_hf: FakeHF, fake_slack: FakeSlack
) -> None:
    bot.command("subscribe")
    fake_hf.extra_papers = [make_entry("2608.00077", "Stop words in transformers, revisited", upvotes=7)]

    result = bot.command("stop words in transformers")

    assert "Stop words in transformers, revisited" in result.text and "Unsubscribed" not in result.text
    search = [r for r in fake_hf.requests if r.path == "/api/papers/search"]
    assert [r.params["q"] for r in search] == ["stop words in transformers"]
    stored = bot.store.get_channel("C0001")
    assert stored is not None and stored.subscribed
    assert [h.summary for h in stored.history] == ["subscribed: 09:00 Mon–Fri (UTC)"]
    assert "Did you mean `/papers status`?" in bot.command("status of stop words").text  # a hint, still a search
    assert bot.store.get_channel("C0001").subscribed  # type: ignore[union-attr]


def test_start_and_stop_alone_still_subscribe_and_unsubscribe(bot: RunningBot) -> None:
    assert "Subscribed" in bot.command("start").text
    assert bot.store.get_channel("C0001").subscribed  # type: ignore[union-attr]
    assert "Unsubscribed" in bot.command("stop").text
    assert not bot.store.get_channel("C0001").subscribed  # type: ignore[union-attr]


def test_typo_gets_a_suggestion_not_silence(bot: RunningBot) -> None:
    result = bot.command("subscibe 09:00")
    assert result.status == 200
    assert "Did you mean `/papers subscribe`?" in result.text
    assert bot.store.get_channel("C0001") is None


def test_hostile_command_text_is_escaped_in_the_reply(bot: RunningBot) -> None:
    result = bot.command("<!channel> <@U999> <https://evil.example|click>")
    assert "<!channel>" not in result.text and "<@U999>" not in result.text
    assert "&lt;!channel&gt;" in result.text


def test_today_previews_privately_in_upvote_order(bot: RunningBot, fake_hf: FakeHF, fake_slack: FakeSlack) -> None:
    fake_hf.days["2026-08-20"] = [
        make_entry("2608.00001", "Low votes", upvotes=3, day="2026-08-20"),
        make_entry("2608.00002", "High votes", upvotes=90, day="2026-08-20"),
    ]
    result = bot.command("today")
    assert result.reply["response_type"] == "ephemeral"
    assert result.text.index("High votes") < result.text.index("Low votes")
    assert "Only you can see this" in result.text
    assert fake_slack.posts() == []  # nothing visible in the channel


def test_private_channel_without_the_bot_is_told_how_to_invite_it(bot: RunningBot, fake_slack: FakeSlack) -> None:
    fake_slack.not_member_channels.add("G0PRIVATE")
    result = bot.command("subscribe", channel="G0PRIVATE")
    assert "/invite @papers-bot" in result.text
    assert bot.store.get_channel("G0PRIVATE").paused_reason == "not_in_channel"
    assert "Paused" in bot.command("status", channel="G0PRIVATE").text


def test_unsigned_wrong_or_stale_requests_get_401_and_change_nothing(bot: RunningBot) -> None:
    body = slash_command_body("subscribe", channel_id="C0009")
    assert bot.post(body, secret="wrong-secret").status_code == 401
    assert bot.post(body, timestamp=int(time.time()) - 600).status_code == 401
    assert bot.http.post("/slack/events", content=body.encode()).status_code == 401
    assert bot.store.get_channel("C0009") is None


def test_healthz_and_unknown_paths(bot: RunningBot) -> None:
    assert bot.http.get("/healthz").status_code == 200
    assert bot.http.get("/nope").status_code == 404


def test_many_papers_in_today_stay_within_limits(bot: RunningBot, fake_hf: FakeHF) -> None:
    fake_hf.days["2026-08-20"] = make_day("2026-08-20", 60)
    result = bot.command("today")
    assert result.status == 200 and "Advances in" in result.text
