"""Which papers a channel gets from a set of days: its filter, its thresholds, nothing seen twice."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from bot.feed.papers import Paper
from bot.filters import ChannelFilter, MatchResult, RelatedTopics, parse_filter, select_papers
from bot.models import ChannelConfig

__all__ = ["Selection", "channel_filter", "select_for_channel", "selection_of"]


@dataclass(frozen=True)
class Selection:
    papers: list[Paper]
    reasons: dict[str, str] = field(default_factory=dict)  # paper key → why it matched
    dropped: int = 0  # papers of these days the filter or thresholds left out
    kinds: dict[str, str] = field(default_factory=dict)  # paper key → word, related or all (MatchResult.kind)


def channel_filter(config: ChannelConfig) -> ChannelFilter:
    """The stored filter text plus the channel's ``min-upvotes`` and ``related`` settings."""
    base = parse_filter(config.filter_text) if config.filter_text else ChannelFilter()
    if config.min_upvotes > base.min_upvotes:
        base = replace(base, min_upvotes=config.min_upvotes)
    if not config.related:
        base = replace(base, related=False)
    return base


def select_for_channel(
    config: ChannelConfig, papers: Iterable[Paper], posted: set[str], *, related: RelatedTopics | None = None
) -> Selection:
    """Ranked by upvotes, at most ``max_papers``, never a paper the channel already had.

    ``related``: the semantic matcher when the extra is installed (``bot.filters.semantic``)."""
    unseen = [p for p in papers if p.key not in posted]
    chosen, dropped = select_papers(channel_filter(config), unseen, config.max_papers, related=related)
    return selection_of(chosen, dropped)


def selection_of(chosen: Iterable[tuple[Paper, MatchResult]], dropped: int) -> Selection:
    chosen = list(chosen)
    reasons = {paper.key: result.explain() for paper, result in chosen if result.explain()}
    kinds = {paper.key: result.kind for paper, result in chosen}
    return Selection([paper for paper, _ in chosen], reasons, dropped, kinds)
