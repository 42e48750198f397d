"""Finding papers for ``/papers search``: Hugging Face first, the bot's own archive when it fails, and
what a channel was sent. The search use case; the listener renders what it finds.

Why the fallbacks live here: Slack gives a slash command ~3 s for a useful answer, Hugging Face's
search sometimes takes longer or fails, and the archive (every day list this process fetched) can
answer most queries on its own. Taking only what it needs (the HF client, the day feed, the archive,
the ledger) keeps it testable without Slack.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass
from datetime import date

from bot.errors import HFError
from bot.feed.archive import Archive
from bot.feed.hf import DayFeed, HFClient
from bot.feed.papers import Paper
from bot.models import RunKind, RunState
from bot.store.base import Store

__all__ = ["Found", "PaperFinder", "PostedAt"]

logger = logging.getLogger(__name__)

SEARCH_DEADLINE = 2.5  # seconds for Hugging Face, of Slack's patience of ~3 s for a useful answer
POSTED_FETCH_WORKERS = 3  # day lists read at once for --posted; HF's rate limit is shared with the daily post
POSTED_FETCH_RESERVE = 1.0  # seconds of the search deadline kept for those reads when the archive is still loading


@dataclass(frozen=True)
class Found:
    """Papers for a query; ``from_archive`` when Hugging Face failed and the archive answered."""

    papers: list[Paper]
    from_archive: bool = False


@dataclass(frozen=True)
class PostedAt:
    """The newest post in a channel that carried a paper: its local day and first message."""

    day: date
    ts: str
    sources: tuple[date, ...] = ()  # the Hugging Face day lists the post's papers came from


class PaperFinder:
    def __init__(self, hf: HFClient, feed: DayFeed, archive: Archive, store: Store) -> None:
        self.hf = hf
        self.feed = feed
        self.archive = archive
        self.store = store

    @staticmethod
    def deadline() -> float:
        return time.monotonic() + SEARCH_DEADLINE

    def text(self, query: str, limit: int) -> Found | None:
        """Hugging Face's search, else the archive's; ``None`` when both are out (HF down, archive empty)."""
        try:
            papers = self.hf.search(query, limit=limit, deadline=self.deadline())
        except HFError as exc:
            logger.warning("Hugging Face search failed (%s); answering from the archive", exc)
            if not len(self.archive):
                return None
            return Found(self.archive.search(query, limit=limit), from_archive=True)
        return Found(papers)

    def paper(self, arxiv_id: str) -> Found:
        """One paper by id (with its linked models, datasets, Spaces); the archive's copy when Hugging
        Face fails; raises ``HFError`` when neither has it."""
        try:
            paper = self.hf.paper(arxiv_id, deadline=self.deadline())
        except HFError as exc:
            archived = self.archive.get(arxiv_id)
            if archived is None:
                raise
            logger.warning("Hugging Face paper lookup failed (%s); answering from the archive", exc)
            return Found([archived], from_archive=True)
        return Found([paper] if paper is not None else [])

    def with_archived_details(self, paper: Paper) -> Paper:
        """Search hits lack GitHub, project page, organisation and Daily-Papers day; the archive may know them."""
        archived = self.archive.get(paper.key)
        if archived is None or archived is paper:
            return paper
        return dataclasses.replace(
            paper,
            day=paper.day or archived.day,
            github_repo=paper.github_repo or archived.github_repo,
            github_stars=paper.github_stars if paper.github_stars is not None else archived.github_stars,
            project_page=paper.project_page or archived.project_page,
            organization=paper.organization or archived.organization,
            organization_id=paper.organization_id or archived.organization_id,
        )

    def posted(self, channel_id: str) -> dict[str, PostedAt]:
        """Paper key → the newest post that carried it (a digest's link is its first message)."""
        posted: dict[str, PostedAt] = {}
        for run in self.store.runs(channel_id):  # oldest first, so newer posts overwrite
            # Digests only: a follow-up reply names a paper too, but it is not the post that carried it.
            if run.kind == RunKind.DIGEST and run.state == RunState.POSTED and run.ts:
                for key in run.paper_keys:
                    posted[key] = PostedAt(run.local_date, run.ts[0], run.days)
        return posted

    def look_up_posted(self, wanted: dict[str, tuple[date, ...]]) -> int:
        """Fetch the day lists of ``wanted`` papers that this process's archive lacks; return how many of
        those papers are still unknown because Hugging Face did not give their day in time.

        Why: the ledger (in the database) says what was posted, but the papers' texts live in the archive
        on the local disk, which holds only the days *this* process fetched. A web process beside a
        PostgreSQL worker, or a host whose disk was wiped, has not fetched them. Only the missing days
        are read, newest first, a few at a time, within the search deadline; each lands in the archive,
        so the next search reads none of them again.
        """
        archive = self.archive
        deadline = self.deadline()
        archive.wait_loaded(max(deadline - time.monotonic() - POSTED_FETCH_RESERVE, 0.0))  # the disk first
        absent = {key: days for key, days in wanted.items() if key not in archive}
        days = sorted({day for days in absent.values() for day in days if not archive.has_day(day)}, reverse=True)
        if not days:
            return 0
        failed = set(self.feed.fetch_days(days, deadline=deadline, workers=POSTED_FETCH_WORKERS))
        return sum(1 for key, days in absent.items() if key not in archive and failed.intersection(days))
