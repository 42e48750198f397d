"""A fake Hugging Face Papers API served over real HTTP on 127.0.0.1.

Why a server: the app's ``HFClient`` is an ``httpx.Client`` with a configurable ``base_url``; serving
real HTTP exercises its timeouts, status handling, JSON decoding and connection reuse exactly as in
production. The behaviour copied here is what ``shared/research/hf_api.md`` §2–§5 records about the
real API: bare JSON arrays, ``limit`` default 50 with 0-based ``p`` pages, dated lists sorted by
``paper.upvotes`` descending, ``[]`` for unknown days and past the last page, HTTP 400 for an
invalid date and 404 for an unknown paper, optional fields omitted rather than null.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from .slack import HTTPFake, Incoming, Reply

__all__ = ["FakeHF", "Request"]

_PAPER_PATH = re.compile(r"^/api/papers/([^/]+)$")
# Keys only /api/papers/{id} returns; stripped from list responses even if a test put them in.
_DETAIL_ONLY = (
    "numTotalModels",
    "numTotalDatasets",
    "numTotalSpaces",
    "linkedModels",
    "linkedDatasets",
    "linkedSpaces",
)
# A search hit's paper keeps only these keys (papers_search_q-kazakh.json).
_SEARCH_PAPER_KEYS = ("id", "authors", "publishedAt", "title", "summary", "upvotes", "discussionId")
_SEARCH_PAPER_OPTIONAL = ("ai_summary", "ai_keywords")


@dataclass(frozen=True, slots=True)
class Request:
    """One request as received: path without query, query parameters, lower-case header names."""

    path: str
    params: dict[str, str]
    headers: dict[str, str]
    at: float  # time.monotonic()


@dataclass
class _Fault:
    prefix: str
    remaining: int
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] | None = None
    drop: bool = False


@dataclass
class _Delay:
    prefix: str
    seconds: float
    remaining: int | None


class FakeHF(HTTPFake):
    """``GET /api/daily_papers``, ``/api/papers/search`` and ``/api/papers/{id}`` over local HTTP.

    Data: ``days["YYYY-MM-DD"]`` holds raw daily entries (see ``entries.make_entry``/``make_day`` or
    the recorded fixtures); ``extra_papers`` holds entries that are searchable/fetchable but on no day
    (HF search finds papers never featured). ``paper_details[id]`` is merged into ``/api/papers/{id}``.
    """

    def __init__(
        self,
        days: Mapping[str, list[dict[str, Any]]] | None = None,
        *,
        extra_papers: Iterable[dict[str, Any]] = (),
    ) -> None:
        super().__init__()
        self.days: dict[str, list[dict[str, Any]]] = {k: list(v) for k, v in (days or {}).items()}
        self.extra_papers: list[dict[str, Any]] = list(extra_papers)
        self.paper_details: dict[str, dict[str, Any]] = {}
        # Answers that change at a given time (``change_paper``), read against ``clock`` (the app's test
        # clock when a test sets it; the wall clock otherwise).
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self._changes: list[tuple[str, datetime, dict[str, Any]]] = []
        self.requests: list[Request] = []
        self._faults: list[_Fault] = []
        self._delays: list[_Delay] = []
        self._lock = threading.Lock()

    # inspection ------------------------------------------------------------------------------------
    def count(self, path_prefix: str = "/api/") -> int:
        """How many requests had a path starting with ``path_prefix`` (faulted ones included)."""
        with self._lock:
            return sum(1 for r in self.requests if r.path.startswith(path_prefix))

    def reset(self) -> None:
        """Forget requests, faults and delays; keep the data."""
        with self._lock:
            self.requests.clear()
            self._faults.clear()
            self._delays.clear()
            self.internal_errors.clear()

    def change_paper(self, paper_id: str, at: datetime, **fields: Any) -> None:
        """From ``at`` (by ``clock``) on, ``/api/papers/{paper_id}`` answers with ``fields`` merged in:
        e.g. ``githubRepo``/``githubStars`` and ``numTotalModels`` for a paper whose code and model
        appear between two days. Later changes apply over earlier ones."""
        with self._lock:
            self._changes.append((paper_id, at, dict(fields)))
            self._changes.sort(key=lambda change: change[1])

    # fault injection -------------------------------------------------------------------------------
    def fail(
        self,
        path_prefix: str,
        status: int = 503,
        times: int = 1,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Answer the next ``times`` matching requests with ``status``.

        ``body``: bytes/str sent as is, anything else JSON-encoded; default ``{"error": "..."}``.
        For HF's rate limit: ``fail(p, 429, headers={"RateLimit": '"api";r=0;t=2'})``.
        """
        if body is None:
            raw = json.dumps({"error": f"HTTP {status}"}).encode()
        elif isinstance(body, bytes):
            raw = body
        elif isinstance(body, str):
            raw = body.encode()
        else:
            raw = json.dumps(body).encode()
        with self._lock:
            self._faults.append(_Fault(path_prefix, times, status, raw, dict(headers or {})))

    def fail_with_body(self, path_prefix: str, raw_bytes: bytes, times: int = 1) -> None:
        """HTTP 200 with a broken body (truncated or non-JSON), as a flaky proxy would send."""
        with self._lock:
            self._faults.append(_Fault(path_prefix, times, 200, raw_bytes))

    def drop(self, path_prefix: str, times: int = 1) -> None:
        """Close the connection without answering (the client sees a disconnect)."""
        with self._lock:
            self._faults.append(_Fault(path_prefix, times, drop=True))

    def delay(self, path_prefix: str, seconds: float, times: int | None = None) -> None:
        """Answer matching requests ``seconds`` late (all of them, or the next ``times``)."""
        with self._lock:
            self._delays.append(_Delay(path_prefix, seconds, times))

    # serving ---------------------------------------------------------------------------------------
    def serve(self, request: Incoming) -> Reply:
        with self._lock:
            self.requests.append(Request(request.path, dict(request.query), dict(request.headers), time.monotonic()))
            delay = 0.0
            for d in self._delays:
                if request.path.startswith(d.prefix) and (d.remaining is None or d.remaining > 0):
                    delay += d.seconds
                    if d.remaining is not None:
                        d.remaining -= 1
            fault = next((f for f in self._faults if f.remaining > 0 and request.path.startswith(f.prefix)), None)
            if fault is not None:
                fault.remaining -= 1
        self.sleep(delay)
        if fault is not None:
            if fault.drop:
                return Reply(drop=True)
            return Reply(status=fault.status, body=fault.body, headers=dict(fault.headers or {}))
        if request.verb != "GET":
            return Reply.json({"error": "Method not allowed"}, status=405)
        if request.path == "/api/daily_papers":
            return self._daily(request.query)
        if request.path == "/api/papers/search":
            return self._search(request.query)
        match = _PAPER_PATH.match(request.path)
        if match:
            return self._paper(match.group(1))
        return Reply.json({"error": "Not Found"}, status=404)

    def _daily(self, query: Mapping[str, str]) -> Reply:
        limit = _int_param(query, "limit", 50)
        page = _int_param(query, "p", 0)
        if limit is None or page is None or limit < 1 or page < 0:
            return Reply.json({"error": "Invalid pagination parameters"}, status=400)
        with self._lock:
            days = {k: list(v) for k, v in self.days.items()}
        raw_date = query.get("date")
        raw_week = query.get("week")
        if raw_week is not None:  # an ISO week, YYYY-Www: all its days (hf_api.md §2)
            match = re.fullmatch(r"(\d{4})-W(\d{2})", raw_week)
            try:
                monday = date.fromisocalendar(int(match[1]), int(match[2]), 1) if match else None
            except ValueError:
                monday = None
            if monday is None:
                return Reply.json({"error": "Invalid week"}, status=400)
            week = {(monday + timedelta(days=i)).isoformat() for i in range(7)}
            entries = sorted((e for d in sorted(days) if d in week for e in days[d]), key=lambda e: -_upvotes(e))
        elif raw_date is not None:
            day = _parse_day(raw_date)
            if day is None:
                return Reply.json({"error": "Invalid date"}, status=400)
            entries = sorted(days.get(day, []), key=lambda e: -_upvotes(e))
        else:  # no date: newest day first, like the default publishedAt sort
            entries = [e for d in sorted(days, reverse=True) for e in days[d]]
        chunk = entries[page * limit : (page + 1) * limit]
        return Reply.json([_list_entry(e) for e in chunk])

    def _search(self, query: Mapping[str, str]) -> Reply:
        q = query.get("q", "").strip()
        if not q:
            return Reply.json({"error": "Missing q parameter"}, status=400)
        limit = _int_param(query, "limit", 120)
        if limit is None or limit < 1:
            return Reply.json({"error": "Invalid limit"}, status=400)
        needle = q.lower()
        in_title, in_summary = [], []
        for entry in self._all_entries():
            paper = entry.get("paper", {})
            if needle in str(paper.get("title", "")).lower():
                in_title.append(entry)
            elif needle in str(paper.get("summary", "")).lower():
                in_summary.append(entry)
        # "relevance": title hits before abstract hits, each by upvotes
        hits = sorted(in_title, key=lambda e: -_upvotes(e)) + sorted(in_summary, key=lambda e: -_upvotes(e))
        return Reply.json([_search_entry(e, q) for e in hits[:limit]])

    def _paper(self, paper_id: str) -> Reply:
        entry = next((e for e in self._all_entries() if e.get("paper", {}).get("id") == paper_id), None)
        if entry is None:
            return Reply.json({"error": "Paper not found"}, status=404)
        paper = dict(entry["paper"])
        for key in ("linkedModels", "linkedDatasets", "linkedSpaces"):
            paper.setdefault(key, [])
        for key in ("numTotalModels", "numTotalDatasets", "numTotalSpaces"):
            paper.setdefault(key, 0)
        now = self.clock()
        with self._lock:
            paper.update(self.paper_details.get(paper_id, {}))
            for changed, at, fields in self._changes:
                if changed == paper_id and at <= now:
                    paper.update(fields)
        return Reply.json(paper)

    def _all_entries(self) -> list[dict[str, Any]]:
        """Every known entry once (first occurrence by paper id): days in date order, then extras."""
        with self._lock:
            pool = [e for d in sorted(self.days) for e in self.days[d]] + list(self.extra_papers)
        seen: set[str] = set()
        unique = []
        for entry in pool:
            pid = entry.get("paper", {}).get("id")
            if pid not in seen:
                seen.add(pid)
                unique.append(entry)
        return unique


def _int_param(query: Mapping[str, str], name: str, default: int) -> int | None:
    value = query.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        return None


def _parse_day(value: str) -> str | None:
    """``YYYY-MM-DD`` or a full ``%Y-%m-%dT%H:%M:%S.%fZ`` timestamp, as HF accepts; else None."""
    try:
        if len(value) == 10:
            return date.fromisoformat(value).isoformat()
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").date().isoformat()
    except ValueError:
        return None


def _upvotes(entry: Any) -> float:
    """Malformed entries (tests serve some on purpose) sort last instead of breaking the fake."""
    paper = entry.get("paper") if isinstance(entry, dict) else None
    value = paper.get("upvotes", 0) if isinstance(paper, dict) else 0
    return value if isinstance(value, int | float) else 0


def _list_entry(entry: Any) -> Any:
    paper = entry.get("paper") if isinstance(entry, dict) else None
    if isinstance(paper, dict) and any(k in paper for k in _DETAIL_ONLY):
        entry = {**entry, "paper": {k: v for k, v in paper.items() if k not in _DETAIL_ONLY}}
    return entry


def _highlight(text: str, needle: str) -> list[dict[str, str]]:
    """HF's highlight segments: alternating ``text``/``highlight`` pieces, case-insensitive match."""
    parts: list[dict[str, str]] = []
    pos = 0
    for m in re.finditer(re.escape(needle), text, flags=re.IGNORECASE):
        if m.start() > pos:
            parts.append({"type": "text", "text": text[pos : m.start()]})
        parts.append({"type": "highlight", "text": m.group(0)})
        pos = m.end()
    if pos < len(text) or not parts:
        parts.append({"type": "text", "text": text[pos:]})
    return parts


def _search_entry(entry: dict[str, Any], q: str) -> dict[str, Any]:
    """The search wrapper: daily wrapper minus submittedBy/organization, trimmed paper, highlights."""
    paper = entry.get("paper", {})
    slim = {k: paper[k] for k in _SEARCH_PAPER_KEYS if k in paper}
    slim.update({k: paper[k] for k in _SEARCH_PAPER_OPTIONAL if k in paper})
    title = str(entry.get("title", paper.get("title", "")))
    summary = str(entry.get("summary", paper.get("summary", "")))
    result: dict[str, Any] = {"paper": slim}
    for key in ("publishedAt", "title", "summary", "thumbnail", "numComments"):
        if key in entry:
            result[key] = entry[key]
    result["upvoted"] = False
    result["isAuthorParticipating"] = bool(entry.get("isAuthorParticipating", False))
    result["highlightedTitle"] = _highlight(title, q)
    result["highlightedSummary"] = _highlight(summary, q)
    return result
