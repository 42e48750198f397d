"""Settling a post run that a dead process left CLAIMED: did Slack get the message or not?

Why: the ledger claims a run before calling Slack and records the message ``ts`` after. A process
killed between the two leaves a CLAIMED row, and ``chat.postMessage`` has no idempotency key, so the
row alone cannot say whether the channel has the post. Every digest message carries Slack message
metadata ``{"event_type": "papers_bot_digest", "event_payload": {"run_id": …}}``, so the channel's
history can: found → the run is recorded as POSTED with those ``ts`` (no second post); not found →
the run is marked FAILED and posted normally (the day is not lost).

Reading history needs the ``channels:history`` (public) / ``groups:history`` (private) scopes and
the bot's membership in the channel. When Slack cannot answer (``missing_scope``, ``not_in_channel``,
a network error) the function returns None and the caller keeps the safe default: at most once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from bot.errors import SlackError, SlackHistoryBusy
from bot.models import RunRecord
from bot.slack.client import SlackPoster

__all__ = [
    "CLAIM_LEASE",
    "DIGEST_EVENT_TYPE",
    "MAX_PAGES",
    "WINDOW_AFTER",
    "WINDOW_BEFORE",
    "TaggedPost",
    "digest_metadata",
    "find_tagged_posts",
    "with_arrived",
]

logger = logging.getLogger(__name__)

DIGEST_EVENT_TYPE = "papers_bot_digest"
# A claim older than this that no thread of this process is working on belongs to a dead process:
# a live run goes from claim to ledger write in seconds (one channel's post, paced).
CLAIM_LEASE = timedelta(minutes=2)
# At most this many pages (of 15 messages, one a minute) for one question: a window busier than that is
# not searched further (the run stays at most once, and the operator is told).
MAX_PAGES = 4
# Where a cut-off run's messages can be: from a little before its claim (clocks differ) to the end of the
# post run that claimed it. A claim carries its run's start time, and a run that goes on for longer
# than two hours is reported stuck (bot/posting/scheduler.py), so nothing of it is sent later than that.
WINDOW_BEFORE = timedelta(minutes=1)
WINDOW_AFTER = timedelta(hours=2)


@dataclass(frozen=True)
class TaggedPost:
    """One digest message found in a channel's history: its ``ts`` and the papers it showed."""

    ts: str
    paper_keys: tuple[str, ...]


def digest_metadata(run_id: str, local_date: date, paper_keys: Sequence[str]) -> dict[str, Any]:
    """The tag every digest message carries; its paper keys let a cut-off run's rest be worked out."""
    return {
        "event_type": DIGEST_EVENT_TYPE,
        "event_payload": {"run_id": run_id, "local_date": local_date.isoformat(), "papers": list(paper_keys)},
    }


def find_tagged_posts(
    poster: SlackPoster,
    channel: str,
    run_id: str,
    since: datetime,
    *,
    until: datetime | None = None,
    wait: bool = True,
) -> list[TaggedPost] | None:
    """This bot's messages in ``channel`` tagged with ``run_id`` and posted between ``since`` and
    ``until`` (oldest first); an empty list when there are none; None when Slack's history cannot be
    read, or the window holds more than ``MAX_PAGES`` pages of 15 messages.

    Slack allows one history read a minute (``SlackPoster.history``): the window should be as narrow
    as what is looked for allows, so one read covers it. ``wait=False`` raises ``SlackHistoryBusy``
    when this minute's read is spent, before anything is read; a window that needs more pages waits a
    minute for each (at most ``MAX_PAGES``)."""
    found: list[TaggedPost] = []
    cursor = None
    oldest = f"{since.timestamp():.6f}"
    latest = f"{until.timestamp():.6f}" if until is not None else None
    try:
        for page in range(MAX_PAGES):
            response = poster.history(channel, oldest=oldest, latest=latest, cursor=cursor, wait=wait or page > 0)
            for message in response.get("messages") or []:
                metadata = message.get("metadata") or {}
                payload = metadata.get("event_payload") or {}
                if metadata.get("event_type") == DIGEST_EVENT_TYPE and payload.get("run_id") == run_id:
                    papers = payload.get("papers")
                    keys = tuple(str(k) for k in papers) if isinstance(papers, list) else ()
                    found.append(TaggedPost(str(message["ts"]), keys))
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not response.get("has_more") or not cursor:
                return sorted(found, key=lambda post: float(post.ts))
    except SlackHistoryBusy:
        raise
    except SlackError as exc:
        logger.warning("cannot read %s's history to settle run %s: %s", channel, run_id, exc.code)
        return None
    logger.warning(
        "%s's history around run %s holds more than %d messages; it stays unsettled", channel, run_id, MAX_PAGES * 15
    )
    return None


def with_arrived(record: RunRecord, found: Sequence[TaggedPost]) -> RunRecord:
    """The run as Slack's history shows it: the messages found, the papers they carried, the rest unsent.

    A message tagged without its papers (written before tags carried them) counts as the whole run.
    """
    keys = (*record.paper_keys, *record.unsent)
    if any(not post.paper_keys for post in found):
        return record.replace(ts=tuple(post.ts for post in found), paper_keys=keys, unsent=())
    arrived = {key for post in found for key in post.paper_keys}
    return record.replace(
        ts=tuple(post.ts for post in found),
        paper_keys=tuple(k for k in keys if k in arrived),
        unsent=tuple(k for k in keys if k not in arrived),
    )
