"""The settings modal: prefilled from the stored config, and a submit either fully valid or fully refused."""

from __future__ import annotations

from typing import Any

import pytest

from bot.filters import parse_filter
from bot.filters.selection import channel_filter
from bot.models import ChannelConfig, FilterChange
from bot.ui.settings_form import (
    BLOCK_AUTHORS,
    BLOCK_EXCLUDED,
    BLOCK_FOLLOW_UPS,
    BLOCK_HAS_CODE,
    BLOCK_MAX_PAPERS,
    BLOCK_MIN_UPVOTES,
    BLOCK_ORGS,
    BLOCK_POST_FORMAT,
    BLOCK_POST_TIME,
    BLOCK_RELATED,
    BLOCK_TIMEZONE,
    BLOCK_TOPICS,
    BLOCK_WEEKDAYS,
    CALLBACK_ID,
    UNREADABLE_ANSWER,
    UNREADABLE_FORM,
    SettingsForm,
    channel_from_metadata,
    describe_changes,
    metadata_for,
    parse_submission,
    plain_message,
    settings_text,
    settings_view,
)
from tests.fakes import FakeSlack, view_state_values

NOW = "2026-08-21T09:00:00+00:00"
CONFIG = ChannelConfig(
    "C0001",
    subscribed=True,
    post_time="08:30",
    timezone="Europe/Berlin",
    weekdays=(0, 2, 4),
    max_papers=7,
    min_upvotes=5,
    filter_text='model merging, process reward, -medical, author:"Yann LeCun", org:nvidia, has:code',
    post_format="compact",
    active_since="2026-08-01T00:00:00+00:00",
    history=(FilterChange("U9", "2026-08-01T00:00:00+00:00", "followed model merging"),),
)


def element(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    return next(b for b in view["blocks"] if b.get("block_id") == block_id)["element"]


def submitted(view: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return view_state_values(view, changes)


def save(config: ChannelConfig, **changes: Any) -> ChannelConfig:
    form = parse_submission(submitted(settings_view(config), **changes))
    assert isinstance(form, SettingsForm), form
    return form.apply(config, now_iso=NOW)


# ---------------------------------------------------------------------------------------------------
# The modal


def test_view_is_prefilled_with_every_setting() -> None:
    view = settings_view(CONFIG)

    assert view["callback_id"] == CALLBACK_ID
    assert channel_from_metadata(view["private_metadata"]) == "C0001"
    assert element(view, BLOCK_TOPICS)["initial_value"] == "model merging, process reward"
    assert element(view, BLOCK_EXCLUDED)["initial_value"] == "medical"
    assert element(view, BLOCK_AUTHORS)["initial_value"] == "Yann LeCun"
    assert element(view, BLOCK_ORGS)["initial_value"] == "nvidia"
    assert element(view, BLOCK_MIN_UPVOTES)["initial_value"] == "5"
    assert [o["value"] for o in element(view, BLOCK_HAS_CODE)["initial_options"]] == ["code"]
    assert element(view, BLOCK_POST_TIME)["initial_time"] == "08:30"
    assert element(view, BLOCK_TIMEZONE)["initial_value"] == "Europe/Berlin"
    assert [o["value"] for o in element(view, BLOCK_WEEKDAYS)["initial_options"]] == ["0", "2", "4"]
    assert element(view, BLOCK_MAX_PAPERS)["initial_value"] == "7"
    assert element(view, BLOCK_POST_FORMAT)["initial_option"]["value"] == "compact"


def test_view_of_a_new_channel_has_defaults_and_passes_slack_validation() -> None:
    for config in (ChannelConfig("C0002"), CONFIG, ChannelConfig("C0003", weekdays=())):
        view = settings_view(config)
        problems, error = FakeSlack()._check_view(view)
        assert (problems, error) == ([], None)
    fresh = settings_view(ChannelConfig("C0002"))
    assert "initial_value" not in element(fresh, BLOCK_TOPICS)  # empty, showing the placeholder
    assert "initial_options" not in element(fresh, BLOCK_HAS_CODE)
    assert element(fresh, BLOCK_POST_TIME)["initial_time"] == "09:00"
    assert "not subscribed" in fresh["blocks"][0]["text"]["text"]


def test_quoted_terms_and_names_with_commas_survive_the_round_trip() -> None:
    config = ChannelConfig("C1", filter_text='"a, b", -"x, y", author:"Smith, J."')
    assert save(config).filter_text == config.filter_text


def test_unchanged_submit_keeps_the_configuration() -> None:
    saved = save(CONFIG)
    assert saved == CONFIG  # min-upvotes stays in ChannelConfig.min_upvotes, the schedule keeps active_since


# ---------------------------------------------------------------------------------------------------
# Valid submits


def test_valid_submit_becomes_the_canonical_filter_and_every_setting() -> None:
    saved = save(
        ChannelConfig("C1", subscribed=True),
        **{
            BLOCK_TOPICS: '  LLM agents,\n"reward, shaping"  ',
            BLOCK_EXCLUDED: "-medical, survey",
            BLOCK_AUTHORS: "Yann LeCun, Fei-Fei Li",
            BLOCK_ORGS: "nvidia",
            BLOCK_MIN_UPVOTES: "12",
            BLOCK_HAS_CODE: ["code"],
            BLOCK_POST_TIME: "07:45",
            BLOCK_TIMEZONE: " Asia/Kolkata ",
            BLOCK_WEEKDAYS: ["5", "6"],
            BLOCK_MAX_PAPERS: "3",
            BLOCK_POST_FORMAT: "compact",
        },
    )

    assert saved.filter_text == (
        'LLM agents, "reward, shaping", -medical, -survey, author:"Yann LeCun", author:"Fei-Fei Li", '
        "org:nvidia, has:code"
    )
    assert saved.min_upvotes == 12 and channel_filter(saved).min_upvotes == 12
    assert (saved.post_time, saved.timezone, saved.weekdays) == ("07:45", "Asia/Kolkata", (5, 6))
    assert (saved.max_papers, saved.post_format) == (3, "compact")
    assert saved.active_since == NOW  # a new schedule counts from the save, as /papers subscribe does


def test_emptied_filter_fields_clear_the_filter() -> None:
    saved = save(
        CONFIG,
        **{BLOCK_TOPICS: "", BLOCK_EXCLUDED: "", BLOCK_AUTHORS: "", BLOCK_ORGS: "", BLOCK_MIN_UPVOTES: None},
        **{BLOCK_HAS_CODE: []},
    )
    assert saved.filter_text == "" and saved.min_upvotes == 0


def test_utc_is_accepted_in_any_case() -> None:
    assert save(CONFIG, **{BLOCK_TIMEZONE: "utc"}).timezone == "UTC"


# ---------------------------------------------------------------------------------------------------
# Invalid submits


@pytest.mark.parametrize(
    ("block_id", "value", "expected"),
    [
        (BLOCK_TOPICS, "org:nvidia", "looks like a filter"),
        (BLOCK_TOPICS, '"unclosed', "Unclosed quote"),
        (BLOCK_TOPICS, ", ".join(f"topic {i}" for i in range(51)), "at most 50 topics"),
        (BLOCK_TOPICS, "x" * 101, "the limit is 100"),
        (BLOCK_EXCLUDED, "medical, org:nvidia", "org:nvidia is a qualifier"),
        (BLOCK_EXCLUDED, ", ".join(f"term {i}" for i in range(51)), "at most 50 exclusions"),
        (BLOCK_AUTHORS, ", ".join(f"Author {i}" for i in range(21)), "at most 20 authors"),
        (BLOCK_ORGS, '"nvidia', "Unclosed or misplaced quote"),
        (BLOCK_MIN_UPVOTES, "-3", "whole number from 0 to 100000"),
        (BLOCK_MIN_UPVOTES, "100001", "whole number from 0 to 100000"),
        (BLOCK_POST_TIME, None, "Pick the time"),
        (BLOCK_POST_TIME, "25:00", "not a valid time"),
        (BLOCK_TIMEZONE, "Mars/Olympus", '"Mars/Olympus" is not a time zone I know'),
        (BLOCK_TIMEZONE, "../etc/passwd", "not a time zone I know"),
        (BLOCK_WEEKDAYS, [], "Pick at least one day"),
        (BLOCK_MAX_PAPERS, "0", "from 1 to 50"),
        (BLOCK_MAX_PAPERS, "51", "from 1 to 50"),
        (BLOCK_MAX_PAPERS, "2.5", "from 1 to 50"),
        (BLOCK_POST_FORMAT, None, "full or compact"),
    ],
)
def test_each_invalid_field_gets_its_own_message(block_id: str, value: Any, expected: str) -> None:
    errors = parse_submission(submitted(settings_view(CONFIG), **{block_id: value}))
    assert isinstance(errors, dict)
    assert list(errors) == [block_id]
    assert expected in errors[block_id]


def test_all_bad_fields_are_reported_together() -> None:
    values = submitted(
        settings_view(CONFIG), **{BLOCK_TOPICS: "foo:bar", BLOCK_TIMEZONE: "Nowhere", BLOCK_MAX_PAPERS: "99"}
    )
    errors = parse_submission(values)
    assert isinstance(errors, dict) and set(errors) == {BLOCK_TOPICS, BLOCK_TIMEZONE, BLOCK_MAX_PAPERS}
    assert "Unknown" in errors[BLOCK_TOPICS] or "filter" in errors[BLOCK_TOPICS]


def _reshaped(values: dict[str, Any], block_id: str, key: str, wrong: Any) -> dict[str, Any]:
    """``values`` with one field's ``key`` replaced by a value of a type Slack never sends there."""
    (action_id,) = values[block_id]
    return {**values, block_id: {action_id: {**values[block_id][action_id], key: wrong}}}


@pytest.mark.parametrize(
    ("block_id", "key", "wrong"),
    [
        (BLOCK_TOPICS, "value", ["robotics"]),  # read as empty, this used to clear the topics
        (BLOCK_EXCLUDED, "value", {"medical": True}),
        (BLOCK_MIN_UPVOTES, "value", 7),  # used to be saved as 0
        (BLOCK_MAX_PAPERS, "value", 5),
        (BLOCK_TIMEZONE, "value", 1.5),
        (BLOCK_WEEKDAYS, "selected_options", "mon"),
        (BLOCK_WEEKDAYS, "selected_options", [{"value": 3}]),
        (BLOCK_HAS_CODE, "selected_options", {"value": "has_code"}),  # used to raise: a 500
        (BLOCK_POST_FORMAT, "selected_option", "compact"),
        (BLOCK_RELATED, "selected_options", 1),
    ],
)
def test_a_field_of_the_wrong_type_is_refused_under_that_field_not_saved_as_empty(
    block_id: str, key: str, wrong: Any
) -> None:
    values = submitted(settings_view(CONFIG))
    assert isinstance(parse_submission(values), SettingsForm)  # the untouched form is valid
    errors = parse_submission(_reshaped(values, block_id, key, wrong))
    assert errors == {block_id: UNREADABLE_ANSWER}


@pytest.mark.parametrize("values", ["text", ["a"], 3])
def test_a_form_whose_answers_are_not_an_object_is_refused_as_a_whole(values: Any) -> None:
    errors = parse_submission(values)
    assert isinstance(errors, dict) and list(errors.values()) == [UNREADABLE_FORM]


def test_a_field_that_is_not_an_object_is_refused() -> None:
    values = {**submitted(settings_view(CONFIG)), BLOCK_TOPICS: "robotics"}
    assert parse_submission(values) == {BLOCK_TOPICS: UNREADABLE_ANSWER}


def test_missing_blocks_are_errors_not_crashes() -> None:
    errors = parse_submission({})
    assert isinstance(errors, dict)
    assert {BLOCK_POST_TIME, BLOCK_TIMEZONE, BLOCK_WEEKDAYS, BLOCK_MAX_PAPERS, BLOCK_POST_FORMAT} <= set(errors)


# ---------------------------------------------------------------------------------------------------
# Telling the user


def test_settings_text_lists_the_result_and_escapes_user_text() -> None:
    config = save(ChannelConfig("C1"), **{BLOCK_TOPICS: "<!channel> tricks", BLOCK_MIN_UPVOTES: "4"})
    text = settings_text(config)
    assert "&lt;!channel&gt; tricks" in text and "<!channel>" not in text
    assert "09:00 Mon–Fri (UTC)" in text
    assert "*Minimum upvotes:* 4" in text
    assert "not subscribed yet" in text
    assert parse_filter(config.filter_text).topics == ("<!channel> tricks",)


def test_describe_changes_names_what_changed() -> None:
    changed = save(CONFIG, **{BLOCK_TOPICS: "robotics", BLOCK_MAX_PAPERS: "9"})
    assert describe_changes(CONFIG, changed) == "settings form: topics, papers per post"
    assert describe_changes(CONFIG, CONFIG) == "settings form: saved without changes"


def test_metadata_and_refusals_are_read_safely() -> None:
    assert channel_from_metadata(metadata_for("C42")) == "C42"
    assert channel_from_metadata("") == channel_from_metadata("not json") == channel_from_metadata("[1]") == ""
    refusal = ":lock: Only <@U1>, <@U2> can change papers-bot's settings here. See `/papers topics`."
    assert plain_message(refusal) == "Only @U1, @U2 can change papers-bot's settings here. See /papers topics."


def test_related_papers_checkbox_shows_the_setting_and_saving_it_off_is_described() -> None:
    view = settings_view(CONFIG)
    assert [o["value"] for o in element(view, BLOCK_RELATED)["initial_options"]] == ["related"]

    off = save(CONFIG, **{BLOCK_RELATED: []})
    assert not off.related and off.filter_text == CONFIG.filter_text
    assert "related papers" in describe_changes(CONFIG, off)
    assert "initial_options" not in element(settings_view(off), BLOCK_RELATED)
    assert save(off, **{BLOCK_RELATED: ["related"]}).related


def test_a_submission_without_the_related_field_keeps_the_setting() -> None:
    values = submitted(settings_view(CONFIG.replace(related=False)))
    values.pop(BLOCK_RELATED)
    form = parse_submission(values)
    assert isinstance(form, SettingsForm)
    assert form.apply(CONFIG.replace(related=False), now_iso=NOW).related is False


def test_follow_ups_checkbox_is_on_by_default_and_saving_it_off_is_described_and_confirmed() -> None:
    view = settings_view(CONFIG)
    assert [o["value"] for o in element(view, BLOCK_FOLLOW_UPS)["initial_options"]] == ["follow_ups"]
    assert "Follow-ups:* on" in settings_text(CONFIG)

    off = save(CONFIG, **{BLOCK_FOLLOW_UPS: []})
    assert not off.follow_ups and off.filter_text == CONFIG.filter_text and off.related == CONFIG.related
    assert describe_changes(CONFIG, off) == "settings form: follow-ups"
    assert "initial_options" not in element(settings_view(off), BLOCK_FOLLOW_UPS)
    assert "Follow-ups:* off" in settings_text(off)
    assert save(off, **{BLOCK_FOLLOW_UPS: ["follow_ups"]}).follow_ups


def test_a_submission_without_the_follow_ups_field_keeps_the_setting() -> None:
    """A form opened before the field existed (an older release) must not turn follow-ups on or off."""
    values = submitted(settings_view(CONFIG.replace(follow_ups=False)))
    values.pop(BLOCK_FOLLOW_UPS)
    form = parse_submission(values)
    assert isinstance(form, SettingsForm)
    assert form.apply(CONFIG.replace(follow_ups=False), now_iso=NOW).follow_ups is False
