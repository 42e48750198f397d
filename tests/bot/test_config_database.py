"""``DATABASE_URL``: the Heroku spelling is accepted and the password never shows."""

from __future__ import annotations

import pytest

from bot.config import load_settings, redact_url
from bot.errors import ConfigError


@pytest.mark.parametrize(
    "given",
    ["postgres://u:pw@db.example:5432/papers", "postgresql://u:pw@db.example:5432/papers"],
)
def test_heroku_and_standard_urls_become_psycopg_urls(given: str) -> None:
    settings = load_settings({"DATABASE_URL": given})
    assert settings.database_url == "postgresql+psycopg://u:pw@db.example:5432/papers"
    assert "pw" not in repr(settings)
    assert settings.database_redacted == "postgresql+psycopg://u:***@db.example:5432/papers"
    assert "pw" in settings.secrets  # so the log filter hides it


def test_no_database_url_means_tinydb() -> None:
    settings = load_settings({})
    assert settings.database_url == "" and settings.database_redacted == settings.db_path


@pytest.mark.parametrize("bad", ["mysql://u@h/db", "localhost:5432", "sqlite:///x.db"])
def test_other_urls_are_refused_with_one_line(bad: str) -> None:
    with pytest.raises(ConfigError, match="DATABASE_URL must be a PostgreSQL URL"):
        load_settings({"DATABASE_URL": bad})


def test_redaction_keeps_everything_but_the_password() -> None:
    assert redact_url("postgresql://u:p%40ss@h:1/db?sslmode=require") == "postgresql://u:***@h:1/db?sslmode=require"
    assert redact_url("postgresql://u@h/db") == "postgresql://u@h/db"


def test_leader_check_interval_is_validated() -> None:
    assert load_settings({"PAPERS_BOT_LEADER_CHECK_SECONDS": "0.5"}).leader_check_seconds == 0.5
    with pytest.raises(ConfigError, match="PAPERS_BOT_LEADER_CHECK_SECONDS"):
        load_settings({"PAPERS_BOT_LEADER_CHECK_SECONDS": "soon"})
