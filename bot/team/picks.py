"""Team picks: which papers the people of a channel signalled most. Pure.

A pick counts *people*, not signals: one person who saved, shared and reacted twice counts once, so
toggling a reaction or pressing Save again cannot push a paper up. Signals by the bot itself never
reach here (the reaction listener drops them), and only the bot's own posts yield reaction signals.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from bot.models import PaperRef, Signal
from bot.ui.home import ChannelPicks

__all__ = ["people_per_paper", "picks_from_counts"]


def people_per_paper(signals: Iterable[Signal]) -> dict[str, tuple[PaperRef, int]]:
    """Paper key -> (the paper as last signalled, how many different people signalled it)."""
    people: dict[str, set[str]] = defaultdict(set)
    papers: dict[str, PaperRef] = {}
    for signal in signals:
        people[signal.key].add(signal.user_id)
        papers[signal.key] = signal.paper
    return {key: (papers[key], len(users)) for key, users in people.items()}


def picks_from_counts(counts: Iterable[tuple[str, PaperRef, int]], *, per_channel: int = 3) -> list[ChannelPicks]:
    """Team picks from the store's per-(channel, paper) people counts (``Store.signal_counts``): each
    channel's best ``per_channel`` papers (most people, then most upvotes), channels whose best pick
    drew the most people first (then those whose picks drew the most in all)."""
    by_channel: dict[str, list[tuple[PaperRef, int]]] = defaultdict(list)
    for channel_id, paper, people in counts:
        by_channel[channel_id].append((paper, people))
    ranked = []
    for channel_id, found in by_channel.items():
        best = sorted(found, key=lambda pc: (-pc[1], -pc[0].upvotes, pc[0].key))[:per_channel]
        ranked.append((best[0][1], sum(n for _, n in best), channel_id, ChannelPicks(channel_id, tuple(best))))
    ranked.sort(key=lambda item: (-item[0], -item[1], item[2]))
    return [picks for *_, picks in ranked]
