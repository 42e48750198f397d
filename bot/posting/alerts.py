"""Operator alerts in ``PAPERS_BOT_ALERT_CHANNEL``: a channel's post failed for good today, and why.

Why the dedupe lives in the store: an alert must be said once per (channel, local date), even when a
post run is retried, the tick fires again a minute later, or the process restarts. The store's ledger
already has exactly that primitive, an atomic per-(channel, date) ``claim_run``, so an alert is a
ledger row of its own under the pseudo channel ``!alert:<channel>``: claimed before the alert is
sent, finished with the alert's ``ts`` after, marked FAILED (so it may be retried) when Slack refused
it. Using the contract instead of a side file keeps the guarantee on every store backend, and the
daily ``prune`` removes the rows with the ordinary ledger.

Hugging Face failures leave no run in the ledger (nothing was claimed), so they are counted here in
memory: the alert goes out once ``hf_failures_before_alert`` post attempts of the same channel and
day failed. After a restart the count starts again, but the ledger row still stops a second alert.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime

from bot.errors import SlackError
from bot.models import RunRecord, RunState
from bot.slack.client import SlackPoster
from bot.store import Store
from bot.ui.render import escape_mrkdwn

__all__ = ["ALERT_PREFIX", "Alerts"]

logger = logging.getLogger(__name__)

ALERT_PREFIX = "!alert:"  # never a Slack channel id, so it cannot collide with a real channel's runs


class Alerts:
    """Says in the alert channel, once per (channel, local date), that a channel's post failed."""

    def __init__(
        self,
        store: Store,
        poster: SlackPoster | Callable[[], SlackPoster],
        alert_channel: str,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        hf_failures_before_alert: int = 3,
        name_workspaces: bool = False,
    ) -> None:
        self.name_workspaces = name_workspaces
        self.store = store
        # the poster, or (OAuth mode) a function giving the alert channel's workspace's current one
        self._poster = poster
        self.alert_channel = alert_channel
        self.clock = clock
        self.hf_failures_before_alert = max(1, hf_failures_before_alert)
        self._hf_failures: dict[tuple[str, str, date], int] = {}
        self._lock = threading.Lock()

    def upstream_failed(self, channel_id: str, local_date: date, reason: str, *, team_id: str = "") -> bool:
        """Hugging Face could not be read for this channel's post; alerts after repeated failures."""
        with self._lock:
            key = (team_id, channel_id, local_date)
            count = self._hf_failures[key] = self._hf_failures.get(key, 0) + 1
        if count < self.hf_failures_before_alert:
            return False
        return self.channel_failed(
            channel_id,
            local_date,
            f"Hugging Face unavailable after {count} attempts ({reason}); still retrying",
            team_id=team_id,
        )

    def channel_failed(self, channel_id: str, local_date: date, reason: str, *, team_id: str = "") -> bool:
        """Post the alert unless one was already posted for this channel and date; True if posted now."""
        if not self.alert_channel or channel_id == self.alert_channel:
            return False  # an alert about the alert channel itself would fail the same way
        marker = RunRecord(
            channel_id=f"{ALERT_PREFIX}{channel_id}",
            local_date=local_date,
            state=RunState.CLAIMED,
            run_id=uuid.uuid4().hex,
            claimed_at=self.clock(),
            error=reason[:500],
            team_id=team_id,  # the failing channel's workspace: another's channel with the same id is another alert
        )
        if not self.store.claim_run(marker):
            return False
        # With many workspaces the failing channel is usually in another workspace than the alert
        # channel, where a <#C…> link shows nothing: name it as ids.
        where = f"`{team_id}/{channel_id}`" if self.name_workspaces else f"<#{channel_id}>"
        text = (
            f":rotating_light: papers-bot could not post the {local_date:%a %d %b %Y} digest "
            f"in {where}: {escape_mrkdwn(reason[:500])}"
        )
        try:
            poster = self._poster if isinstance(self._poster, SlackPoster) else self._poster()
            ts = poster.post_message(self.alert_channel, text=text)
        except SlackError as exc:
            logger.error("could not post an alert about %s to %s: %s", channel_id, self.alert_channel, exc.code)
            self.store.fail_run(marker.replace(state=RunState.FAILED, error=exc.code))
            return False
        self.store.finish_run(marker.replace(state=RunState.POSTED, ts=(ts,)))
        logger.warning("alerted %s: channel %s failed on %s (%s)", self.alert_channel, channel_id, local_date, reason)
        return True
