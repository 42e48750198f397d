"""Topic matching for a whole post run: every due channel's filter against each paper, once.

Why: choosing a channel's papers one channel at a time walks the text of every paper once per
channel (``select_for_channel`` → a one-filter ``FilterIndex``). With 100 papers of ~200-word
abstracts that is ~60 ms of CPU per channel: a minute for 1,000 channels, three times the time
Slack's posting limits need. ``FilterIndex`` was built for the other way round (one walk per paper
answers every channel, ``bench/bench_filters.py``), so a post run builds one over its due channels
and each channel's selection becomes a lookup.

The result must equal ``select_for_channel`` exactly (same papers, order, reasons and dropped
count); ``tests/bot/test_fanout_matcher.py`` checks that on random filters.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

from bot.feed.papers import Paper
from bot.filters import FilterIndex, MatchResult, RelatedTopics, choose_matches
from bot.filters.selection import Selection, channel_filter, select_for_channel, selection_of
from bot.models import ChannelConfig

__all__ = ["RunMatcher"]


class RunMatcher:
    """Selections for the channels of one run; thread-safe, papers are matched on first request."""

    def __init__(self, configs: Iterable[ChannelConfig], *, related: RelatedTopics | None = None) -> None:
        configs = list(configs)
        self._filters = {c.channel_id: channel_filter(c) for c in configs}
        self._planned = {c.channel_id: _filter_settings(c) for c in configs}  # parsed once, compared cheaply
        self._related = related
        self._index: FilterIndex | None = None
        # Keyed by id(paper): a paper key may appear in two day lists with different upvotes, and a
        # reference to each matched paper is kept so that an id is never reused within the run.
        self._papers: dict[int, Paper] = {}
        self._keys: dict[int, str] = {}  # id(paper) → paper.key, which is parsed anew on every access
        self._results: dict[str, dict[int, MatchResult]] = {}  # channel → id(paper) → why it matched
        self._lock = threading.Lock()

    def select(self, config: ChannelConfig, papers: Sequence[Paper], posted: set[str]) -> Selection:
        """What ``select_for_channel(config, papers, posted)`` returns, without walking the papers again."""
        if self._planned.get(config.channel_id) != _filter_settings(config):  # not planned, or changed since
            return select_for_channel(config, papers, posted, related=self._related)
        self._match(papers)
        results = self._results.get(config.channel_id, {})
        keys = self._keys
        matches, dropped, seen = [], 0, set()
        for paper in papers:
            key = keys[id(paper)]
            if key in posted or key in seen:
                continue
            seen.add(key)
            result = results.get(id(paper))
            if result is None:
                dropped += 1
            else:
                matches.append((paper, result))
        return selection_of(choose_matches(matches, config.max_papers), dropped)

    def _match(self, papers: Sequence[Paper]) -> None:
        with self._lock:
            missing = [p for p in papers if id(p) not in self._papers]
            if not missing:
                return
            if self._index is None:
                self._index = FilterIndex(self._filters, related=self._related)
            for channel, items in self._index.match(missing).items():
                bucket = self._results.setdefault(channel, {})
                for paper, result in items:
                    bucket.setdefault(id(paper), result)
            self._papers.update((id(p), p) for p in missing)
            self._keys.update((id(p), p.key) for p in missing)


def _filter_settings(config: ChannelConfig) -> tuple[str, int, bool]:
    """What ``channel_filter`` reads: equal settings give an equal filter without parsing it again."""
    return config.filter_text, config.min_upvotes, config.related
