"""Planning a channel's post: which Hugging Face days it gets and which of their papers, without
touching Slack or writing the ledger.

The days: the settled days after the channel's ``last_day`` (a catch-up after a weekend or downtime,
at most ``MAX_CATCHUP_DAYS`` of them), or the newest one for a new channel. The papers: the channel's
filter over those days, never one it was sent or one a run still holds (``seen_keys``). A weekday
whose list is still empty makes the plan *wait* (Hugging Face publishes during the day) rather than
post nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from bot.channels.schedule import MAX_CATCHUP_DAYS, candidate_days
from bot.feed.papers import Paper
from bot.filters.selection import Selection
from bot.models import ChannelConfig, RunRecord, RunState
from bot.store import Store

__all__ = ["DaySource", "Plan", "plan_channel", "seen_keys"]

Select = Callable[[ChannelConfig, Sequence[Paper], set[str]], Selection]


@dataclass(frozen=True)
class Plan:
    """What a channel would get now; computed without touching Slack or the ledger."""

    days: tuple[date, ...]  # days whose papers are included, oldest first
    selection: Selection
    waiting: bool = False


class DaySource(Protocol):
    """Where a plan reads day lists: the ``DayFeed`` for a post run, ``KnownDays`` for a person waiting."""

    def papers(self, day: date, *, now: datetime | None = None) -> list[Paper]: ...


def plan_channel(
    feed: DaySource,
    config: ChannelConfig,
    now: datetime,
    days: Sequence[date] | None,
    *,
    select: Select,
    seen: set[str],
) -> Plan:
    """Raises ``HFError`` when Hugging Face cannot be read. ``days``: these days exactly (``post-now``)."""
    wanted = list(days) if days else candidate_days(now, config.last_day)
    limit = len(wanted) if days else (1 if config.last_day is None else MAX_CATCHUP_DAYS)
    chosen_days: list[date] = []
    papers: list[Paper] = []
    empty_weekday = False
    for day in wanted:
        day_papers = feed.papers(day, now=now)
        if not day_papers:
            empty_weekday = empty_weekday or day.weekday() < 5
            continue
        chosen_days.append(day)
        papers.extend(day_papers)
        if len(chosen_days) >= limit:
            break
    selection = select(config, papers, seen)
    waiting = not chosen_days and empty_weekday and not days
    return Plan(tuple(sorted(chosen_days)), selection, waiting)


def seen_keys(store: Store, channel: str, runs: Sequence[RunRecord] | None = None, *, team_id: str = "") -> set[str]:
    """Papers a post must not include: those posted here, and those a run still claims.

    The posted set is written when a run finishes; until then its claim holds its papers, so a
    second run for the channel (another local date, ``post-now`` beside a tick) cannot pick them.
    ``runs``: the channel's ``open_runs``, when the caller has just read them.
    """
    seen = store.posted_keys(channel, team_id=team_id)
    for record in store.open_runs(channel, team_id=team_id) if runs is None else runs:
        if record.state == RunState.CLAIMED:
            seen.update(record.paper_keys)
        seen.update(record.unsent)  # a cut-short digest's rest belongs to its continuation
    return seen
