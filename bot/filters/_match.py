"""Matching papers against filters with reasons, one paper or 10,000 channels at once. Pure; see
``bot.filters`` for the rules and the cost model."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import lru_cache
from itertools import product
from typing import Protocol, TypeVar

from bot.feed.papers import Paper
from bot.filters._orgs import org_keys, org_query
from bot.filters._paper_text import read_paper
from bot.filters._query import ChannelFilter
from bot.filters._terms import (
    JOIN_STOPWORDS,
    compound_key,
    light_stem,
    phrase_key,
    phrase_variants,
    stem,
    topic_units,
    words_of,
)

_T = TypeVar("_T")
_Pair = tuple[str, str, str, int]  # (topic as typed, hit kind, via, field mask)

# ---------------------------------------------------------------------------------------------------
# Matching

_TITLE, _KEYWORDS, _ABSTRACT, _AUTHORS = 1, 2, 4, 8
_FIELDS = (("title", _TITLE), ("keywords", _KEYWORDS), ("abstract", _ABSTRACT), ("authors", _AUTHORS))
_WHERE = tuple(tuple(name for name, bit in _FIELDS if mask & bit) for mask in range(16))
_STRONG = _TITLE | _KEYWORDS | _AUTHORS
_EXCLUDABLE = _TITLE | _KEYWORDS | _ABSTRACT

__all__ = [
    "RELATED_PREFIX",
    "FilterIndex",
    "Hit",
    "MatchResult",
    "RelatedTopics",
    "choose_matches",
    "match_paper",
    "select_papers",
]


class RelatedTopics(Protocol):
    """Matching in meaning (``bot.filters.semantic.RelatedMatcher``), kept behind a protocol so this
    module stays pure and works without the optional extra."""

    def close_topics(self, topics: Sequence[str], papers: Sequence[Paper]) -> list[frozenset[int]]:
        """For each paper, the indices of ``topics`` it is close in meaning to."""
        ...

    def __hash__(self) -> int: ...  # one-filter indexes are cached per (filter, matcher)


@dataclass(frozen=True, slots=True)
class Hit:
    """One topic that matched, the fields it matched in, and how.

    ``kind``: ``phrase`` (the topic's words in order, or a form of it), ``near`` (all its words in one
    sentence, the title or one keyword, close together, in any order) or ``related`` (close in meaning,
    from the semantic extra). ``via`` names the synonym or narrower term that matched ("MLLM" for VLM).
    """

    topic: str
    where: tuple[str, ...]
    kind: str = "phrase"
    via: str = ""

    @property
    def tier(self) -> int:
        """0 is best: a phrase in the title, keywords or authors; 3 is a match in meaning only."""
        strong = any(w != "abstract" for w in self.where)
        if self.kind == "phrase":
            return 0 if strong else 1
        if self.kind == "near":
            return 1 if strong else 2
        return 3

    def explain(self) -> str:
        where = ", ".join(self.where)
        if self.kind == "near":
            return f"{self.topic} (words apart: {where})"
        if self.via:
            return f"{self.topic} (as {self.via}: {where})"
        return f"{self.topic} ({where})"


RELATED_PREFIX = "Related to: "


@dataclass(frozen=True, slots=True)
class MatchResult:
    """Why a paper matched; ``strong`` when some hit is a phrase outside the abstract (or the filter has
    no topics)."""

    hits: tuple[Hit, ...]
    strong: bool

    @property
    def tier(self) -> int:
        return min((h.tier for h in self.hits), default=0)

    @property
    def kind(self) -> str:
        """``word`` or ``related`` (only the semantic extra found it); ``all`` for a filter without topics."""
        if not self.hits:
            return "all"
        return "related" if all(h.kind == "related" for h in self.hits) else "word"

    def explain(self) -> str:
        words = " · ".join(h.explain() for h in self.hits if h.kind != "related")
        related = ", ".join(h.topic for h in self.hits if h.kind == "related")
        return " · ".join(x for x in (words, related and RELATED_PREFIX + related) if x)


_EVERYTHING = MatchResult(hits=(), strong=True)
_GAP = 4  # words of a topic "close together": at most this many other words between them
_TITLE_GAP = 8


class _Vocabulary:
    """Every distinct term, compiled to the keys a paper's token stream can produce."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.keys: dict[str, list[tuple[int, str]]] = {}  # stem phrase or compound -> (term id, via)
        self.prefixes: set[str] = set()  # proper word-prefixes of stem phrases
        self.chars: set[str] = set()  # proper character-prefixes of compounds
        self.names: dict[str, list[tuple[int, str]]] = {}  # as-typed stem phrases, for author names
        self.name_prefixes: set[str] = set()
        self.units: dict[str, list[tuple[int, int]]] = {}  # unit form -> (term id, unit number)
        self.unit_prefixes: set[str] = set()
        self.unit_count: dict[int, int] = {}  # term id -> units it needs
        self.one_word: set[int] = set()  # terms of a single word ("benchmark", "audio", "RAG")

    def add(self, term: str) -> int | None:
        words = tuple(words_of(term))
        if not words:
            return None
        key = phrase_key(words)
        if key in self.ids:
            return self.ids[key]
        tid = self.ids[key] = len(self.ids)
        if len(words) == 1:
            self.one_word.add(tid)
        _register(self.names, self.name_prefixes, key, (tid, ""))
        for variant, via in phrase_variants(words):
            _register(self.keys, self.prefixes, phrase_key(variant), (tid, via))
            compound = compound_key(variant)
            if compound is not None:
                entries = self.keys.setdefault(compound, [])
                if all(t != tid for t, _ in entries):
                    entries.append((tid, via))
                self.chars.update(compound[:k] for k in range(1, len(compound)))
        units = topic_units(words)
        if len(units) >= 2:
            self.unit_count[tid] = len(units)
            for number, forms in enumerate(units):
                for form in forms:
                    _register(self.units, self.unit_prefixes, phrase_key(form), (tid, number))
        return tid

    def scan(self, paper: Paper) -> tuple[dict[int, int], dict[int, str], dict[int, int], set[int]]:
        """Term id -> bit mask of the fields it occurs in as a phrase; the label of a match through a
        synonym or narrower term (absent when the topic itself matched); term id -> fields where its
        words stand apart; one-word terms mentioned in passing (one sentence of the abstract, nowhere
        else), which exclude a paper but are not what it is about."""
        text = read_paper(paper)
        hits: dict[int, int] = {}
        via: dict[int, str] = {}
        for lists, bit in ((text.title, _TITLE), (text.keywords, _KEYWORDS)):
            for words in lists:
                self._walk(words, bit, hits, via)
        in_abstract: dict[int, int] = {}  # term id -> abstract sentences it occurs in
        opening: set[int] = set()  # terms of the abstract's first sentence, where it says what it is about
        for number, sentence in enumerate(text.abstract):
            found: dict[int, int] = {}
            for words in sentence:
                self._walk(words, _ABSTRACT, found, via)
            if number == 0:
                opening.update(found)
            for tid in found:
                in_abstract[tid] = in_abstract.get(tid, 0) + 1
                hits[tid] = hits.get(tid, 0) | _ABSTRACT
        passing: set[int] = set()
        for tid, count in in_abstract.items():  # a loose match only in the abstract must be repeated
            if count < 2 and hits[tid] == _ABSTRACT:
                if via.get(tid):
                    del hits[tid]
                elif tid in self.one_word and tid not in opening:
                    passing.add(tid)
        for name in paper.authors:
            stems = [stem(w) for w in words_of(name)]
            _walk_phrases(stems, self.names, self.name_prefixes, _AUTHORS, hits, via)
        near: dict[int, int] = {}
        if self.unit_count:
            for lists, bit, gap in ((text.title_spans, _TITLE, _TITLE_GAP), (text.keyword_spans, _KEYWORDS, 1 << 10)):
                for words in lists:
                    for tid in self._near(words, gap):
                        near[tid] = near.get(tid, 0) | bit
            sentences: dict[int, int] = {}
            for words in text.abstract_spans:
                for tid in self._near(words, _GAP):
                    sentences[tid] = sentences.get(tid, 0) + 1
            for tid, count in sentences.items():  # as above: words apart only in one sentence are not enough
                if count >= 2 or tid in near:
                    near[tid] = near.get(tid, 0) | _ABSTRACT
        return hits, via, near, passing

    def _walk(self, words: list[str], bit: int, hits: dict[int, int], via: dict[int, str]) -> None:
        stems = [stem(w) for w in words]
        _walk_phrases(stems, self.keys, self.prefixes, bit, hits, via)
        keys, chars, n = self.keys, self.chars, len(words)
        for i in range(n - 1):  # compounds: "pre training" -> "pretrain"
            acc = light_stem(words[i])
            if words[i] in JOIN_STOPWORDS or acc not in chars:
                continue
            for j in range(i + 1, n):
                if words[j] in JOIN_STOPWORDS:
                    break
                _record(keys.get(acc + stems[j], ()), bit, hits, via)
                acc += light_stem(words[j])
                if acc not in chars:
                    break

    def _near(self, words: list[str], gap: int) -> list[int]:
        """Terms whose every unit occurs in ``words`` with at most ``gap`` other words between them."""
        stems = [stem(w) for w in words]
        found: dict[int, dict[int, list[tuple[int, int]]]] = {}  # term -> unit -> (start, end)
        units, prefixes, n = self.units, self.unit_prefixes, len(stems)
        for i in range(n):
            key, j = stems[i], i + 1
            while True:
                for tid, number in units.get(key, ()):
                    found.setdefault(tid, {}).setdefault(number, []).append((i, j))
                if j == n or key not in prefixes:
                    break
                key = f"{key} {stems[j]}"
                j += 1
        return [
            tid
            for tid, spots in found.items()
            if len(spots) == self.unit_count[tid] and _closest_gap(list(spots.values())) <= gap
        ]


def _closest_gap(spots: list[list[tuple[int, int]]]) -> int:
    """The fewest other words between one occurrence of each unit (units are few; occurrences too)."""
    best = 1 << 30
    for combo in product(*spots):
        start, end = min(s for s, _ in combo), max(e for _, e in combo)
        best = min(best, end - start - sum(e - s for s, e in combo))
        if best <= 0:
            break
    return best


def _record(entries: Iterable[tuple[int, str]], bit: int, hits: dict[int, int], via: dict[int, str]) -> None:
    for tid, label in entries:
        if label:
            if tid not in hits:
                via.setdefault(tid, label)
        else:
            via.pop(tid, None)
        hits[tid] = hits.get(tid, 0) | bit


def _register(keys: dict[str, list[_T]], prefixes: set[str], key: str, entry: _T) -> None:
    entries = keys.setdefault(key, [])
    if entry not in entries:
        entries.append(entry)
    parts = key.split(" ")
    prefixes.update(" ".join(parts[:k]) for k in range(1, len(parts)))


def _walk_phrases(
    stems: list[str],
    keys: dict[str, list[tuple[int, str]]],
    prefixes: set[str],
    bit: int,
    hits: dict[int, int],
    via: dict[int, str],
) -> None:
    n = len(stems)
    for i in range(n):
        key, j = stems[i], i + 1
        while True:
            entries = keys.get(key)
            if entries:
                _record(entries, bit, hits, via)
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

    def __init__(self, filters: Mapping[str, ChannelFilter], *, related: RelatedTopics | None = None) -> None:
        self._related = related
        self._related_topics: dict[str, int] = {}  # topic as typed -> its index for ``related``
        self._related_users: dict[int, list[int]] = {}  # topic index -> filters open to related papers
        self._related_names: list[str] = []  # topic index -> topic as typed
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
        self._results: dict[tuple[_Pair, ...], MatchResult] = {}
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
        for org in f.orgs:
            self._orgs.setdefault(org_query(org), set()).add(fid)
            self._org_filters.add(fid)
        for name in f.authors:
            self._authors.setdefault(" ".join(words_of(name)), set()).add(fid)
            self._author_filters.add(fid)
        if not f.topics:
            self._open.append(fid)
        if f.related and self._related is not None:
            for topic in f.topics:
                index = self._related_topics.setdefault(topic, len(self._related_topics))
                if index == len(self._related_names):
                    self._related_names.append(topic)
                self._related_users.setdefault(index, []).append(fid)

    def _term(self, text: str) -> int | None:
        if text not in self._term_ids:
            self._term_ids[text] = self._vocab.add(text)
        return self._term_ids[text]

    def match(self, papers: Sequence[Paper]) -> dict[str, list[tuple[Paper, MatchResult]]]:
        """Every channel -> every paper its filter lets through, in the given order (not limited)."""
        per_filter: list[list[tuple[Paper, MatchResult]]] = [[] for _ in self._topics]
        for paper, close in zip(papers, self._close(papers), strict=True):
            for fids, result in self._match(paper, close):
                item = (paper, result)
                for fid in fids:
                    per_filter[fid].append(item)
        handed_out: set[int] = set()
        out = {}
        for channel, fid in self._channels.items():  # copy only lists that channels share
            out[channel] = per_filter[fid] if fid not in handed_out else list(per_filter[fid])
            handed_out.add(fid)
        return out

    def _close(self, papers: Sequence[Paper]) -> list[frozenset[int]]:
        """Per paper, the indices of the topics it is related to in meaning (one batch for all)."""
        if self._related is None or not self._related_users:
            return [frozenset()] * len(papers)
        return self._related.close_topics(self._related_names, papers)

    def _match(self, paper: Paper, close: frozenset[int] | None = None) -> list[tuple[Iterable[int], MatchResult]]:
        """Groups of filter ids that let ``paper`` through, each group with its one explanation.

        ``close``: the topics ``paper`` is related to (``_close``), asked for here when not given.
        """
        groups, refused = self._match_and_reject(paper)
        if close is None:
            close = self._close([paper])[0]
        if close:
            groups.extend(self._related_groups(close, groups, refused))
        return groups

    def _related_groups(
        self, close: frozenset[int], groups: list[tuple[Iterable[int], MatchResult]], refused: set[int]
    ) -> list[tuple[Iterable[int], MatchResult]]:
        """Filters no word of the paper matched, that did not turn it away and that follow a topic it
        is related to; their reasons are those topics, in the filter's order."""
        matched = set(refused)
        for fids, _ in groups:
            matched.update(fids)
        topics_of: dict[int, list[str]] = {}
        names = self._related_names
        for index in close:
            for fid in self._related_users.get(index, ()):
                if fid not in matched:
                    topics_of.setdefault(fid, []).append(names[index])
        by_reason: dict[tuple[_Pair, ...], list[int]] = {}
        for fid, topics in topics_of.items():
            order = self._topics[fid]
            reason = tuple((topic, "related", "", 0) for topic in sorted(topics, key=order.index))
            by_reason.setdefault(reason, []).append(fid)
        return [(fids, self._result(reason)) for reason, fids in by_reason.items()]

    def _match_and_reject(self, paper: Paper) -> tuple[list[tuple[Iterable[int], MatchResult]], set[int]]:
        """The groups, and the filters that turned the paper away whatever its topics (exclusions and
        qualifiers)."""
        hits, via, near, passing = self._vocab.scan(paper)
        singles: list[tuple[_Pair, list[int]]] = []
        first: dict[int, _Pair] = {}  # filter id -> its first topic hit
        several: dict[int, list[_Pair]] = {}  # filters with more than one topic hit
        rejected: set[int] = set()
        for tid, mask in hits.items():
            if mask & _EXCLUDABLE and tid in self._excluders:
                rejected.update(self._excluders[tid])
        for tid in hits.keys() | near.keys():
            users = self._users.get(tid)
            if not users or tid in passing:
                continue
            mask = hits.get(tid, 0)
            kind, label, where = ("phrase", via.get(tid, ""), mask) if mask else ("near", "", near[tid])
            for topic, fids in users:
                pair = (topic, kind, label, where)
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
            orgs = org_keys(paper.organization_id, paper.organization)
            rejected.update(self._org_filters.difference(*(self._orgs.get(o, ()) for o in orgs)))
        if self._author_filters:
            names = _name_keys(paper.authors)
            rejected.update(self._author_filters.difference(*(self._authors.get(n, ()) for n in names)))
        groups: list[tuple[Iterable[int], MatchResult]] = []
        for fid, pairs in several.items():
            if fid not in rejected:
                order = self._topics[fid]
                ranked = sorted([(order.index(pair[0]), pair) for pair in pairs])
                groups.append(((fid,), self._result(tuple(pair for _, pair in ranked))))
        refused = set(rejected)
        rejected.update(several)
        # set - set walks the smaller side (CPython), so this stays proportional to each group.
        groups.extend((passing, self._result((pair,))) for pair, fids in singles if (passing := set(fids) - rejected))
        if self._open:
            groups.append((set(self._open) - rejected, _EVERYTHING))
        return groups, refused

    def _result(self, key: tuple[_Pair, ...]) -> MatchResult:
        result = self._results.get(key)
        if result is None:
            found = tuple(Hit(topic, _WHERE[mask], kind, label) for topic, kind, label, mask in key)
            result = self._results[key] = MatchResult(found, any(h.tier == 0 for h in found))
        return result


@lru_cache(maxsize=256)
def _single(f: ChannelFilter, related: RelatedTopics | None = None) -> FilterIndex:
    return FilterIndex({"": f}, related=related)


def match_paper(f: ChannelFilter, paper: Paper, *, related: RelatedTopics | None = None) -> MatchResult | None:
    """Why ``paper`` matches ``f``, or ``None`` (excluded, no topic matched, or a qualifier failed)."""
    return next((result for fids, result in _single(f, related)._match(paper) if fids), None)


def choose_matches(matches: Iterable[tuple[Paper, MatchResult]], limit: int) -> list[tuple[Paper, MatchResult]]:
    """Up to ``limit`` matches, the best kind of match first (a phrase in the title before one in the
    abstract, before words apart, before a match in meaning), by upvotes within a kind; shown by upvotes."""
    ranked = sorted(matches, key=lambda m: -m[0].upvotes)
    if len(ranked) <= limit:
        return ranked
    best = sorted(range(len(ranked)), key=lambda i: ranked[i][1].tier)  # stable: by upvotes within a tier
    return [ranked[i] for i in sorted(best[: max(limit, 0)])]


def select_papers(
    f: ChannelFilter,
    papers: Iterable[Paper],
    limit: int,
    *,
    exclude_keys: AbstractSet[str] = frozenset(),
    related: RelatedTopics | None = None,
) -> tuple[list[tuple[Paper, MatchResult]], int]:
    """The papers to post and how many the filter turned away.

    Papers in ``exclude_keys`` (already posted) and repeated keys are skipped without counting; the
    count is of papers the filter rejected, so a post can say "12 other papers did not match".
    """
    index, matches, dropped, seen, unseen = _single(f, related), [], 0, set(), []
    for paper in papers:
        if paper.key in exclude_keys or paper.key in seen:
            continue
        seen.add(paper.key)
        unseen.append(paper)
    for paper, close in zip(unseen, index._close(unseen), strict=True):
        result = next((result for fids, result in index._match(paper, close) if fids), None)
        if result is None:
            dropped += 1
        else:
            matches.append((paper, result))
    return choose_matches(matches, limit), dropped
