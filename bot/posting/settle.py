"""Settling runs a dead process left CLAIMED, from Slack's history (``bot/posting/reconcile.py`` reads it).

A claim is written before Slack is called, so a process killed in between leaves a claim that says
nothing about the channel. The run's tag in the channel's history does: found → recorded as posted
(with exactly the papers that arrived, the rest left for a continuation); never sent → released, so
the day is posted now; history unreadable → the claim stands (at most once) and the operator is told.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import date

from bot.errors import SlackError, SlackHistoryBusy
from bot.models import RunRecord, RunState
from bot.posting.reconcile import WINDOW_AFTER, WINDOW_BEFORE, find_tagged_posts, with_arrived
from bot.slack.client import SlackPoster
from bot.store import Store

__all__ = ["OrphanSettler"]

logger = logging.getLogger(__name__)

Alert = Callable[[str, date, str, str], None]  # channel, local date, reason, workspace


class OrphanSettler:
    """Settles cut-off runs; remembers the ones whose history could not be read, so they are not
    asked about (and alerted) again on every tick."""

    def __init__(self, store: Store, poster_for: Callable[[str], SlackPoster], alert: Alert) -> None:
        self.store = store
        self.poster_for = poster_for  # team id -> the poster holding that workspace's token
        self._alert = alert
        self.unsettled: set[tuple[str, str, date]] = set()  # (workspace, channel, local date)

    def from_history(self, record: RunRecord, *, arrived: str, missing: str, wait: bool = True) -> RunRecord | None:
        """What Slack's history says of ``record``: its tagged messages found → recorded as POSTED with
        exactly the papers that arrived (error ``arrived``); none → FAILED (error ``missing``), so a later
        run sends it; ``None`` when the history cannot be read (nothing is written then).

        One read (15 messages) covers the run's window when the channel is quiet, and Slack allows
        one a minute: ``wait=False`` raises ``SlackHistoryBusy`` rather than wait for it."""
        try:
            poster = self.poster_for(record.team_id)
        except SlackError as exc:  # the workspace has no installation (OAuth mode): nothing can be read
            logger.warning("cannot read %s's history to settle run %s: %s", record.channel_id, record.run_id, exc.code)
            return None
        found = find_tagged_posts(
            poster,
            record.channel_id,
            record.run_id,
            record.claimed_at - WINDOW_BEFORE,
            until=record.claimed_at + WINDOW_AFTER,
            wait=wait,
        )
        if found is None:
            return None
        if found:
            settled = with_arrived(record, found).replace(state=RunState.POSTED, error=arrived)
            self.store.finish_run(settled)
            return settled
        self.store.fail_run(record.replace(state=RunState.FAILED, error=missing))
        return self.store.get_run(record.channel_id, record.local_date, team_id=record.team_id) or record

    def settle(self, record: RunRecord, *, wait: bool = False) -> RunRecord:
        """Ask Slack whether the cut-off run's message arrived; returns the run as now recorded.

        When the workspace's history read of this minute is spent (several runs cut off at once), the
        run stays as it is and a later tick asks: one cut-off run is settled per workspace and minute,
        without holding up the other channels' posts. ``wait``: wait for the read instead (``post-now``
        has no later tick)."""
        channel, day = record.channel_id, record.local_date
        try:
            settled = self.from_history(
                record, arrived="settled from Slack's history", missing="cut off before posting", wait=wait
            )
        except SlackHistoryBusy:
            logger.info("channel %s: the cut-off %s run waits for the next history read (one a minute)", channel, day)
            return record
        if settled is None:  # history unreadable: keep at most once, and say so once
            self.unsettled.add((record.team_id, channel, day))
            logger.error("channel %s: the %s run was cut off and cannot be checked; not re-posting", channel, day)
            self._alert(
                channel,
                day,
                "a post run was cut off (process killed?) and Slack's history cannot be read",
                record.team_id,
            )
            return record
        if settled.state == RunState.POSTED:
            logger.warning(
                "channel %s: the cut-off %s run had posted %d message(s) (first ts %s); recorded%s",
                channel,
                day,
                len(settled.ts),
                settled.ts[0],
                f", {len(settled.unsent)} paper(s) left for a continuation" if settled.unsent else "",
            )
        else:
            logger.warning("channel %s: the cut-off %s run never reached Slack; posting it now", channel, day)
        return settled

    def settle_earlier(
        self,
        runs: Sequence[RunRecord],
        local_date: date,
        orphaned: Callable[[RunRecord], bool],
        *,
        wait: bool = False,
    ) -> bool:
        """A claim a dead process left on an earlier day is settled before today's plan.

        Its papers are not in the posted set until it is settled, so without this a process that
        died mid-post and came back the next day could post them again. Found in Slack's history →
        recorded as posted; never sent → released, and today's post may include them; history
        unreadable → its papers count as posted (at most once, alerted by ``settle``).
        Returns whether anything was settled (the caller's ``runs`` are then stale).
        """
        settled_any = False
        for record in runs:
            if record.local_date < local_date and orphaned(record):
                settled = self.settle(record, wait=wait)
                key = (record.team_id, record.channel_id, record.local_date)
                if settled.state == RunState.CLAIMED and key not in self.unsettled:
                    continue  # waits for a history read; meanwhile its claim keeps its papers out of today's plan
                if settled.state == RunState.CLAIMED:  # history unreadable: its papers count as posted
                    self.store.finish_run(settled.replace(state=RunState.POSTED, error="cut off; unverifiable"))
                    self.unsettled.discard(key)
                settled_any = True
        return settled_any
