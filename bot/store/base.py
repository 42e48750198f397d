"""The storage contract every backend (TinyDB today, PostgreSQL later) fulfils identically.

All methods are safe to call from several threads at once: Bolt runs listeners on a thread pool while
the scheduler posts. Each method is one atomic step; a crash between two calls leaves the state of
the last completed call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from bot.models import ChannelConfig, PaperRef, PaperWatch, RunRecord, SavedPaper, Signal, Workspace

__all__ = ["SCHEMA_VERSION", "Store", "TeamState"]

SCHEMA_VERSION = 2


@dataclass(frozen=True)
class TeamState:
    """The whole team layer of a store (issue 16), as ``migrate-store`` copies and compares it."""

    saved: list[SavedPaper]
    signals: list[Signal]
    messages: list[tuple[str, str, str, PaperRef]]  # (team, channel, ts, paper) of one-paper messages


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

    # --- follow-ups in the thread (issue 17) -------------------------------------------------------

    def ledger_since(self, kind: str, since: date) -> list[RunRecord]:
        """Every channel's ledger entries of ``kind`` with a local date on or after ``since``, in one
        query (the local-date index): the follow-up check reads the digests of the last 14 days and the
        follow-ups already sent without visiting each channel."""

    def paper_watches(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], PaperWatch]:
        """The follow-up state of these (workspace, paper key) pairs; pairs never checked are absent."""

    def save_paper_watches(self, watches: Iterable[PaperWatch]) -> None:
        """Insert or replace these watches, all in one transaction."""

    def prune_paper_watches(self, checked_before: date) -> int:
        """Drop watches last checked before ``checked_before`` (papers out of every window); returns how
        many went."""

    # --- the team layer (issue 16): reading lists, signals, the bot's one-paper messages --------------
    # Keyed by workspace first: nothing here is ever looked up without the caller's ``team_id``.

    def save_paper(self, saved: SavedPaper) -> bool:
        """Put a paper in a person's reading list; False (and nothing changes) when it is already there."""

    def saved_papers(self, team_id: str, user_id: str) -> list[SavedPaper]:
        """A person's reading list: unread first, then newest saved first."""

    def reading_list(self, team_id: str, user_id: str, *, offset: int, limit: int) -> tuple[list[SavedPaper], int, int]:
        """One page of a person's reading list in ``saved_papers``' order, with the list's total and unread
        counts: the Home tab reads only the page it shows, however long the list."""

    def set_read(self, team_id: str, user_id: str, key: str, read_at: datetime | None) -> bool:
        """Mark a saved paper read (``read_at``) or unread (None); False when it is not in the list."""

    def remove_saved(self, team_id: str, user_id: str, key: str) -> bool:
        """Take a paper out of a person's reading list; False when it was not there."""

    def save_counts(self, team_id: str, keys: Iterable[str]) -> dict[str, int]:
        """How many people of the workspace saved each paper (papers nobody saved are left out)."""

    def add_signal(self, signal: Signal) -> bool:
        """Record a signal; False when the same person already gave the same one (a repeated toggle)."""

    def remove_signal(self, signal: Signal) -> bool:
        """Withdraw a signal (a reaction removed); False when there was none."""

    def signals(self, team_id: str, *, since: datetime, channel_ids: Iterable[str] | None = None) -> list[Signal]:
        """The workspace's signals at or after ``since`` (in these channels only, when given), oldest first."""

    def signal_counts(
        self, team_id: str, *, since: datetime, channel_ids: Iterable[str] | None = None, per_channel: int = 3
    ) -> list[tuple[str, PaperRef, int]]:
        """Team picks, counted by the database instead of reading every signal: for each channel, its
        ``per_channel`` papers most people signalled since ``since`` (ties: more upvotes, then the id), as
        (channel, paper, people), by channel then rank."""

    def remember_message(self, team_id: str, channel_id: str, ts: str, paper: PaperRef) -> None:
        """The bot posted a message showing only ``paper``: a reaction on it is a signal for that paper."""

    def message_paper(self, team_id: str, channel_id: str, ts: str) -> PaperRef | None:
        """The paper of one of the bot's one-paper messages, or None for any other message."""

    def prune_signals(self, before: datetime) -> int:
        """Drop signals, and the record of one-paper messages, older than ``before``: picks look back a
        week and a recap a week or two, so months-old signals about people are kept no longer than the
        ledger's runs. Returns how many signals went. Reading lists are the people's own: never pruned."""

    def forget_user(self, team_id: str, user_id: str) -> tuple[int, int]:
        """Remove everything stored about a person in a workspace (reading list, signals); returns
        (saved papers, signals) removed. One transaction."""

    def close(self) -> None:
        """Flush and release the database (and its process lock)."""
