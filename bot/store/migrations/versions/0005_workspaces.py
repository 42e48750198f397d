"""Workspaces for "Add to Slack" (issue 15): the workspace joins every key (a channel id is unique
only within its workspace), the workspace records, and the tables of slack_sdk's SQLAlchemy
installation and OAuth state stores (``bot/slack/installations.py``).

Existing rows take their workspace from what they recorded: a channel from its document's
``team_id``, a run from its ``team_id`` column (or its channel's), a posted paper from its channel
(when that channel id belongs to one workspace only). What had none keeps "" and is adopted by the
bot's own workspace at the next start in single-token mode (``Store.adopt_unowned``).

The tables of the revisions before this one (``paper_watches``, 0003; ``saved``, ``signals``,
``paper_messages``, 0004) were keyed by workspace from the start, so they need nothing here; rows of
theirs stored without one are adopted like the rest.

The installation tables mirror slack_sdk 3.x's ``SQLAlchemyInstallationStore`` (``slack_installations``,
``slack_bots``) and ``SQLAlchemyOAuthStateStore`` (``slack_oauth_states``), frozen here so a later
slack_sdk cannot change the schema under a running database. One deliberate difference: the token
columns are ``text``, not ``varchar(200)``, because they hold Fernet ciphertext (about 2.3 times the
token, and rotating tokens are longer than classic ones).

Revision ID: 0005_workspaces
Revises: 0004_team_layer
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0005_workspaces"
down_revision = "0004_team_layer"
branch_labels = None
depends_on = None

_S = sa.String


# A channel id that belongs to exactly one workspace: the team it belongs to.
_ONLY_TEAM = """
    SELECT channel_id, min(team_id) AS team_id FROM channels WHERE team_id <> ''
    GROUP BY channel_id HAVING count(*) = 1
"""


def upgrade() -> None:
    op.add_column("channels", sa.Column("team_id", sa.Text(), nullable=False, server_default=""))
    op.execute("UPDATE channels SET team_id = coalesce(doc->>'team_id', '')")
    op.drop_constraint("channels_pkey", "channels", type_="primary")
    op.create_primary_key("channels_team_channel_key", "channels", ["team_id", "channel_id"])

    op.execute(
        f"UPDATE runs SET team_id = t.team_id FROM ({_ONLY_TEAM}) t "
        "WHERE runs.team_id = '' AND runs.channel_id = t.channel_id"
    )
    op.execute("UPDATE runs SET doc = jsonb_set(doc, '{team_id}', to_jsonb(team_id))")
    op.drop_constraint("runs_channel_kind_period_key", "runs", type_="primary")
    op.create_primary_key("runs_team_channel_kind_period_key", "runs", ["team_id", "channel_id", "kind", "period"])

    op.add_column("posted", sa.Column("team_id", sa.Text(), nullable=False, server_default=""))
    op.execute(f"UPDATE posted SET team_id = t.team_id FROM ({_ONLY_TEAM}) t WHERE posted.channel_id = t.channel_id")
    op.drop_constraint("posted_channel_paper_key", "posted", type_="primary")
    op.create_primary_key("posted_team_channel_paper_key", "posted", ["team_id", "channel_id", "paper_key"])

    op.create_table(
        "workspaces",
        sa.Column("team_id", sa.Text(), primary_key=True),
        sa.Column("doc", JSONB(), nullable=False),
    )
    op.create_table(
        "slack_installations",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("client_id", _S(32), nullable=False),
        sa.Column("app_id", _S(32), nullable=False),
        sa.Column("enterprise_id", _S(32)),
        sa.Column("enterprise_name", _S(200)),
        sa.Column("enterprise_url", _S(200)),
        sa.Column("team_id", _S(32)),
        sa.Column("team_name", _S(200)),
        sa.Column("bot_token", sa.Text()),
        sa.Column("bot_id", _S(32)),
        sa.Column("bot_user_id", _S(32)),
        sa.Column("bot_scopes", _S(1000)),
        sa.Column("bot_refresh_token", sa.Text()),
        sa.Column("bot_token_expires_at", sa.DateTime()),
        sa.Column("user_id", _S(32), nullable=False),
        sa.Column("user_token", sa.Text()),
        sa.Column("user_scopes", _S(1000)),
        sa.Column("user_refresh_token", sa.Text()),
        sa.Column("user_token_expires_at", sa.DateTime()),
        sa.Column("incoming_webhook_url", _S(200)),
        sa.Column("incoming_webhook_channel", _S(200)),
        sa.Column("incoming_webhook_channel_id", _S(200)),
        sa.Column("incoming_webhook_configuration_url", _S(200)),
        sa.Column("is_enterprise_install", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("token_type", _S(32)),
        sa.Column("installed_at", sa.DateTime(), nullable=False, server_default=sa.func.now()),
    )
    op.create_index(
        "slack_installations_idx",
        "slack_installations",
        ["client_id", "enterprise_id", "team_id", "user_id", "installed_at"],
    )
    op.create_table(
        "slack_bots",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("client_id", _S(32), nullable=False),
        sa.Column("app_id", _S(32), nullable=False),
        sa.Column("enterprise_id", _S(32)),
        sa.Column("enterprise_name", _S(200)),
        sa.Column("team_id", _S(32)),
        sa.Column("team_name", _S(200)),
        sa.Column("bot_token", sa.Text()),
        sa.Column("bot_id", _S(32)),
        sa.Column("bot_user_id", _S(32)),
        sa.Column("bot_scopes", _S(1000)),
        sa.Column("bot_refresh_token", sa.Text()),
        sa.Column("bot_token_expires_at", sa.DateTime()),
        sa.Column("is_enterprise_install", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("installed_at", sa.DateTime(), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("slack_bots_idx", "slack_bots", ["client_id", "enterprise_id", "team_id", "installed_at"])
    op.create_table(
        "slack_oauth_states",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("state", _S(200), nullable=False),
        sa.Column("expire_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("slack_oauth_states")
    op.drop_index("slack_bots_idx", table_name="slack_bots")
    op.drop_table("slack_bots")
    op.drop_index("slack_installations_idx", table_name="slack_installations")
    op.drop_table("slack_installations")
    op.drop_table("workspaces")
    # Back to one namespace of channel ids: refused (a primary key violation) when two workspaces share one.
    op.drop_constraint("posted_team_channel_paper_key", "posted", type_="primary")
    op.create_primary_key("posted_channel_paper_key", "posted", ["channel_id", "paper_key"])
    op.drop_column("posted", "team_id")
    op.drop_constraint("runs_team_channel_kind_period_key", "runs", type_="primary")
    op.create_primary_key("runs_channel_kind_period_key", "runs", ["channel_id", "kind", "period"])
    op.drop_constraint("channels_team_channel_key", "channels", type_="primary")
    op.create_primary_key("channels_pkey", "channels", ["channel_id"])
    op.drop_column("channels", "team_id")
