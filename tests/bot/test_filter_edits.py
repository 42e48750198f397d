"""The pure edits behind /papers follow|unfollow|exclude|include|set|clear, and their replies."""

from __future__ import annotations

import pytest

from bot.channels.edits import (
    MAX_HISTORY,
    MAX_UPVOTES_LIMIT,
    apply_clear,
    apply_exclude,
    apply_follow,
    apply_include,
    apply_set,
    apply_subscribe,
    apply_unfollow,
    apply_unsubscribe,
    can_follow_topic,
    follow_text,
    record_change,
)
from bot.channels.schedule import parse_schedule_spec
from bot.errors import UserInputError
from bot.filters import MAX_TERM_LENGTH, MAX_TERM_WORDS, MAX_TOPICS, MAX_UPVOTES, parse_filter
from bot.filters.selection import channel_filter
from bot.models import ChannelConfig
from bot.ui.filter_replies import change_reply, filter_overview

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


def test_unfollow_takes_a_comma_list_and_names_what_was_not_there() -> None:
    config, _ = apply_follow(BASE, 'LLM, speech, "model merging", org:nvidia, author:"Smith, J", has:code, -survey')
    config, summary = apply_unfollow(config, 'speech, Models Merged, robotics, author:"Smith, J", -survey, org:meta')
    f = channel_filter(config)
    assert f.topics == ("LLM",) and f.authors == () and f.excluded == () and f.orgs == ("nvidia",) and f.has_code
    assert summary == (
        'unfollowed "speech", "Models Merged"; included "survey" again; removed author:"Smith, J" '
        '(not in the filter: "robotics", org:"meta")'
    )
    assert "Unfollowed" in change_reply(config, summary) and "robotics" in change_reply(config, summary)
    config, summary = apply_unfollow(config, "org:NVIDIA, has:code, LLM, LLMs")  # LLMs is LLM: said once
    assert channel_filter(config).is_empty()
    assert summary == 'unfollowed "LLM"; removed org:"NVIDIA", has:code'


def test_unfollow_of_only_missing_items_changes_nothing_and_shows_the_filter() -> None:
    config, _ = apply_follow(BASE, "LLM, org:nvidia")
    with pytest.raises(UserInputError) as error:
        apply_unfollow(config, "robotics, vision, has:code, min-upvotes:")
    message = error.value.message
    assert message.startswith("None of these is in this channel's filter, so nothing changed:")
    assert '"robotics", "vision", has:code, min-upvotes' in message and "The filter: LLM, org:nvidia." in message
    with pytest.raises(UserInputError, match="is not among this channel's orgs"):
        apply_unfollow(config, "org:meta")  # one item keeps its own message


def test_include_takes_a_comma_list_and_names_terms_that_were_not_excluded() -> None:
    config, _ = apply_exclude(BASE, "medical, survey, case study")
    config, summary = apply_include(config, "survey, medical, robotics")
    assert channel_filter(config).excluded == ("case study",)
    assert summary == 'included "survey", "medical" again (not excluded: "robotics")'
    with pytest.raises(UserInputError, match='None of these is excluded here, so nothing changed: "a", "b"'):
        apply_include(config, "a, b")


def test_one_upvotes_cap_for_the_qualifier_and_set() -> None:
    assert MAX_UPVOTES == MAX_UPVOTES_LIMIT == 100_000
    config, _ = apply_follow(BASE, "LLM, min-upvotes:100000")
    assert config.min_upvotes == 100_000
    with pytest.raises(UserInputError, match="from 0 to 100000, not `500000`"):
        apply_follow(BASE, "LLM, min-upvotes:500000")
    assert apply_set(BASE, "min-upvotes 100000")[0].min_upvotes == 100_000
    with pytest.raises(UserInputError, match="from 0 to 100000"):
        apply_set(BASE, "min-upvotes 100001")


def test_subscribe_changes_only_what_is_given_and_unsubscribe_keeps_the_settings() -> None:
    at = "2026-08-21T09:00:00+00:00"
    config, summary = apply_subscribe(BASE, parse_schedule_spec([]), user_id="U1", at=at, team_id="T1")
    assert config.subscribed and (config.subscribed_by, config.active_since, config.team_id) == ("U1", at, "T1")
    assert summary == "subscribed: 09:00 Mon–Fri (UTC)"
    paused = config.replace(paused_reason="is_archived")
    config, summary = apply_subscribe(paused, parse_schedule_spec(["8am", "Europe/Berlin"]), user_id="U2", at=at)
    assert summary == "subscribed: 08:00 Mon–Fri (Europe/Berlin)" and config.paused_reason == ""
    assert config.team_id == "T1"  # kept when the command carries none
    config, summary = apply_unsubscribe(config)
    assert not config.subscribed and summary == "unsubscribed" and config.timezone == "Europe/Berlin"
    with pytest.raises(UserInputError, match="nothing to stop"):
        apply_unsubscribe(config)


@pytest.mark.parametrize(
    ("topic", "followable"),
    [
        ("speculative decoding", True),
        ("x" * MAX_TERM_LENGTH, True),
        ("x" * (MAX_TERM_LENGTH + 1), False),
        (" ".join(["word"] * MAX_TERM_WORDS), True),
        (" ".join(["word"] * (MAX_TERM_WORDS + 1)), False),
        ('he said “hi”, then "bye"', True),  # quotes are dropped, commas stay inside the phrase
        ("org:nvidia -survey", True),  # taken as typed, not as qualifiers
        ("!!!", False),
        ("", False),
    ],
)
def test_can_follow_topic_agrees_with_what_follow_accepts(topic: str, followable: bool) -> None:
    assert can_follow_topic(topic) is followable
    if followable:
        config, _ = apply_follow(BASE, follow_text([topic]))
        assert len(channel_filter(config).topics) == 1
    else:
        with pytest.raises(UserInputError):
            apply_follow(BASE, follow_text([topic]))


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
        ("related maybe", "`on` .* or `off`"),
        ("relatd off", "Did you mean `related`"),
        ("follow-ups later", "`follow-ups` is `on` .* or `off`, not `later`"),
        ("folow-ups off", "Did you mean `follow-ups`"),
        ("recapp fri 16:00", "Did you mean `recap`.*Settings: .*recap"),  # three words: still the guess
        ("", "takes a setting and a value: .*recap"),
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


def test_set_related_turns_meaning_matches_off_and_on_and_the_filter_follows() -> None:
    followed, _ = apply_follow(BASE, "LLM agents")
    assert followed.related and channel_filter(followed).related

    off, summary = apply_set(followed, "related off")
    assert summary == "set related off" and not off.related
    assert not channel_filter(off).related
    assert off.filter_text == followed.filter_text  # the switch is a setting, not part of the filter text

    on, summary = apply_set(off, "related ON")
    assert summary == "set related on" and on.related


def test_set_follow_ups_turns_thread_replies_off_and_on_under_every_spelling() -> None:
    assert BASE.follow_ups  # on by default
    off, summary = apply_set(BASE, "follow-ups off")
    assert summary == "set follow-ups off" and not off.follow_ups
    assert off.replace(follow_ups=True) == BASE  # nothing else changed
    for spelling in ("followups on", "follow-up yes", "followup=on"):
        on, summary = apply_set(off, spelling)
        assert on.follow_ups and summary == "set follow-ups on"


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
