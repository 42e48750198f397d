"""Follow-ups in the thread (issue 17): what the daily check knows about each posted paper, per workspace.

One row per (workspace, paper key): the paper's linked repository and model/dataset/Space counts when
the bot first looked, what appeared since and when, and the day of the latest look (Hugging Face is
asked once per paper per day). The replies themselves are ledger entries of kind ``follow-up``
(revision 0002 made room for kinds).

Revision ID: 0003_follow_ups
Revises: 0002
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003_follow_ups"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "paper_watches",
        sa.Column("team_id", sa.Text(), nullable=False),
        sa.Column("paper_key", sa.Text(), nullable=False),
        sa.Column("checked_on", sa.Date(), nullable=False),
        sa.Column("doc", JSONB(), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "paper_key", name="paper_watches_team_paper_key"),
    )
    op.create_index("paper_watches_checked_on_idx", "paper_watches", ["checked_on"])


def downgrade() -> None:
    op.drop_index("paper_watches_checked_on_idx", table_name="paper_watches")
    op.drop_table("paper_watches")
