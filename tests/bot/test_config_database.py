"""``DATABASE_URL``: the Heroku spelling is accepted and the password never shows."""

from __future__ import annotations

import pytest

from bot.config import ephemeral_disk_warning, load_settings, redact_url
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


PASSWORD = "Sup3rS3cretPw"


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (f"postgres://u:{PASSWORD}/x@db.example/papers", "contains '/', '?' or '#'"),  # an unencoded '/'
        (f"postgres://u:{PASSWORD}?x@db.example/papers", "contains '/', '?' or '#'"),
        (f"postgres://u:{PASSWORD}#x@db.example/papers", "contains '/', '?' or '#'"),
        (f"postgres://u:{PASSWORD}@x@db.example/papers", "more than one '@'"),
        (f"postgres://u:{PASSWORD}@db.example:54x32/papers", "the port is not a number"),
        (f"postgres://u:{PASSWORD}@db.example:99999/papers", "the port is not a number"),
        (f"postgres://u:{PASSWORD}@[::1/papers", "not a valid name or [IPv6] address"),
        (f"postgres://u@db.example:{PASSWORD}/papers", "the port is not a number"),  # a password typed as port
        (f"postgres://db.example/papers?password={PASSWORD}#frag", "contains '#'"),
    ],
)
def test_a_malformed_url_is_one_line_that_never_shows_the_password(bad: str, reason: str) -> None:
    """Before, these raised ValueError from deep in urllib (a traceback quoting the URL's pieces)."""
    with pytest.raises(ConfigError) as caught:
        load_settings({"DATABASE_URL": bad})
    message = str(caught.value)
    assert message.startswith("DATABASE_URL is not a valid PostgreSQL URL: ") and reason in message
    assert "\n" not in message and PASSWORD not in message and "db.example" not in message


def test_a_password_in_the_query_is_redacted_and_known_to_the_log_filter() -> None:
    """libpq (and so SQLAlchemy with psycopg) also takes the password as ``?password=``."""
    given = f"postgres://u@db.example/papers?sslmode=require&password={PASSWORD}%21&application_name=bot"
    settings = load_settings({"DATABASE_URL": given})
    assert settings.database_redacted == (
        "postgresql+psycopg://u@db.example/papers?sslmode=require&password=***&application_name=bot"
    )
    assert f"{PASSWORD}%21" in settings.secrets and f"{PASSWORD}!" in settings.secrets  # as written and decoded
    both = redact_url(f"postgresql://u:{PASSWORD}@h/db?PASSWORD={PASSWORD}")
    assert both == "postgresql://u:***@h/db?PASSWORD=***"


def test_redaction_of_a_url_it_cannot_take_apart_hides_everything_but_the_scheme() -> None:
    assert redact_url(f"postgresql://u:{PASSWORD}/x@h/db") == "postgresql://***"
    assert redact_url("postgresql:///papers") == "postgresql:///papers"  # a socket URL stays as written


def test_on_heroku_without_database_url_start_up_warns_that_the_file_will_be_wiped() -> None:
    warning = ephemeral_disk_warning(load_settings({"DYNO": "web.1", "PAPERS_BOT_DB": "data/x.json"}))
    assert "DYNO=web.1" in warning and "data/x.json" in warning and "wipes" in warning
    assert "Deploying: which store" in warning
    assert ephemeral_disk_warning(load_settings({"DYNO": "web.1", "DATABASE_URL": "postgres://u@h/db"})) == ""
    assert ephemeral_disk_warning(load_settings({})) == ""  # not on Heroku


def test_port_given_only_when_port_is_set() -> None:
    """``socket`` and ``worker`` serve /healthz only when PORT is set; ``serve`` listens on 3000 anyway."""
    assert load_settings({}).port == 3000 and load_settings({}).port_given is False
    assert load_settings({"PORT": "8080"}).port_given is True
