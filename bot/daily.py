"""The daily post: fetch → select → render → claim → post → record, for every due channel.

Exactly-once rests on the ledger, not on the scheduler: a run for (channel, local date) is claimed
in the store *before* Slack is called and completed with the message ``ts`` after. A claim that
exists is never posted again, so a restart, a retried tick or a clock jumping back cannot double
post. A claim left behind by a dead process is settled from Slack's history (every digest carries
its run id as message metadata, ``bot/reconcile.py``): posted → recorded, never sent → posted now.
When the history cannot be read, the claim stands (at most once): a missed post is better than a
duplicate. RELIABILITY.md has the whole argument and the tests.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.errors import HFError, SlackError
from bot.fanout import RunMatcher
from bot.hf import DayFeed
from bot.models import ChannelConfig, RunRecord, RunState
from bot.reconcile import CLAIM_LEASE, find_tagged_posts
from bot.render import render_digest
from bot.schedule import MAX_CATCHUP_DAYS, candidate_days, due_local_date
from bot.selection import Selection, select_for_channel
from bot.slack import AUTH_ERRORS, CHANNEL_ERRORS, TOO_LONG_ERRORS, SlackPoster
from bot.store import Store

if TYPE_CHECKING:
    from bot.alerts import Alerts

__all__ = ["Outcome", "Plan", "PostRunner", "RunSummary"]

logger = logging.getLogger(__name__)

RETRY_FAILED_AFTER = timedelta(minutes=5)  # times the attempt number
MAX_ATTEMPTS = 5
WAIT_WHEN_NOT_READY = timedelta(minutes=30)
WAIT_AFTER_UPSTREAM_FAILURE = timedelta(minutes=10)
# Fan-out: threads ≈ posting rate × seconds one channel takes (so the pacer, not the pool, sets the
# pace), measured on earlier channels; before any was measured, assume half a second.
MAX_POST_WORKERS = 32
FIRST_GUESS_CHANNEL_SECONDS = 0.5


class Outcome:
    POSTED = "posted"
    NOTHING = "nothing"  # nothing new for this channel today
    SKIPPED = "skipped"  # already handled for this local date
    WAITING = "waiting"  # Hugging Face's list is not ready; try again later today
    FAILED = "failed"
    PAUSED = "paused"  # the channel can no longer receive posts


@dataclass(frozen=True)
class Plan:
    """What a channel would get now; computed without touching Slack or the ledger."""

    days: tuple[date, ...]  # days whose papers are included, oldest first
    selection: Selection
    waiting: bool = False


@dataclass
class RunSummary:
    outcomes: dict[str, str] = field(default_factory=dict)  # channel → Outcome
    errors: dict[str, str] = field(default_factory=dict)  # channel → reason
    hf_requests: int = 0
    duration: float = 0.0
    stopped: str = ""  # set when the token died and the run stopped
    workers: int = 0  # threads the run used

    def count(self, outcome: str) -> int:
        return sum(1 for o in self.outcomes.values() if o == outcome)

    @property
    def ok(self) -> bool:
        return not self.errors and not self.stopped


class _StopRun(Exception):
    """Slack rejected the token: every other channel would fail the same way."""


class PostRunner:
    """Runs post jobs. Collaborators are injected so tests use the real clients against fakes."""

    def __init__(
        self,
        store: Store,
        feed: DayFeed,
        poster: SlackPoster,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        workers: int | None = None,
        alerts: Alerts | None = None,
    ) -> None:
        self.store = store
        self.alerts = alerts  # told when a channel's post failed for good (PAPERS_BOT_ALERT_CHANNEL)
        self.feed = feed
        self.poster = poster
        self.clock = clock
        self.workers = max(1, workers) if workers is not None else None  # None: sized from the pacer
        self._channel_seconds = FIRST_GUESS_CHANNEL_SECONDS  # moving average over posted channels
        self._not_before: dict[str, datetime] = {}
        self.last_run: RunSummary | None = None
        self.last_post_at: datetime | None = None
        # Set when Slack rejected the token: every later tick would fail the same way, so none calls
        # Slack again until a restart (which re-checks the token with auth.test and stops if it is dead).
        self.token_rejected = ""
        self._in_flight: set[str] = set()  # run ids this process claimed and is posting right now
        self._unsettled: set[tuple[str, date]] = set()  # cut-off runs Slack's history could not settle

    # -- planning (pure apart from reading the feed and the ledger) --------------------------

    def plan(
        self,
        config: ChannelConfig,
        now: datetime,
        days: Sequence[date] | None = None,
        *,
        matcher: RunMatcher | None = None,
    ) -> Plan:
        """Raises HFError when Hugging Face cannot be read."""
        wanted = list(days) if days else candidate_days(now, config.last_day)
        limit = len(wanted) if days else (1 if config.last_day is None else MAX_CATCHUP_DAYS)
        chosen_days: list[date] = []
        papers = []
        empty_weekday = False
        for day in wanted:
            day_papers = self.feed.papers(day, now=now)
            if not day_papers:
                empty_weekday = empty_weekday or day.weekday() < 5
                continue
            chosen_days.append(day)
            papers.extend(day_papers)
            if len(chosen_days) >= limit:
                break
        select = matcher.select if matcher is not None else select_for_channel  # a run matches all at once
        selection = select(config, papers, self.store.posted_keys(config.channel_id))
        waiting = not chosen_days and empty_weekday and not days
        return Plan(tuple(sorted(chosen_days)), selection, waiting)

    # -- running ---------------------------------------------------------------------------

    def run_due(self, now: datetime | None = None) -> RunSummary:
        """The scheduler tick: post to every channel whose slot has passed today."""
        if self.token_rejected:
            return RunSummary(stopped=self.token_rejected)
        now = now or self.clock()
        due = []
        for config in self.store.channels():
            local_date = due_local_date(now, config)
            if local_date is None or self._not_before.get(config.channel_id, now) > now:
                continue
            existing = self.store.get_run(config.channel_id, local_date)
            if existing is None or self._may_retry(existing, now) or self._orphaned(existing, now):
                due.append((config, local_date))
        if not due:
            return RunSummary()
        return self._run(due, now)

    def run_now(
        self, now: datetime | None = None, *, channel_id: str | None = None, day: date | None = None
    ) -> RunSummary:
        """``post-now``: every subscribed channel (or one) regardless of its slot, still once a day."""
        now = now or self.clock()
        if channel_id:
            config = self.store.get_channel(channel_id)
            configs = [config] if config and config.subscribed else []
            if not configs:
                summary = RunSummary(errors={channel_id: "this channel is not subscribed"})
                self.last_run = summary
                return summary
        else:
            configs = [c for c in self.store.channels() if c.active]
        due = [(c, now.astimezone(ZoneInfo(c.timezone)).date()) for c in configs]
        return self._run(due, now, days=[day] if day else None)

    def _orphaned(self, record: RunRecord, now: datetime) -> bool:
        """A claim no thread of this process is posting, older than the lease: a dead process's."""
        return (
            record.state == RunState.CLAIMED
            and record.run_id not in self._in_flight
            and (record.channel_id, record.local_date) not in self._unsettled
            and now - record.claimed_at >= CLAIM_LEASE
        )

    def _settle_orphan(self, record: RunRecord) -> RunRecord:
        """Ask Slack whether the cut-off run's message arrived (see ``bot/reconcile.py``)."""
        channel, day = record.channel_id, record.local_date
        found = find_tagged_posts(self.poster, channel, record.run_id, record.claimed_at - timedelta(minutes=5))
        if found is None:  # history unreadable: keep at most once, and say so once
            self._unsettled.add((channel, day))
            logger.error("channel %s: the %s run was cut off and cannot be checked; not re-posting", channel, day)
            self._alert(channel, day, "a post run was cut off (process killed?) and Slack's history cannot be read")
            return record
        if found:
            settled = record.replace(state=RunState.POSTED, ts=tuple(found), error="settled from Slack's history")
            self.store.finish_run(settled)
            logger.warning("channel %s: the cut-off %s run had posted (ts %s); recorded", channel, day, found[0])
            return settled
        logger.warning("channel %s: the cut-off %s run never reached Slack; posting it now", channel, day)
        self.store.fail_run(record.replace(state=RunState.FAILED, error="cut off before posting"))
        return self.store.get_run(channel, day) or record

    def _may_retry(self, record: RunRecord, now: datetime) -> bool:
        return (
            record.state == RunState.FAILED
            and record.attempts < MAX_ATTEMPTS
            and now >= record.claimed_at + RETRY_FAILED_AFTER * record.attempts
        )

    def _run(self, due: list[tuple[ChannelConfig, date]], now: datetime, days: list[date] | None = None) -> RunSummary:
        started = time.monotonic()
        requests_before = self.feed.requests_made
        summary = RunSummary()
        matcher = RunMatcher(config for config, _ in due)

        def one(item: tuple[ChannelConfig, date]) -> None:
            config, local_date = item
            if summary.stopped:
                return
            began = time.monotonic()
            try:
                outcome = self._run_channel(config, local_date, now, days, summary, matcher)
                if outcome == Outcome.POSTED:
                    self._channel_seconds += 0.1 * (time.monotonic() - began - self._channel_seconds)
            except _StopRun as exc:
                summary.stopped = str(exc)
                outcome = Outcome.FAILED
            except Exception as exc:  # one channel's bug must not stop the others
                logger.exception("post run for %s failed unexpectedly", config.channel_id)
                summary.errors[config.channel_id] = f"unexpected error: {type(exc).__name__}"
                self._alert(config.channel_id, local_date, summary.errors[config.channel_id])
                outcome = Outcome.FAILED
            summary.outcomes[config.channel_id] = outcome

        summary.workers = self._pool_size(len(due))
        if summary.workers == 1:
            for item in due:
                one(item)
        else:
            with ThreadPoolExecutor(max_workers=summary.workers, thread_name_prefix="post") as pool:
                list(pool.map(one, due))
        if summary.stopped:
            self.token_rejected = summary.stopped
        summary.hf_requests = self.feed.requests_made - requests_before
        summary.duration = time.monotonic() - started
        self.last_run = summary
        logger.info(
            "post run: channels=%d posted=%d nothing=%d skipped=%d waiting=%d failed=%d paused=%d "
            "hf_requests=%d duration=%.2fs%s",
            len(due),
            summary.count(Outcome.POSTED),
            summary.count(Outcome.NOTHING),
            summary.count(Outcome.SKIPPED),
            summary.count(Outcome.WAITING),
            summary.count(Outcome.FAILED),
            summary.count(Outcome.PAUSED),
            summary.hf_requests,
            summary.duration,
            f" stopped={summary.stopped}" if summary.stopped else "",
        )
        return summary

    def _pool_size(self, channels: int) -> int:
        """Enough threads to keep the pacer's slots filled while each waits ~one Slack round trip.

        A sequential loop leaves the rate unused for the whole latency of every call (1,000 channels
        × 50 ms is 50 s of waiting); too many threads only queue in the pacer, each holding a claim.
        """
        if self.workers is not None:
            return max(1, min(self.workers, channels))
        pacer = getattr(self.poster, "pacer", None)
        if pacer is None:
            return max(1, min(4, channels))
        wanted = math.ceil(pacer.rate * self._channel_seconds * 1.5) + 1
        return max(1, min(MAX_POST_WORKERS, wanted, channels))

    def _run_channel(
        self,
        config: ChannelConfig,
        local_date: date,
        now: datetime,
        days: list[date] | None,
        summary: RunSummary,
        matcher: RunMatcher | None = None,
    ) -> str:
        channel = config.channel_id
        existing = self.store.get_run(channel, local_date)
        if existing and self._orphaned(existing, now):
            existing = self._settle_orphan(existing)
        if existing and existing.state != RunState.FAILED:
            return Outcome.SKIPPED
        try:
            plan = self.plan(config, now, days, matcher=matcher)
        except HFError as exc:
            logger.warning("channel %s: Hugging Face unavailable (%s); will retry", channel, exc)
            summary.errors[channel] = str(exc)
            self._not_before[channel] = now + WAIT_AFTER_UPSTREAM_FAILURE
            self._alert(channel, local_date, str(exc), upstream=True)
            return Outcome.FAILED
        if plan.waiting:
            logger.info("channel %s: Hugging Face list for the day is still empty; will retry", channel)
            self._not_before[channel] = now + WAIT_WHEN_NOT_READY
            return Outcome.WAITING
        record = RunRecord(
            channel_id=channel,
            local_date=local_date,
            state=RunState.CLAIMED,
            run_id=uuid.uuid4().hex,
            claimed_at=now,
            days=plan.days,
            paper_keys=tuple(p.key for p in plan.selection.papers),
        )
        if not plan.selection.papers:
            if self.store.claim_run(record):
                self.store.finish_run(record.replace(state=RunState.NOTHING))
            return Outcome.NOTHING
        if not self.store.claim_run(record):
            return Outcome.SKIPPED
        self._in_flight.add(record.run_id)
        try:
            return self._post(config, record, plan, summary)
        finally:
            self._in_flight.discard(record.run_id)

    def _post(self, config: ChannelConfig, record: RunRecord, plan: Plan, summary: RunSummary) -> str:
        channel = config.channel_id
        compact = config.post_format == "compact"
        messages = render_digest(plan.selection.papers, days=plan.days, reasons=plan.selection.reasons, compact=compact)
        metadata = {
            "event_type": "papers_bot_digest",
            "event_payload": {"run_id": record.run_id, "local_date": record.local_date.isoformat()},
        }
        sent: list[str] = []
        try:
            try:
                for message in messages:
                    sent.append(
                        self.poster.post_message(channel, text=message.text, blocks=message.blocks, metadata=metadata)
                    )
            except SlackError as exc:
                if sent or exc.code not in TOO_LONG_ERRORS:
                    raise
                # Slack's aggregate size limit is undocumented: fall back to one line per paper.
                logger.warning("channel %s: Slack refused the post (%s); retrying compact", channel, exc.code)
                for message in render_digest(plan.selection.papers, days=plan.days, compact=True):
                    sent.append(
                        self.poster.post_message(channel, text=message.text, blocks=message.blocks, metadata=metadata)
                    )
        except SlackError as exc:
            return self._post_failed(config, record, sent, exc, summary)
        self.store.finish_run(record.replace(state=RunState.POSTED, ts=tuple(sent)))
        self.last_post_at = self.clock()
        logger.info("channel %s: posted %d papers in %d message(s)", channel, len(record.paper_keys), len(sent))
        return Outcome.POSTED

    def _post_failed(
        self, config: ChannelConfig, record: RunRecord, sent: list[str], exc: SlackError, summary: RunSummary
    ) -> str:
        channel = config.channel_id
        summary.errors[channel] = exc.code
        if sent:
            # Part of the post is visible: record it as posted so nothing repeats.
            logger.error("channel %s: post cut short after %d message(s): %s", channel, len(sent), exc.code)
            self.store.finish_run(record.replace(state=RunState.POSTED, ts=tuple(sent), error=exc.code))
            return Outcome.POSTED
        if exc.code.startswith("connection_lost"):
            # Slack may have received it: do not risk a duplicate (at-most-once).
            logger.error("channel %s: connection lost while posting; not retrying to avoid a duplicate", channel)
            self.store.finish_run(record.replace(state=RunState.POSTED, error=exc.code))
            self._alert(channel, record.local_date, f"{exc.code}; the post may be missing (not retried)")
            return Outcome.FAILED
        self.store.fail_run(record.replace(state=RunState.FAILED, error=exc.code))
        if exc.code in AUTH_ERRORS:
            logger.error("Slack rejected the bot token (%s): stopping this post run", exc.code)
            raise _StopRun(exc.code)
        if exc.code in CHANNEL_ERRORS:
            logger.warning("channel %s: %s; pausing its subscription", channel, exc.code)
            self.store.update_channel(channel, lambda c: c.replace(paused_reason=exc.code))
            self._alert(channel, record.local_date, f"{exc.code}; the subscription is paused")
            return Outcome.PAUSED
        logger.warning("channel %s: Slack error %s; will retry later", channel, exc.code)
        stored = self.store.get_run(channel, record.local_date)
        if stored is not None and stored.attempts >= MAX_ATTEMPTS:
            self._alert(channel, record.local_date, f"{exc.code} after {stored.attempts} attempts; giving up today")
        return Outcome.FAILED

    def _alert(self, channel: str, local_date: date, reason: str, *, upstream: bool = False) -> None:
        """Tell the alert channel; an alert that fails is logged and must never break the post run."""
        if self.alerts is None:
            return
        try:
            if upstream:
                self.alerts.upstream_failed(channel, local_date, reason)
            else:
                self.alerts.channel_failed(channel, local_date, reason)
        except Exception:
            logger.exception("could not send the alert about channel %s", channel)
