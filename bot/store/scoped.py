"""One workspace's view of the store: every call carries that workspace, none can name another.

Why: a request from workspace B must never read or change workspace A's channels, even where the
channel ids are the same (``C0123`` in A is another channel than ``C0123`` in B). Listeners and the
use cases they call (``ChannelEditor``, ``PaperFinder``) receive this view from
``Services.for_team``, so isolation does not depend on every call remembering a ``team_id``: a
channel they create belongs to the view's workspace, and a call that names another workspace fails.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from datetime import date, datetime

from bot.models import ChannelConfig, PaperRef, PaperWatch, RunRecord, SavedPaper, Signal, Workspace
from bot.store.base import Store

__all__ = ["CrossWorkspaceError", "TeamStore"]


class CrossWorkspaceError(ValueError):
    """A call through one workspace's view named another workspace's record: a bug, refused."""


class TeamStore:
    def __init__(self, store: Store, team_id: str) -> None:
        self.store = store
        self.team_id = team_id

    def _team(self, team_id: str | None) -> str:
        if team_id not in (None, "", self.team_id):
            raise CrossWorkspaceError(f"workspace {self.team_id}'s view was asked about workspace {team_id}")
        return self.team_id

    def _own(self, record: RunRecord) -> RunRecord:
        return record.replace(team_id=self._team(record.team_id))

    # -- channels ------------------------------------------------------------------------------------

    def get_channel(self, channel_id: str, *, team_id: str = "") -> ChannelConfig | None:
        return self.store.get_channel(channel_id, team_id=self._team(team_id))

    def channels(self, *, team_id: str | None = None) -> list[ChannelConfig]:
        return self.store.channels(team_id=self._team(team_id))

    def update_channel(
        self, channel_id: str, change: Callable[[ChannelConfig], ChannelConfig], *, team_id: str = ""
    ) -> ChannelConfig:
        team = self._team(team_id)

        def own(config: ChannelConfig) -> ChannelConfig:
            changed = change(config)
            # A change may only edit the channel's settings: its workspace is the view's.
            return changed.replace(team_id=team) if isinstance(changed, ChannelConfig) else changed

        return self.store.update_channel(channel_id, own, team_id=team)

    # -- the ledger ----------------------------------------------------------------------------------

    def posted_keys(self, channel_id: str, *, team_id: str = "") -> set[str]:
        return self.store.posted_keys(channel_id, team_id=self._team(team_id))

    def get_run(self, channel_id: str, local_date: date, *, team_id: str = "") -> RunRecord | None:
        return self.store.get_run(channel_id, local_date, team_id=self._team(team_id))

    def get_entry(self, channel_id: str, kind: str, period: str, *, team_id: str = "") -> RunRecord | None:
        return self.store.get_entry(channel_id, kind, period, team_id=self._team(team_id))

    def get_runs(self, keys: Iterable[tuple[str, date]], *, team_id: str = "") -> dict[tuple[str, date], RunRecord]:
        return self.store.get_runs(keys, team_id=self._team(team_id))

    def claim_run(self, record: RunRecord) -> bool:
        return self.store.claim_run(self._own(record))

    def finish_run(self, record: RunRecord) -> None:
        self.store.finish_run(self._own(record))

    def fail_run(self, record: RunRecord) -> None:
        self.store.fail_run(self._own(record))

    def runs(self, channel_id: str | None = None, *, team_id: str = "") -> list[RunRecord]:
        team = self._team(team_id)
        if channel_id is None:
            return [r for r in self.store.runs() if r.team_id == team]
        return self.store.runs(channel_id, team_id=team)

    def open_runs(self, channel_id: str, *, team_id: str = "") -> list[RunRecord]:
        return self.store.open_runs(channel_id, team_id=self._team(team_id))

    def prune(self, before: date) -> int:
        raise CrossWorkspaceError("pruning is the whole store's job, not one workspace's")

    def adopt_unowned(self, team_id: str) -> int:
        raise CrossWorkspaceError("adopting records is the whole store's job, not one workspace's")

    # -- follow-ups in the thread (issue 17) -----------------------------------------------------------

    def ledger_since(self, kind: str, since: date) -> list[RunRecord]:
        return [r for r in self.store.ledger_since(kind, since) if r.team_id == self.team_id]

    def paper_watches(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], PaperWatch]:
        return self.store.paper_watches([(self._team(team), key) for team, key in keys])

    def save_paper_watches(self, watches: Iterable[PaperWatch]) -> None:
        self.store.save_paper_watches([w.replace(team_id=self._team(w.team_id)) for w in watches])

    def prune_paper_watches(self, checked_before: date) -> int:
        raise CrossWorkspaceError("pruning is the whole store's job, not one workspace's")

    # -- the team layer (issue 16): reading lists, signals, one-paper messages -------------------------

    def save_paper(self, saved: SavedPaper) -> bool:
        return self.store.save_paper(dataclasses.replace(saved, team_id=self._team(saved.team_id)))

    def saved_papers(self, team_id: str, user_id: str) -> list[SavedPaper]:
        return self.store.saved_papers(self._team(team_id), user_id)

    def reading_list(self, team_id: str, user_id: str, *, offset: int, limit: int) -> tuple[list[SavedPaper], int, int]:
        return self.store.reading_list(self._team(team_id), user_id, offset=offset, limit=limit)

    def set_read(self, team_id: str, user_id: str, key: str, read_at: datetime | None) -> bool:
        return self.store.set_read(self._team(team_id), user_id, key, read_at)

    def remove_saved(self, team_id: str, user_id: str, key: str) -> bool:
        return self.store.remove_saved(self._team(team_id), user_id, key)

    def save_counts(self, team_id: str, keys: Iterable[str]) -> dict[str, int]:
        return self.store.save_counts(self._team(team_id), keys)

    def add_signal(self, signal: Signal) -> bool:
        return self.store.add_signal(dataclasses.replace(signal, team_id=self._team(signal.team_id)))

    def remove_signal(self, signal: Signal) -> bool:
        return self.store.remove_signal(dataclasses.replace(signal, team_id=self._team(signal.team_id)))

    def signals(self, team_id: str, *, since: datetime, channel_ids: Iterable[str] | None = None) -> list[Signal]:
        return self.store.signals(self._team(team_id), since=since, channel_ids=channel_ids)

    def signal_counts(
        self, team_id: str, *, since: datetime, channel_ids: Iterable[str] | None = None, per_channel: int = 3
    ) -> list[tuple[str, PaperRef, int]]:
        return self.store.signal_counts(
            self._team(team_id), since=since, channel_ids=channel_ids, per_channel=per_channel
        )

    def remember_message(self, team_id: str, channel_id: str, ts: str, paper: PaperRef) -> None:
        self.store.remember_message(self._team(team_id), channel_id, ts, paper)

    def message_paper(self, team_id: str, channel_id: str, ts: str) -> PaperRef | None:
        return self.store.message_paper(self._team(team_id), channel_id, ts)

    def prune_signals(self, before: datetime) -> int:
        raise CrossWorkspaceError("pruning is the whole store's job, not one workspace's")

    def forget_user(self, team_id: str, user_id: str) -> tuple[int, int]:
        return self.store.forget_user(self._team(team_id), user_id)

    # -- the workspace's own record ------------------------------------------------------------------

    def save_workspace(self, workspace: Workspace) -> None:
        self._team(workspace.team_id)
        self.store.save_workspace(workspace)

    def get_workspace(self, team_id: str) -> Workspace | None:
        return self.store.get_workspace(self._team(team_id))

    def workspaces(self) -> list[Workspace]:
        return [w for w in self.store.workspaces() if w.team_id == self.team_id]

    def forget_workspace(self, team_id: str) -> int:
        return self.store.forget_workspace(self._team(team_id))

    def close(self) -> None:
        """The view does not own the store."""
