"""The local archive of every Hugging Face day list the bot has fetched, and a text search over it.

Why: Hugging Face's search is the best answer to ``/papers search``, but when it is down or slow the
user still deserves an answer, and ``--posted`` needs the text of papers the bot posted weeks ago.
Each fetched day is kept as one JSON Lines file (``<dir>/YYYY-MM-DD.jsonl``), written atomically and only
when the day's list changed, so a crash never leaves a torn file and an unchanged day costs nothing.

At start-up every file is read (on a thread, see ``background``) into an in-memory inverted index over
title, AI keywords, authors, AI summary and abstract (tokens from ``bot.search.query``); the paper texts
stay on disk and are read back for the few papers a search returns. One lock guards all state:
Bolt's listener threads search while the scheduler records new days. ``bench/bench_search.py``
measures it at 50,000 papers.
"""

from __future__ import annotations

import hashlib
import heapq
import logging
import math
import os
import sys
import threading
import time
from array import array
from bisect import bisect_left
from collections import Counter, OrderedDict
from collections.abc import Collection, Iterable
from datetime import date
from pathlib import Path
from typing import Any

from bot.feed.archive_files import date_or_none, day_file, decode_day, encode_day, read_paper_line
from bot.feed.papers import Paper, arxiv_key
from bot.search.query import HIGH_WEIGHT, query_tokens, weighted_tokens
from bot.store.atomic_file import replace_atomically

__all__ = ["Archive", "archive_dir_for"]

logger = logging.getLogger(__name__)

_SCORED = 1000  # the most candidates of one tier that get an exact score (the most upvoted ones)


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def archive_dir_for(db_path: str) -> Path | None:
    """``data/papers-bot.json`` → ``data/papers-bot.archive``; None (memory only) without a file."""
    if not db_path or db_path == ":memory:":
        return None
    path = Path(db_path)
    return path.with_name(path.stem + ".archive") if path.suffix == ".json" else path.with_name(path.name + ".archive")


# --- the archive ----------------------------------------------------------------------------------


class Archive:
    """Day lists on disk (``directory``) or only in memory (``directory=None``), searchable by text.

    Memory stays small at tens of thousands of papers: per word, the index keeps ``array``s of document
    numbers and a ``bytearray`` of field weights; per document only its key, day, upvotes and folded
    title. Paper texts stay in the day files; the few papers a search returns are read back one line
    each (recently recorded days are also kept in memory). A paper listed on several days is indexed once, in its
    newest day's version; a replaced version's document number is marked dead and skipped, and the
    postings are compacted when dead ones outnumber live ones.
    """

    def __init__(
        self, directory: str | os.PathLike[str] | None = None, *, cached_days: int = 7, background: bool = False
    ) -> None:
        """``background``: read the files on a thread, so start-up is not held up by a large archive
        (searches meanwhile see the days read so far)."""
        self.directory = Path(directory) if directory is not None else None
        self._lock = threading.RLock()
        self._cached_days = cached_days
        # recently recorded days (every day when there is no directory): their papers in memory
        self._day_cache: OrderedDict[date, dict[str, Paper]] = OrderedDict()
        self._day_keys: dict[date, tuple[str, ...]] = {}
        self._day_digest: dict[date, bytes] = {}
        self._key_days: dict[str, list[date]] = {}
        self._doc_key: list[str] = []  # document number → key, "" once replaced
        self._doc_day: list[date] = []
        self._doc_title: list[str] = []  # folded title, for the phrase bonus
        self._doc_upvotes = array("i")
        self._live: dict[str, int] = {}  # key → its current document number
        self._dead: set[int] = set()  # replaced documents, still in the postings until compaction
        # token → (document numbers ascending, their field weights, those with a title/keyword/author hit)
        self._postings: dict[str, tuple[array[int], bytearray, array[int]]] = {}
        self.load_seconds = 0.0
        self._loaded = threading.Event()
        if self.directory is None:
            self._loaded.set()
        elif background:
            threading.Thread(target=self._load, name="archive-load", daemon=True).start()
        else:
            self._load()

    # ----- loading and recording --------------------------------------------------------------------

    def _load(self) -> None:
        assert self.directory is not None
        started = time.perf_counter()
        files = sorted(self.directory.glob("*.jsonl")) if self.directory.is_dir() else []
        for path in files:
            day = date_or_none(path.stem)
            try:
                raw = path.read_bytes() if day is not None else b""
            except OSError:
                logger.warning("skipping unreadable archive file %s", path)
                continue
            papers = decode_day(raw, day) if day is not None else []
            with self._lock:  # a day recorded while loading is newer than its file as read: keep it
                if day is not None and papers and day not in self._day_digest:
                    self._set_day(day, tuple(papers), _digest(raw))
        self.load_seconds = time.perf_counter() - started
        self._loaded.set()
        logger.info("archive: %d papers from %d days loaded in %.2fs", len(self._live), len(files), self.load_seconds)

    def record_day(self, day: date, papers: Iterable[Paper]) -> bool:
        """Keep ``day``'s list; True when it was new or changed (and so rewritten). Empty lists are skipped.

        Meant as ``DayFeed``'s fetch hook; a failed write is logged and the in-memory index kept, since
        losing the archive must never stop a daily post.
        """
        new = tuple(papers)
        if not new:
            return False
        body = encode_day(day, new)
        digest = _digest(body)
        with self._lock:
            if self._day_digest.get(day) == digest:
                return False
            if self.directory is not None:
                try:
                    self.directory.mkdir(parents=True, exist_ok=True)
                    replace_atomically(day_file(self.directory, day), [body])
                except OSError:
                    logger.warning("could not write the archive for %s", day, exc_info=True)
            self._set_day(day, new, digest)
        return True

    def _set_day(self, day: date, papers: tuple[Paper, ...], digest: bytes) -> None:
        """Replace one day's list and re-index each paper whose newest version may have changed."""
        by_key = {sys.intern(p.key): p for p in papers}  # one copy of each key in all the maps
        old = self._day_keys.get(day, ())
        self._day_keys[day] = tuple(by_key)
        self._day_digest[day] = digest
        self._remember_day(day, by_key)
        for key in old:
            if key in self._key_days and day in self._key_days[key]:
                self._key_days[key].remove(day)
        for key in by_key:
            self._key_days.setdefault(key, []).append(day)
        for key in dict.fromkeys((*old, *by_key)):
            days = self._key_days.get(key)
            if not days:
                self._key_days.pop(key, None)
                self._retire(key)
                continue
            newest = max(days)
            current = self._live.get(key)
            if current is not None and newest != day and self._doc_day[current] == newest:
                continue  # this day is not the paper's newest listing: its indexed version stands
            paper = by_key.get(key) if newest == day else self._paper_on(newest, key)
            self._retire(key)
            if paper is not None:
                self._index(key, paper, newest)
        if len(self._doc_key) > 2 * len(self._live) + 1000:
            self._compact()

    def _index(self, key: str, paper: Paper, day: date) -> None:
        doc = len(self._doc_key)
        self._doc_key.append(key)
        self._doc_day.append(day)
        self._doc_title.append(" ".join(paper.title.casefold().split()))
        self._doc_upvotes.append(max(min(paper.upvotes, 2**31 - 1), 0))
        self._live[key] = doc
        postings = self._postings
        for token, weight in weighted_tokens(paper).items():
            entry = postings.get(token)
            if entry is None:
                entry = postings[token] = (array("i"), bytearray(), array("i"))
            entry[0].append(doc)
            entry[1].append(weight)
            if weight >= HIGH_WEIGHT:
                entry[2].append(doc)

    def _retire(self, key: str) -> None:
        doc = self._live.pop(key, None)
        if doc is not None:
            self._doc_key[doc] = ""
            self._doc_title[doc] = ""
            self._dead.add(doc)

    def _compact(self) -> None:
        """Drop dead documents from every posting list (renumbering the live ones)."""
        renumber = {old: new for new, old in enumerate(d for d, k in enumerate(self._doc_key) if k)}
        for token, (docs, weights, high) in list(self._postings.items()):
            kept = [(renumber[d], w) for d, w in zip(docs, weights, strict=True) if d in renumber]
            if kept:
                new_high = array("i", (renumber[d] for d in high if d in renumber))
                self._postings[token] = (array("i", (d for d, _ in kept)), bytearray(w for _, w in kept), new_high)
            else:
                del self._postings[token]
        order = sorted(renumber, key=renumber.__getitem__)
        self._doc_key = [self._doc_key[d] for d in order]
        self._doc_day = [self._doc_day[d] for d in order]
        self._doc_title = [self._doc_title[d] for d in order]
        self._doc_upvotes = array("i", (self._doc_upvotes[d] for d in order))
        self._live = {key: doc for doc, key in enumerate(self._doc_key)}
        self._dead = set()

    # ----- paper texts ------------------------------------------------------------------------------

    def _remember_day(self, day: date, by_key: dict[str, Paper]) -> None:
        self._day_cache[day] = by_key
        self._day_cache.move_to_end(day)
        if self.directory is not None:
            while len(self._day_cache) > self._cached_days:
                self._day_cache.popitem(last=False)

    def _paper_on(self, day: date, key: str) -> Paper | None:
        """From the recent days kept in memory, else only that paper's line of the day's file."""
        papers = self._day_cache.get(day)
        if papers is not None:
            self._day_cache.move_to_end(day)
            return papers.get(key)
        if self.directory is None:
            return None
        try:
            raw = day_file(self.directory, day).read_bytes()
        except OSError:
            logger.warning("archive file for %s is gone or unreadable", day)
            return None
        return read_paper_line(raw, key, day)

    def _paper(self, doc: int) -> Paper | None:
        return self._paper_on(self._doc_day[doc], self._doc_key[doc])

    # ----- reading ----------------------------------------------------------------------------------

    def wait_loaded(self, timeout: float | None = None) -> bool:
        """True once every file present at start-up has been read."""
        return self._loaded.wait(timeout)

    def __len__(self) -> int:
        with self._lock:
            return len(self._live)

    @property
    def days(self) -> list[date]:
        with self._lock:
            return sorted(self._day_keys)

    def has_day(self, day: date) -> bool:
        """Whether ``day``'s list is here: ``--posted`` fetches only the days it lacks."""
        with self._lock:
            return day in self._day_keys

    def day_papers(self, day: date) -> list[Paper]:
        """``day``'s list as last fetched, in Hugging Face's order (empty when it was never kept): what a
        person is shown when Hugging Face does not answer in time, and the weekly recap's fallback when
        Hugging Face cannot give the week's list. One read of the day's file at most."""
        with self._lock:
            if day not in self._day_keys:
                return []
            papers = self._day_cache.get(day)
            if papers is not None:
                self._day_cache.move_to_end(day)
                return list(papers.values())
        if self.directory is None:
            return []
        try:
            raw = day_file(self.directory, day).read_bytes()
        except OSError:
            logger.warning("archive file for %s is gone or unreadable", day)
            return []
        return decode_day(raw, day)

    def __contains__(self, paper_id: object) -> bool:
        """A paper's presence without reading its text back from disk (``get`` does that)."""
        if not isinstance(paper_id, str):
            return False
        with self._lock:
            return arxiv_key(paper_id) in self._live

    def get(self, paper_id: str) -> Paper | None:
        with self._lock:
            doc = self._live.get(arxiv_key(paper_id))
            return self._paper(doc) if doc is not None else None

    def search(self, query: str, *, limit: int = 10, keys: Collection[str] | None = None) -> list[Paper]:
        """Best matches for ``query``, at most ``limit``; ``keys`` restricts to those papers.

        Ranking: papers matching more of the query's words first (all words beat some); then those with
        a word in their title, AI keywords or authors; then the sum of field weight × rarity (idf) of each
        word, plus a bonus when the title holds the whole query as a phrase; then upvotes. Matching runs
        in C (set intersections); of a large tier only the ``_SCORED`` most upvoted papers get a score.
        """
        tokens = query_tokens(query)
        if not tokens or limit <= 0:
            return []
        phrase = " ".join(query.casefold().split()) if len(tokens) > 1 else ""
        with self._lock:
            entries = [self._postings[t] for t in tokens if t in self._postings]
            if not entries:
                return []
            allowed = None if keys is None else {self._live[k] for k in keys if k in self._live}
            sets = sorted((set(e[0]) if allowed is None else allowed.intersection(e[0]) for e in entries), key=len)
            high = set().union(*(e[2] for e in entries))
            ranked = self._tiers(sets[0].intersection(*sets[1:]), high, entries, phrase, limit)
            if len(ranked) < limit and len(sets) > 1:  # then papers matching fewer of the words
                counts = Counter[int]()
                for found in sets:
                    counts.update(found)
                for matched in range(len(sets) - 1, 0, -1):
                    group = {d for d, c in counts.items() if c == matched}
                    ranked += self._tiers(group, high, entries, phrase, limit - len(ranked))
                    if len(ranked) >= limit:
                        break
            papers = (self._paper(doc) for doc in ranked[:limit])
            return [paper for paper in papers if paper is not None]

    def _tiers(self, group: set[int], high: set[int], entries: list[Any], phrase: str, limit: int) -> list[int]:
        """Papers with a title/keyword/author hit first, then the others; dead documents dropped."""
        group -= self._dead
        first = group & high
        ranked = self._best(first, entries, phrase, limit)
        if len(ranked) < limit:
            ranked += self._best(group - first, entries, phrase, limit - len(ranked))
        return ranked

    def _best(self, docs: Collection[int], entries: list[Any], phrase: str, limit: int) -> list[int]:
        """The ``limit`` best of ``docs`` by score (title phrase bonus included), then upvotes."""
        if limit <= 0 or not docs:
            return []
        upvotes, titles = self._doc_upvotes, self._doc_title
        if len(docs) > _SCORED:  # ``sorted`` with a C key is far cheaper than scoring every candidate
            docs = sorted(docs, key=upvotes.__getitem__, reverse=True)[:_SCORED]
        live = len(self._live) or 1
        scores = dict.fromkeys(docs, 0.0)
        for posting, weights, _high in entries:
            idf = math.log(1.0 + live / len(posting)) / 2  # weights are stored doubled
            size = len(posting)
            for doc in docs:
                at = bisect_left(posting, doc)
                if at < size and posting[at] == doc:
                    scores[doc] += weights[at] * idf
        if phrase:
            for doc in docs:
                if phrase in titles[doc]:
                    scores[doc] += 10.0
        return heapq.nsmallest(limit, docs, key=lambda d: (-scores[d], -upvotes[d]))
