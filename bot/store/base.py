"""The storage contract every backend (TinyDB today, PostgreSQL later) fulfils identically.

All methods are safe to call from several threads at once: Bolt runs listeners on a thread pool while
the scheduler posts. Each method is one atomic step; a crash between two calls leaves the state of
the last completed call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Protocol

from bot.models import ChannelConfig, PaperWatch, RunRecord

__all__ = ["SCHEMA_VERSION", "Store"]

SCHEMA_VERSION = 2


class Store(Protocol):
    def get_channel(self, channel_id: str) -> ChannelConfig | None:
        """The channel's record, or None if the bot never heard of it."""

    def channels(self) -> list[ChannelConfig]:
        """Every known channel, subscribed or not."""

    def update_channel(self, channel_id: str, change: Callable[[ChannelConfig], ChannelConfig]) -> ChannelConfig:
        """Atomically read, change and write one channel (created as ``ChannelConfig(channel_id)``
        when missing); returns what was stored. ``change`` may raise to abort: nothing is written."""

    def posted_keys(self, channel_id: str) -> set[str]:
        """arXiv ids (no version) already posted in this channel."""

    def get_run(self, channel_id: str, local_date: date) -> RunRecord | None:
        """The channel's digest for this local date."""

    def get_entry(self, channel_id: str, kind: str, period: str) -> RunRecord | None:
        """The ledger entry of any kind: ``("C1", "recap", "2026-W49")``, ``("C1", "follow-up", "2608.01234")``."""

    def get_runs(self, keys: Iterable[tuple[str, date]]) -> dict[tuple[str, date], RunRecord]:
        """The ledger entries of many (channel, local date) pairs in one query: the scheduler's minute
        tick asks for every channel at once instead of once per channel."""

    def claim_run(self, record: RunRecord) -> bool:
        """Record the intent to post before calling Slack. False when the (channel, kind, period)
        already has a run that is not FAILED; a FAILED run is replaced (attempts + 1)."""

    def finish_run(self, record: RunRecord) -> None:
        """Store the run's final record (POSTED or NOTHING). For POSTED, its paper keys join the
        channel's posted ledger; the channel's ``last_day`` advances to the newest of
        ``record.days``. One write, so a crash leaves either all of it or none."""

    def fail_run(self, record: RunRecord) -> None:
        """Mark the run FAILED: Slack refused before anything was posted, so it may be retried."""

    def runs(self, channel_id: str | None = None) -> list[RunRecord]:
        """Ledger entries, of one channel or all, oldest first."""

    def open_runs(self, channel_id: str) -> list[RunRecord]:
        """The channel's digests still CLAIMED or owing a continuation (``unsent``), oldest first.

        Every plan reads these (their papers are spoken for); a channel keeps up to 120 days of
        ledger, so reading only the open few keeps a 1,000-channel run from decoding 120,000 rows."""

    def prune(self, before: date) -> int:
        """Drop run records with a local date before ``before``; returns how many went.
        Posted paper keys are kept (they are small and make "never twice" hold forever)."""

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

    def close(self) -> None:
        """Flush and release the database (and its process lock)."""
