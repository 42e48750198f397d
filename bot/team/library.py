"""The team layer's use cases: saving papers, the reading list, signals, team picks, forgetting a person.

Why one class: every way in (the Save button on any card, the *Save paper* shortcut, a share, a
reaction, the Home tab's buttons, ``/papers forget me``) must key its records by workspace, copy the
paper's metadata the same way and record the same signal; written once here, listeners stay thin.
It takes only what it needs (store, archive, Hugging Face, clock), not the ``Services`` bag.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from bot.errors import HFError
from bot.feed.archive import Archive
from bot.feed.hf import HFClient
from bot.feed.papers import ARXIV_ID_RE, Paper, arxiv_key
from bot.models import PaperRef, SavedPaper, Signal, SignalKind
from bot.store import Store
from bot.team.picks import picks_from_counts
from bot.ui.home import PAGE_SIZE, PICKS_PER_CHANNEL, home_view

__all__ = ["PICKS_WINDOW", "SaveResult", "TeamLibrary", "ref_of"]

logger = logging.getLogger(__name__)

PICKS_WINDOW = timedelta(days=7)  # "this week": the last seven days, whatever the weekday
LOOKUP_DEADLINE = 2.0  # seconds Hugging Face gets for a paper the archive lacks (a person is waiting)
MEMBERSHIP_TTL = 600.0  # seconds a person's channel list is reused for their Home tab


def ref_of(paper: Paper) -> PaperRef:
    """What the team layer keeps of a paper (title, authors in order, dates, upvotes)."""
    return PaperRef(paper.key, paper.title, paper.authors, paper.published, paper.day, paper.upvotes)


@dataclass(frozen=True)
class SaveResult:
    """What a save did: the papers newly saved, those already in the list, the ids not understood."""

    saved: list[PaperRef] = field(default_factory=list)
    already: list[PaperRef] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)


class TeamLibrary:
    def __init__(
        self,
        store: Store,
        archive: Archive,
        hf: HFClient | None,
        clock: Callable[[], datetime],
    ) -> None:
        self.store = store
        self.archive = archive
        self.hf = hf
        self.clock = clock
        self._members: dict[tuple[str, str], tuple[float, list[str]]] = {}
        self._members_lock = threading.Lock()

    def for_store(self, store: Store) -> TeamLibrary:
        """The same library over another view of the store (one workspace's ``TeamStore``), sharing the
        membership cache, which is keyed by workspace and person already."""
        scoped = TeamLibrary(store, self.archive, self.hf, self.clock)
        scoped._members, scoped._members_lock = self._members, self._members_lock
        return scoped

    # --- papers ------------------------------------------------------------------------------------

    def paper(self, key: str, *, deadline: float | None = None) -> PaperRef:
        """The paper's metadata: from the archive, else Hugging Face (within ``deadline``), else only its
        id, so a save is never lost because Hugging Face is slow (the list shows ``arXiv <id>``)."""
        archived = self.archive.get(key)
        if archived is not None:
            return ref_of(archived)
        if self.hf is not None:
            try:
                found = self.hf.paper(key, deadline=deadline or time.monotonic() + LOOKUP_DEADLINE)
            except HFError as exc:
                logger.info("paper %s: Hugging Face unavailable (%s); saved by id only", key, exc)
                found = None
            if found is not None:
                return ref_of(found)
        return PaperRef(key)

    # --- saving ------------------------------------------------------------------------------------

    def save(self, team_id: str, user_id: str, keys: Iterable[str], *, channel_id: str = "") -> SaveResult:
        """Save papers to a person's list; from a channel, each save is also that channel's signal."""
        result = SaveResult()
        now = self.clock()
        deadline = time.monotonic() + LOOKUP_DEADLINE
        for raw in keys:
            key = arxiv_key(raw)
            if not ARXIV_ID_RE.match(key):
                result.invalid.append(raw)
                continue
            paper = self.paper(key, deadline=deadline)
            new = self.store.save_paper(SavedPaper(team_id, user_id, paper, now))
            (result.saved if new else result.already).append(paper)
            if channel_id:
                self.store.add_signal(Signal(team_id, channel_id, user_id, SignalKind.SAVE, paper, now))
        return result

    def save_count(self, team_id: str, key: str) -> int:
        return self.store.save_counts(team_id, [key]).get(key, 0)

    def mark(self, team_id: str, user_id: str, key: str, *, read: bool) -> bool:
        return self.store.set_read(team_id, user_id, key, self.clock() if read else None)

    def remove(self, team_id: str, user_id: str, key: str) -> bool:
        return self.store.remove_saved(team_id, user_id, key)

    def saved(self, team_id: str, user_id: str) -> list[SavedPaper]:
        return self.store.saved_papers(team_id, user_id)

    def forget(self, team_id: str, user_id: str) -> tuple[int, int]:
        """Everything stored about the person in this workspace goes: their list and their signals."""
        with self._members_lock:
            self._members.pop((team_id, user_id), None)
        return self.store.forget_user(team_id, user_id)

    # --- signals -----------------------------------------------------------------------------------

    def shared(self, team_id: str, channel_id: str, user_id: str, paper: Paper, ts: str) -> None:
        """A person shared ``paper`` into a channel (message ``ts``): a signal, and reactions on that
        one-paper message count for it from now on."""
        ref = ref_of(paper)
        self.store.add_signal(Signal(team_id, channel_id, user_id, SignalKind.SHARE, ref, self.clock()))
        if ts:
            self.store.remember_message(team_id, channel_id, ts, ref)

    def posted_alone(self, team_id: str, channel_id: str, ts: str, paper: Paper) -> None:
        """The bot posted a message showing only ``paper`` (a digest page of one card, a shared card)."""
        self.store.remember_message(team_id, channel_id, ts, ref_of(paper))

    def reaction(
        self, team_id: str, channel_id: str, ts: str, user_id: str, reaction: str, *, added: bool
    ) -> PaperRef | None:
        """A reaction added to (or removed from) a message: a signal when the message is one of the
        bot's one-paper messages; returns that paper, or None when the message is anything else."""
        paper = self.store.message_paper(team_id, channel_id, ts)
        if paper is None or not user_id or not reaction:
            return None
        signal = Signal(team_id, channel_id, user_id, SignalKind.REACTION, paper, self.clock(), reaction[:100])
        if added:
            self.store.add_signal(signal)
        else:
            self.store.remove_signal(signal)
        return paper

    # --- the Home tab ------------------------------------------------------------------------------

    def channels_of(self, team_id: str, user_id: str, fetch: Callable[[], list[str]]) -> list[str]:
        """The person's channels, asked of Slack at most every ``MEMBERSHIP_TTL`` seconds (``fetch``)."""
        key, now = (team_id, user_id), time.monotonic()
        with self._members_lock:
            cached = self._members.get(key)
        if cached is not None and now - cached[0] < MEMBERSHIP_TTL:
            return cached[1]
        channels = fetch()
        with self._members_lock:
            self._members[key] = (now, channels)
        return channels

    def home(
        self,
        team_id: str,
        user_id: str,
        *,
        offset: int = 0,
        channels: Sequence[str] | None = (),
        notice: str = "",
    ) -> dict[str, Any]:
        """The person's Home tab: their reading list from ``offset`` and the team picks of ``channels``
        (the channels they are in; None: every channel of the workspace, () none)."""
        page, total, unread = self.store.reading_list(team_id, user_id, offset=offset, limit=PAGE_SIZE)
        if not page and offset:  # the list shrank under this page: show its last page
            offset = max(0, (total - 1) // PAGE_SIZE * PAGE_SIZE)
            page, total, unread = self.store.reading_list(team_id, user_id, offset=offset, limit=PAGE_SIZE)
        counts = self.store.save_counts(team_id, [item.key for item in page]) if page else {}
        picks = []
        if channels is None or channels:
            since = self.clock() - PICKS_WINDOW
            people = self.store.signal_counts(team_id, since=since, channel_ids=channels, per_channel=PICKS_PER_CHANNEL)
            picks = picks_from_counts(people, per_channel=PICKS_PER_CHANNEL)
        today: date = self.clock().date()
        return home_view(
            page, total=total, unread=unread, today=today, offset=offset, saved_by=counts, picks=picks, notice=notice
        )
