"""The storage contract every backend (TinyDB today, PostgreSQL later) fulfils identically.

All methods are safe to call from several threads at once: Bolt runs listeners on a thread pool while
the scheduler posts. Each method is one atomic step; a crash between two calls leaves the state of
the last completed call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Protocol

from bot.models import ChannelConfig, RunRecord, Workspace

__all__ = ["SCHEMA_VERSION", "Store"]

SCHEMA_VERSION = 2


class Store(Protocol):
    """Every record belongs to a workspace (``team_id``): a channel id is unique only within its
    workspace, so each channel-keyed method takes the workspace as ``team_id``. The default "" is
    the workspace of records stored before workspaces were recorded; production code passes it
    explicitly, or works through ``scoped(team_id)`` (``TeamStore``), which passes it always."""

    def get_channel(self, channel_id: str, *, team_id: str = "") -> ChannelConfig | None:
        """The channel's record, or None if the bot never heard of it."""

    def channels(self, *, team_id: str | None = None) -> list[ChannelConfig]:
        """Every known channel, subscribed or not: of one workspace, or (``None``) of all of them."""

    def update_channel(
        self, channel_id: str, change: Callable[[ChannelConfig], ChannelConfig], *, team_id: str = ""
    ) -> ChannelConfig:
        """Atomically read, change and write one channel (created as ``ChannelConfig(channel_id,
        team_id=team_id)`` when missing); returns what was stored. ``change`` may raise to abort:
        nothing is written. It must return the same (workspace, channel)."""

    def posted_keys(self, channel_id: str, *, team_id: str = "") -> set[str]:
        """arXiv ids (no version) already posted in this channel."""

    def get_run(self, channel_id: str, local_date: date, *, team_id: str = "") -> RunRecord | None:
        """The channel's digest for this local date."""

    def get_entry(self, channel_id: str, kind: str, period: str, *, team_id: str = "") -> RunRecord | None:
        """The ledger entry of any kind: ``("C1", "recap", "2026-W49")``, ``("C1", "follow-up", "2608.01234")``."""

    def get_runs(self, keys: Iterable[tuple[str, date]], *, team_id: str = "") -> dict[tuple[str, date], RunRecord]:
        """The ledger entries of many (channel, local date) pairs of one workspace in one query: the
        scheduler's minute tick asks for every channel of a workspace at once."""

    def claim_run(self, record: RunRecord) -> bool:
        """Record the intent to post before calling Slack. False when the (workspace, channel, kind,
        period) already has a run that is not FAILED; a FAILED run is replaced (attempts + 1)."""

    def finish_run(self, record: RunRecord) -> None:
        """Store the run's final record (POSTED or NOTHING). For POSTED, its paper keys join the
        channel's posted ledger; the channel's ``last_day`` advances to the newest of
        ``record.days``. One write, so a crash leaves either all of it or none."""

    def fail_run(self, record: RunRecord) -> None:
        """Mark the run FAILED: Slack refused before anything was posted, so it may be retried."""

    def runs(self, channel_id: str | None = None, *, team_id: str = "") -> list[RunRecord]:
        """Ledger entries, of one channel or (``None``) of every workspace, oldest first."""

    def open_runs(self, channel_id: str, *, team_id: str = "") -> list[RunRecord]:
        """The channel's digests still CLAIMED or owing a continuation (``unsent``), oldest first.

        Every plan reads these (their papers are spoken for); a channel keeps up to 120 days of
        ledger, so reading only the open few keeps a 1,000-channel run from decoding 120,000 rows."""

    def prune(self, before: date) -> int:
        """Drop run records with a local date before ``before``; returns how many went.
        Posted paper keys are kept (they are small and make "never twice" hold forever)."""

    def adopt_unowned(self, team_id: str) -> int:
        """Records stored without a workspace ("") join ``team_id``: in single-token mode the bot
        serves one workspace, so they are its own. Where the workspace already has the same key, its
        own record wins. Returns how many channels moved."""

    # ----- workspaces (issue 15: "Add to Slack" for many workspaces) ------------------------------
    # The installations themselves (tokens, encrypted) are slack_sdk's stores in the same database
    # (bot/slack/installations.py); these records say when a workspace came and went.

    def save_workspace(self, workspace: Workspace) -> None:
        """Insert or replace the workspace's record."""

    def get_workspace(self, team_id: str) -> Workspace | None:
        """The workspace's record, or None if it never installed the app through OAuth."""

    def workspaces(self) -> list[Workspace]:
        """Every workspace record, by team id."""

    def forget_workspace(self, team_id: str) -> int:
        """Delete everything stored for the workspace: its channels, their runs and posted papers,
        and its record. Returns how many channels went."""

    def close(self) -> None:
        """Flush and release the database (and its process lock)."""
