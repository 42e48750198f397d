"""Follow-ups in the thread, the pure part: what a look at a paper teaches, and which replies are owed.

Why pure: "exactly once" and "only what is new since *this* channel's post" are rules over three
records (the digests of the last 14 days, each paper's watch, the follow-ups already in the ledger);
written as functions of those records they are tested without Slack, Hugging Face or a clock.

The rules:

* A paper's first look (``observe`` without a watch) is its *baseline*: what it already had is never
  announced. Later looks record each new item (code, models, datasets, Spaces) with when it was first
  seen; an item is announced to a channel only if it was seen after that channel's post.
* An announcement is the ledger entry (workspace, channel, ``follow-up``, ``<paper>/<item>``): claimed
  once, so a
  retry, a restart or a second process never announces it again. A FAILED entry may be claimed again
  (up to ``MAX_ATTEMPTS``); a claim left by a dead process is settled from the thread first.
* One reply per post and day at most, batched: everything owed to one post's thread goes in one reply;
  a thread that already had its reply today keeps the rest for tomorrow.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.feed.papers import Paper
from bot.models import PaperLinks, PaperWatch, RunKind, RunRecord, RunState
from bot.store.ledger_rules import MAX_ATTEMPTS, is_orphaned

__all__ = [
    "MAX_PAPERS_PER_REPLY",
    "Batch",
    "Owed",
    "Thread",
    "links_of",
    "observe",
    "period_for",
    "plan_replies",
    "threads_of",
]

MAX_PAPERS_PER_REPLY = 20  # keeps a reply far inside Slack's message limits; the rest waits a day
_COUNTS = (("models", "numTotalModels"), ("datasets", "numTotalDatasets"), ("spaces", "numTotalSpaces"))


def links_of(paper: Paper) -> PaperLinks:
    """The linked repository and counts ``/api/papers/{id}`` reported (absent counts are 0)."""
    counts = {name: max(paper.extra.get(key, 0), 0) for name, key in _COUNTS}
    return PaperLinks(repo=paper.github_repo, stars=paper.github_stars, **counts)


def observe(
    watch: PaperWatch | None, *, team_id: str, paper_key: str, paper: Paper | None, now: datetime
) -> PaperWatch:
    """The watch after one look at Hugging Face. ``paper`` None: Hugging Face does not know the paper
    (404); the look still counts for the day, and nothing is learnt."""
    today = now.date()
    if watch is None:
        links = links_of(paper) if paper is not None else PaperLinks()
        return PaperWatch(
            team_id,
            paper_key,
            first_checked_at=now,
            checked_on=today,
            links=links,
            baseline=links.present(),
            title=paper.title if paper is not None else "",
        )
    if paper is None:
        return watch.replace(checked_on=today)
    links = links_of(paper)
    known = set(watch.baseline) | {item for item, _ in watch.appeared}
    new = tuple((item, now) for item in links.present() if item not in known)
    return watch.replace(checked_on=today, links=links, appeared=watch.appeared + new, title=paper.title)


def period_for(paper_key: str, item: str) -> str:
    """The ledger period of one announcement: the paper and what appeared (``2608.01234/code``)."""
    return f"{paper_key}/{item}"


@dataclass(frozen=True)
class Thread:
    """One post's thread in a channel: where its papers' follow-ups go."""

    channel_id: str
    team_id: str
    thread_ts: str  # the post's first message
    posted_at: datetime  # the claim of the post, i.e. just before it was sent
    paper_keys: tuple[str, ...]


def threads_of(
    digests: Iterable[RunRecord], *, now: datetime, window: timedelta, team_of: Mapping[str, str] | None = None
) -> list[Thread]:
    """The posts of the last ``window`` that reached their channel (POSTED, with a message ``ts``).

    ``team_of``: the workspace of each channel id that belongs to one workspace only, for posts
    recorded before their workspace was known."""
    threads = []
    for record in digests:
        if record.kind != RunKind.DIGEST or record.state != RunState.POSTED or not record.ts:
            continue
        if not timedelta(0) <= now - record.claimed_at <= window or not record.paper_keys:
            continue
        team = record.team_id or (team_of or {}).get(record.channel_id, "")
        threads.append(Thread(record.channel_id, team, record.ts[0], record.claimed_at, record.paper_keys))
    return threads


@dataclass(frozen=True)
class Owed:
    """One paper's news for one thread: the items to announce, and earlier entries for them that must
    be settled (a dead process's claim) or are claimed again (a FAILED attempt)."""

    paper_key: str
    items: tuple[str, ...]
    earlier: tuple[RunRecord, ...] = ()


@dataclass(frozen=True)
class Batch:
    """One reply to send: a thread and the papers whose news it carries (post order)."""

    thread: Thread
    owed: tuple[Owed, ...]
    watches: Mapping[str, PaperWatch] = field(default_factory=dict)  # paper key -> its watch (for the text)

    @property
    def channel_id(self) -> str:
        return self.thread.channel_id

    def periods(self) -> list[tuple[str, str]]:
        return [(o.paper_key, period_for(o.paper_key, item)) for o in self.owed for item in o.items]


def _claimable(entry: RunRecord | None, now: datetime, lease: timedelta) -> bool | None:
    """True: may be claimed (new, or FAILED with attempts left); None: a dead process's claim, to be
    settled first; False: done, given up, or being sent right now."""
    if entry is None:
        return True
    if entry.state == RunState.FAILED:
        return entry.attempts < MAX_ATTEMPTS
    if is_orphaned(entry, now, lease):
        return None
    return False


def plan_replies(
    threads: Sequence[Thread],
    watches: Mapping[tuple[str, str], PaperWatch],
    announced: Mapping[tuple[str, str, str], RunRecord],
    *,
    now: datetime,
    lease: timedelta,
) -> tuple[list[Batch], int]:
    """The replies owed now, and how many items wait for tomorrow (their thread had its reply today).

    ``watches``: by (workspace, paper key); ``announced``: follow-up entries by (workspace, channel,
    period). A channel id is unique only within its workspace, so every key here starts with it.
    """
    today = now.date()
    thread_of: dict[tuple[str, str, str], Thread] = {}  # (workspace, channel, paper) -> its newest post
    for thread in threads:
        for key in thread.paper_keys:
            known = thread_of.get((thread.team_id, thread.channel_id, key))
            if known is None or known.posted_at < thread.posted_at:
                thread_of[(thread.team_id, thread.channel_id, key)] = thread
    replied_today: set[tuple[str, str, str]] = set()  # (workspace, channel, thread ts)
    for (team, channel, period), entry in announced.items():
        replied = thread_of.get((team, channel, period.rpartition("/")[0]))
        # A dead process's claim is settled with the thread's reply instead (its reply may not exist).
        sending = entry.state == RunState.CLAIMED and not is_orphaned(entry, now, lease)
        sent_or_sending = entry.state == RunState.POSTED or sending
        if replied is not None and entry.local_date == today and sent_or_sending:
            replied_today.add((team, channel, replied.thread_ts))
    batches: list[Batch] = []
    held = 0
    for thread in threads:
        team = thread.team_id
        owed: list[Owed] = []
        for key in thread.paper_keys:
            watch = watches.get((team, key))
            if watch is None or thread_of.get((team, thread.channel_id, key)) is not thread:
                continue
            items: list[str] = []
            earlier: list[RunRecord] = []
            for item, seen_at in watch.appeared:
                if item in watch.baseline or seen_at <= thread.posted_at:
                    continue  # the post itself came after it (or it was there at the first look)
                previous = announced.get((team, thread.channel_id, period_for(key, item)))
                if _claimable(previous, now, lease) is False:
                    continue
                items.append(item)
                if previous is not None:
                    earlier.append(previous)
            if items:
                owed.append(Owed(key, tuple(items), tuple(earlier)))
        if not owed:
            continue
        if (team, thread.channel_id, thread.thread_ts) in replied_today:
            held += sum(len(o.items) for o in owed)
            continue
        held += sum(len(o.items) for o in owed[MAX_PAPERS_PER_REPLY:])
        chosen = tuple(owed[:MAX_PAPERS_PER_REPLY])
        batches.append(Batch(thread, chosen, {o.paper_key: watches[(team, o.paper_key)] for o in chosen}))
    return batches, held
