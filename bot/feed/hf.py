"""The Hugging Face client: one shared ``httpx.Client`` with timeouts, retries and a User-Agent.

Only this module imports httpx; every failure leaves it as ``HFError`` so callers handle one type.
Retries cover what a later attempt can fix: timeouts, connection errors, 429 (waiting as long as the
``RateLimit`` header's ``t=`` asks) and 5xx. Other 4xx are answers, not failures to retry.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from typing import Any

import httpx

from bot.errors import HFError
from bot.feed.papers import Paper, parse_daily_list, parse_paper

__all__ = ["USER_AGENT", "DayFeed", "HFClient"]

logger = logging.getLogger(__name__)

USER_AGENT = "papers-bot/0.1 (+https://github.com/papers-bot; Slack bot for HF Daily Papers)"
PAGE_SIZE = 100
MAX_PAGES = 10  # 1,000 papers a day is far beyond any day seen; stops a server that never ends pages
_RATELIMIT_T_RE = re.compile(r"(?:^|;)\s*t=(\d+)")
_MAX_RETRY_WAIT = 60.0
FAILURE_TTL = 60.0  # seconds a failed day fetch is reused (one post run), see DayFeed


def retry_wait_from_headers(headers: httpx.Headers) -> float | None:
    """Seconds to wait before retrying, from ``RateLimit: "api";r=0;t=42`` or ``Retry-After``."""
    ratelimit = headers.get("ratelimit")
    if ratelimit:
        match = _RATELIMIT_T_RE.search(ratelimit)
        if match:
            return float(match.group(1))
    retry_after = headers.get("retry-after")
    if retry_after and retry_after.strip().isdigit():
        return float(retry_after.strip())
    return None


class HFClient:
    """Reads Hugging Face's papers API.

    Args:
        base_url: ``HF_ENDPOINT``.
        token: optional HF token, sent as a bearer token; never logged.
        transport: an httpx transport for tests (the tests normally use a real local server).
        attempts: tries per request, including the first.
        sleep: injectable so tests do not wait out backoffs.
    """

    def __init__(
        self,
        base_url: str,
        *,
        token: str = "",
        timeout: float = 10.0,
        attempts: int = 4,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=5.0),
            transport=transport,
            follow_redirects=True,
        )
        self._attempts = max(attempts, 1)
        self._backoff = backoff
        self._sleep = sleep
        self.requests_made = 0  # counted for health and benchmarks

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HFClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _get_json(self, path: str, params: dict[str, Any], *, deadline: float | None = None) -> Any:
        """GET with retries; returns parsed JSON or raises HFError (``status`` set for HTTP answers).

        ``deadline`` (a ``time.monotonic()`` instant) bounds all attempts and waits together: a user
        waiting on a slash command gets the archive's answer instead of a late one.
        """
        last_error = "no attempt made"
        for attempt in range(1, self._attempts + 1):
            wait: float | None = None
            timeout: httpx.Timeout | Any = httpx.USE_CLIENT_DEFAULT
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0.05:
                    last_error = last_error if attempt > 1 else "timed out"
                    break
                timeout = httpx.Timeout(left, connect=min(left, 5.0))
            try:
                self.requests_made += 1
                response = self._client.get(path, params=params, timeout=timeout)
            except httpx.TimeoutException:
                last_error = "timed out"
            except httpx.TransportError as exc:
                last_error = f"connection failed ({type(exc).__name__})"
            else:
                status = response.status_code
                if status == 404:
                    raise HFError("not found", retryable=False, status=404)
                if status == 429 or status >= 500:
                    last_error = f"HTTP {status}"
                    wait = retry_wait_from_headers(response.headers)
                elif status >= 400:
                    raise HFError(f"HTTP {status}", retryable=False, status=status)
                else:
                    try:
                        return response.json()
                    except ValueError:
                        # A truncated or HTML body is a transient upstream fault more often than not.
                        last_error = "response was not valid JSON"
            if attempt == self._attempts:
                break
            delay = wait if wait is not None else self._backoff * 2 ** (attempt - 1) * (1 + random.random())
            if deadline is not None and time.monotonic() + delay >= deadline:
                break
            logger.info("Hugging Face %s %s; retry %d in %.1fs", path, last_error, attempt, delay)
            self._sleep(min(delay, _MAX_RETRY_WAIT))
        raise HFError(f"Hugging Face {path}: {last_error} after {attempt} attempts")

    def daily_papers(self, day: date, *, deadline: float | None = None) -> list[Paper]:
        """The day's list, every page, parsed; malformed entries are skipped and logged.

        ``deadline`` as in ``_get_json``, for every page together.
        """
        entries: list[Any] = []
        for page in range(MAX_PAGES):
            params: dict[str, Any] = {"date": day.isoformat(), "limit": PAGE_SIZE}
            if page:
                params["p"] = page
            data = self._get_json("/api/daily_papers", params, deadline=deadline)
            if not isinstance(data, list):
                raise HFError("Hugging Face /api/daily_papers: response was not a list")
            entries.extend(data)
            if len(data) < PAGE_SIZE:
                break
        return parse_daily_list(entries, day=day)

    def weekly_papers(self, week: str, *, deadline: float | None = None) -> list[Paper]:
        """An ISO week's papers (``week`` like ``2026-W23``: ``/api/daily_papers?week=``, every page),
        each with its own Daily-Papers day; malformed entries are skipped and logged."""
        entries: list[Any] = []
        for page in range(MAX_PAGES):
            params: dict[str, Any] = {"week": week, "limit": PAGE_SIZE}
            if page:
                params["p"] = page
            data = self._get_json("/api/daily_papers", params, deadline=deadline)
            if not isinstance(data, list):
                raise HFError("Hugging Face /api/daily_papers?week: response was not a list")
            entries.extend(data)
            if len(data) < PAGE_SIZE:
                break
        return parse_daily_list(entries)

    def search(self, query: str, *, limit: int = 10, deadline: float | None = None) -> list[Paper]:
        """Relevance-ordered matches; ``deadline`` as in ``_get_json``."""
        data = self._get_json("/api/papers/search", {"q": query, "limit": limit}, deadline=deadline)
        if not isinstance(data, list):
            raise HFError("Hugging Face /api/papers/search: response was not a list")
        return parse_daily_list(data)[:limit]

    def paper(self, arxiv_id: str, *, deadline: float | None = None) -> Paper | None:
        """One paper by id, with its linked-repo counts; None when Hugging Face does not know it."""
        try:
            data = self._get_json(f"/api/papers/{arxiv_id}", {}, deadline=deadline)
        except HFError as exc:
            if exc.status == 404:
                return None
            raise
        return parse_paper(data)


class DayFeed:
    """Day lists shared by every channel: one upstream fetch per day however many channels post.

    Entries live ``ttl`` seconds, so channels posting in the same minute share one fetch while a
    channel posting hours later still reads fresh upvotes. Concurrent callers for the same day wait
    for the one fetch in flight instead of starting their own.
    """

    def __init__(
        self,
        client: HFClient,
        *,
        ttl: float = 600.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        on_fetch: Callable[[date, list[Paper]], object] | None = None,
    ):
        self._client = client
        self._ttl = ttl
        self._clock = clock
        self._on_fetch = on_fetch  # e.g. the search archive; its failure never fails the fetch
        self._cache: dict[date, tuple[datetime, list[Paper]]] = {}
        # A failed fetch is remembered briefly, so the other channels of the same post run fail at
        # once instead of each repeating every retry against an HF that is down or rate limiting us.
        self._failed: dict[date, tuple[datetime, HFError]] = {}
        self._locks: dict[date, threading.Lock] = {}
        self._guard = threading.Lock()
        self.last_success: float | None = None  # wall-clock time of the last successful fetch

    def papers(self, day: date, *, now: datetime | None = None, deadline: float | None = None) -> list[Paper]:
        """``now`` is the caller's clock (the post run's), so cache age follows the same time.

        ``deadline`` (a ``time.monotonic()`` instant, for a user waiting on a command) bounds both the
        wait for another caller's fetch of the same day and the fetch itself. A fetch cut short by it is
        not remembered as a failure: a short deadline says nothing about whether a post run, with its
        full retry budget, would get the list.
        """
        now = now or self._clock()
        with self._guard:
            lock = self._locks.setdefault(day, threading.Lock())
        if not lock.acquire(timeout=-1 if deadline is None else max(deadline - time.monotonic(), 0.0)):
            raise HFError(f"Hugging Face day list {day}: timed out waiting for another fetch of it")
        try:
            cached = self._cache.get(day)
            if cached and abs((now - cached[0]).total_seconds()) < self._ttl:
                return cached[1]
            failed = self._failed.get(day)
            if failed and abs((now - failed[0]).total_seconds()) < FAILURE_TTL:
                raise HFError(str(failed[1]), retryable=failed[1].retryable, status=failed[1].status)
            try:
                papers = self._client.daily_papers(day, deadline=deadline)
            except HFError as exc:
                if deadline is None:
                    self._failed[day] = (now, exc)
                raise
            self._failed.pop(day, None)
            self._keep(day, now, papers)
            self.last_success = time.time()
            if self._on_fetch is not None:
                try:
                    self._on_fetch(day, papers)
                except Exception:
                    logger.warning("the fetch hook failed for %s", day, exc_info=True)
            return papers
        finally:
            lock.release()

    def _keep(self, day: date, now: datetime, papers: list[Paper]) -> None:
        """Cache ``day`` and drop expired days: a search may fetch hundreds of old days, which the
        archive keeps; holding them here too would only grow memory."""
        with self._guard:
            self._cache = {d: entry for d, entry in self._cache.items() if (now - entry[0]).total_seconds() < self._ttl}
            self._cache[day] = (now, papers)

    def fetch_days(self, days: Sequence[date], *, deadline: float, workers: int = 3) -> list[date]:
        """Fetch several days through ``papers`` (so the fetch hook archives each), a few at a time;
        returns the days that could not be read by ``deadline``.

        Why: ``/papers search --posted`` in a process that did not fetch the days it posted (a web process
        beside a worker, or a host whose disk was wiped) reads those days before it answers. A user is
        waiting, hence the deadline; Hugging Face's rate limit is shared with the daily post, hence few
        workers. Days still queued when the deadline passes fail at once without a request.
        """
        if not days:
            return []
        failed: list[date] = []
        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(days))), thread_name_prefix="day-fetch") as pool:
            futures = [(day, pool.submit(self.papers, day, deadline=deadline)) for day in days]
            for day, future in futures:
                try:
                    future.result()
                except HFError as exc:
                    failed.append(day)
                    logger.debug("day list %s not read: %s", day, exc)
        if failed:
            logger.warning("%d of %d day lists could not be read from Hugging Face in time", len(failed), len(days))
        return failed

    @property
    def requests_made(self) -> int:
        return self._client.requests_made

    def clear(self) -> None:
        with self._guard:
            self._cache.clear()
