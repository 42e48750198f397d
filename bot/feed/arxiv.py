"""arXiv's API for one paper's metadata: the link card of a paper Hugging Face does not know (yet).

Why arXiv at all: people paste arXiv links for papers that never reach Daily Papers, or before Hugging
Face has indexed them; a card with the title, authors and abstract is still worth showing. Only this
module and ``hf.py`` import httpx; every failure leaves as ``ArxivError``.

arXiv's terms for its legacy API (research/hf_api.md §9): "no more than one request every three
seconds, and … a single connection at a time", across all our machines. The client holds one lock for
the whole request and spaces requests three seconds apart; a caller whose deadline would pass while
waiting its turn gets ``ArxivError`` at once instead of queueing (a link card is worth little late).

Responses are Atom 1.0 (namespace-aware parsing, not regexes). An unknown id answers 200 with zero
entries; a malformed id answers 400 with an Atom feed whose one entry is titled "Error" (fixtures in
shared/fixtures/arxiv): both mean "no such paper", not a failure.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import date

import httpx

from bot.errors import ArxivError
from bot.feed.hf import USER_AGENT
from bot.feed.papers import Paper

__all__ = ["MIN_INTERVAL", "ArxivClient", "parse_entry_feed"]

logger = logging.getLogger(__name__)

MIN_INTERVAL = 3.0  # seconds between requests (arXiv's terms)
_ATOM = "{http://www.w3.org/2005/Atom}"
_MAX_AUTHORS = 50
_VERSION_RE = re.compile(r"v\d+$")


def _text(element: ET.Element | None) -> str:
    return " ".join((element.text or "").split()) if element is not None else ""


def parse_entry_feed(body: bytes, wanted: str) -> Paper | None:
    """The paper ``wanted`` from an ``id_list`` response, or None (no entry, or arXiv's error entry).

    Raises ``ArxivError`` for a body that is not an Atom feed."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise ArxivError(f"arXiv answered something that is not XML ({exc})") from None
    if root.tag != f"{_ATOM}feed":
        raise ArxivError("arXiv answered XML that is not an Atom feed")
    for entry in root.iter(f"{_ATOM}entry"):
        entry_id = _text(entry.find(f"{_ATOM}id"))
        if "/api/errors" in entry_id:
            return None
        key = _VERSION_RE.sub("", entry_id.rsplit("/abs/", 1)[-1]) if "/abs/" in entry_id else ""
        if key != wanted:
            continue
        title = _text(entry.find(f"{_ATOM}title"))
        if not title:
            return None
        authors = tuple(name for name in (_text(a.find(f"{_ATOM}name")) for a in entry.iter(f"{_ATOM}author")) if name)
        published = _text(entry.find(f"{_ATOM}published"))
        try:
            day = date.fromisoformat(published[:10]) if published else None
        except ValueError:
            day = None
        return Paper(
            id=key,
            title=title,
            abstract=_text(entry.find(f"{_ATOM}summary")),
            authors=authors[:_MAX_AUTHORS],
            published=day,
        )
    return None


class ArxivClient:
    """One paper at a time from ``export.arxiv.org/api/query`` (``ARXIV_API_URL``), three seconds apart."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 10.0,
        min_interval: float = MIN_INTERVAL,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._url = url
        self._client = httpx.Client(
            headers={"User-Agent": USER_AGENT, "Accept": "application/atom+xml"},
            timeout=httpx.Timeout(timeout, connect=5.0),
            transport=transport,
            follow_redirects=True,
        )
        self._min_interval = min_interval
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()  # one connection at a time, as arXiv asks
        self._last: float | None = None
        self.requests_made = 0

    def close(self) -> None:
        self._client.close()

    def paper(self, arxiv_id: str, *, deadline: float | None = None) -> Paper | None:
        """The paper's title, authors, abstract and first-version date; None when arXiv has no such id.

        ``deadline`` (a ``time.monotonic()`` instant) bounds the wait for our turn and the request."""
        wait_for = None if deadline is None else max(deadline - self._clock(), 0.0)
        if not self._lock.acquire(timeout=-1 if wait_for is None else wait_for):
            raise ArxivError("arXiv: another request is in progress")
        try:
            if self._last is not None:
                delay = self._last + self._min_interval - self._clock()
                if delay > 0:
                    if deadline is not None and self._clock() + delay >= deadline:
                        raise ArxivError("arXiv: its three-second spacing would pass the deadline")
                    self._sleep(delay)
            left = None if deadline is None else deadline - self._clock()
            timeout = httpx.USE_CLIENT_DEFAULT if left is None else httpx.Timeout(max(left, 0.05), connect=5.0)
            self._last = self._clock()
            self.requests_made += 1
            try:
                response = self._client.get(self._url, params={"id_list": arxiv_id, "max_results": 1}, timeout=timeout)
            except httpx.TimeoutException:
                raise ArxivError("arXiv: timed out") from None
            except httpx.TransportError as exc:
                raise ArxivError(f"arXiv: connection failed ({type(exc).__name__})") from None
        finally:
            self._lock.release()
        if response.status_code == 400:  # a malformed id: arXiv explains it in an error entry
            return None
        if response.status_code != 200:
            raise ArxivError(f"arXiv: HTTP {response.status_code}")
        return parse_entry_feed(response.content, _VERSION_RE.sub("", arxiv_id.strip()))
