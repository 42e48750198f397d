"""Settings a person types by hand: zones spelled loosely, Slack ids where a name would fail silently."""

from __future__ import annotations

from bot.config import load_settings


def test_the_default_time_zone_is_read_as_people_type_it() -> None:
    assert load_settings({"PAPERS_BOT_TIMEZONE": "berlin"}).timezone == "Europe/Berlin"
    assert load_settings({}).timezone == "UTC"
    assert load_settings(
        {"PAPERS_BOT_CONFIG_ADMINS": "U0BOSS, admins", "PAPERS_BOT_ALERT_CHANNEL": "C0ALERTS"}
    ).config_admins == (
        "U0BOSS",
        "admins",
    )
