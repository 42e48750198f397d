"""Settings read once from the environment (and ``.env``), validated before anything starts.

A bad value stops start-up with one line that names the variable to set; secret values never appear
in that line, in ``repr`` or in logs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict
from urllib.parse import unquote, unquote_plus, urlsplit

from bot.channels.access import ADMINS_KEYWORD
from bot.channels.schedule import parse_time
from bot.channels.timezones import did_you_mean, resolve_timezone
from bot.errors import ConfigError, UserInputError

__all__ = [
    "Settings",
    "ephemeral_disk_warning",
    "load_dotenv_file",
    "load_settings",
    "normalise_database_url",
    "redact_url",
    "url_passwords",
]

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_SLACK_AUTHORIZE_URL = "https://slack.com/oauth/v2/authorize"
DEFAULT_HF_ENDPOINT = "https://huggingface.co"
DEFAULT_DB_PATH = "data/papers-bot.json"
DEFAULT_ARXIV_API_URL = "https://export.arxiv.org/api/query"
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")
_CONVERSATION_ID = re.compile(r"[CGDUW][A-Z0-9]{2,}")  # a user id posts to the app's DM with them
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
    # PORT was set: ``socket`` and ``worker`` then serve ``GET /healthz`` on it (``serve`` always listens).
    port_given: bool = False
    log_level: str = "INFO"
    log_format: str = "text"  # LOG_FORMAT: text, or json (one object per line)
    alert_channel: str = ""
    config_admins: tuple[str, ...] = ()
    # PostgreSQL (``DATABASE_URL``), normalised to SQLAlchemy's ``postgresql+psycopg://``; empty: TinyDB.
    database_url: str = field(default="", repr=False)
    leader_check_seconds: float = 15.0  # how often a standby process tries to become the scheduler leader
    dyno: str = ""  # Heroku's ``DYNO`` (e.g. ``web.1``): the local disk is wiped at every restart
    # OAuth mode ("Add to Slack" for many workspaces): on when both the client id and secret are set.
    slack_client_id: str = ""
    slack_client_secret: str = field(default="", repr=False)
    slack_redirect_uri: str = ""  # the public URL of /slack/oauth_redirect, as registered with Slack
    slack_authorize_url: str = DEFAULT_SLACK_AUTHORIZE_URL
    # PAPERS_BOT_SECRET_KEY: Fernet keys (the first encrypts; all decrypt, so a key can be rotated).
    secret_keys: tuple[str, ...] = field(default=(), repr=False)
    # conversations.history reads a minute per workspace: 1 for apps outside Slack's Marketplace (since
    # 2025-05-29, at most 15 messages each); a Marketplace app may raise it (Tier 3: 50+).
    history_per_minute: float = 1.0
    # OAuth mode: the workspace of PAPERS_BOT_ALERT_CHANNEL (given as T…/C…), whose installation posts alerts.
    alert_team: str = ""

    @property
    def oauth(self) -> bool:
        """One deployment for many workspaces: tokens come from installations, not SLACK_BOT_TOKEN."""
        return bool(self.slack_client_id and self.slack_client_secret)

    follow_up_time: str = "14:00"  # PAPERS_BOT_FOLLOW_UP_TIME: when (UTC) the daily follow-up check runs
    arxiv_api_url: str = DEFAULT_ARXIV_API_URL  # ARXIV_API_URL: link cards for papers Hugging Face lacks
    # PAPERS_BOT_UNFURLS_PER_MINUTE: chat.unfurl calls a minute per workspace after a burst of 10 (Tier 3 is
    # "50+"; 40 keeps any minute at 50); raise it only for a workspace known to allow more.
    unfurls_per_minute: int = 40

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values that must never be logged (used by the log redaction filter)."""
        tokens = (self.slack_bot_token, self.slack_signing_secret, self.slack_app_token, self.hf_token)
        oauth = (self.slack_client_secret, *self.secret_keys)
        return tuple(s for s in (*tokens, *oauth, *url_passwords(self.database_url)) if s)

    @property
    def database_redacted(self) -> str:
        """Where the state lives, safe to log: the TinyDB path, or the database URL without its password."""
        return redact_url(self.database_url) if self.database_url else self.db_path


def url_passwords(url: str) -> tuple[str, ...]:
    """Every spelling of every password in ``url``: the ``user:password@`` part and libpq's
    ``?password=`` query parameter (SQLAlchemy passes both to psycopg), as written and decoded, so the
    log filter masks them however they reach a message."""
    if not url:
        return ()
    found: list[str] = []
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    if password:
        found += [password, unquote(password)]
    for raw in _query_passwords(url.partition("?")[2].partition("#")[0]):
        found += [raw, unquote_plus(raw)]
    return tuple(dict.fromkeys(p for p in found if p))


def _query_passwords(query: str) -> list[str]:
    return [value for name, _, value in (p.partition("=") for p in query.split("&")) if _is_password(name)]


def _is_password(name: str) -> bool:
    return unquote_plus(name).strip().lower() == "password"


def redact_url(url: str) -> str:
    """``url`` with its passwords (``user:***@`` and ``?password=***``) masked: database URLs reach
    logs and error messages. A URL too malformed to take apart shows nothing but its scheme."""
    scheme = url.partition("://")[0] if "://" in url else ""
    hidden = f"{scheme}://***" if scheme else "***"
    if _url_problem(url):
        return hidden
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        if ":" in userinfo:
            netloc = f"{userinfo.partition(':')[0]}:***@{host}"
    query = "&".join(
        f"{name}=***" if _is_password(name) else f"{name}{sep}{value}"
        for name, sep, value in (p.partition("=") for p in parts.query.split("&"))
    )
    return f"{scheme}://{netloc}{parts.path}{'?' + query if parts.query else ''}" if scheme else url


def _url_problem(url: str) -> str:
    """Why ``url`` cannot be taken apart reliably, or ``""``. Never quotes the URL: it may hold a password.

    Python's URL parser and SQLAlchemy's disagree on an unencoded ``@ / ? #`` in a password (one sees
    a port ``p``, the other a password ``p/ss``), so such a URL is refused instead of half-redacted."""
    rest = url.partition("://")[2]
    encode = "percent-encode special characters in the user name and password (@ as %40, / as %2F, ? as %3F, # as %23)"
    if rest.count("@") > 1:
        return f"it contains more than one '@'; {encode}"
    try:
        parts = urlsplit(url)
    except ValueError:
        return "the host is not a valid name or [IPv6] address"
    if "@" in rest and "@" not in parts.netloc:
        return f"the text before '@' contains '/', '?' or '#'; {encode}"
    if parts.fragment or "#" in rest:
        return f"it contains '#'; {encode}"
    try:
        parts.port  # noqa: B018 - parsing the port is the check
    except ValueError:
        return "the port is not a number from 0 to 65535"
    return ""


def normalise_database_url(value: str, name: str = "DATABASE_URL") -> str:
    """Heroku's ``postgres://`` and plain ``postgresql://`` become SQLAlchemy's psycopg 3 URL.

    A malformed URL is a ``ConfigError`` naming ``name`` (the variable or option it came from) and
    the reason, never the URL itself: whatever a malformed URL's password is, it cannot be masked."""
    scheme, sep, rest = value.partition("://")
    if not sep or scheme not in ("postgres", "postgresql", "postgresql+psycopg"):
        raise ConfigError(f"{name} must be a PostgreSQL URL such as postgres://user:password@host:5432/dbname.")
    url = f"postgresql+psycopg://{rest}"
    problem = _url_problem(url)
    if problem:
        raise ConfigError(f"{name} is not a valid PostgreSQL URL: {problem}.")
    return url


def ephemeral_disk_warning(settings: Settings) -> str:
    """The warning for a Heroku dyno (``DYNO`` set) keeping its state in a TinyDB file, else ``""``.

    Heroku wipes a dyno's disk at every restart and deploy (at least daily), so the subscriptions and
    the ledger of posted papers would silently vanish: channels stop getting posts, or get repeats."""
    if not settings.dyno or settings.database_url:
        return ""
    return (
        f"DYNO={settings.dyno} (Heroku) and DATABASE_URL is not set: the TinyDB file {settings.db_path} is on "
        "the dyno's disk, which Heroku wipes at every restart and deploy; every subscription and the record "
        "of posted papers will be lost. Attach Heroku Postgres (it sets DATABASE_URL); see README.md, "
        "'Deploying: which store'."
    )


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


def _shown(value: str) -> str:
    """A mistyped value, quoted for the error line, unless it looks like a token pasted in the wrong place."""
    return "a token" if value.startswith(("xox", "xapp-")) else repr(value[:40])


def load_settings(env: Mapping[str, str] | None = None, *, mode: str = "none") -> Settings:
    """Read and validate settings for a run ``mode``.

    ``mode`` says which Slack credentials are required: ``http`` (bot token + signing secret),
    ``socket`` (bot token + app token), ``web-api`` (bot token only, for ``post-now``), ``admin``
    (``workspaces``, ``forget-workspace``: the store only) or ``none`` (``preview`` needs no Slack at all).

    With ``SLACK_CLIENT_ID`` and ``SLACK_CLIENT_SECRET`` set (OAuth mode) no ``SLACK_BOT_TOKEN`` is
    needed: every workspace's token comes from its installation, encrypted with ``PAPERS_BOT_SECRET_KEY``.
    """
    env = os.environ if env is None else env
    get = lambda name: env.get(name, "").strip()  # noqa: E731

    oauth = _oauth_settings(env, mode)
    bot_token = get("SLACK_BOT_TOKEN")
    if oauth:
        bot_token = ""  # each workspace's token comes from its installation; never a pasted one
    elif mode in ("http", "socket", "web-api"):
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

    timezone = resolve_timezone(get("PAPERS_BOT_TIMEZONE") or "UTC")
    if timezone is None:
        hint = did_you_mean(get("PAPERS_BOT_TIMEZONE"))  # " Did you mean Europe/Berlin?" for a typo
        raise ConfigError(
            f"PAPERS_BOT_TIMEZONE must be an IANA time zone.{hint}"
            if hint
            else "PAPERS_BOT_TIMEZONE must be an IANA time zone such as Europe/Berlin or America/New_York."
        )
    port_text = get("PORT") or "3000"  # serve's default; socket and worker listen only when it is set
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ConfigError("PORT must be a port number between 1 and 65535.")
    log_level = (get("LOG_LEVEL") or "INFO").upper()
    if log_level not in _LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL must be one of {', '.join(_LOG_LEVELS)}.")
    log_format = (get("LOG_FORMAT") or "text").strip().lower()
    if log_format not in ("text", "json"):
        raise ConfigError("LOG_FORMAT must be text or json.")
    api_url = _url(env, "SLACK_API_URL", DEFAULT_SLACK_API_URL)
    if not api_url.endswith("/"):
        api_url += "/"
    admins = tuple(a.strip() for a in get("PAPERS_BOT_CONFIG_ADMINS").split(",") if a.strip())
    for admin in admins:  # a name or an @mention would silently lock everyone out
        if admin.casefold() != ADMINS_KEYWORD and not _USER_ID.fullmatch(admin):
            raise ConfigError(
                f"PAPERS_BOT_CONFIG_ADMINS: {_shown(admin)} is not a Slack user id (like U0123456789; profile → "
                "⋮ → Copy member ID) nor `admins`."
            )
    alert_channel = get("PAPERS_BOT_ALERT_CHANNEL")
    alert_team = ""
    if oauth and alert_channel:
        # Many workspaces: the alert channel names its workspace, whose installation posts the alerts.
        alert_team, _, alert_channel = alert_channel.rpartition("/")
        if not re.fullmatch(r"T[A-Z0-9]{2,}", alert_team):
            raise ConfigError(
                "In OAuth mode PAPERS_BOT_ALERT_CHANNEL names the workspace too: T0123456789/C0123456789 "
                "(the workspace must have installed the app)."
            )
    if alert_channel and not _CONVERSATION_ID.fullmatch(alert_channel):  # "#alerts" would never be told anything
        raise ConfigError(
            "PAPERS_BOT_ALERT_CHANNEL must be a channel id like C0123456789 (channel name → About → Channel ID) "
            f"or a user id for a direct message, not {_shown(alert_channel)}."
        )
    database_url = normalise_database_url(get("DATABASE_URL")) if get("DATABASE_URL") else ""
    check_text = get("PAPERS_BOT_LEADER_CHECK_SECONDS") or "15"
    try:
        leader_check = float(check_text)
    except ValueError:
        leader_check = 0.0
    if not 0.05 <= leader_check <= 60:
        raise ConfigError("PAPERS_BOT_LEADER_CHECK_SECONDS must be a number of seconds from 0.05 to 60.")
    try:
        history_per_minute = float(get("PAPERS_BOT_HISTORY_PER_MINUTE") or "1")
    except ValueError:
        history_per_minute = 0.0
    if not 1 <= history_per_minute <= 100:
        raise ConfigError(
            "PAPERS_BOT_HISTORY_PER_MINUTE must be a number from 1 (apps outside Slack's Marketplace) to 100."
        )
    try:
        follow_up_time = parse_time(get("PAPERS_BOT_FOLLOW_UP_TIME") or "14:00")
    except UserInputError:
        raise ConfigError("PAPERS_BOT_FOLLOW_UP_TIME must be a time of day in UTC such as 14:00.") from None
    unfurl_text = get("PAPERS_BOT_UNFURLS_PER_MINUTE") or "40"
    if not unfurl_text.isdigit() or not 1 <= int(unfurl_text) <= 100_000:
        raise ConfigError("PAPERS_BOT_UNFURLS_PER_MINUTE must be a whole number of calls a minute (default 40).")
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
        port_given=bool(get("PORT")),
        log_level=log_level,
        log_format=log_format,
        alert_channel=alert_channel,
        config_admins=admins,
        database_url=database_url,
        leader_check_seconds=leader_check,
        dyno=get("DYNO"),
        history_per_minute=history_per_minute,
        alert_team=alert_team,
        **oauth,
        follow_up_time=follow_up_time,
        arxiv_api_url=_url(env, "ARXIV_API_URL", DEFAULT_ARXIV_API_URL),
        unfurls_per_minute=int(unfurl_text),
    )


class _OAuthFields(TypedDict, total=False):
    slack_client_id: str
    slack_client_secret: str
    slack_redirect_uri: str
    slack_authorize_url: str
    secret_keys: tuple[str, ...]


def _oauth_settings(env: Mapping[str, str], mode: str) -> _OAuthFields:
    """The OAuth-mode settings, validated, or ``{}`` in single-token mode (no client id and secret).

    OAuth mode serves Slack over HTTP only (Slack lists no Socket Mode app in its Marketplace) and
    keeps bot tokens encrypted at rest, so it refuses to start without ``PAPERS_BOT_SECRET_KEY``."""
    get = lambda name: env.get(name, "").strip()  # noqa: E731
    client_id, client_secret = get("SLACK_CLIENT_ID"), get("SLACK_CLIENT_SECRET")
    if not client_id and not client_secret:
        return {}
    if mode == "none":  # preview: no Slack at all
        return {}
    if not client_id or not client_secret:
        missing = "SLACK_CLIENT_SECRET" if client_id else "SLACK_CLIENT_ID"
        raise ConfigError(
            f"Set {missing} too (Basic Information → App Credentials): OAuth mode needs both the client id and secret."
        )
    if mode == "socket" or (mode == "http" and get("SLACK_APP_TOKEN")):
        raise ConfigError(
            "OAuth mode (SLACK_CLIENT_ID) serves Slack over HTTP: unset SLACK_APP_TOKEN and run `python -m bot serve`."
        )
    if mode == "http" and not get("SLACK_SIGNING_SECRET"):
        raise ConfigError(
            "Set SLACK_SIGNING_SECRET (Basic Information → Signing Secret): OAuth mode runs in HTTP mode."
        )
    keys = tuple(k.strip() for k in get("PAPERS_BOT_SECRET_KEY").split(",") if k.strip())
    if not keys and mode == "admin":  # workspaces / forget-workspace read and delete, never decrypt
        pass
    elif not keys:
        raise ConfigError(
            "OAuth mode needs PAPERS_BOT_SECRET_KEY to encrypt the workspaces' tokens; create one with "
            "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
        )
    from bot.secret_box import valid_key

    if not all(valid_key(k) for k in keys):
        raise ConfigError(
            "PAPERS_BOT_SECRET_KEY must be Fernet keys (44 characters of URL-safe base64, comma-separated); "
            "create one with python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
        )
    redirect_uri = get("SLACK_REDIRECT_URI")
    if redirect_uri and not redirect_uri.startswith(("https://", "http://")):
        raise ConfigError(
            "SLACK_REDIRECT_URI must be the public URL of /slack/oauth_redirect, e.g. https://papers.example.org/slack/oauth_redirect."
        )
    return {
        "slack_client_id": client_id,
        "slack_client_secret": client_secret,
        "slack_redirect_uri": redirect_uri,
        "slack_authorize_url": _url(env, "SLACK_AUTHORIZE_URL", DEFAULT_SLACK_AUTHORIZE_URL),
        "secret_keys": keys,
    }
