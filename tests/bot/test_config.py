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
