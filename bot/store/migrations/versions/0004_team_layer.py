"""The team layer (issue 16): reading lists, signals for team picks, the bot's one-paper messages.

Every row carries the workspace (``team_id``) first in its key, so nothing is read across workspaces.
A signal is unique per (channel, paper, person, kind, reaction): a repeated toggle cannot count twice.

Revision ID: 0004_team_layer
Revises: 0003_follow_ups
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004_team_layer"
down_revision = "0003_follow_ups"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "saved",
        sa.Column("team_id", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("paper_key", sa.Text(), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paper", JSONB(), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "user_id", "paper_key", name="saved_key"),
    )
    op.create_index("saved_by_paper", "saved", ["team_id", "paper_key"])
    op.create_table(
        "signals",
        sa.Column("team_id", sa.Text(), nullable=False),
        sa.Column("channel_id", sa.Text(), nullable=False),
        sa.Column("paper_key", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("reaction", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paper", JSONB(), nullable=False),
        sa.PrimaryKeyConstraint(
            "team_id", "channel_id", "paper_key", "user_id", "kind", "reaction", name="signals_key"
        ),
    )
    op.create_index("signals_by_time", "signals", ["team_id", "at"])
    op.create_index("signals_by_user", "signals", ["team_id", "user_id"])
    op.create_table(
        "paper_messages",
        sa.Column("team_id", sa.Text(), nullable=False),
        sa.Column("channel_id", sa.Text(), nullable=False),
        sa.Column("ts", sa.Text(), nullable=False),
        sa.Column("paper", JSONB(), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "channel_id", "ts", name="paper_messages_key"),
    )


def downgrade() -> None:
    op.drop_table("paper_messages")
    op.drop_table("signals")
    op.drop_table("saved")
