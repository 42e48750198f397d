"""The first schema: channels, the run ledger and the posted-paper ledger.

Documents (``ChannelConfig``/``RunRecord`` in their JSON form) live in JSONB columns so that the
PostgreSQL and TinyDB backends keep one shape; the columns beside them exist for the constraints that
make the guarantees hold across processes: one run per (channel, local date), one posted row per
(channel, paper).

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channels",
        sa.Column("channel_id", sa.Text(), primary_key=True),
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=True), nullable=False),  # insertion order
        sa.Column("doc", JSONB(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_table(
        "runs",
        sa.Column("channel_id", sa.Text(), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("doc", JSONB(), nullable=False),
        sa.PrimaryKeyConstraint("channel_id", "local_date", name="runs_channel_date_key"),
    )
    op.create_index("runs_local_date_idx", "runs", ["local_date"])
    op.create_table(
        "posted",
        sa.Column("channel_id", sa.Text(), nullable=False),
        sa.Column("paper_key", sa.Text(), nullable=False),
        sa.Column("day", sa.Date(), nullable=True),  # the Hugging Face day it was first posted for
        sa.Column("posted_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("channel_id", "paper_key", name="posted_channel_paper_key"),
    )


def downgrade() -> None:
    op.drop_table("posted")
    op.drop_index("runs_local_date_idx", table_name="runs")
    op.drop_table("runs")
    op.drop_table("channels")
