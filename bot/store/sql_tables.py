"""The PostgreSQL tables as SQLAlchemy Core sees them, for queries.

The schema itself is created and changed only by the Alembic migrations (``migrations/versions``);
these definitions mirror the newest revision and must change together with it.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, DateTime, Integer, MetaData, Table, Text
from sqlalchemy.dialects.postgresql import JSONB

__all__ = [
    "channels_t",
    "paper_messages_t",
    "paper_watches_t",
    "posted_t",
    "runs_t",
    "saved_t",
    "signals_t",
    "workspaces_t",
]

_meta = MetaData()
channels_t = Table(
    "channels",
    _meta,
    Column("team_id", Text, primary_key=True),
    Column("channel_id", Text, primary_key=True),
    Column("seq", BigInteger),
    Column("doc", JSONB, nullable=False),
    Column("updated_at", DateTime(timezone=True)),
)
runs_t = Table(
    "runs",
    _meta,
    Column("team_id", Text, primary_key=True),
    Column("channel_id", Text, primary_key=True),
    Column("kind", Text, primary_key=True),
    Column("period", Text, primary_key=True),
    Column("local_date", Date, nullable=False),
    Column("state", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("doc", JSONB, nullable=False),
)
posted_t = Table(
    "posted",
    _meta,
    Column("team_id", Text, primary_key=True),
    Column("channel_id", Text, primary_key=True),
    Column("paper_key", Text, primary_key=True),
    Column("day", Date),
)
workspaces_t = Table(
    "workspaces",
    _meta,
    Column("team_id", Text, primary_key=True),
    Column("doc", JSONB, nullable=False),
)
# Follow-ups in the thread (issue 17), revision 0003_follow_ups.
paper_watches_t = Table(
    "paper_watches",
    _meta,
    Column("team_id", Text, primary_key=True),
    Column("paper_key", Text, primary_key=True),
    Column("checked_on", Date, nullable=False),
    Column("doc", JSONB, nullable=False),
)

# The team layer (revision 0004_team_layer).
saved_t = Table(
    "saved",
    _meta,
    Column("team_id", Text, primary_key=True),
    Column("user_id", Text, primary_key=True),
    Column("paper_key", Text, primary_key=True),
    Column("saved_at", DateTime(timezone=True), nullable=False),
    Column("read_at", DateTime(timezone=True)),
    Column("paper", JSONB, nullable=False),
)
signals_t = Table(
    "signals",
    _meta,
    Column("team_id", Text, primary_key=True),
    Column("channel_id", Text, primary_key=True),
    Column("paper_key", Text, primary_key=True),
    Column("user_id", Text, primary_key=True),
    Column("kind", Text, primary_key=True),
    Column("reaction", Text, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("paper", JSONB, nullable=False),
)
paper_messages_t = Table(
    "paper_messages",
    _meta,
    Column("team_id", Text, primary_key=True),
    Column("channel_id", Text, primary_key=True),
    Column("ts", Text, primary_key=True),
    Column("paper", JSONB, nullable=False),
)
