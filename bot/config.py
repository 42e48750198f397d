"""Settings read once from the environment (and ``.env``), validated before anything starts.

A bad value stops start-up with one line that names the variable to set; secret values never appear
in that line, in ``repr`` or in logs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.errors import ConfigError

__all__ = [
    "Settings",
    "load_dotenv_file",
    "load_settings",
    "normalise_database_url",
    "redact_url",
    "valid_timezone",
]

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_HF_ENDPOINT = "https://huggingface.co"
DEFAULT_DB_PATH = "data/papers-bot.json"
_LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")


@dataclass(frozen=True)
class Settings:
    """Everything configurable. Secrets are excluded from ``repr`` so a logged Settings is safe."""

    slack_bot_token: str = field(default="", repr=False)
    slack_signing_secret: str = field(default="", repr=False)
    slack_app_token: str = field(default="", repr=False)
    slack_api_url: str = DEFAULT_SLACK_API_URL
    hf_endpoint: str = DEFAULT_HF_ENDPOINT
    hf_token: str = field(default="", repr=False)
    db_path: str = DEFAULT_DB_PATH
    timezone: str = "UTC"
    port: int = 3000
    log_level: str = "INFO"
    alert_channel: str = ""
    config_admins: tuple[str, ...] = ()
    # PostgreSQL (``DATABASE_URL``), normalised to SQLAlchemy's ``postgresql+psycopg://``; empty: TinyDB.
    database_url: str = field(default="", repr=False)
    leader_check_seconds: float = 15.0  # how often a standby process tries to become the scheduler leader

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values that must never be logged (used by the log redaction filter)."""
        password = (urlsplit(self.database_url).password or "") if self.database_url else ""
        tokens = (self.slack_bot_token, self.slack_signing_secret, self.slack_app_token, self.hf_token)
        return tuple(s for s in (*tokens, password, unquote(password)) if s)

    @property
    def database_redacted(self) -> str:
        """Where the state lives, safe to log: the TinyDB path, or the database URL without its password."""
        return redact_url(self.database_url) if self.database_url else self.db_path


def redact_url(url: str) -> str:
    """``url`` with its password replaced by ``***``: database URLs reach logs and error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{parts.username or ''}:***@{host}{f':{parts.port}' if parts.port else ''}"
    return urlunsplit(parts._replace(netloc=netloc))


def normalise_database_url(value: str) -> str:
    """Heroku's ``postgres://`` and plain ``postgresql://`` become SQLAlchemy's psycopg 3 URL."""
    scheme, sep, rest = value.partition("://")
    if not sep or scheme not in ("postgres", "postgresql", "postgresql+psycopg"):
        raise ConfigError("DATABASE_URL must be a PostgreSQL URL such as postgres://user:password@host:5432/dbname.")
    return f"postgresql+psycopg://{rest}"


def valid_timezone(name: str) -> bool:
    """True for an IANA zone name the bundled tz database knows (``Europe/Berlin``, ``UTC``)."""
    if not name or name.startswith("/") or ".." in name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def load_dotenv_file(path: str | os.PathLike[str] = ".env") -> None:
    """Load ``.env`` without overriding variables already set, so the real environment wins."""
    if Path(path).is_file():
        from dotenv import load_dotenv

        load_dotenv(path, override=False)


def _url(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip() or default
    if not value.startswith(("http://", "https://")):
        raise ConfigError(f"{name} must be an http(s) URL, for example {default}")
    return value


def load_settings(env: Mapping[str, str] | None = None, *, mode: str = "none") -> Settings:
    """Read and validate settings for a run ``mode``.

    ``mode`` says which Slack credentials are required: ``http`` (bot token + signing secret),
    ``socket`` (bot token + app token), ``web-api`` (bot token only, for ``post-now``), or ``none``
    (``preview`` needs no Slack at all).
    """
    env = os.environ if env is None else env
    get = lambda name: env.get(name, "").strip()  # noqa: E731

    bot_token = get("SLACK_BOT_TOKEN")
    if mode in ("http", "socket", "web-api"):
        if not bot_token:
            raise ConfigError("Set SLACK_BOT_TOKEN to the app's Bot User OAuth Token (starts with xoxb-).")
        if not bot_token.startswith("xoxb-"):
            raise ConfigError("SLACK_BOT_TOKEN must be a bot token starting with xoxb-.")
    signing_secret = get("SLACK_SIGNING_SECRET")
    if mode == "http" and not signing_secret:
        raise ConfigError(
            "Set SLACK_SIGNING_SECRET (Basic Information → Signing Secret) to run in HTTP mode, "
            "or set SLACK_APP_TOKEN to use Socket Mode."
        )
    app_token = get("SLACK_APP_TOKEN")
    if mode == "socket":
        if not app_token:
            raise ConfigError("Set SLACK_APP_TOKEN to an app-level token (starts with xapp-) for Socket Mode.")
        if not app_token.startswith("xapp-"):
            raise ConfigError("SLACK_APP_TOKEN must be an app-level token starting with xapp-.")

    timezone = get("PAPERS_BOT_TIMEZONE") or "UTC"
    if not valid_timezone(timezone):
        raise ConfigError("PAPERS_BOT_TIMEZONE must be an IANA time zone such as Europe/Berlin or America/New_York.")
    port_text = get("PORT") or "3000"
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ConfigError("PORT must be a port number between 1 and 65535.")
    log_level = (get("LOG_LEVEL") or "INFO").upper()
    if log_level not in _LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL must be one of {', '.join(_LOG_LEVELS)}.")
    api_url = _url(env, "SLACK_API_URL", DEFAULT_SLACK_API_URL)
    if not api_url.endswith("/"):
        api_url += "/"
    admins = tuple(a.strip() for a in get("PAPERS_BOT_CONFIG_ADMINS").split(",") if a.strip())
    database_url = normalise_database_url(get("DATABASE_URL")) if get("DATABASE_URL") else ""
    check_text = get("PAPERS_BOT_LEADER_CHECK_SECONDS") or "15"
    try:
        leader_check = float(check_text)
    except ValueError:
        leader_check = 0.0
    if not 0.05 <= leader_check <= 60:
        raise ConfigError("PAPERS_BOT_LEADER_CHECK_SECONDS must be a number of seconds from 0.05 to 60.")
    return Settings(
        slack_bot_token=bot_token,
        slack_signing_secret=signing_secret,
        slack_app_token=app_token,
        slack_api_url=api_url,
        hf_endpoint=_url(env, "HF_ENDPOINT", DEFAULT_HF_ENDPOINT).rstrip("/"),
        hf_token=get("HF_TOKEN"),
        db_path=get("PAPERS_BOT_DB") or DEFAULT_DB_PATH,
        timezone=timezone,
        port=int(port_text),
        log_level=log_level,
        alert_channel=get("PAPERS_BOT_ALERT_CHANNEL"),
        config_admins=admins,
        database_url=database_url,
        leader_check_seconds=leader_check,
    )
