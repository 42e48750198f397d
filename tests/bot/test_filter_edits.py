"""The pure edits behind /papers follow|unfollow|exclude|include|set|clear, and their replies."""

from __future__ import annotations

import pytest

from bot.errors import UserInputError
from bot.filter_edits import (
    MAX_HISTORY,
    apply_clear,
    apply_exclude,
    apply_follow,
    apply_include,
    apply_set,
    apply_unfollow,
    record_change,
)
from bot.filter_replies import change_reply, filter_overview
from bot.filters import MAX_TOPICS, parse_filter
from bot.models import ChannelConfig
from bot.selection import channel_filter

BASE = ChannelConfig("C1")


def test_follow_adds_topics_and_keeps_qualifiers_in_canonical_form() -> None:
    config, summary = apply_follow(BASE, 'model merging, "process reward"')
    config, _ = apply_follow(config, "LLM, org:nvidia, has:code")
    f = channel_filter(config)
    assert f.topics == ("model merging", "process reward", "LLM")
    assert f.orgs == ("nvidia",) and f.has_code
    assert parse_filter(config.filter_text) == f  # stored text round-trips
    assert summary == "followed model merging, process reward"


def test_follow_min_upvotes_lands_in_the_channel_setting_not_twice() -> None:
    config, _ = apply_follow(BASE, "robotics, min-upvotes:10")
    assert config.min_upvotes == 10
    assert "min-upvotes" not in config.filter_text
    config, _ = apply_set(config, "min-upvotes 3")
    assert channel_filter(config).min_upvotes == 3


def test_following_the_same_topic_in_another_form_changes_nothing_and_says_so() -> None:
    config, _ = apply_follow(BASE, "model merging")
    with pytest.raises(UserInputError, match="already follows"):
        apply_follow(config, "Models Merged")


def test_unfollow_removes_a_topic_or_a_qualifier_and_names_what_exists_on_a_miss() -> None:
    config, _ = apply_follow(BASE, "LLM, speech, org:nvidia, has:code")
    config, _ = apply_unfollow(config, "speech")
    config, _ = apply_unfollow(config, "org:NVIDIA")
    config, summary = apply_unfollow(config, "has:code")
    f = channel_filter(config)
    assert f.topics == ("LLM",) and f.orgs == () and not f.has_code
    assert summary == "removed has:code"
    with pytest.raises(UserInputError, match=r'"robotics" is not a topic here\. Current topics: LLM'):
        apply_unfollow(config, "robotics")


def test_exclude_accepts_dashes_and_the_exclude_prefix_and_include_undoes_it() -> None:
    config, summary = apply_exclude(BASE, "medical, -survey, exclude: case study")
    assert channel_filter(config).excluded == ("medical", "survey", "case study")
    assert summary == 'excluded "medical", "survey", "case study"'
    config, _ = apply_include(config, "survey")
    assert channel_filter(config).excluded == ("medical", "case study")
    with pytest.raises(UserInputError, match=r'"survey" is not an exclusion here\. Current exclusions: medical, case'):
        apply_include(config, "survey")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("max-papers -1", "from 1 to 50"),
        ("max-papers 10000", "from 1 to 50"),
        ("max-papers ten", "from 1 to 50"),
        ("min-upvotes 1e3", "from 0 to 100000"),
        ("colour blue", "I can't set `colour`"),
        ("max-papers", "takes a setting and a value"),
        ("format tiny", "`full` or `compact`"),
    ],
)
def test_set_rejects_bad_values_with_the_allowed_range(text: str, message: str) -> None:
    with pytest.raises(UserInputError, match=message):
        apply_set(BASE, text)


def test_set_changes_the_named_setting() -> None:
    config, summary = apply_set(BASE, "max-papers 5")
    assert config.max_papers == 5 and summary == "set max-papers 5"
    config, _ = apply_set(config, "format compact")
    assert config.post_format == "compact"


def test_topic_lists_are_capped_with_a_clear_message() -> None:
    many = ", ".join(f"topic number {i}" for i in range(MAX_TOPICS + 1))
    with pytest.raises(UserInputError, match=f"at most {MAX_TOPICS} topics"):
        apply_follow(BASE, many)


def test_clear_empties_filter_and_threshold_and_refuses_when_nothing_to_clear() -> None:
    config, _ = apply_follow(BASE, "LLM, min-upvotes:5")
    cleared, _ = apply_clear(config)
    assert cleared.filter_text == "" and cleared.min_upvotes == 0
    with pytest.raises(UserInputError, match="no filter to clear"):
        apply_clear(cleared)


def test_history_keeps_the_latest_changes_with_who_and_when() -> None:
    config = BASE
    for i in range(MAX_HISTORY + 5):
        config = record_change(config, "U0001", f"2026-11-28T10:{i:02d}:00+00:00", f"change {i}")
    assert len(config.history) == MAX_HISTORY
    assert config.history[-1].summary == f"change {MAX_HISTORY + 4}"
    overview = filter_overview(config)
    assert "<@U0001>" in overview and f"change {MAX_HISTORY + 4}" in overview
    assert "<!date^" in overview  # shown in each reader's own time zone


def test_replies_escape_what_users_typed() -> None:
    config, summary = apply_follow(BASE, '"<!channel> & <@U123>"')
    text = change_reply(config, summary) + filter_overview(config)
    assert "<!channel>" not in text and "<@U123>" not in text
    assert "&lt;!channel&gt; &amp; &lt;@U123&gt;" in text
