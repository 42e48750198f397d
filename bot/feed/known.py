"""Day lists for a person waiting on a command: Hugging Face within a deadline, else the bot's saved copy.

Why: ``/papers preview`` and ``/papers today`` used to fetch with the post run's whole retry budget, so
while Hugging Face failed a person waited 46-180 s for an answer. A post run can wait; a person
cannot. Here each day gets the time left until one deadline for the whole answer, and a day Hugging
Face does not give by then comes from the archive (every list the bot fetched), marked so the reply
can say the list may be older. A day neither has is an ``HFError``, as before.
"""

from __future__ import annotations

import threading
import time
from datetime import date, datetime

from bot.errors import HFError
from bot.feed.archive import Archive
from bot.feed.hf import DayFeed
from bot.feed.papers import Paper

__all__ = ["ANSWER_DEADLINE", "KnownDays"]

# Seconds a command's answer may spend on Hugging Face in all: a person is looking at the channel,
# and the search (2.5 s) shows how short that wait should be; a day list is larger, hence more.
ANSWER_DEADLINE = 8.0


class KnownDays:
    """``papers(day, now=…)`` like ``DayFeed``'s, for one answer; ``from_archive`` lists the days that
    came from the saved copy because Hugging Face failed or did not answer in time."""

    def __init__(self, feed: DayFeed, archive: Archive, *, seconds: float = ANSWER_DEADLINE) -> None:
        self._feed = feed
        self._archive = archive
        self._deadline = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._from_archive: set[date] = set()

    def papers(self, day: date, *, now: datetime | None = None) -> list[Paper]:
        try:
            return self._feed.papers(day, now=now, deadline=self._deadline)
        except HFError:
            kept = self._archive.day_papers(day)
            if not kept:
                raise
            with self._lock:
                self._from_archive.add(day)
            return kept

    @property
    def from_archive(self) -> list[date]:
        with self._lock:
            return sorted(self._from_archive)
