"""Typed time zones: every spelling of one zone is accepted, a typo gets the closest names."""

from __future__ import annotations

import pytest

from bot.channels.timezones import parse_timezone, resolve_timezone, suggest_timezones
from bot.errors import UserInputError


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("Europe/Berlin", "Europe/Berlin"),
        ("europe/berlin", "Europe/Berlin"),
        ("  Europe/Berlin ", "Europe/Berlin"),
        ("Berlin", "Europe/Berlin"),
        ("new york", "America/New_York"),
        ("America/New York", "America/New_York"),
        ("`Asia/Kolkata`", "Asia/Kolkata"),
        ("utc", "UTC"),
        ("GMT", "UTC"),
        ("US/Eastern", "US/Eastern"),  # a legacy name is still an IANA name
        ("Indianapolis", "America/Indianapolis"),  # a place under two names: one of them, the same zone
        ("hong kong", "Asia/Hong_Kong"),
        ("Japan", "Japan"),  # a country's old name is the country's zone
    ],
)
def test_every_spelling_of_one_zone_resolves(typed: str, zone: str) -> None:
    assert resolve_timezone(typed) == zone


@pytest.mark.parametrize(
    "typed",
    ["", "   ", "Mars/Olympus", "../etc/passwd", "/etc/localtime", "New", "Europe", "localtime", "Factory"],
)
def test_what_names_no_zone_resolves_to_nothing(typed: str) -> None:
    assert resolve_timezone(typed) is None


def test_a_typo_gets_the_closest_zones_and_nonsense_gets_the_format() -> None:
    assert suggest_timezones("Europe/Berln")[0] == "Europe/Berlin"
    assert suggest_timezones("Kolkatta") == ["Asia/Kolkata"]
    assert suggest_timezones("x" * 10_000) == []
    with pytest.raises(UserInputError) as err:
        parse_timezone("Amerca/Chicago")
    assert "Did you mean America/Chicago" in err.value.message
    with pytest.raises(UserInputError) as err:
        parse_timezone("<!channel> zzzz")
    assert "IANA name like Europe/Berlin" in err.value.message
    assert err.value.message.startswith('"<!channel> zzzz"')  # raw here; every reply escapes it


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("EST", "America/New_York"),  # the tz database's EST keeps no summer time
        ("pst", "America/Los_Angeles"),
        ("CET", "Europe/Berlin"),
        ("samoa", "Pacific/Apia"),  # Pacific/Samoa is American Samoa, a day away
        ("san juan", "America/Puerto_Rico"),  # not America/Argentina/San_Juan
    ],
)
def test_abbreviations_and_misleading_names_are_refused_with_the_zone_meant(typed: str, meant: str) -> None:
    assert resolve_timezone(typed) is None
    with pytest.raises(UserInputError) as err:
        parse_timezone(typed)
    assert err.value.message.endswith(f"Did you mean {meant}?")
    assert resolve_timezone("victoria") is None and resolve_timezone("north") is None  # old Australian names
