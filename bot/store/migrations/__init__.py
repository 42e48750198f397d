"""Alembic migrations of the PostgreSQL schema, run programmatically when a ``SqlStore`` opens.

Packaged inside ``bot`` (with ``__init__.py`` files, found by ``pip install``) instead of a top-level
``alembic/`` folder, so an installed papers-bot can upgrade its database without the source tree.
Several processes may start at once: the upgrade runs in one transaction that first takes a
transaction-level advisory lock, so one process migrates and the others then find nothing to do.
"""

from __future__ import annotations

import logging
import zlib
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Engine, text

from bot.errors import StoreError

__all__ = ["MIGRATE_LOCK_KEY", "alembic_config", "head_revision", "upgrade"]

logger = logging.getLogger(__name__)  # one line per upgrade; alembic's own INFO lines are off (bot/logs.py)

HERE = Path(__file__).resolve().parent
MIGRATE_LOCK_KEY = zlib.crc32(b"papers-bot/migrate")  # any fixed 64-bit number; must not equal the leader key


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", str(HERE / "versions"))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def upgrade(engine: Engine, where: str) -> None:
    """Bring the schema (the connection's ``search_path``) to the newest revision, in one transaction."""
    config = alembic_config()
    with engine.begin() as connection:
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATE_LOCK_KEY})
        config.attributes["connection"] = connection
        before = MigrationContext.configure(connection).get_current_revision()
        try:
            command.upgrade(config, "head")
        except CommandError as exc:
            if "Can't locate revision" in str(exc):
                raise StoreError(
                    f"The database {where} was written by a newer papers-bot ({exc}); "
                    "upgrade papers-bot or restore an older backup."
                ) from exc
            raise StoreError(f"Cannot migrate the database {where}: {exc}") from exc
        after = MigrationContext.configure(connection).get_current_revision()
        if after != before:
            logger.info("database %s: schema upgraded from %s to %s", where, before or "empty", after)
