"""Where the workspaces' installations live: slack_sdk's SQLAlchemy stores in the bot's own database,
with every token encrypted (``bot/secret_box.py``).

Why slack_sdk's stores: Bolt's OAuth flow and its per-request ``authorize`` already speak their
interface (``save``, ``find_bot``, ``find_installation``, ``delete_all``), token rotation included,
and they run on any SQLAlchemy engine. So the same two stores serve both backends: PostgreSQL
(``DATABASE_URL``; the tables come from the Alembic migration ``0005_workspaces``) and the embedded
store's SQLite ledger file (tables created on first use). Nothing is kept on the local disk of a
web dyno, and a state issued by one process is consumed by another.

Why a wrapper: the stores write tokens in plain text. ``EncryptedInstallationStore`` seals the bot and
user tokens (and refresh tokens) before they reach a store and opens them on the way out; a value it
cannot open (the key changed) reads as "not installed", never as an error that quotes it.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from logging import Logger
from pathlib import Path
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError, SlackTokenRotationError
from slack_sdk.oauth.installation_store import Bot, Installation, InstallationStore
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from slack_sdk.oauth.token_rotation import TokenRotator
from sqlalchemy import Engine, create_engine, delete
from sqlalchemy.pool import StaticPool

from bot.secret_box import SecretBox

__all__ = [
    "STATE_EXPIRATION_SECONDS",
    "EncryptedInstallationStore",
    "InstalledToken",
    "OAuthStores",
    "PruningStateStore",
    "WorkspaceTokens",
    "delete_installations",
    "open_oauth_stores",
]

logger = logging.getLogger(__name__)

STATE_EXPIRATION_SECONDS = 600  # an "Add to Slack" link works once, for 10 minutes (Bolt's default)
# Rotate a bot token this long before it expires (Slack's rotating tokens live 12 hours).
ROTATE_BEFORE_MINUTES = 120

_BOT_SECRETS = ("bot_token", "bot_refresh_token")
_USER_SECRETS = ("user_token", "user_refresh_token")


class EncryptedInstallationStore(InstallationStore):
    """An ``InstallationStore`` whose tokens are sealed at rest; everything else is ``inner``'s."""

    def __init__(self, inner: InstallationStore, box: SecretBox) -> None:
        self.inner = inner
        self._box = box

    @property
    def logger(self) -> Logger:
        return logger

    # -- writes: seal ------------------------------------------------------------------------------

    def save(self, installation: Installation) -> None:
        sealed = Installation(**installation.to_dict_for_copying())
        for name in (*_BOT_SECRETS, *_USER_SECRETS):
            setattr(sealed, name, self._box.seal(getattr(installation, name)))
        self.inner.save(sealed)

    def save_bot(self, bot: Bot) -> None:
        sealed = Bot(**bot.to_dict_for_copying())
        for name in _BOT_SECRETS:
            setattr(sealed, name, self._box.seal(getattr(bot, name)))
        self.inner.save_bot(sealed)

    # -- reads: open ---------------------------------------------------------------------------------

    def find_bot(
        self, *, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False
    ) -> Bot | None:
        bot = self.inner.find_bot(
            enterprise_id=enterprise_id, team_id=team_id, is_enterprise_install=is_enterprise_install
        )
        if bot is None:
            return None
        opened = Bot(**bot.to_dict_for_copying())
        if not self._open_into(opened, _BOT_SECRETS, team_id):
            return None
        return opened

    def find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        installation = self.inner.find_installation(
            enterprise_id=enterprise_id,
            team_id=team_id,
            user_id=user_id,
            is_enterprise_install=is_enterprise_install,
        )
        if installation is None:
            return None
        opened = Installation(**installation.to_dict_for_copying())
        if not self._open_into(opened, (*_BOT_SECRETS, *_USER_SECRETS), team_id):
            return None
        return opened

    def _open_into(self, record: Bot | Installation, names: tuple[str, ...], team_id: str | None) -> bool:
        for name in names:
            sealed = getattr(record, name, None)
            value = self._box.open(sealed)
            if sealed and value is None:
                logger.error(
                    "the stored token of workspace %s cannot be decrypted with PAPERS_BOT_SECRET_KEY "
                    "(was the key changed without keeping the old one after a comma?); it must install again",
                    team_id or "?",
                )
                return False
            setattr(record, name, value)
        return True

    # -- deletes -------------------------------------------------------------------------------------

    def delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        self.inner.delete_bot(enterprise_id=enterprise_id, team_id=team_id)

    def delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        self.inner.delete_installation(enterprise_id=enterprise_id, team_id=team_id, user_id=user_id)

    def delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        self.inner.delete_all(enterprise_id=enterprise_id, team_id=team_id)


class PruningStateStore(SQLAlchemyOAuthStateStore):
    """slack_sdk's state store, plus: issuing a state deletes the expired ones.

    slack_sdk deletes a state only when it is consumed, so every abandoned install (or a crawler
    following the "Add to Slack" link) would leave a row forever; this keeps the table at about the
    states issued in the last ten minutes."""

    def issue(self, *args: Any, **kwargs: Any) -> str:
        now = datetime.now(UTC).replace(tzinfo=None)  # slack_sdk stores naive UTC
        with self.engine.begin() as conn:
            conn.execute(delete(self.oauth_states).where(self.oauth_states.c.expire_at < now))
        return super().issue(*args, **kwargs)


@dataclass(frozen=True)
class OAuthStores:
    installations: EncryptedInstallationStore
    states: PruningStateStore
    engine: Engine


def _sqlite_engine(path: Path | None) -> Engine:
    if path is None:  # an in-memory store (tests): one connection shared by every thread
        return create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    return create_engine(f"sqlite:///{path}", connect_args={"timeout": 30})


def open_oauth_stores(
    client_id: str,
    box: SecretBox,
    *,
    engine: Engine | None = None,
    sqlite_path: Path | None = None,
) -> OAuthStores:
    """The installation and state stores on PostgreSQL (``engine``: its tables come from the
    migrations) or on the SQLite ledger file ``sqlite_path`` (``None``: in memory), tables created here."""
    created = engine is None
    engine = engine if engine is not None else _sqlite_engine(sqlite_path)
    installations = SQLAlchemyInstallationStore(client_id=client_id, engine=engine)
    states = PruningStateStore(expiration_seconds=STATE_EXPIRATION_SECONDS, engine=engine)
    if created:
        installations.create_tables()
        states.create_tables()
    return OAuthStores(EncryptedInstallationStore(installations, box), states, engine)


@dataclass(frozen=True)
class InstalledToken:
    """A workspace's bot token as the installation holds it now; ``expires_at`` (epoch seconds) only
    when the app rotates tokens."""

    team_id: str
    token: str
    expires_at: float | None = None
    team_name: str = ""


class WorkspaceTokens:
    """Each workspace's bot token for work outside a request (the post scheduler, ``post-now``).

    Bolt resolves a request's token itself (``authorize``), rotating it when needed; posts are not
    requests, so this does the same from the installation store: a rotating token that expires
    within two hours is exchanged for a new one (``oauth.v2.access`` with the refresh token) and saved
    before it is used. One rotation at a time per process."""

    def __init__(
        self,
        installations: InstallationStore,
        *,
        client_id: str,
        client_secret: str,
        api_url: str,
    ) -> None:
        self.installations = installations
        self._rotator = TokenRotator(
            client_id=client_id, client_secret=client_secret, client=WebClient(base_url=api_url, timeout=30)
        )
        self._lock = threading.Lock()

    def get(self, team_id: str) -> InstalledToken | None:
        """The workspace's working bot token, or ``None`` when it has no installation (or rotation failed)."""
        if not team_id:
            return None
        with self._lock:
            bot = self.installations.find_bot(enterprise_id=None, team_id=team_id)
            if bot is None or not bot.bot_token:
                return None
            try:
                refreshed = self._rotator.perform_bot_token_rotation(
                    bot=bot, minutes_before_expiration=ROTATE_BEFORE_MINUTES
                )
            except (SlackTokenRotationError, SlackApiError, SlackClientError, OSError) as exc:
                code = _rotation_error(exc)
                logger.error("could not rotate the bot token of workspace %s (%s)", team_id, code)
                return None
            if refreshed is not None:
                self.installations.save_bot(refreshed)
                logger.info("rotated the bot token of workspace %s", team_id)
                bot = refreshed
        expires = bot.bot_token_expires_at
        return InstalledToken(team_id, bot.bot_token, float(expires) if expires else None, bot.team_name or "")

    def delete(self, team_id: str) -> None:
        """Forget the workspace's tokens (bot and installer) at once: uninstalled or revoked."""
        with self._lock:
            self.installations.delete_all(enterprise_id=None, team_id=team_id)


def _rotation_error(exc: BaseException) -> str:
    """Slack's error code, never the exception's text (which may carry a request with the refresh token)."""
    cause = getattr(exc, "api_error", None) or exc
    response = getattr(cause, "response", None)
    if response is not None:
        try:
            return str(response.get("error") or type(cause).__name__)
        except AttributeError:
            pass
    return type(cause).__name__


def delete_installations(
    client_id: str, team_id: str, *, engine: Engine | None = None, sqlite_path: Path | None = None
) -> None:
    """Delete a workspace's installations (``forget-workspace``): no key is needed to delete ciphertext.
    On the embedded store the tables may not exist yet (no workspace ever installed): nothing to do."""
    own_engine = engine is None
    engine = engine if engine is not None else _sqlite_engine(sqlite_path)
    try:
        store = SQLAlchemyInstallationStore(client_id=client_id, engine=engine)
        if own_engine:
            store.create_tables()
        store.delete_all(enterprise_id=None, team_id=team_id)
    finally:
        if own_engine:
            engine.dispose()
