"""OAuth mode's settings: what it needs, refused in one clear line when missing, never a secret in it."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from bot.config import DEFAULT_SLACK_AUTHORIZE_URL, load_settings
from bot.errors import ConfigError
from bot.logs import RedactingFilter

KEY = "kM5bT3mQ7cR2vX9wZ1yA4dF6gH8jK0lN2pS4uW6xY8A="  # fixed: pytest-xdist workers must see the same ids
OAUTH = {
    "SLACK_CLIENT_ID": "1111.2222",
    "SLACK_CLIENT_SECRET": "client-secret-value-123",
    "SLACK_SIGNING_SECRET": "signing-secret-value-123",
    "PAPERS_BOT_SECRET_KEY": KEY,
    "SLACK_REDIRECT_URI": "https://papers.example.org/slack/oauth_redirect",
}


def test_client_id_and_secret_turn_oauth_mode_on_without_a_bot_token() -> None:
    settings = load_settings(OAUTH, mode="http")
    assert settings.oauth and settings.slack_bot_token == ""
    assert settings.slack_authorize_url == DEFAULT_SLACK_AUTHORIZE_URL
    assert settings.slack_redirect_uri == OAUTH["SLACK_REDIRECT_URI"]
    assert {OAUTH["SLACK_CLIENT_SECRET"], KEY} <= set(settings.secrets)
    assert OAUTH["SLACK_CLIENT_SECRET"] not in repr(settings) and KEY not in repr(settings)


def test_a_pasted_bot_token_is_ignored_in_oauth_mode() -> None:
    settings = load_settings({**OAUTH, "SLACK_BOT_TOKEN": "xoxb-someone-else"}, mode="web-api")
    assert settings.oauth and settings.slack_bot_token == ""


def test_single_token_mode_is_unchanged() -> None:
    settings = load_settings({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}, mode="http")
    assert not settings.oauth and settings.slack_bot_token == "xoxb-1"
    with pytest.raises(ConfigError, match="Set SLACK_BOT_TOKEN"):
        load_settings({"SLACK_SIGNING_SECRET": "s"}, mode="http")


def test_oauth_mode_refuses_to_start_without_the_secret_key_in_one_line() -> None:
    env = {k: v for k, v in OAUTH.items() if k != "PAPERS_BOT_SECRET_KEY"}
    for mode in ("http", "web-api"):
        with pytest.raises(ConfigError) as refused:
            load_settings(env, mode=mode)
        message = str(refused.value)
        assert message.startswith("OAuth mode needs PAPERS_BOT_SECRET_KEY") and "\n" not in message
        assert OAUTH["SLACK_CLIENT_SECRET"] not in message


@pytest.mark.parametrize(
    "bad", ["not-a-key", "x" * 44, f"{KEY},short", KEY[:-2]], ids=["junk", "not-base64", "second-short", "cut"]
)
def test_a_secret_key_that_is_not_a_fernet_key_is_refused_without_quoting_it(bad: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings({**OAUTH, "PAPERS_BOT_SECRET_KEY": bad}, mode="http")
    assert "must be Fernet keys" in str(refused.value) and bad not in str(refused.value)


def test_several_keys_rotate() -> None:
    other = Fernet.generate_key().decode()
    assert load_settings({**OAUTH, "PAPERS_BOT_SECRET_KEY": f"{other}, {KEY}"}, mode="http").secret_keys == (other, KEY)


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"SLACK_CLIENT_SECRET": ""}, "Set SLACK_CLIENT_SECRET too"),
        ({"SLACK_CLIENT_ID": ""}, "Set SLACK_CLIENT_ID too"),
        ({"SLACK_SIGNING_SECRET": ""}, "Set SLACK_SIGNING_SECRET"),
        ({"SLACK_APP_TOKEN": "xapp-1"}, "unset SLACK_APP_TOKEN"),
        ({"SLACK_REDIRECT_URI": "example.org/slack/oauth_redirect"}, "SLACK_REDIRECT_URI must be the public URL"),
        ({"SLACK_AUTHORIZE_URL": "slack.com/oauth"}, "SLACK_AUTHORIZE_URL must be an http(s) URL"),
    ],
)
def test_incomplete_oauth_settings_say_what_to_set(change: dict[str, str], says: str) -> None:
    with pytest.raises(ConfigError, match=says.replace("(", r"\(").replace(")", r"\)")):
        load_settings({**OAUTH, **change}, mode="http")


def test_socket_mode_is_refused_in_oauth_mode() -> None:
    with pytest.raises(ConfigError, match="serves Slack over HTTP"):
        load_settings(OAUTH, mode="socket")


def test_the_admin_commands_need_no_key() -> None:
    env = {k: v for k, v in OAUTH.items() if k != "PAPERS_BOT_SECRET_KEY"}
    assert load_settings(env, mode="admin").slack_client_id == "1111.2222"


def test_rotating_tokens_and_refresh_tokens_are_redacted_from_logs() -> None:
    redact = RedactingFilter().redact
    line = "token xoxe.xoxb-1-ABC-def refresh xoxe-1-XYZ-123 bot xoxb-9-abc"
    assert "ABC" not in redact(line) and "XYZ" not in redact(line) and "abc" not in redact(line)


def test_the_alert_channel_names_its_workspace_in_oauth_mode() -> None:
    settings = load_settings({**OAUTH, "PAPERS_BOT_ALERT_CHANNEL": "T0OPS/C0ALERT"}, mode="http")
    assert (settings.alert_team, settings.alert_channel) == ("T0OPS", "C0ALERT")
    with pytest.raises(ConfigError, match="names the workspace too: T0123456789/C0123456789"):
        load_settings({**OAUTH, "PAPERS_BOT_ALERT_CHANNEL": "C0ALERT"}, mode="http")
    assert load_settings({"PAPERS_BOT_ALERT_CHANNEL": "C0ALERT"}).alert_team == ""  # one token: as before


@pytest.mark.parametrize("value", ["0", "0.5", "101", "lots"])
def test_the_history_budget_is_a_number_of_reads_a_minute(value: str) -> None:
    with pytest.raises(ConfigError, match="PAPERS_BOT_HISTORY_PER_MINUTE"):
        load_settings({"PAPERS_BOT_HISTORY_PER_MINUTE": value})
    assert load_settings({}).history_per_minute == 1.0
    assert load_settings({"PAPERS_BOT_HISTORY_PER_MINUTE": "50"}).history_per_minute == 50.0
