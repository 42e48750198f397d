"""Per-channel filters configured over signed HTTP change what the next post contains."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.config import Settings
from bot.services import build_services
from tests.conftest import Clock, RunningBot, texts_of
from tests.fakes import FakeHF, FakeSlack, block_actions_payload, interactive_body, make_entry

THURSDAY = "2026-08-20"
FRIDAY_0900 = datetime(2026, 8, 21, 9, 0, tzinfo=UTC)


@pytest.fixture
def thursday(fake_hf: FakeHF) -> None:
    fake_hf.days[THURSDAY] = [
        make_entry("2608.00001", "Model Merging Without Training", upvotes=50, day=THURSDAY),
        make_entry(
            "2608.00002",
            "A Survey of Speech Recognition",
            upvotes=40,
            day=THURSDAY,
            abstract="We review automatic speech recognition systems.",
        ),
        make_entry(
            "2608.00003",
            "Scaling Agents",
            upvotes=30,
            day=THURSDAY,
            abstract="We train a large language model to use tools.",
        ),
        make_entry("2608.00004", "Medical Image Segmentation", upvotes=20, day=THURSDAY),
    ]


def subscribe_yesterday(bot: RunningBot, clock: Clock, channel: str = "C0001") -> None:
    saved = clock()
    clock.set(saved - timedelta(days=1))
    bot.command("subscribe 09:00 UTC mon-sun", channel=channel)
    clock.set(saved)


def digest(fake: FakeSlack, channel: str) -> str:
    [post] = [c for c in fake.posts(channel) if c.args.get("blocks")]
    return texts_of(post.args)


@pytest.mark.usefixtures("thursday")
def test_two_channels_each_get_only_their_topics_and_every_paper_says_why(
    bot: RunningBot, clock: Clock, fake_slack: FakeSlack
) -> None:
    subscribe_yesterday(bot, clock, "C0LLM")
    subscribe_yesterday(bot, clock, "C0SPEECH")
    reply = bot.command("follow LLM, model merging", channel="C0LLM")
    assert "Topics (any of them):* `LLM`, `model merging`" in reply.text
    assert "ASR" not in reply.text
    bot.command("follow ASR", channel="C0SPEECH")

    assert bot.services.runner.run_due(FRIDAY_0900).ok

    llm = digest(fake_slack, "C0LLM")
    assert "Model Merging Without Training" in llm and "Scaling Agents" in llm
    assert "Speech Recognition" not in llm and "Medical" not in llm
    assert "model merging (title)" in llm  # why it matched, and where
    assert "LLM (abstract)" in llm  # the abbreviation matched its long form
    speech = digest(fake_slack, "C0SPEECH")
    assert "A Survey of Speech Recognition" in speech and "Model Merging" not in speech
    assert "ASR (title" in speech


@pytest.mark.usefixtures("thursday")
def test_exclude_and_set_max_papers_shape_the_next_post(bot: RunningBot, clock: Clock, fake_slack: FakeSlack) -> None:
    subscribe_yesterday(bot, clock)
    reply = bot.command("exclude survey, -medical")
    assert "*Excluded:* `survey`, `medical`" in reply.text
    reply = bot.command("set max-papers 1")
    assert "up to 1" in reply.text

    bot.services.runner.run_due(FRIDAY_0900)

    text = digest(fake_slack, "C0001")
    assert "Model Merging Without Training" in text
    assert "Survey" not in text and "Medical" not in text and "Scaling Agents" not in text


@pytest.mark.usefixtures("thursday")
def test_min_upvotes_and_include_undo(bot: RunningBot, clock: Clock, fake_slack: FakeSlack) -> None:
    subscribe_yesterday(bot, clock)
    bot.command("exclude survey")
    bot.command("include survey")
    assert "min-upvotes 35" in bot.command("set min-upvotes 35").text.replace("Set", "set")
    bot.services.runner.run_due(FRIDAY_0900)
    text = digest(fake_slack, "C0001")
    assert "Model Merging" in text and "A Survey of Speech Recognition" in text
    assert "Scaling Agents" not in text


def test_invalid_input_replies_with_what_was_wrong_and_an_example_and_changes_nothing(bot: RunningBot) -> None:
    bot.command("follow LLM")
    for text, expected, example in [
        ("set max-papers 10000", "from 1 to 50", "/papers set max-papers 5"),
        ("follow colour:blue", "Unknown filter `colour:`", "/papers follow model merging"),
        ("follow autor:LeCun", "Did you mean `author:`?", "/papers follow model merging"),
        ("unfollow robotics", "is not a topic here", "/papers unfollow LLM"),
        ("unfollow -medical", "is not an exclusion here", "/papers topics"),  # none: the filter to look at
        ("follow", "Name at least one topic", "/papers follow model merging"),
        ("preview 99", "1 to 14 days", "/papers preview 7"),
        ("follow min-upvotes:500000", "from 0 to 100000", "/papers follow min-upvotes:10"),  # the one cap
        ("set min-upvotes 100001", "from 0 to 100000", "/papers set min-upvotes 10"),
        ("set max-paper 5", "Did you mean `max-papers`?", "/papers set max-papers 5"),
        ('exclude "survey', "Unclosed quote", "/papers exclude medical, survey"),
    ]:
        reply = bot.command(text)
        assert expected in reply.text, (text, reply.text)
        assert f"Example: `{example}" in reply.text, (text, reply.text)  # a command to run as it stands
    config = bot.store.get_channel("C0001")
    assert config is not None and config.filter_text == "LLM" and config.max_papers == 10
    assert config.min_upvotes == 0


def test_unfollow_and_include_take_lists_and_say_what_was_not_there(bot: RunningBot) -> None:
    bot.command("follow LLM, speech, robotics, org:nvidia")
    bot.command("exclude survey, medical")

    reply = bot.command("unfollow speech, robotics, vision, org:nvidia")
    assert 'Unfollowed "speech", "robotics"; removed org:"nvidia" (not in the filter: "vision")' in reply.text
    reply = bot.command("include survey, medical, robotics")
    assert 'Included "survey", "medical" again (not excluded: "robotics")' in reply.text
    assert bot.store.get_channel("C0001").filter_text == "LLM"  # type: ignore[union-attr]

    refused = bot.command("unfollow vision, audio")
    assert "None of these is in this channel's filter, so nothing changed" in refused.text
    assert "Example: `/papers topics`" in refused.text
    assert "(not in the filter" in bot.command("topics").text  # the history says it too


def test_topics_lists_the_filter_with_who_changed_it(bot: RunningBot) -> None:
    bot.command("follow robotics, org:nvidia", user="U0AAA")
    bot.command("exclude medical", user="U0BBB")
    text = bot.command("topics", user="U0CCC").text
    assert "`robotics`" in text and "`nvidia`" in text and "`medical`" in text
    assert text.index("<@U0BBB> excluded") < text.index("<@U0AAA> followed")  # newest first


def test_clear_asks_first_then_clears_on_confirm(bot: RunningBot, fake_slack: FakeSlack) -> None:
    bot.command("follow LLM, min-upvotes:5")
    question = bot.command("clear")
    assert "Clear this channel's whole filter?" in question.text
    buttons = question.reply["blocks"][1]["elements"]  # type: ignore[index]
    assert [b["action_id"] for b in buttons] == ["papers_clear_confirm", "papers_clear_cancel"]
    assert bot.store.get_channel("C0001").filter_text == "LLM"  # type: ignore[union-attr]

    cancel_url = fake_slack.response_url("cancel")
    bot.post(interactive_body(block_actions_payload("papers_clear_cancel", "-", response_url=cancel_url)))
    [kept] = fake_slack.wait_for_responses(1, name="cancel")
    assert kept["replace_original"] is True and "nothing changed" in kept["text"]
    assert bot.store.get_channel("C0001").filter_text == "LLM"  # type: ignore[union-attr]

    confirm_url = fake_slack.response_url("confirm")
    response = bot.post(
        interactive_body(block_actions_payload("papers_clear_confirm", "C0001", response_url=confirm_url))
    )
    assert response.status_code == 200
    [done] = fake_slack.wait_for_responses(1, name="confirm")
    assert "Cleared the filter" in done["text"] and "none, so the top papers" in done["text"]
    config = bot.store.get_channel("C0001")
    assert config is not None and config.filter_text == "" and config.min_upvotes == 0
    assert config.history[-1].summary == "cleared the filter"


@pytest.mark.usefixtures("thursday")
def test_preview_shows_what_the_filter_would_have_posted_and_what_it_dropped(
    bot: RunningBot, clock: Clock, fake_hf: FakeHF
) -> None:
    clock.set(FRIDAY_0900)
    fake_hf.days["2026-08-19"] = [make_entry("2608.00009", "LLM Reasoning Traces", upvotes=9, day="2026-08-19")]
    bot.command("follow LLM")
    reply = bot.command("preview 3")
    text = reply.text
    assert "Only you can see this preview" in text
    assert "would have posted *2* papers; the filter dropped 3" in text
    assert "Scaling Agents" in text and "LLM Reasoning Traces" in text and "Medical" not in text
    assert "Thu 20 Aug 2026*: 1 posted, 3 dropped" in text
    assert fake_hf.count("/api/daily_papers") == 3  # the three days, each fetched once
    assert reply.reply["response_type"] == "ephemeral"  # type: ignore[index]


HF_HANGS = 6.0  # how long the fake Hugging Face holds each day list in the tests below


def _hugging_face_hangs(bot: RunningBot, fake_hf: FakeHF) -> None:
    """From now on every day list takes ``HF_HANGS`` seconds, and an answer may wait 0.5 s for it."""
    bot.services.feed.clear()  # not answered from the minutes-long cache of the earlier fetch
    fake_hf.delay("/api/daily_papers", HF_HANGS)
    bot.services.answer_seconds = 0.5


@pytest.mark.usefixtures("thursday")
def test_preview_while_hugging_face_hangs_answers_at_the_deadline_from_the_saved_lists(
    bot: RunningBot, clock: Clock, fake_hf: FakeHF
) -> None:
    """It used to wait out every retry (46-180 s); now it answers by the deadline, with the lists the
    bot last fetched, and says that is what they are."""
    clock.set(FRIDAY_0900)
    fake_hf.days["2026-08-19"] = [make_entry("2608.00009", "LLM Reasoning Traces", upvotes=9, day="2026-08-19")]
    bot.command("follow LLM")
    fresh = bot.command("preview 3").text
    _hugging_face_hangs(bot, fake_hf)

    started = time.monotonic()
    reply = bot.command("preview 3")

    assert time.monotonic() - started < HF_HANGS  # answered while Hugging Face still held every request
    assert "would have posted *2* papers; the filter dropped 3" in reply.text
    assert "Scaling Agents" in reply.text and "LLM Reasoning Traces" in reply.text
    assert "Hugging Face isn't answering right now: 2 days' lists are the copy papers-bot last fetched" in reply.text
    assert "copy papers-bot last fetched" not in fresh


def test_today_while_hugging_face_hangs_shows_the_saved_list_and_says_so(
    bot: RunningBot, clock: Clock, fake_hf: FakeHF
) -> None:
    clock.set(FRIDAY_0900)
    fake_hf.days[THURSDAY] = [make_entry("2608.00001", "Model Merging Without Training", upvotes=50, day=THURSDAY)]
    assert "Model Merging" in bot.command("today").text
    _hugging_face_hangs(bot, fake_hf)

    started = time.monotonic()
    reply = bot.command("today")

    assert time.monotonic() - started < HF_HANGS
    assert "Model Merging Without Training" in reply.text
    assert "this day's list is the copy papers-bot last fetched" in reply.text


def test_today_while_hugging_face_hangs_with_nothing_saved_says_so_at_the_deadline(
    bot: RunningBot, clock: Clock, fake_hf: FakeHF
) -> None:
    clock.set(FRIDAY_0900)
    fake_hf.days[THURSDAY] = [make_entry("2608.00001", "Model Merging Without Training", upvotes=50, day=THURSDAY)]
    _hugging_face_hangs(bot, fake_hf)
    started = time.monotonic()
    reply = bot.command("today")
    assert time.monotonic() - started < HF_HANGS
    assert "Hugging Face isn't answering right now" in reply.text


def test_preview_when_hugging_face_is_down_says_so(bot: RunningBot, fake_hf: FakeHF) -> None:
    fake_hf.fail("/api/daily_papers", status=503, times=100)
    reply = bot.command("preview")
    assert "Hugging Face isn't answering" in reply.text


@pytest.fixture
def restricted_bot(settings: Settings, clock: Clock, fake_slack: FakeSlack) -> Iterator[RunningBot]:
    settings = dataclasses.replace(settings, config_admins=("U0BOSS", "admins"))
    fake_slack.admins.add("U0ADMIN")
    services = build_services(settings, clock=clock, hf_sleep=lambda _s: None)
    running = RunningBot(services, fake_slack)
    yield running
    running.close()


def test_config_admins_limit_who_may_change_the_filter(restricted_bot: RunningBot, fake_slack: FakeSlack) -> None:
    refused = restricted_bot.command("follow robotics", user="U0MEMBER")
    assert "nothing was changed" in refused.text and "<@U0BOSS>" in refused.text
    assert restricted_bot.store.get_channel("C0001") is None
    assert "robotics" not in restricted_bot.command("topics", user="U0MEMBER").text  # reading is for everyone

    assert "`robotics`" in restricted_bot.command("follow robotics", user="U0BOSS").text
    assert "`speech`" in restricted_bot.command("follow speech", user="U0ADMIN").text  # a workspace admin
    assert len(fake_slack.calls("users.info")) == 2  # U0MEMBER and U0ADMIN looked up once each
    restricted_bot.command("exclude survey", user="U0ADMIN")
    assert len(fake_slack.calls("users.info")) == 2  # remembered

    refused = restricted_bot.command("clear", user="U0MEMBER")
    assert "nothing was changed" in refused.text
    config = restricted_bot.store.get_channel("C0001")
    assert config is not None and config.filter_text == "robotics, speech, -survey"


def test_config_admins_limit_who_may_subscribe_and_unsubscribe(
    restricted_bot: RunningBot, fake_slack: FakeSlack
) -> None:
    refused = restricted_bot.command("subscribe 08:30 Europe/Berlin", user="U0MEMBER")
    assert "nothing was changed" in refused.text and "<@U0BOSS>" in refused.text
    assert restricted_bot.store.get_channel("C0001") is None and fake_slack.posts("C0001") == []
    assert "nothing was changed" in restricted_bot.command("start", user="U0MEMBER").text
    assert restricted_bot.store.get_channel("C0001") is None

    assert "Subscribed" in restricted_bot.command("subscribe 08:30 Europe/Berlin", user="U0BOSS").text
    assert "nothing was changed" in restricted_bot.command("unsubscribe", user="U0MEMBER").text
    config = restricted_bot.store.get_channel("C0001")
    assert config is not None and config.subscribed and config.subscribed_by == "U0BOSS"

    assert "Unsubscribed" in restricted_bot.command("unsubscribe", user="U0ADMIN").text  # a workspace admin
    config = restricted_bot.store.get_channel("C0001")
    assert config is not None and not config.subscribed and config.timezone == "Europe/Berlin"
    assert [(h.user_id, h.summary) for h in config.history] == [
        ("U0BOSS", "subscribed: 08:30 Mon–Fri (Europe/Berlin)"),
        ("U0ADMIN", "unsubscribed"),
    ]
    topics = restricted_bot.command("topics", user="U0MEMBER").text
    assert topics.index("<@U0ADMIN> unsubscribed") < topics.index("<@U0BOSS> subscribed: 08:30 Mon–Fri")
