"""The ledger's key becomes (channel, kind, period): a digest per local day, a weekly recap per ISO week,
a follow-up per paper, each exactly once; runs also carry the workspace (team id).

Existing runs are digests whose period is their local date.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("runs", sa.Column("kind", sa.Text(), nullable=False, server_default="digest"))
    op.add_column("runs", sa.Column("period", sa.Text(), nullable=True))
    op.add_column("runs", sa.Column("team_id", sa.Text(), nullable=False, server_default=""))
    op.execute("UPDATE runs SET period = to_char(local_date, 'YYYY-MM-DD')")
    op.alter_column("runs", "period", nullable=False)
    op.drop_constraint("runs_channel_date_key", "runs", type_="primary")
    op.create_primary_key("runs_channel_kind_period_key", "runs", ["channel_id", "kind", "period"])


def downgrade() -> None:
    op.execute("DELETE FROM runs WHERE kind <> 'digest'")
    op.drop_constraint("runs_channel_kind_period_key", "runs", type_="primary")
    op.create_primary_key("runs_channel_date_key", "runs", ["channel_id", "local_date"])
    op.drop_column("runs", "team_id")
    op.drop_column("runs", "period")
    op.drop_column("runs", "kind")
