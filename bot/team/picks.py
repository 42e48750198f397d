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

__all__ = ["people_per_paper", "team_picks"]


def people_per_paper(signals: Iterable[Signal]) -> dict[str, tuple[PaperRef, int]]:
    """Paper key -> (the paper as last signalled, how many different people signalled it)."""
    people: dict[str, set[str]] = defaultdict(set)
    papers: dict[str, PaperRef] = {}
    for signal in signals:
        people[signal.key].add(signal.user_id)
        papers[signal.key] = signal.paper
    return {key: (papers[key], len(users)) for key, users in people.items()}


def team_picks(signals: Iterable[Signal], *, per_channel: int = 3) -> list[ChannelPicks]:
    """Each channel's best ``per_channel`` papers (most people, then most upvotes), channels with the
    most people signalling first."""
    by_channel: dict[str, list[Signal]] = defaultdict(list)
    for signal in signals:
        by_channel[signal.channel_id].append(signal)
    ranked = []
    for channel_id, found in by_channel.items():
        counted = people_per_paper(found)
        best = sorted(counted.values(), key=lambda pc: (-pc[1], -pc[0].upvotes, pc[0].key))[:per_channel]
        activity = len({s.user_id for s in found})
        ranked.append((activity, channel_id, ChannelPicks(channel_id, tuple(best))))
    ranked.sort(key=lambda item: (-item[0], item[1]))
    return [picks for _, _, picks in ranked]
