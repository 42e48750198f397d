"""Alembic's entry point. Only the programmatic path is supported: ``upgrade()`` hands in an open
connection (inside its transaction and advisory lock) through ``config.attributes``."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("papers-bot migrations run from bot.store.migrations.upgrade(), not the alembic CLI")

context.configure(connection=connection, target_metadata=None, transaction_per_migration=False)
with context.begin_transaction():
    context.run_migrations()
