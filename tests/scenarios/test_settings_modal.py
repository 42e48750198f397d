"""``/papers settings`` over signed HTTP: the modal opens prefilled, bad submits save nothing, good ones save all."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from bot.config import Settings
from bot.services import build_services
from bot.ui.settings_form import (
    BLOCK_EXCLUDED,
    BLOCK_MAX_PAPERS,
    BLOCK_MIN_UPVOTES,
    BLOCK_POST_FORMAT,
    BLOCK_POST_TIME,
    BLOCK_TIMEZONE,
    BLOCK_TOPICS,
    BLOCK_WEEKDAYS,
    CALLBACK_ID,
    UNREADABLE_ANSWER,
)
from tests.conftest import Clock, RunningBot, texts_of
from tests.fakes import FakeHF, FakeSlack, interactive_body, make_entry, view_state_values, view_submission_payload

THURSDAY = "2026-08-20"
FRIDAY_0900 = datetime(2026, 8, 21, 9, 0, tzinfo=UTC)


@pytest.fixture
def thursday(fake_hf: FakeHF) -> None:
    fake_hf.days[THURSDAY] = [
        make_entry("2608.00001", "Model Merging Without Training", upvotes=50, day=THURSDAY),
        make_entry("2608.00002", "A Survey of Model Merging", upvotes=45, day=THURSDAY),
        make_entry("2608.00003", "Scaling Robot Policies", upvotes=40, day=THURSDAY),
        make_entry("2608.00004", "Low-Vote Model Merging", upvotes=2, day=THURSDAY),
    ]


def open_modal(bot: RunningBot, fake_slack: FakeSlack, *, user: str = "U0001") -> dict[str, Any]:
    """Send ``/papers settings`` and return the view the bot opened."""
    before = len(fake_slack.calls("views.open"))
    result = bot.command("settings", user=user, wait=False)
    assert result.status == 200
    calls = fake_slack.wait_for_calls("views.open", before + 1)
    call = calls[-1]
    assert call.ok and call.args["trigger_id"] == "123.456"  # the command's own trigger
    return call.args["view"]


def submit(bot: RunningBot, view: dict[str, Any], *, user: str = "U0001", **changes: Any) -> httpx.Response:
    """Submit ``view`` as Slack would, with ``changes`` typed into it (block id -> new value)."""
    payload = view_submission_payload(
        CALLBACK_ID, view_state_values(view, changes), private_metadata=view["private_metadata"], user_id=user
    )
    return bot.post(interactive_body(payload))


def inline_errors(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 200
    body = json.loads(response.text)
    assert body["response_action"] == "errors"
    return body["errors"]


def field(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    return next(b for b in view["blocks"] if b.get("block_id") == block_id)["element"]


def subscribe_yesterday(bot: RunningBot, clock: Clock) -> None:
    saved = clock()
    clock.set(saved - timedelta(days=1))
    bot.command("subscribe 09:00 UTC mon-sun")
    clock.set(saved)


def test_settings_opens_a_modal_prefilled_with_the_channel_configuration(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    bot.command("subscribe 08:30 Europe/Berlin mon-fri")
    bot.command('follow model merging, "process reward"')
    bot.command("exclude medical")
    bot.command("set max-papers 4")

    replies_before = len(fake_slack.responses())
    view = open_modal(bot, fake_slack)

    assert view["type"] == "modal" and view["callback_id"] == CALLBACK_ID
    assert json.loads(view["private_metadata"]) == {"channel_id": "C0001"}
    assert field(view, BLOCK_TOPICS)["initial_value"] == "model merging, process reward"
    assert field(view, BLOCK_EXCLUDED)["initial_value"] == "medical"
    assert field(view, BLOCK_POST_TIME)["initial_time"] == "08:30"
    assert field(view, BLOCK_TIMEZONE)["initial_value"] == "Europe/Berlin"
    assert [o["value"] for o in field(view, BLOCK_WEEKDAYS)["initial_options"]] == ["0", "1", "2", "3", "4"]
    assert field(view, BLOCK_MAX_PAPERS)["initial_value"] == "4"
    assert "<#C0001>" in texts_of({"blocks": view["blocks"]})
    bot.command("status")
    assert len(fake_slack.responses()) == replies_before + 1  # only status answered: the modal was the answer
    # the fake_slack fixture asserts at teardown that the view passed Block Kit validation


def test_invalid_submit_shows_errors_inline_and_saves_nothing(bot: RunningBot, fake_slack: FakeSlack) -> None:
    bot.command("subscribe 08:30 Europe/Berlin mon-fri")
    bot.command("follow model merging")
    view = open_modal(bot, fake_slack)
    before = bot.store.get_channel("C0001")

    response = submit(
        bot,
        view,
        **{
            BLOCK_TOPICS: "robotics, org:nvidia",  # a qualifier in the topics field
            BLOCK_TIMEZONE: "Mars/Olympus",
            BLOCK_MAX_PAPERS: "80",
            BLOCK_POST_FORMAT: "compact",  # valid, but must not be saved alone
        },
    )

    errors = inline_errors(response)
    assert set(errors) == {BLOCK_TOPICS, BLOCK_TIMEZONE, BLOCK_MAX_PAPERS}
    assert "org:nvidia" in errors[BLOCK_TOPICS]
    assert '"Mars/Olympus" is not a time zone' in errors[BLOCK_TIMEZONE]
    assert "1 to 50" in errors[BLOCK_MAX_PAPERS]
    assert bot.store.get_channel("C0001") == before
    assert fake_slack.calls("chat.postEphemeral") == []


def test_a_submission_with_fields_of_the_wrong_type_saves_nothing_and_logs_one_line(
    bot: RunningBot, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    """What a client Slack is not would send: a number for the topics text, a bare string for the
    weekday options. Each is refused under its field, one log line names them, nothing is saved
    (read as empty, the topics used to be cleared), and no confirmation is sent."""
    bot.command("subscribe 08:30 Europe/Berlin mon-fri")
    bot.command("follow model merging")
    view = open_modal(bot, fake_slack)
    before = bot.store.get_channel("C0001")
    values = view_state_values(view)
    (topics_action,) = values[BLOCK_TOPICS]
    (days_action,) = values[BLOCK_WEEKDAYS]
    values[BLOCK_TOPICS][topics_action]["value"] = 42
    values[BLOCK_WEEKDAYS][days_action]["selected_options"] = "mon"
    payload = view_submission_payload(CALLBACK_ID, values, private_metadata=view["private_metadata"], user_id="U0001")

    with caplog.at_level("INFO", logger="handlers.settings"):
        errors = inline_errors(bot.post(interactive_body(payload)))

    assert errors == {BLOCK_TOPICS: UNREADABLE_ANSWER, BLOCK_WEEKDAYS: UNREADABLE_ANSWER}
    assert bot.store.get_channel("C0001") == before
    lines = [r.getMessage() for r in caplog.records if r.name == "handlers.settings"]
    assert lines == [f"refused a settings form with unreadable fields: {', '.join(sorted(errors))}"]
    assert fake_slack.calls("chat.postEphemeral") == []


def test_a_submission_whose_state_is_not_an_object_gets_an_error_not_a_500(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    bot.command("subscribe")
    view = open_modal(bot, fake_slack)
    before = bot.store.get_channel("C0001")
    payload = view_submission_payload(CALLBACK_ID, {}, private_metadata=view["private_metadata"], user_id="U0001")
    payload["view"]["state"] = "broken"
    errors = inline_errors(bot.post(interactive_body(payload)))
    assert "nothing was saved" in next(iter(errors.values()))
    assert bot.store.get_channel("C0001") == before


@pytest.mark.usefixtures("thursday")
def test_valid_submit_saves_everything_confirms_and_shapes_the_next_post(
    bot: RunningBot, clock: Clock, fake_slack: FakeSlack
) -> None:
    subscribe_yesterday(bot, clock)
    view = open_modal(bot, fake_slack)

    response = submit(
        bot,
        view,
        user="U0042",
        **{
            BLOCK_TOPICS: "model merging",
            BLOCK_EXCLUDED: "-survey",
            BLOCK_MIN_UPVOTES: "10",
            BLOCK_MAX_PAPERS: "5",
            BLOCK_POST_FORMAT: "compact",
        },
    )

    assert response.status_code == 200 and response.text in ("", "{}")  # closes the modal
    stored = bot.store.get_channel("C0001")
    assert stored is not None
    assert (stored.filter_text, stored.min_upvotes, stored.max_papers) == ("model merging, -survey", 10, 5)
    assert stored.post_format == "compact"
    assert stored.history[-1].user_id == "U0042"
    assert "topics" in stored.history[-1].summary and "papers per post" in stored.history[-1].summary
    [confirmation] = fake_slack.wait_for_calls("chat.postEphemeral")
    assert confirmation.args["channel"] == "C0001" and confirmation.args["user"] == "U0042"
    assert "Saved the settings" in confirmation.args["text"] and "model merging" in confirmation.args["text"]
    assert "*Minimum upvotes:* 10" in confirmation.args["text"]

    today = bot.command("today")
    assert "Model Merging Without Training" in today.text
    assert "Survey" not in today.text and "Robot" not in today.text and "Low-Vote" not in today.text

    assert bot.services.runner.run_due(FRIDAY_0900).ok
    [post] = [c for c in fake_slack.posts("C0001") if c.args.get("blocks")]
    text = texts_of(post.args)
    assert "Model Merging Without Training" in text and "Survey" not in text and "Low-Vote" not in text


def test_new_schedule_counts_from_the_save(bot: RunningBot, clock: Clock, fake_slack: FakeSlack) -> None:
    clock.set(datetime(2026, 8, 21, 8, 0, tzinfo=UTC))  # Friday, before the 09:00 post
    bot.command("subscribe 09:00 UTC mon-fri")
    view = open_modal(bot, fake_slack)

    submit(
        bot, view, **{BLOCK_POST_TIME: "07:30", BLOCK_TIMEZONE: " berlin", BLOCK_WEEKDAYS: ["0", "4"]}
    )  # a city will do

    stored = bot.store.get_channel("C0001")
    assert (stored.post_time, stored.timezone, stored.weekdays) == ("07:30", "Europe/Berlin", (0, 4))
    [confirmation] = fake_slack.wait_for_calls("chat.postEphemeral")
    # 07:30 Berlin (05:30 UTC) already passed today: the first post is next Monday, not right now.
    assert "Next post:* Mon 24 Aug, 07:30 CEST" in confirmation.args["text"]
    assert "07:30 Mon, Fri (Europe/Berlin)" in bot.command("status").text


def test_confirmation_falls_back_to_a_dm_where_the_bot_cannot_post(bot: RunningBot, fake_slack: FakeSlack) -> None:
    view = open_modal(bot, fake_slack)
    fake_slack.fail("chat.postEphemeral", "channel_not_found")

    assert submit(bot, view, **{BLOCK_TOPICS: "robotics"}).status_code == 200

    [dm] = fake_slack.wait_for_calls("chat.postMessage")
    assert dm.args["channel"] == "U0001" and "robotics" in dm.args["text"]
    assert bot.store.get_channel("C0001").filter_text == "robotics"


@pytest.fixture
def restricted_bot(settings: Settings, clock: Clock, fake_slack: FakeSlack) -> Iterator[RunningBot]:
    settings = dataclasses.replace(settings, config_admins=("U0BOSS",))
    services = build_services(settings, clock=clock, hf_sleep=lambda _s: None)
    running = RunningBot(services, fake_slack)
    yield running
    running.close()


def test_only_people_allowed_to_configure_may_open_or_submit(restricted_bot: RunningBot, fake_slack: FakeSlack) -> None:
    refused = restricted_bot.command("settings", user="U0MEMBER")
    assert "<@U0BOSS>" in refused.text and "nothing was changed" in refused.text
    assert fake_slack.calls("views.open") == []

    view = open_modal(restricted_bot, fake_slack, user="U0BOSS")
    errors = inline_errors(submit(restricted_bot, view, user="U0MEMBER", **{BLOCK_TOPICS: "robotics"}))
    assert list(errors) == [BLOCK_TOPICS] and "Only @U0BOSS can change" in errors[BLOCK_TOPICS]
    assert restricted_bot.store.get_channel("C0001") is None

    submit(restricted_bot, view, user="U0BOSS", **{BLOCK_TOPICS: "robotics"})
    assert restricted_bot.store.get_channel("C0001").filter_text == "robotics"


def test_submit_without_its_channel_saves_nothing(bot: RunningBot, fake_slack: FakeSlack) -> None:
    view = {**open_modal(bot, fake_slack), "private_metadata": ""}
    errors = inline_errors(submit(bot, view, **{BLOCK_TOPICS: "robotics"}))
    assert "Run /papers settings again" in errors[BLOCK_TOPICS]
    assert bot.store.get_channel("C0001") is None


def test_slack_refusing_the_modal_is_explained(bot: RunningBot, fake_slack: FakeSlack) -> None:
    fake_slack.fail("views.open", "expired_trigger_id")
    result = bot.command("settings")
    assert "expired_trigger_id" in result.text and "/papers settings" in result.text
