"""A workspace's life with the app: installed, removed (uninstalled or token revoked), forgotten, listed.

Why one use case for all of it: each step touches three places that must agree, the installation
store (the tokens), the poster registry (what this process would post with) and the store (the
workspace's record and its channels). Removal deletes the tokens first, at once: whatever fails
after, no further post can use them. The rest of the workspace's data stays 30 days (a reinstall
picks its channels up again, paused ones resumed) and is then purged by the daily job, or at once by
``python -m bot forget-workspace T…``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from bot.models import ChannelConfig, Workspace
from bot.slack.workspaces import Workspaces
from bot.store import Store

__all__ = ["PURGE_AFTER", "REMOVAL_REASONS", "Installs", "WorkspaceRow", "workspace_rows"]

logger = logging.getLogger(__name__)

PURGE_AFTER = timedelta(days=30)
REMOVAL_REASONS = ("app_uninstalled", "tokens_revoked")


class Tokens(Protocol):
    def delete(self, team_id: str) -> None: ...


@dataclass(frozen=True)
class WorkspaceRow:
    """One line of ``python -m bot workspaces`` (never a token)."""

    team_id: str
    team_name: str
    installed_at: str
    channels: int  # channels with a subscription (running or paused)
    paused: int  # of those, the paused ones
    removed_at: str
    removed_reason: str

    @property
    def status(self) -> str:
        if self.removed_at:
            return f"removed ({self.removed_reason or 'uninstalled'})"
        return "paused" if self.channels and self.paused == self.channels else "installed"


class Installs:
    """``tokens`` is None in single-token mode: there is one workspace and its token is not ours to delete."""

    def __init__(
        self,
        store: Store,
        registry: Workspaces,
        tokens: Tokens | None,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.registry = registry
        self.tokens = tokens
        self.clock = clock

    def _now(self) -> str:
        return self.clock().astimezone(UTC).isoformat(timespec="seconds")

    def installed(self, team_id: str, team_name: str) -> list[str]:
        """Record a completed "Add to Slack"; channels paused by an earlier removal resume. Returns them."""
        previous = self.store.get_workspace(team_id)
        self.store.save_workspace(Workspace(team_id, team_name, installed_at=self._now()))
        self.registry.installed(team_id)
        resumed = []
        for config in self._team_channels(team_id):
            if config.subscribed and config.paused_reason in REMOVAL_REASONS:
                self.store.update_channel(config.channel_id, lambda c: c.replace(paused_reason=""), team_id=team_id)
                resumed.append(config.channel_id)
        logger.info(
            "workspace %s %s the app%s",
            team_id,
            "installed" if previous is None else "reinstalled",
            f"; resumed {len(resumed)} channel(s)" if resumed else "",
        )
        return resumed

    def removed(self, team_id: str, reason: str) -> list[str]:
        """Slack said the app was uninstalled or its bot token revoked: delete the tokens now, pause
        the workspace's channels, and start the 30 days before its data is purged. Returns the
        channels paused now. Safe to repeat (Slack redelivers events)."""
        if self.tokens is not None and team_id:
            self.tokens.delete(team_id)
            self.registry.forget(team_id, reason)
            known = self.store.get_workspace(team_id) or Workspace(team_id)
            if known.installed:
                self.store.save_workspace(known.replace(removed_at=self._now(), removed_reason=reason))
        paused = []
        for config in self._team_channels(team_id):
            if config.subscribed and config.paused_reason != reason:
                self.store.update_channel(
                    config.channel_id, lambda c: c.replace(paused_reason=reason), team_id=config.team_id
                )
                paused.append(config.channel_id)
        return paused

    def forget(self, team_id: str) -> int:
        """Delete everything of the workspace now (tokens, channels, ledger, record); returns the
        number of channels removed."""
        if self.tokens is not None:
            self.tokens.delete(team_id)
        self.registry.forget(team_id, "forgotten")
        removed = self.store.forget_workspace(team_id)
        logger.info("forgot workspace %s: %d channel(s) and their history removed", team_id, removed)
        return removed

    def purge_due(self) -> list[str]:
        """Forget every workspace removed more than ``PURGE_AFTER`` ago (the daily job); returns them."""
        cutoff = self.clock() - PURGE_AFTER
        due = [
            w.team_id
            for w in self.store.workspaces()
            if w.removed_at and datetime.fromisoformat(w.removed_at) <= cutoff
        ]
        for team_id in due:
            self.forget(team_id)
        return due

    def _team_channels(self, team_id: str) -> list[ChannelConfig]:
        """The workspace's channels. In single-token mode also those stored without a team, which
        can only belong to the one workspace; in OAuth mode exactly the team's."""
        oauth = self.tokens is not None
        return [
            c for c in self.store.channels() if c.team_id == team_id or (not oauth and (not c.team_id or not team_id))
        ]


def workspace_rows(store: Store) -> list[WorkspaceRow]:
    """Every workspace the store knows: OAuth installations, and teams that only have channels
    (single-token mode, or channels stored before workspaces were recorded: team "")."""
    channels: dict[str, list[ChannelConfig]] = {}
    for config in store.channels():
        channels.setdefault(config.team_id, []).append(config)
    records = {w.team_id: w for w in store.workspaces()}
    rows = []
    for team_id in sorted(set(records) | set(channels)):
        record = records.get(team_id) or Workspace(team_id)
        subscribed = [c for c in channels.get(team_id, []) if c.subscribed]
        rows.append(
            WorkspaceRow(
                team_id=team_id,
                team_name=record.team_name,
                installed_at=record.installed_at,
                channels=len(subscribed),
                paused=sum(1 for c in subscribed if c.paused_reason),
                removed_at=record.removed_at,
                removed_reason=record.removed_reason,
            )
        )
    return rows
