"""Stored records: a channel's subscription and settings, and a post run's ledger entry.

They are plain dataclasses with a JSON form, so every store backend keeps exactly the same shape and
a later schema version can migrate documents field by field.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

__all__ = [
    "DEFAULT_MAX_PAPERS",
    "DEFAULT_POST_TIME",
    "DEFAULT_WEEKDAYS",
    "FOLLOW_UP_ITEMS",
    "ChannelConfig",
    "FilterChange",
    "PaperLinks",
    "PaperRef",
    "PaperWatch",
    "PostFormat",
    "RunKind",
    "RunRecord",
    "RunState",
    "SavedPaper",
    "Signal",
    "SignalKind",
    "Workspace",
]

DEFAULT_POST_TIME = "09:00"
DEFAULT_WEEKDAYS: tuple[int, ...] = (0, 1, 2, 3, 4)  # Monday=0 … Friday=4, as datetime.weekday()
DEFAULT_MAX_PAPERS = 10


class PostFormat(StrEnum):
    """How a channel's digest looks: a card per paper, or one line each."""

    FULL = "full"
    COMPACT = "compact"


@dataclass(frozen=True, slots=True)
class FilterChange:
    """Who changed a channel's filter and when, shown by ``/papers topics``."""

    user_id: str
    at: str  # ISO-8601 UTC
    summary: str


@dataclass(frozen=True, slots=True)
class ChannelConfig:
    """Everything the bot remembers about one channel."""

    channel_id: str
    team_id: str = ""
    subscribed: bool = False
    paused_reason: str = ""  # set when Slack refused a post (channel_not_found, is_archived, …)
    post_time: str = DEFAULT_POST_TIME  # "HH:MM", local to ``timezone``
    timezone: str = "UTC"  # IANA name
    weekdays: tuple[int, ...] = DEFAULT_WEEKDAYS
    max_papers: int = DEFAULT_MAX_PAPERS
    min_upvotes: int = 0
    filter_text: str = ""  # the channel's topic filter in its canonical text form
    post_format: str = "full"  # a PostFormat
    related: bool = True  # also post papers close in meaning to a topic (the `semantic` extra)
    follow_ups: bool = True  # reply in a post's thread when a posted paper's code or models appear
    last_day: date | None = None  # newest Hugging Face day this channel has had
    # Slots before this instant (ISO UTC) are not owed: a channel subscribed at noon gets its first
    # post at the next slot, not at once; downtime after it is still caught up.
    active_since: str = ""
    subscribed_by: str = ""
    created_at: str = ""
    updated_at: str = ""
    history: tuple[FilterChange, ...] = ()
    # The weekly recap (issue 16), opt-in: the weekday (Monday=0) and "HH:MM" in ``timezone``; None: off.
    recap_day: int | None = None
    recap_time: str = ""
    recap_since: str = ""  # ISO UTC: recap slots before this are not owed (as ``active_since``)
    recap_notice: str = ""  # Slack's refusal of the chart upload, said once in this channel

    @property
    def active(self) -> bool:
        return self.subscribed and not self.paused_reason

    def replace(self, **changes: Any) -> ChannelConfig:
        return dataclasses.replace(self, **changes)

    def to_doc(self) -> dict[str, Any]:
        doc = dataclasses.asdict(self)
        doc["weekdays"] = list(self.weekdays)
        doc["last_day"] = self.last_day.isoformat() if self.last_day else None
        doc["history"] = [dataclasses.asdict(h) for h in self.history]
        return doc

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> ChannelConfig:
        """Unknown keys are ignored and missing ones take defaults, so old documents still load."""
        names = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in doc.items() if k in names}
        values["weekdays"] = tuple(int(d) for d in values.get("weekdays", DEFAULT_WEEKDAYS))
        last_day = values.get("last_day")
        values["last_day"] = date.fromisoformat(last_day) if last_day else None
        values["history"] = tuple(FilterChange(**h) for h in values.get("history", ()))
        return cls(**values)


class RunState(StrEnum):
    """States of a channel's post run for one local date."""

    CLAIMED = "claimed"  # intent recorded; the post may or may not have reached Slack
    POSTED = "posted"  # Slack answered ok; ``ts`` holds the message timestamps
    NOTHING = "nothing"  # nothing new to post (all seen, weekend, filter matched nothing)
    FAILED = "failed"  # Slack refused before anything was posted; safe to try again later


class RunKind(StrEnum):
    """What a ledger entry posts; each kind has its own period, and each (channel, kind, period) is
    posted exactly once."""

    DIGEST = "digest"  # the daily post; period: the channel's local date (2026-12-07)
    RECAP = "recap"  # the weekly recap; period: the ISO week (2026-W49)
    FOLLOW_UP = "follow-up"  # a thread reply when a posted paper gains code or models; period: its key


@dataclass(frozen=True, slots=True)
class RunRecord:
    """The ledger entry for (workspace, channel, kind, period): a digest per channel and local day, a
    recap per week, a follow-up per paper, each at most once.

    ``local_date`` is the channel's local date of the claim (what the digest's period is, and what
    pruning goes by); ``team_id`` is the workspace the channel belongs to, and part of the key: a
    channel id is unique only within its workspace (issue 15). Records stored before workspaces were
    recorded have "" and are adopted by the bot's workspace at start-up (single-token mode).
    """

    channel_id: str
    local_date: date
    state: str
    run_id: str
    claimed_at: datetime
    days: tuple[date, ...] = ()
    paper_keys: tuple[str, ...] = ()
    ts: tuple[str, ...] = ()
    error: str = ""
    attempts: int = 1
    # A digest cut short after its first message(s): the papers still to send, in a continuation.
    unsent: tuple[str, ...] = ()
    kind: str = RunKind.DIGEST
    period: str = ""  # "" for a digest: its local date
    team_id: str = ""

    def __post_init__(self) -> None:
        if not self.period:
            if self.kind != RunKind.DIGEST:
                raise ValueError(f"a {self.kind} run needs a period")
            object.__setattr__(self, "period", self.local_date.isoformat())

    @property
    def key(self) -> tuple[str, str, str, str]:
        """(workspace, channel, kind, period): what the ledger keeps unique."""
        return self.team_id, self.channel_id, self.kind, self.period

    def replace(self, **changes: Any) -> RunRecord:
        kind = changes.get("kind", self.kind)
        if "period" not in changes and (kind != self.kind or ("local_date" in changes and kind == RunKind.DIGEST)):
            changes["period"] = ""  # a digest's period follows its date; another kind must name its own
        return dataclasses.replace(self, **changes)

    def to_doc(self) -> dict[str, Any]:
        return {
            "channel_id": self.channel_id,
            "local_date": self.local_date.isoformat(),
            "state": self.state,
            "run_id": self.run_id,
            "claimed_at": self.claimed_at.isoformat(),
            "days": [d.isoformat() for d in self.days],
            "paper_keys": list(self.paper_keys),
            "ts": list(self.ts),
            "error": self.error,
            "attempts": self.attempts,
            "unsent": list(self.unsent),
            "kind": str(self.kind),
            "period": self.period,
            "team_id": self.team_id,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> RunRecord:
        return cls(
            channel_id=doc["channel_id"],
            local_date=date.fromisoformat(doc["local_date"]),
            state=doc["state"],
            run_id=doc["run_id"],
            claimed_at=datetime.fromisoformat(doc["claimed_at"]),
            days=tuple(date.fromisoformat(d) for d in doc.get("days", ())),
            paper_keys=tuple(doc.get("paper_keys", ())),
            ts=tuple(doc.get("ts", ())),
            error=doc.get("error", ""),
            attempts=int(doc.get("attempts", 1)),
            unsent=tuple(doc.get("unsent", ())),
            kind=doc.get("kind", RunKind.DIGEST),  # schema 1 knew only digests
            period=doc.get("period", ""),
            team_id=doc.get("team_id", ""),
        )


@dataclass(frozen=True, slots=True)
class Workspace:
    """A workspace that installed the app through "Add to Slack" (OAuth mode); never its tokens, which
    live encrypted in the installation store (``bot/slack/installations.py``).

    ``removed_at`` is set when Slack says the app was uninstalled or its token revoked: the tokens
    are deleted then, the channels paused, and everything else of the workspace is purged 30 days
    later (``python -m bot forget-workspace`` does it at once). A reinstall clears it."""

    team_id: str
    team_name: str = ""
    installed_at: str = ""  # ISO-8601 UTC of the latest installation
    removed_at: str = ""  # ISO-8601 UTC; "" while installed
    removed_reason: str = ""  # app_uninstalled or tokens_revoked

    @property
    def installed(self) -> bool:
        return not self.removed_at

    def replace(self, **changes: Any) -> Workspace:
        return dataclasses.replace(self, **changes)

    def to_doc(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Workspace:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in doc.items() if k in names})


# --- follow-ups in the thread (issue 17) -------------------------------------------------------------

FOLLOW_UP_ITEMS = ("code", "models", "datasets", "spaces")  # what can appear after a post, in reply order


@dataclass(frozen=True, slots=True)
class PaperLinks:
    """What Hugging Face links to a paper at one moment: its GitHub repository (and stars) and how many
    models, datasets and Spaces cite it (``/api/papers/{id}``'s ``numTotal*``)."""

    repo: str = ""
    stars: int | None = None
    models: int = 0
    datasets: int = 0
    spaces: int = 0

    def present(self) -> tuple[str, ...]:
        """The items this snapshot has, in ``FOLLOW_UP_ITEMS`` order."""
        have = {"code": bool(self.repo), "models": self.models > 0, "datasets": self.datasets > 0}
        have["spaces"] = self.spaces > 0
        return tuple(item for item in FOLLOW_UP_ITEMS if have[item])

    def to_doc(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> PaperLinks:
        stars = doc.get("stars")
        return cls(
            repo=str(doc.get("repo") or ""),
            stars=int(stars) if isinstance(stars, int) else None,
            models=int(doc.get("models") or 0),
            datasets=int(doc.get("datasets") or 0),
            spaces=int(doc.get("spaces") or 0),
        )


@dataclass(frozen=True, slots=True)
class PaperWatch:
    """What the follow-up check knows about one posted paper in one workspace.

    ``baseline``: the items the paper already had when the bot first looked (shortly after its first
    post there): never announced. ``appeared``: each item seen later, with when it was first seen; a
    channel is told about an item only if it appeared after that channel's post. ``checked_on`` is the
    UTC day of the latest look, so Hugging Face is asked once per paper per day however many channels
    posted it.
    """

    team_id: str
    paper_key: str
    first_checked_at: datetime
    checked_on: date
    links: PaperLinks = PaperLinks()
    baseline: tuple[str, ...] = ()
    appeared: tuple[tuple[str, datetime], ...] = ()
    title: str = ""  # for the reply, which may be sent by a later run than the one that looked

    @property
    def key(self) -> tuple[str, str]:
        return self.team_id, self.paper_key

    def appeared_at(self, item: str) -> datetime | None:
        return next((at for name, at in self.appeared if name == item), None)

    def replace(self, **changes: Any) -> PaperWatch:
        return dataclasses.replace(self, **changes)

    def to_doc(self) -> dict[str, Any]:
        return {
            "team_id": self.team_id,
            "paper_key": self.paper_key,
            "first_checked_at": self.first_checked_at.isoformat(),
            "checked_on": self.checked_on.isoformat(),
            "links": self.links.to_doc(),
            "baseline": list(self.baseline),
            "appeared": [[item, at.isoformat()] for item, at in self.appeared],
            "title": self.title,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> PaperWatch:
        return cls(
            team_id=str(doc.get("team_id") or ""),
            paper_key=str(doc["paper_key"]),
            first_checked_at=datetime.fromisoformat(doc["first_checked_at"]),
            checked_on=date.fromisoformat(doc["checked_on"]),
            links=PaperLinks.from_doc(doc.get("links") or {}),
            baseline=tuple(str(i) for i in doc.get("baseline", ())),
            appeared=tuple((str(item), datetime.fromisoformat(at)) for item, at in doc.get("appeared", ())),
            title=str(doc.get("title") or ""),
        )


# --- the team layer (issue 16): saved papers, signals, one-paper messages -------------------------------
#
# Every record carries the workspace (``team_id``): a person's reading list and a channel's signals are
# looked up by (team, user) and (team, channel), so a request from one workspace never reads another's.


@dataclass(frozen=True, slots=True)
class PaperRef:
    """What the team layer remembers of a paper: enough to show it and to cite it (BibTeX) without asking
    Hugging Face again. Public metadata, copied at the moment of saving or signalling."""

    key: str  # arXiv id without version
    title: str = ""
    authors: tuple[str, ...] = ()
    published: date | None = None  # arXiv v1 date (the BibTeX year)
    day: date | None = None  # the Daily Papers day
    upvotes: int = 0

    def to_doc(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "authors": list(self.authors),
            "published": self.published.isoformat() if self.published else None,
            "day": self.day.isoformat() if self.day else None,
            "upvotes": self.upvotes,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> PaperRef:
        published, day = doc.get("published"), doc.get("day")
        return cls(
            key=str(doc.get("key", "")),
            title=str(doc.get("title") or ""),
            authors=tuple(str(a) for a in doc.get("authors") or ()),
            published=date.fromisoformat(published) if published else None,
            day=date.fromisoformat(day) if day else None,
            upvotes=int(doc.get("upvotes") or 0),
        )


@dataclass(frozen=True, slots=True)
class SavedPaper:
    """One paper in one person's reading list."""

    team_id: str
    user_id: str
    paper: PaperRef
    saved_at: datetime
    read_at: datetime | None = None

    @property
    def key(self) -> str:
        return self.paper.key

    @property
    def unread(self) -> bool:
        return self.read_at is None


class SignalKind(StrEnum):
    """How someone showed a channel that a paper was worth reading."""

    SAVE = "save"  # saved from a card in the channel
    SHARE = "share"  # shared its card into the channel
    REACTION = "reaction"  # reacted to the bot's one-paper message (one signal per emoji)


@dataclass(frozen=True, slots=True)
class Signal:
    """One person's signal for a paper in a channel. Unique per (team, channel, paper, user, kind,
    reaction), so a repeated save, share or reaction toggle never counts twice; team picks count
    *people*, so several kinds from one person still count once."""

    team_id: str
    channel_id: str
    user_id: str
    kind: str  # a SignalKind
    paper: PaperRef
    at: datetime
    reaction: str = ""  # the emoji name, for REACTION

    @property
    def key(self) -> str:
        return self.paper.key
