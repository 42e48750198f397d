"""Matching papers against filters with reasons, one paper or 10,000 channels at once. Pure; see
``bot.filters`` for the rules and the cost model."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import lru_cache

from bot.filters._query import ChannelFilter
from bot.filters._terms import (
    JOIN_STOPWORDS,
    compound_key,
    light_stem,
    phrase_key,
    phrase_variants,
    segments_of,
    stem,
    words_of,
)
from bot.papers import Paper

# ---------------------------------------------------------------------------------------------------
# Matching

_TITLE, _KEYWORDS, _ABSTRACT, _AUTHORS = 1, 2, 4, 8
_FIELDS = (("title", _TITLE), ("keywords", _KEYWORDS), ("abstract", _ABSTRACT), ("authors", _AUTHORS))
_WHERE = tuple(tuple(name for name, bit in _FIELDS if mask & bit) for mask in range(16))
_STRONG = _TITLE | _KEYWORDS | _AUTHORS
_EXCLUDABLE = _TITLE | _KEYWORDS | _ABSTRACT

__all__ = ["FilterIndex", "Hit", "MatchResult", "choose_matches", "match_paper", "select_papers"]


@dataclass(frozen=True, slots=True)
class Hit:
    """One topic that matched, and the fields it matched in (title, keywords, abstract, authors)."""

    topic: str
    where: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MatchResult:
    """Why a paper matched; ``strong`` when some hit is outside the abstract (or the filter has no topics)."""

    hits: tuple[Hit, ...]
    strong: bool

    def explain(self) -> str:
        return " · ".join(f"{h.topic} ({', '.join(h.where)})" for h in self.hits)


_EVERYTHING = MatchResult(hits=(), strong=True)


class _Vocabulary:
    """Every distinct term, compiled to the keys a paper's token stream can produce."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.keys: dict[str, list[int]] = {}  # stem phrase or compound -> term ids
        self.prefixes: set[str] = set()  # proper word-prefixes of stem phrases
        self.chars: set[str] = set()  # proper character-prefixes of compounds
        self.names: dict[str, list[int]] = {}  # as-typed stem phrases, for author names
        self.name_prefixes: set[str] = set()

    def add(self, term: str) -> int | None:
        words = tuple(words_of(term))
        if not words:
            return None
        key = phrase_key(words)
        if key in self.ids:
            return self.ids[key]
        tid = self.ids[key] = len(self.ids)
        _register(self.names, self.name_prefixes, key, tid)
        for variant in phrase_variants(words):
            _register(self.keys, self.prefixes, phrase_key(variant), tid)
            compound = compound_key(variant)
            if compound is not None:
                self.keys.setdefault(compound, [])
                if tid not in self.keys[compound]:
                    self.keys[compound].append(tid)
                self.chars.update(compound[:k] for k in range(1, len(compound)))
        return tid

    def scan(self, paper: Paper) -> dict[int, int]:
        """Term id -> bit mask of the fields it occurs in."""
        hits: dict[int, int] = {}
        for text, bit in ((paper.title, _TITLE), (paper.abstract, _ABSTRACT)):
            for words in segments_of(text):
                self._walk(words, bit, hits)
        for keyword in paper.ai_keywords:
            for words in segments_of(keyword):
                self._walk(words, _KEYWORDS, hits)
        for name in paper.authors:
            stems = [stem(w) for w in words_of(name)]
            _walk_phrases(stems, self.names, self.name_prefixes, _AUTHORS, hits)
        return hits

    def _walk(self, words: list[str], bit: int, hits: dict[int, int]) -> None:
        stems = [stem(w) for w in words]
        _walk_phrases(stems, self.keys, self.prefixes, bit, hits)
        keys, chars, n = self.keys, self.chars, len(words)
        for i in range(n - 1):  # compounds: "pre training" -> "pretrain"
            acc = light_stem(words[i])
            if words[i] in JOIN_STOPWORDS or acc not in chars:
                continue
            for j in range(i + 1, n):
                if words[j] in JOIN_STOPWORDS:
                    break
                for tid in keys.get(acc + stems[j], ()):
                    hits[tid] = hits.get(tid, 0) | bit
                acc += light_stem(words[j])
                if acc not in chars:
                    break


def _register(keys: dict[str, list[int]], prefixes: set[str], key: str, tid: int) -> None:
    ids = keys.setdefault(key, [])
    if tid not in ids:
        ids.append(tid)
    parts = key.split(" ")
    prefixes.update(" ".join(parts[:k]) for k in range(1, len(parts)))


def _walk_phrases(
    stems: list[str], keys: dict[str, list[int]], prefixes: set[str], bit: int, hits: dict[int, int]
) -> None:
    n = len(stems)
    for i in range(n):
        key, j = stems[i], i + 1
        while True:
            for tid in keys.get(key, ()):
                hits[tid] = hits.get(tid, 0) | bit
            if j == n or key not in prefixes:
                break
            key = f"{key} {stems[j]}"
            j += 1


def _name_keys(names: Iterable[str]) -> frozenset[str]:
    """Every run of whole words of each name: ``author:lecun`` matches "Yann LeCun"."""
    out: set[str] = set()
    for name in names:
        words = words_of(name)
        out.update(" ".join(words[i:j]) for i in range(len(words)) for j in range(i + 1, len(words) + 1))
    return frozenset(out)


class FilterIndex:
    """Matches many channels' filters against a day's papers without looping over channels × topics.

    Work per paper: one walk over its text, then one step per (matching term, filter following it),
    done in bulk with dict and set operations. Channels with equal filters share one entry, and
    equal explanations share one ``MatchResult``.
    """

    def __init__(self, filters: Mapping[str, ChannelFilter]) -> None:
        self._vocab = _Vocabulary()
        self._term_ids: dict[str, int | None] = {}  # as typed; most channels share most terms
        users: dict[int, dict[str, list[int]]] = {}  # term id -> topic as typed -> filter ids
        self._excluders: dict[int, list[int]] = {}  # term id -> filter ids excluding it
        # Qualifiers, inverted too: the filters each one lets through, so checks are set operations.
        self._min_upvotes: dict[int, set[int]] = {}  # threshold -> filter ids
        self._need_code: set[int] = set()
        self._orgs: dict[str, set[int]] = {}  # normalised org -> filter ids naming it
        self._authors: dict[str, set[int]] = {}
        self._org_filters: set[int] = set()
        self._author_filters: set[int] = set()
        self._topics: list[tuple[str, ...]] = []
        self._open: list[int] = []  # filters without topics: every paper is a candidate
        self._channels: dict[str, int] = {}
        self._results: dict[tuple[tuple[str, int], ...], MatchResult] = {}
        distinct: dict[ChannelFilter, int] = {}
        for channel, f in filters.items():
            fid = distinct.get(f)
            if fid is None:
                fid = distinct[f] = len(self._topics)
                self._compile(fid, f, users)
            self._channels[channel] = fid
        self._users = {tid: [(topic, fids) for topic, fids in by_topic.items()] for tid, by_topic in users.items()}

    def _compile(self, fid: int, f: ChannelFilter, users: dict[int, dict[str, list[int]]]) -> None:
        self._topics.append(f.topics)
        for topic in f.topics:
            tid = self._term(topic)
            if tid is not None:
                users.setdefault(tid, {}).setdefault(topic, []).append(fid)
        for term in f.excluded:
            tid = self._term(term)
            if tid is not None:
                self._excluders.setdefault(tid, []).append(fid)
        if f.min_upvotes > 0:
            self._min_upvotes.setdefault(f.min_upvotes, set()).add(fid)
        if f.has_code:
            self._need_code.add(fid)
        for names, index, named in (
            (f.orgs, self._orgs, self._org_filters),
            (f.authors, self._authors, self._author_filters),
        ):
            for name in names:
                index.setdefault(" ".join(words_of(name)), set()).add(fid)
                named.add(fid)
        if not f.topics:
            self._open.append(fid)

    def _term(self, text: str) -> int | None:
        if text not in self._term_ids:
            self._term_ids[text] = self._vocab.add(text)
        return self._term_ids[text]

    def match(self, papers: Sequence[Paper]) -> dict[str, list[tuple[Paper, MatchResult]]]:
        """Every channel -> every paper its filter lets through, in the given order (not limited)."""
        per_filter: list[list[tuple[Paper, MatchResult]]] = [[] for _ in self._topics]
        for paper in papers:
            for fids, result in self._match(paper):
                item = (paper, result)
                for fid in fids:
                    per_filter[fid].append(item)
        handed_out: set[int] = set()
        out = {}
        for channel, fid in self._channels.items():  # copy only lists that channels share
            out[channel] = per_filter[fid] if fid not in handed_out else list(per_filter[fid])
            handed_out.add(fid)
        return out

    def _match(self, paper: Paper) -> list[tuple[Iterable[int], MatchResult]]:
        """Groups of filter ids that let ``paper`` through, each group with its one explanation."""
        hits = self._vocab.scan(paper)
        singles: list[tuple[tuple[str, int], list[int]]] = []
        first: dict[int, tuple[str, int]] = {}  # filter id -> (topic, field mask) of its first hit
        several: dict[int, list[tuple[str, int]]] = {}  # filters with more than one topic hit
        rejected: set[int] = set()
        for tid, mask in hits.items():
            if mask & _EXCLUDABLE and tid in self._excluders:
                rejected.update(self._excluders[tid])
            for topic, fids in self._users.get(tid, ()):
                pair = (topic, mask)
                for fid in first.keys() & fids:
                    several.setdefault(fid, [first[fid]]).append(pair)
                first.update(dict.fromkeys(fids, pair))
                singles.append((pair, fids))
        for threshold, below in self._min_upvotes.items():
            if paper.upvotes < threshold:
                rejected.update(below)
        if not paper.github_repo:
            rejected.update(self._need_code)
        if self._org_filters:
            orgs = {" ".join(words_of(paper.organization_id)), " ".join(words_of(paper.organization))}
            rejected.update(self._org_filters.difference(*(self._orgs.get(o, ()) for o in orgs)))
        if self._author_filters:
            names = _name_keys(paper.authors)
            rejected.update(self._author_filters.difference(*(self._authors.get(n, ()) for n in names)))
        groups: list[tuple[Iterable[int], MatchResult]] = []
        for fid, pairs in several.items():
            if fid not in rejected:
                order = self._topics[fid]
                ranked = sorted([(order.index(topic), topic, mask) for topic, mask in pairs])
                groups.append(((fid,), self._result(tuple((topic, mask) for _, topic, mask in ranked))))
        rejected.update(several)
        # set - set walks the smaller side (CPython), so this stays proportional to each group.
        groups.extend((passing, self._result((pair,))) for pair, fids in singles if (passing := set(fids) - rejected))
        if self._open:
            groups.append((set(self._open) - rejected, _EVERYTHING))
        return groups

    def _result(self, key: tuple[tuple[str, int], ...]) -> MatchResult:
        result = self._results.get(key)
        if result is None:
            found = tuple(Hit(topic, _WHERE[mask]) for topic, mask in key)
            result = self._results[key] = MatchResult(found, any(mask & _STRONG for _, mask in key))
        return result


@lru_cache(maxsize=256)
def _single(f: ChannelFilter) -> FilterIndex:
    return FilterIndex({"": f})


def match_paper(f: ChannelFilter, paper: Paper) -> MatchResult | None:
    """Why ``paper`` matches ``f``, or ``None`` (excluded, no topic matched, or a qualifier failed)."""
    return next((result for fids, result in _single(f)._match(paper) if fids), None)


def choose_matches(matches: Iterable[tuple[Paper, MatchResult]], limit: int) -> list[tuple[Paper, MatchResult]]:
    """Up to ``limit`` matches: strong ones first by upvotes, then weak ones; shown by upvotes."""
    ranked = sorted(matches, key=lambda m: -m[0].upvotes)
    if len(ranked) <= limit:
        return ranked
    strong = [i for i, m in enumerate(ranked) if m[1].strong]
    weak = [i for i, m in enumerate(ranked) if not m[1].strong]
    return [ranked[i] for i in sorted((strong + weak)[: max(limit, 0)])]


def select_papers(
    f: ChannelFilter, papers: Iterable[Paper], limit: int, *, exclude_keys: AbstractSet[str] = frozenset()
) -> tuple[list[tuple[Paper, MatchResult]], int]:
    """The papers to post and how many the filter turned away.

    Papers in ``exclude_keys`` (already posted) and repeated keys are skipped without counting; the
    count is of papers the filter rejected, so a post can say "12 other papers did not match".
    """
    index, matches, dropped, seen = _single(f), [], 0, set()
    for paper in papers:
        if paper.key in exclude_keys or paper.key in seen:
            continue
        seen.add(paper.key)
        result = next((result for fids, result in index._match(paper) if fids), None)
        if result is None:
            dropped += 1
        else:
            matches.append((paper, result))
    return choose_matches(matches, limit), dropped
