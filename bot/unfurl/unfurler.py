"""Link cards, the use case: a ``link_shared`` event in, one ``chat.unfurl`` out (or nothing), never an
error in the channel.

Flow: the listener hands the event to ``submit``, which returns at once (Slack gets its HTTP 200 within
its 3 seconds); the unfurl runs on this class's own small pool, so a burst of links waiting for Slack's
Tier-3 budget never holds up slash commands on the listener pool. Each paper is looked up through the
per-paper cache (``PaperCache``): Hugging Face's paper page first (``/api/papers/{id}``: upvotes, stars,
linked models/datasets/Spaces); when Hugging Face fails, the archive's copy of the paper from a day
list; when Hugging Face does not know the paper (or failed and the archive lacks it), arXiv's metadata;
when nobody knows it, no card. A Slack refusal is logged, never shown: the message simply keeps Slack's
own preview. The bot stores nothing about the message.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from bot.errors import ArxivError, HFError, SlackError
from bot.feed.archive import Archive
from bot.feed.arxiv import ArxivClient
from bot.feed.hf import HFClient
from bot.feed.papers import ARXIV_ID_RE, Paper
from bot.slack.client import SlackPoster
from bot.ui.render_unfurl import render_unfurl_card
from bot.unfurl.cache import PaperCache
from bot.unfurl.links import LinkShared, parse_link_shared

__all__ = ["Card", "UnfurlStats", "Unfurler"]

logger = logging.getLogger(__name__)

HF_DEADLINE = 8.0  # seconds for all of Hugging Face's attempts for one paper (the card is worth little late)
ARXIV_DEADLINE = 12.0  # arXiv answers every 3 s at most: a few queued papers still fit
# Unfurls in flight. Slack's Tier 3 (40 a minute) needs few, but a burst within it (10 at once, or a
# workspace allowed more) should not queue behind one slow lookup; idle threads cost nothing.
WORKERS = 16


@dataclass(frozen=True, slots=True)
class Card:
    """What a lookup found: the paper and where from (``hf``, ``archive``, ``arxiv``), or nothing."""

    paper: Paper | None
    source: str = ""


@dataclass
class UnfurlStats:
    """Counters for ``/healthz``-style reporting, tests and the benchmark."""

    events: int = 0  # link_shared events with at least one paper link
    unfurled: int = 0  # chat.unfurl calls Slack accepted
    refused: int = 0  # chat.unfurl calls Slack refused (logged only)
    no_card: int = 0  # events where no paper could be found anywhere
    own: int = 0  # events about this bot's own messages, ignored


class Unfurler:
    """Cards for paper links; collaborators injected so tests use the real clients against fakes."""

    def __init__(
        self,
        hf: HFClient,
        *,
        arxiv: ArxivClient | None = None,
        archive: Archive | None = None,
        workers: int = WORKERS,
        ttl: float = 600.0,
        miss_ttl: float = 60.0,
        hf_deadline: float = HF_DEADLINE,
        arxiv_deadline: float = ARXIV_DEADLINE,
    ) -> None:
        self.hf = hf
        self.arxiv = arxiv
        self.archive = archive
        self.hf_deadline = hf_deadline
        self.arxiv_deadline = arxiv_deadline
        self.cache: PaperCache[Card] = PaperCache(
            self._look_up, ttl=ttl, miss_ttl=miss_ttl, is_miss=lambda card: card.paper is None
        )
        self.stats = UnfurlStats()
        self._stats_lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="unfurl")
        self._closed = False
        self._queued = 0  # events submitted and not finished
        self._idle = threading.Condition()

    # -- the listener's side --------------------------------------------------------------------------

    def submit(self, event: Mapping[str, Any], poster: SlackPoster, bot_user_id: str = "") -> bool:
        """Queue the event's unfurl and return at once; False when there is nothing to unfurl (no paper
        link, the bot's own message, or shutting down). ``poster``: the event's workspace's (its token
        and its Tier-3 pace; the listener narrows to that workspace with ``Services.for_team``)."""
        shared = parse_link_shared(event)
        if shared is None or self._closed:
            return False
        if bot_user_id and shared.user == bot_user_id:
            self._count("own")
            return False
        with self._idle:
            self._queued += 1
        self._pool.submit(self._safely, shared, poster)
        return True

    def _safely(self, shared: LinkShared, poster: SlackPoster) -> None:
        try:
            self.unfurl(shared, poster)
        except Exception:  # never let one event's bug surface anywhere but the log
            logger.exception("unfurling %d link(s) failed unexpectedly", len(shared.links))
        finally:
            with self._idle:
                self._queued -= 1
                self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """True once every submitted event has been handled (waited at most ``timeout`` seconds)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._queued == 0, timeout)

    # -- the work --------------------------------------------------------------------------------------

    def unfurl(self, shared: LinkShared, poster: SlackPoster) -> dict[str, dict[str, Any]]:
        """Look the papers up and send their cards with ``poster``; returns the cards sent (empty: no
        call was made). The paper cache is shared by every workspace: it holds public paper data only."""
        self._count("events")
        unfurls: dict[str, dict[str, Any]] = {}
        for url, key in shared.links:
            card = self.cache.get(key)
            if card is not None and card.paper is not None:
                unfurls[url] = {"blocks": render_unfurl_card(card.paper, source=card.source)}
        if not unfurls:
            self._count("no_card")
            return {}
        try:
            poster.unfurl(unfurls, **shared.target())
        except SlackError as exc:
            logger.warning("Slack refused the link cards for %d link(s): %s", len(unfurls), exc.code)
            self._count("refused")
            return {}
        self._count("unfurled")
        return unfurls

    def _look_up(self, key: str) -> Card:
        """Hugging Face, then the archive (Hugging Face failing), then arXiv; never raises."""
        if ARXIV_ID_RE.match(key):  # Hugging Face has pages for new-style ids only
            try:
                paper = self.hf.paper(key, deadline=time.monotonic() + self.hf_deadline)
            except HFError as exc:
                archived = self.archive.get(key) if self.archive is not None else None
                logger.warning(
                    "link card for %s: Hugging Face unavailable (%s); %s",
                    key,
                    exc,
                    "using the archived copy" if archived else "asking arXiv",
                )
                if archived is not None:
                    return Card(archived, "archive")
            else:
                if paper is not None:
                    return Card(paper, "hf")
        return self._from_arxiv(key)

    def _from_arxiv(self, key: str) -> Card:
        if self.arxiv is None:
            return Card(None)
        try:
            paper = self.arxiv.paper(key, deadline=time.monotonic() + self.arxiv_deadline)
        except ArxivError as exc:
            logger.warning("link card for %s: arXiv unavailable (%s); no card", key, exc)
            return Card(None)
        if paper is None:
            logger.info("link card for %s: neither Hugging Face nor arXiv knows it; no card", key)
            return Card(None)
        return Card(paper, "arxiv")

    def _count(self, name: str) -> None:
        with self._stats_lock:
            setattr(self.stats, name, getattr(self.stats, name) + 1)

    def stop(self, timeout: float = 5.0) -> bool:
        """Accept no more events; wait up to ``timeout`` seconds for the queued ones. True when all ran."""
        self._closed = True
        done = threading.Thread(target=self._pool.shutdown, kwargs={"wait": True}, daemon=True)
        done.start()
        done.join(timeout)
        return not done.is_alive()
