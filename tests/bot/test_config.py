"""Settings a person types by hand: zones spelled loosely, Slack ids where a name would fail silently."""

from __future__ import annotations

import pytest

from bot.config import load_settings
from bot.errors import ConfigError


def test_the_default_time_zone_is_read_as_people_type_it() -> None:
    assert load_settings({"PAPERS_BOT_TIMEZONE": "berlin"}).timezone == "Europe/Berlin"
    assert load_settings({}).timezone == "UTC"
    assert load_settings(
        {"PAPERS_BOT_CONFIG_ADMINS": "U0BOSS, admins", "PAPERS_BOT_ALERT_CHANNEL": "C0ALERTS"}
    ).config_admins == (
        "U0BOSS",
        "admins",
    )


def test_a_mistyped_default_time_zone_gets_a_suggestion() -> None:
    with pytest.raises(
        ConfigError, match=r"PAPERS_BOT_TIMEZONE must be an IANA time zone\. Did you mean Europe/Berlin"
    ):
        load_settings({"PAPERS_BOT_TIMEZONE": "Europe/Berln"})


def test_follow_up_time_arxiv_url_and_unfurl_pace_have_defaults_and_refuse_nonsense() -> None:
    defaults = load_settings({})
    assert (defaults.follow_up_time, defaults.unfurls_per_minute) == ("14:00", 40)
    assert defaults.arxiv_api_url == "https://export.arxiv.org/api/query"
    chosen = load_settings({"PAPERS_BOT_FOLLOW_UP_TIME": "7:30", "PAPERS_BOT_UNFURLS_PER_MINUTE": "100"})
    assert (chosen.follow_up_time, chosen.unfurls_per_minute) == ("07:30", 100)
    for env, message in (
        ({"PAPERS_BOT_FOLLOW_UP_TIME": "25:00"}, "PAPERS_BOT_FOLLOW_UP_TIME must be a time of day in UTC"),
        ({"PAPERS_BOT_UNFURLS_PER_MINUTE": "0"}, "PAPERS_BOT_UNFURLS_PER_MINUTE must be a whole number"),
        ({"ARXIV_API_URL": "export.arxiv.org"}, "ARXIV_API_URL must be an http"),
    ):
        with pytest.raises(ConfigError, match=message):
            load_settings(env)
