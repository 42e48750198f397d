"""Sending one digest to a channel, message by message, and saying exactly what arrived.

Why its own module: "what reached the channel" is the fact everything after depends on (the ledger
records it, a continuation sends the rest, a retry must not repeat it), and it is subtle:
``chat.postMessage`` has no idempotency key, so a connection lost mid-call is settled from the
channel's history under the run's tag before anything is sent again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from bot.errors import SlackConnectionLost, SlackError
from bot.feed.papers import Paper
from bot.models import ChannelConfig, PostFormat, RunRecord
from bot.posting.reconcile import digest_metadata, find_tagged_posts
from bot.slack.client import TOO_LONG_ERRORS, SlackPoster
from bot.ui.render import Message, render_digest

__all__ = ["HISTORY_SETTLE_SECONDS", "Deliverer", "Delivery"]

logger = logging.getLogger(__name__)

# After a connection lost mid-post, how long to let the message (if Slack stored it) reach history.
HISTORY_SETTLE_SECONDS = 1.0
# ... and how far back to look for it: it was sent moments ago (plus a margin for clock differences).
LOST_WINDOW_SECONDS = 180.0


@dataclass
class Delivery:
    """What one attempt put in the channel: message ``ts`` and paper keys in order, and why it stopped."""

    ts: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    error: SlackError | None = None
    messages: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)  # (ts, paper keys) per message

    def add(self, ts: str, message: Message) -> None:
        self.ts.append(ts)
        self.keys.extend(message.paper_keys)
        self.messages.append((ts, message.paper_keys))


class Deliverer:
    """Renders and sends digests, each through its workspace's poster (thread-safe: no state of its own)."""

    def __init__(
        self,
        poster_for: Callable[[str], SlackPoster],
        *,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.poster_for = poster_for  # team id -> the poster holding that workspace's token
        self._sleep = sleep
        self._now = now  # wall-clock seconds: what Slack's message timestamps are

    def deliver(
        self,
        config: ChannelConfig,
        record: RunRecord,
        papers: Sequence[Paper],
        days: Sequence[date],
        reasons: Mapping[str, str],
        *,
        known_ts: Sequence[str] = (),
        title: str = "Trending papers",
        saved_by: Mapping[str, int] | None = None,
    ) -> Delivery:
        """Send the digest message by message; stop at the first error and say what arrived.
        ``saved_by``: how many people of the workspace already saved each paper ("Saved by N")."""
        channel = config.channel_id
        compact = config.post_format == PostFormat.COMPACT
        messages = render_digest(papers, days=days, reasons=reasons, compact=compact, title=title, saved_by=saved_by)
        delivery = Delivery()
        try:
            poster = self.poster_for(config.team_id)  # OAuth mode: SlackError(not_installed) when it has none
            try:
                for message in messages:
                    delivery.add(self._send(poster, channel, record, message, [*known_ts, *delivery.ts]), message)
            except SlackError as exc:
                if delivery.ts or exc.code not in TOO_LONG_ERRORS:
                    raise
                # Slack's aggregate size limit is undocumented: fall back to one line per paper.
                logger.warning("channel %s: Slack refused the post (%s); retrying compact", channel, exc.code)
                for message in render_digest(papers, days=days, compact=True, title=title):
                    delivery.add(self._send(poster, channel, record, message, [*known_ts, *delivery.ts]), message)
        except SlackError as exc:
            delivery.error = exc
        return delivery

    def _send(
        self, poster: SlackPoster, channel: str, record: RunRecord, message: Message, known_ts: Sequence[str]
    ) -> str:
        """Post one message of a run; when the connection is lost mid-call, ask Slack whether it arrived.

        The run's tag in the channel's history settles it (found → that ``ts``; not found → sent once
        more). When the history cannot be read the error stands and the caller keeps at most once.
        """
        metadata = digest_metadata(record.run_id, record.local_date, message.paper_keys)
        try:
            return poster.post_message(channel, text=message.text, blocks=message.blocks, metadata=metadata)
        except SlackConnectionLost:
            self._sleep(HISTORY_SETTLE_SECONDS)  # let the message Slack may have stored show in history
            # The message was sent just now: a window of the last minutes is one history read (which may
            # wait for the workspace's one read a minute; a lost connection is rare, a duplicate is worse).
            since = datetime.fromtimestamp(self._now() - LOST_WINDOW_SECONDS, UTC)
            found = find_tagged_posts(poster, channel, record.run_id, since)
            if found is None:
                raise
            arrived = [post.ts for post in found if post.ts not in known_ts]
            if arrived:
                logger.warning("channel %s: connection lost, but Slack has the message (ts %s)", channel, arrived[0])
                return arrived[0]
            logger.warning("channel %s: connection lost before Slack had the message; sending it again", channel)
            return poster.post_message(channel, text=message.text, blocks=message.blocks, metadata=metadata)
