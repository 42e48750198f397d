"""The daily post: fetch → select → render → claim → post → record, for every due channel.

Exactly-once rests on the ledger, not on the scheduler: a run for (channel, local date) is claimed
in the store *before* Slack is called and completed with the message ``ts`` after. A claim that
exists is never posted again, so a restart, a retried tick or a clock jumping back cannot double
post. A claim left behind by a dead process is settled from Slack's history (every digest carries
its run id as message metadata, ``bot/posting/reconcile.py``): posted → recorded, never sent → posted now.
When the history cannot be read, the claim stands (at most once): a missed post is better than a
duplicate. RELIABILITY.md has the whole argument and the tests.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

from bot.channels.schedule import due_local_date
from bot.errors import HFError, SlackConnectionLost, SlackError, StoreError
from bot.feed.hf import DayFeed
from bot.feed.papers import Paper
from bot.filters import RelatedTopics
from bot.filters.run_matcher import RunMatcher
from bot.filters.selection import Selection, select_for_channel
from bot.models import ChannelConfig, RunRecord, RunState
from bot.posting.continuation import Continuation
from bot.posting.delivery import Deliverer, Delivery
from bot.posting.planning import DaySource, Plan, plan_channel, seen_keys
from bot.posting.reconcile import CLAIM_LEASE
from bot.posting.settle import OrphanSettler
from bot.slack.client import AUTH_ERRORS, CHANNEL_ERRORS, SlackPoster
from bot.slack.workspaces import Workspaces
from bot.store import Store, ledger_rules
from bot.team.library import ref_of

if TYPE_CHECKING:
    from bot.posting.alerts import Alerts

__all__ = ["Outcome", "Plan", "PostRunner", "RunSummary", "fan_out_threads", "interleave"]

logger = logging.getLogger(__name__)

RETRY_FAILED_AFTER = ledger_rules.RETRY_FAILED_AFTER  # times the attempt number
MAX_ATTEMPTS = ledger_rules.MAX_ATTEMPTS
WAIT_WHEN_NOT_READY = timedelta(minutes=30)
WAIT_AFTER_UPSTREAM_FAILURE = timedelta(minutes=10)
# Fan-out: threads ≈ posting rate × seconds one channel takes (so the pacer, not the pool, sets the
# pace), measured on earlier channels; before any was measured, assume half a second.
MAX_POST_WORKERS = 32
FIRST_GUESS_CHANNEL_SECONDS = 0.5


class Outcome(StrEnum):
    """What a post run did for one channel (``RunSummary.outcomes``)."""

    POSTED = "posted"
    NOTHING = "nothing"  # nothing new for this channel today
    SKIPPED = "skipped"  # already handled for this local date
    WAITING = "waiting"  # Hugging Face's list is not ready; try again later today
    FAILED = "failed"
    PAUSED = "paused"  # the channel can no longer receive posts


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
    """Slack rejected a workspace's token: its other channels would fail the same way."""


class PostRunner:
    """Runs post jobs. Collaborators are injected so tests use the real clients against fakes."""

    def __init__(
        self,
        store: Store,
        feed: DayFeed,
        poster: SlackPoster | Workspaces,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        workers: int | None = None,
        alerts: Alerts | None = None,
        related: RelatedTopics | None = None,
    ) -> None:
        self.store = store
        self.related = related  # related papers in meaning (the semantic extra), or None: words only
        self.alerts = alerts  # told when a channel's post failed for good (PAPERS_BOT_ALERT_CHANNEL)
        self.feed = feed
        # One poster per workspace (its token and its pace); a single SlackPoster is the one-entry registry.
        self.workspaces = poster if isinstance(poster, Workspaces) else Workspaces(poster)
        self.poster = self.workspaces.default
        self.clock = clock
        self.workers = max(1, workers) if workers is not None else None  # None: sized from the pacer
        self._channel_seconds = FIRST_GUESS_CHANNEL_SECONDS  # moving average over posted channels
        self._not_before: dict[tuple[str, str], datetime] = {}  # (workspace, channel) -> not before
        self.last_run: RunSummary | None = None
        self.last_post_at: datetime | None = None
        self._in_flight: set[str] = set()  # run ids this process claimed and is posting right now
        self._in_flight_lock = threading.Lock()
        self._stopping = threading.Event()
        self.deliverer = Deliverer(self.workspaces.poster_for)
        self.settler = OrphanSettler(store, self.workspaces.poster_for, self._alert)
        self.continuation = Continuation(store, feed, self.deliverer, alert=self._alert)
        # Told of every post that reached its channel (the follow-up check takes its papers' baseline).
        self.on_posted: Callable[[RunRecord], object] | None = None

    @property
    def token_rejected(self) -> str:
        """Why Slack refused a token (the default one first), or "". A workspace whose token is dead is
        not called again until a restart (which re-checks the token with auth.test); others go on."""
        return self.workspaces.any_rejected()

    @property
    def stopping(self) -> bool:
        """A shutdown began: no new channel is started (the recaps ask too)."""
        return self._stopping.is_set()

    def stop(self) -> None:
        """Start no further channel. A shutdown then waits for the channels already at Slack, so
        their posts are recorded as posted rather than left as claims for the next leader to settle."""
        self._stopping.set()

    # -- planning (pure apart from reading the feed and the ledger) --------------------------

    def plan(
        self,
        config: ChannelConfig,
        now: datetime,
        days: Sequence[date] | None = None,
        *,
        matcher: RunMatcher | None = None,
        seen: set[str] | None = None,
        source: DaySource | None = None,
    ) -> Plan:
        """Raises HFError when Hugging Face cannot be read. ``seen``: ``_seen_keys`` if already read.
        ``source``: where the day lists come from, when not this runner's feed (a person's answer)."""
        posted = self._seen_keys(config) if seen is None else seen
        if matcher is not None:  # a run matches all its channels at once
            select = matcher.select
        else:

            def select(config: ChannelConfig, papers: Sequence[Paper], posted: set[str]) -> Selection:
                return select_for_channel(config, papers, posted, related=self.related)

        return plan_channel(source or self.feed, config, now, days, select=select, seen=posted)

    # -- running ---------------------------------------------------------------------------

    def run_due(self, now: datetime | None = None) -> RunSummary:
        """The scheduler tick: post to every channel whose slot has passed today."""
        if self._stopping.is_set():
            return RunSummary()
        now = now or self.clock()
        slots: dict[str, list[tuple[ChannelConfig, date]]] = {}  # by workspace
        for config in self.store.channels():
            local_date = due_local_date(now, config)
            if local_date is None or self._not_before.get(_where(config), now) > now:
                continue
            if self.workspaces.rejected(config.team_id):
                continue  # its token is dead (or, in OAuth mode, gone): no call to Slack with it
            slots.setdefault(config.team_id, []).append((config, local_date))
        due = []
        for team_id, team_slots in slots.items():
            # one query per workspace: a channel id means something only within its workspace
            ledger = self.store.get_runs(((c.channel_id, d) for c, d in team_slots), team_id=team_id)
            due += [(c, d) for c, d in team_slots if self._is_due(ledger.get((c.channel_id, d)), now)]
        if not due:
            return RunSummary()
        return self._run(due, now)

    def _is_due(self, existing: RunRecord | None, now: datetime) -> bool:
        return (
            existing is None
            or self._may_retry(existing, now)
            or self._orphaned(existing, now)
            or self._may_continue(existing, now)
        )

    def run_now(
        self, now: datetime | None = None, *, channel_id: str | None = None, day: date | None = None
    ) -> RunSummary:
        """``post-now``: every subscribed channel (or one) regardless of its slot, still once a day."""
        now = now or self.clock()
        if channel_id:
            # "C0123", or "T0456/C0123" where several workspaces have a channel C0123
            team_id, _, channel = channel_id.rpartition("/")
            found = [
                c
                for c in self.store.channels()
                if c.channel_id == channel and c.subscribed and (not team_id or c.team_id == team_id)
            ]
            if len(found) > 1:
                teams = ", ".join(f"{c.team_id}/{channel}" for c in found)
                summary = RunSummary(errors={channel_id: f"several workspaces have this channel; name one: {teams}"})
                self.last_run = summary
                return summary
            configs = found
            if not configs:
                summary = RunSummary(errors={channel_id: "this channel is not subscribed"})
                self.last_run = summary
                return summary
        else:
            configs = [c for c in self.store.channels() if c.active]
        due = [(c, now.astimezone(ZoneInfo(c.timezone)).date()) for c in configs]
        # No later tick settles what this run cannot: a cut-off run waits for its history read here.
        return self._run(due, now, days=[day] if day else None, settle_wait=True)

    def _orphaned(self, record: RunRecord, now: datetime) -> bool:
        """A claim no thread of this process is posting, older than the lease: a dead process's."""
        return (
            ledger_rules.is_orphaned(record, now, CLAIM_LEASE)
            and record.run_id not in self._in_flight
            and (record.team_id, record.channel_id, record.local_date) not in self.settler.unsettled
        )

    def _seen_keys(self, config: ChannelConfig, runs: Sequence[RunRecord] | None = None) -> set[str]:
        return seen_keys(self.store, config.channel_id, runs, team_id=config.team_id)

    def _name(self, config: ChannelConfig) -> str:
        return self.workspaces.label(config.team_id, config.channel_id)

    def _may_retry(self, record: RunRecord, now: datetime) -> bool:
        return ledger_rules.may_retry(record, now)

    def _run(
        self,
        due: list[tuple[ChannelConfig, date]],
        now: datetime,
        days: list[date] | None = None,
        *,
        settle_wait: bool = False,
    ) -> RunSummary:
        started = time.monotonic()
        requests_before = self.feed.requests_made
        summary = RunSummary()
        matcher = RunMatcher((config for config, _ in due), related=self.related)

        def one(item: tuple[ChannelConfig, date]) -> None:
            config, local_date = item
            if self.workspaces.rejected(config.team_id) or self._stopping.is_set():
                return  # not claimed: the next tick (or the next leader) posts it
            began = time.monotonic()
            try:
                outcome = self._run_channel(config, local_date, now, days, summary, matcher, settle_wait)
                if outcome == Outcome.POSTED:
                    self._channel_seconds += 0.1 * (time.monotonic() - began - self._channel_seconds)
            except _StopRun as exc:
                summary.stopped = str(exc)
                outcome = Outcome.FAILED
            except Exception as exc:  # one channel's bug must not stop the others
                logger.exception("post run for %s failed unexpectedly", config.channel_id)
                summary.errors[self._name(config)] = f"unexpected error: {type(exc).__name__}"
                self._alert(config.channel_id, local_date, summary.errors[self._name(config)], config.team_id)
                outcome = Outcome.FAILED
            summary.outcomes[self._name(config)] = outcome

        due = interleave(due)
        summary.workers = self._pool_size(due)
        if summary.workers == 1:
            for item in due:
                one(item)
        else:
            with ThreadPoolExecutor(max_workers=summary.workers, thread_name_prefix="post") as pool:
                list(pool.map(one, due))
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

    def _pool_size(self, due: Sequence[tuple[ChannelConfig, date]]) -> int:
        """Enough threads to keep the pacers' slots filled while each waits ~one Slack round trip.

        A sequential loop leaves the rate unused for the whole latency of every call (1,000 channels
        × 50 ms is 50 s of waiting); too many threads only queue in the pacer, each holding a claim.
        Slack's limits are per workspace, so the rate to fill is the sum of the run's workspaces'.
        """
        return fan_out_threads(self.workspaces, [c.team_id for c, _ in due], self._channel_seconds, self.workers)

    def _run_channel(
        self,
        config: ChannelConfig,
        local_date: date,
        now: datetime,
        days: list[date] | None,
        summary: RunSummary,
        matcher: RunMatcher | None = None,
        settle_wait: bool = False,
    ) -> str:
        channel, team = config.channel_id, config.team_id
        existing = self.store.get_run(channel, local_date, team_id=team)
        if existing and self._orphaned(existing, now):
            existing = self.settler.settle(existing, wait=settle_wait)
        if existing and self._may_continue(existing, now):
            return self._continue(config, existing, now, summary)
        if existing and existing.state != RunState.FAILED:
            return Outcome.SKIPPED
        runs = self.store.open_runs(channel, team_id=team)
        if self.settler.settle_earlier(runs, local_date, lambda r: self._orphaned(r, now), wait=settle_wait):
            runs = self.store.open_runs(channel, team_id=team)
        try:
            plan = self.plan(config, now, days, matcher=matcher, seen=self._seen_keys(config, runs))
        except HFError as exc:
            logger.warning("channel %s: Hugging Face unavailable (%s); will retry", channel, exc)
            summary.errors[self._name(config)] = str(exc)
            self._not_before[_where(config)] = now + WAIT_AFTER_UPSTREAM_FAILURE
            self._alert(channel, local_date, str(exc), team, upstream=True)
            return Outcome.FAILED
        if plan.waiting:
            logger.info("channel %s: Hugging Face list for the day is still empty; will retry", channel)
            self._not_before[_where(config)] = now + WAIT_WHEN_NOT_READY
            return Outcome.WAITING
        record = RunRecord(
            channel_id=channel,
            local_date=local_date,
            state=RunState.CLAIMED,
            run_id=uuid.uuid4().hex,
            claimed_at=now,
            days=plan.days,
            paper_keys=tuple(p.key for p in plan.selection.papers),
            team_id=config.team_id,
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
        delivery = self.deliverer.deliver(
            config,
            record,
            plan.selection.papers,
            plan.days,
            plan.selection.reasons,
            saved_by=self._saved_by(config, record.paper_keys),
        )
        if delivery.error is not None:
            return self._post_failed(config, record, delivery, summary)
        posted = record.replace(state=RunState.POSTED, ts=tuple(delivery.ts))
        self.store.finish_run(posted)
        self.last_post_at = self.clock()
        logger.info("channel %s: posted %d papers in %d message(s)", channel, len(record.paper_keys), len(delivery.ts))
        self._posted(posted)
        self._remember_single_papers(config, delivery, plan.selection.papers)
        return Outcome.POSTED

    def _saved_by(self, config: ChannelConfig, keys: Sequence[str]) -> dict[str, int]:
        """Papers of today's post people already saved (from a search, a share): their cards say so.
        A store hiccup here costs only the counts, never the post."""
        try:
            return self.store.save_counts(config.team_id, keys)
        except StoreError as exc:
            logger.warning("channel %s: save counts unavailable (%s); posting without them", config.channel_id, exc)
            return {}

    def _remember_single_papers(self, config: ChannelConfig, delivery: Delivery, papers: Sequence[Paper]) -> None:
        """A message of the digest that shows one paper: a reaction on it is a team signal for that
        paper (issue 16). After the run is recorded, and never able to fail it."""
        by_key = {paper.key: paper for paper in papers}
        for ts, keys in delivery.messages:
            if len(keys) == 1 and keys[0] in by_key:
                try:
                    self.store.remember_message(config.team_id, config.channel_id, ts, ref_of(by_key[keys[0]]))
                except StoreError as exc:
                    logger.warning(
                        "channel %s: could not remember message %s for reactions: %s", config.channel_id, ts, exc
                    )

    def _post_failed(self, config: ChannelConfig, record: RunRecord, delivery: Delivery, summary: RunSummary) -> str:
        channel = config.channel_id
        exc = delivery.error
        assert exc is not None
        summary.errors[self._name(config)] = exc.code
        if delivery.ts:
            # Part of the post is visible: record exactly the papers that arrived; the rest waits for a
            # continuation later today (``_continue``), so nothing repeats and nothing is silently lost.
            sent = set(delivery.keys)
            unsent = tuple(k for k in record.paper_keys if k not in sent)
            logger.error(
                "channel %s: post cut short after %d message(s) (%s); %d paper(s) left for a continuation",
                channel,
                len(delivery.ts),
                exc.code,
                len(unsent),
            )
            posted = record.replace(
                state=RunState.POSTED,
                ts=tuple(delivery.ts),
                paper_keys=tuple(delivery.keys),
                unsent=unsent,
                error=exc.code,
            )
            self.store.finish_run(posted)
            self.last_post_at = self.clock()
            self._posted(posted)
            self._after_slack_error(config, record, exc)
            return Outcome.POSTED
        if isinstance(exc, SlackConnectionLost):
            return self._settle_lost(config, record, exc)
        self.store.fail_run(record.replace(state=RunState.FAILED, error=exc.code))
        if self._after_slack_error(config, record, exc):
            return Outcome.PAUSED
        logger.warning("channel %s: Slack error %s; will retry later", channel, exc.code)
        stored = self.store.get_run(channel, record.local_date, team_id=config.team_id)
        if stored is not None and stored.attempts >= MAX_ATTEMPTS:
            self._alert(
                channel,
                record.local_date,
                f"{exc.code} after {stored.attempts} attempts; giving up today",
                config.team_id,
            )
        return Outcome.FAILED

    def _settle_lost(self, config: ChannelConfig, record: RunRecord, exc: SlackError) -> str:
        """The connection was lost again on the resend: the channel's history says what happened.

        Arrived after all → recorded as posted with its ``ts``. History readable and nothing arrived →
        the run fails like any refused post and a later tick sends it (nothing is in the channel, so
        nothing can repeat). History unreadable → closed as posted (at most once) and alerted.
        """
        channel = config.channel_id
        settled = self.settler.from_history(record, arrived=exc.code, missing=exc.code)
        if settled is not None and settled.state == RunState.POSTED:
            self.last_post_at = self.clock()
            logger.warning("channel %s: connection lost, but Slack's history has the post; recorded", channel)
            return Outcome.POSTED
        if settled is not None:
            logger.warning("channel %s: connection lost twice and nothing arrived; a later tick sends it", channel)
            return Outcome.FAILED
        logger.error("channel %s: connection lost and history unreadable; not retrying to avoid a duplicate", channel)
        self.store.finish_run(record.replace(state=RunState.POSTED, error=exc.code))
        self._alert(channel, record.local_date, f"{exc.code}; the post may be missing (not retried)", config.team_id)
        return Outcome.FAILED

    def _after_slack_error(self, config: ChannelConfig, record: RunRecord, exc: SlackError) -> bool:
        """Stop posting to the workspace of a dead token; pause the channel (True) when it cannot receive posts."""
        if exc.code in AUTH_ERRORS:
            if not self.workspaces.rejected(config.team_id):
                logger.error(
                    "Slack rejected the bot token (%s) of workspace %s: no more posts there until %s",
                    exc.code,
                    config.team_id or "(the default token)",
                    "it installs the app again" if self.workspaces.oauth else "a restart",
                )
            self.workspaces.reject(config.team_id, exc.code)
            raise _StopRun(exc.code)
        if exc.code in CHANNEL_ERRORS:
            channel = config.channel_id
            logger.warning("channel %s: %s; pausing its subscription", channel, exc.code)
            self.store.update_channel(channel, lambda c: c.replace(paused_reason=exc.code), team_id=config.team_id)
            self._alert(channel, record.local_date, f"{exc.code}; the subscription is paused", config.team_id)
            return True
        return False

    # -- continuing a digest cut short -------------------------------------------------------

    def _may_continue(self, record: RunRecord, now: datetime) -> bool:
        return ledger_rules.may_continue(record, now) and record.run_id not in self._in_flight

    def _continue(self, config: ChannelConfig, record: RunRecord, now: datetime, summary: RunSummary) -> str:
        """One continuation at a time per run in this process (a tick and ``post-now`` may overlap)."""
        with self._in_flight_lock:
            fresh = self.store.get_run(record.channel_id, record.local_date, team_id=record.team_id)
            if record.run_id in self._in_flight or fresh is None or fresh.attempts != record.attempts:
                return Outcome.SKIPPED  # another thread is on it, or just was
            self._in_flight.add(record.run_id)
        try:
            sent = self.continuation.send_rest(config, fresh, now)
        finally:
            self._in_flight.discard(record.run_id)
        if sent.error is None:
            return Outcome(sent.outcome)
        summary.errors[self._name(config)] = sent.error.code
        if self._after_slack_error(config, fresh, sent.error):
            return Outcome.PAUSED
        if sent.attempts >= MAX_ATTEMPTS:
            self._alert(
                config.channel_id,
                fresh.local_date,
                f"{sent.error.code}; part of today's post could not be sent",
                config.team_id,
            )
        return Outcome.FAILED

    def _posted(self, record: RunRecord) -> None:
        """Tell ``on_posted``; its failure is logged and never fails the post, which already went out."""
        if self.on_posted is None:
            return
        try:
            self.on_posted(record)
        except Exception:
            logger.exception("the post hook failed for %s", record.channel_id)

    def _alert(self, channel: str, local_date: date, reason: str, team_id: str = "", *, upstream: bool = False) -> None:
        """Tell the alert channel; an alert that fails is logged and must never break the post run."""
        if self.alerts is None:
            return
        try:
            if upstream:
                self.alerts.upstream_failed(channel, local_date, reason, team_id=team_id)
            else:
                self.alerts.channel_failed(channel, local_date, reason, team_id=team_id)
        except Exception:
            logger.exception("could not send the alert about channel %s", channel)


def _where(config: ChannelConfig) -> tuple[str, str]:
    return config.team_id, config.channel_id


_Due = TypeVar("_Due", bound=tuple[Any, ...])  # (ChannelConfig, …): a channel due in a run


def fan_out_threads(
    workspaces: Workspaces, team_ids: Sequence[str], seconds_per_channel: float, workers: int | None = None
) -> int:
    """Threads for a run over ``team_ids`` (one per channel): enough to keep every workspace's pacer
    filled while each channel holds its thread ``seconds_per_channel``, at most ``MAX_POST_WORKERS``;
    ``workers`` overrides (tests, benchmarks)."""
    channels = len(team_ids)
    if workers is not None:
        return max(1, min(workers, channels))
    rate = workspaces.total_rate(team_ids)
    if rate <= 0:
        return max(1, min(4, channels))
    wanted = math.ceil(rate * seconds_per_channel * 1.5) + 1
    return max(1, min(MAX_POST_WORKERS, wanted, channels))


def interleave(due: Sequence[_Due]) -> list[_Due]:
    """The run's channels taking turns by workspace (one of each workspace, then the next of each…).

    Why: each workspace has its own pacer, and a worker waiting for one workspace's next slot is a
    worker not posting elsewhere. In store order, all of one workspace's channels would be handed
    out together and the workers would queue on its pacer while the other workspaces wait; taking
    turns keeps every workspace's posts going at once, so the run takes about as long as its slowest
    workspace alone, not the sum of them. Within a workspace the order is kept. (The weekly recap's
    run hands its channels out the same way.)"""
    by_team: dict[str, list[_Due]] = {}
    for item in due:
        by_team.setdefault(item[0].team_id, []).append(item)
    if len(by_team) <= 1:
        return list(due)
    queues = list(by_team.values())
    return [queue[i] for i in range(max(len(q) for q in queues)) for queue in queues if i < len(queue)]
