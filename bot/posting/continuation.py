"""Finishing a digest cut short: the papers it did not deliver go out later as "continued", once.

A digest is several messages; Slack can refuse the third after accepting two. The run then records
exactly the papers that arrived and keeps the rest as ``unsent``; this sends them, growing the same
run (its ``ts`` and ``paper_keys``) so the day still has one run and nothing repeats. A continuation
that a killed process may have sent is first looked for in the channel's history under the run's tag;
if the history cannot be read, the rest is given up (at most once) and the operator told.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from bot.errors import SlackError, SlackHistoryBusy
from bot.feed.hf import DayFeed
from bot.models import ChannelConfig, RunRecord
from bot.posting.delivery import Deliverer
from bot.posting.reconcile import WINDOW_BEFORE, find_tagged_posts, with_arrived
from bot.store import Store

__all__ = ["Continuation", "Sent"]

logger = logging.getLogger(__name__)

Alert = Callable[[str, date, str, str], None]  # channel, local date, reason, workspace


@dataclass(frozen=True)
class Sent:
    """What a continuation did: ``posted`` (the rest went out), ``skipped`` (nothing left to send, or
    given up) or ``failed`` with Slack's ``error`` (the runner decides: pause, retry later, alert)."""

    outcome: str
    error: SlackError | None = None
    attempts: int = 0


class Continuation:
    """Sends the rest of cut-short digests."""

    def __init__(self, store: Store, feed: DayFeed, deliverer: Deliverer, *, alert: Alert) -> None:
        self.store = store
        self.feed = feed
        self.deliverer = deliverer
        self._alert = alert

    def send_rest(self, config: ChannelConfig, record: RunRecord, now: datetime) -> Sent:
        channel = config.channel_id
        attempt = record.replace(attempts=record.attempts + 1)
        since = record.claimed_at - WINDOW_BEFORE
        try:
            poster = self.deliverer.poster_for(config.team_id)
            found = find_tagged_posts(poster, channel, record.run_id, since, wait=False)
        except SlackHistoryBusy:  # this minute's history read is spent: a later tick continues
            return Sent("skipped")
        except SlackError:  # the workspace has no installation (OAuth mode): what arrived cannot be read
            found = None
        if found is None:  # cannot tell what arrived: never risk a repeat
            given_up = "the rest of the post may be missing"
            self.store.finish_run(attempt.replace(unsent=(), error=f"{record.error}; {given_up}"))
            self._alert(channel, record.local_date, f"{record.error}; {given_up} (not retried)", record.team_id)
            return Sent("skipped")
        if any(post.ts not in record.ts for post in found):
            # A continuation a killed process sent but never recorded: record it, send only the rest.
            record = with_arrived(record, found)
            attempt = record.replace(attempts=attempt.attempts)
            if not record.unsent:
                self.store.finish_run(attempt)
                return Sent("skipped")
        posted = self.store.posted_keys(channel, team_id=config.team_id)
        wanted = [k for k in record.unsent if k not in posted]
        by_key = {p.key: p for day in record.days for p in self.feed.papers(day, now=now)}
        papers = [by_key[k] for k in wanted if k in by_key]
        if not papers:
            self.store.finish_run(attempt.replace(unsent=()))
            return Sent("skipped")
        delivery = self.deliverer.deliver(
            config, record, papers, record.days, {}, known_ts=record.ts, title="Trending papers, continued"
        )
        arrived = set(delivery.keys)
        self.store.finish_run(
            attempt.replace(
                ts=record.ts + tuple(delivery.ts),
                paper_keys=record.paper_keys + tuple(delivery.keys),
                unsent=tuple(k for k in wanted if k not in arrived and k in by_key),
                error=delivery.error.code if delivery.error else "",
            )
        )
        if delivery.error is None:
            logger.info("channel %s: sent the %d paper(s) the cut-short post had left", channel, len(delivery.keys))
            return Sent("posted")
        return Sent("failed", delivery.error, attempt.attempts)
