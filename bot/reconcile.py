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
from datetime import datetime, timedelta

from bot.errors import SlackError
from bot.slack import SlackPoster

__all__ = ["CLAIM_LEASE", "DIGEST_EVENT_TYPE", "find_tagged_posts"]

logger = logging.getLogger(__name__)

DIGEST_EVENT_TYPE = "papers_bot_digest"
# A claim older than this that no thread of this process is working on belongs to a dead process:
# a live run goes from claim to ledger write in seconds (one channel's post, paced).
CLAIM_LEASE = timedelta(minutes=2)
_MAX_PAGES = 5


def find_tagged_posts(poster: SlackPoster, channel: str, run_id: str, since: datetime) -> list[str] | None:
    """``ts`` of this bot's messages in ``channel`` tagged with ``run_id`` and posted after ``since``
    (oldest first); an empty list when there are none; None when Slack's history cannot be read."""
    found: list[str] = []
    cursor = None
    try:
        for _ in range(_MAX_PAGES):
            response = poster.history(channel, oldest=f"{since.timestamp():.6f}", cursor=cursor)
            for message in response.get("messages") or []:
                metadata = message.get("metadata") or {}
                payload = metadata.get("event_payload") or {}
                if metadata.get("event_type") == DIGEST_EVENT_TYPE and payload.get("run_id") == run_id:
                    found.append(str(message["ts"]))
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not response.get("has_more") or not cursor:
                return sorted(found, key=float)
    except SlackError as exc:
        logger.warning("cannot read %s's history to settle run %s: %s", channel, run_id, exc.code)
        return None
    logger.warning("%s's history since %s is too long to search; run %s stays unsettled", channel, since, run_id)
    return None
