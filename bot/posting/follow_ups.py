"""Follow-ups in the thread: once a day, ask Hugging Face what each recently posted paper gained and
tell each post's thread once.

The daily check (``run``), on the leader only:

1. the digests of the last 14 days (``ledger_since``), in channels that are subscribed, not paused and
   have follow-ups on;
2. one ``/api/papers/{id}`` request per paper not yet looked at today (``PaperWatch.checked_on``),
   however many channels or workspaces posted it, paced under Hugging Face's rate limit;
3. the replies owed (``follow_up_plan.plan_replies``), each claimed in the ledger (kind ``follow-up``,
   period ``<paper>/<item>``) *before* Slack is called and recorded with the reply's ``ts`` after, exactly
   as the daily post does; every reply carries its run id as message metadata, so a claim left by a
   dead process is settled from the thread (found: recorded; absent: sent; unreadable: not sent again).

A paper's first look is its baseline (what it already had is never announced). So that the baseline
is what the post showed, the runner reports every post (``note_posted``) and the next tick looks at its
new papers at once (``take_baselines``), a look that counts as that paper's look for the day.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime

from bot.errors import HFError, SlackConnectionLost, SlackError
from bot.feed.hf import HFClient
from bot.feed.papers import Paper
from bot.models import ChannelConfig, PaperWatch, RunKind, RunRecord, RunState
from bot.posting.follow_up_plan import Batch, Thread, observe, period_for, plan_replies, threads_of
from bot.posting.reconcile import CLAIM_LEASE
from bot.slack.client import AUTH_ERRORS, TRANSIENT_ERRORS, SlackPoster
from bot.slack.pacing import Pacer
from bot.slack.workspaces import Workspaces
from bot.store import Store
from bot.ui.render_follow_up import PaperNews, render_follow_up

__all__ = [
    "FOLLOW_UP_EVENT_TYPE",
    "FOLLOW_UP_WINDOW",
    "FollowUpChecker",
    "FollowUpSummary",
    "follow_up_metadata",
]

logger = logging.getLogger(__name__)

FOLLOW_UP_EVENT_TYPE = "papers_bot_follow_up"
FOLLOW_UP_WINDOW = timedelta(days=14)
# Hugging Face allows 500 API requests per 5 minutes per anonymous IP (research/hf_api.md §7); the daily
# check keeps to 1 a second (300 per 5 minutes), leaving the rest to the daily post, search and link cards.
HF_REQUESTS_PER_SECOND = 1.0
FETCH_WORKERS = 4  # requests in flight at once (each waits ~one round trip); the pacer sets the rate
REPLY_WORKERS = 8  # replies in flight at once; the Slack pacer (per workspace) sets the rate
RETRY_AFTER = timedelta(minutes=30)  # a run Hugging Face or Slack cut short runs again this much later
KEEP_WATCHES = timedelta(days=30)  # a watch not looked at for this long is dropped (out of every window)
SAVE_EVERY = 100  # watches saved in groups while fetching: a crash loses at most this many looks
_MAX_THREAD_PAGES = 5


def follow_up_metadata(run_id: str, periods: Sequence[str]) -> dict[str, object]:
    """The tag each reply carries: the run id settles a claim whose answer was lost."""
    return {"event_type": FOLLOW_UP_EVENT_TYPE, "event_payload": {"run_id": run_id, "items": list(periods)}}


@dataclass
class FollowUpSummary:
    """What one check did (``/healthz``, ``post-now --kind follow-ups``, logs)."""

    threads: int = 0  # posts in the window, in channels that want follow-ups
    papers: int = 0  # distinct (workspace, paper) pairs in those posts
    looked_up: int = 0  # papers asked from Hugging Face by this run
    hf_requests: int = 0  # HTTP requests that took (retries included)
    hf_failed: int = 0  # papers Hugging Face could not answer (looked at again by a later run today)
    replies: int = 0  # thread replies posted
    announced: int = 0  # (channel, paper, item) told
    held: int = 0  # items kept for tomorrow: their thread already had its reply today
    settled: int = 0  # claims of a dead process found in their thread and recorded
    errors: dict[str, str] = field(default_factory=dict)  # channel -> Slack's error code
    duration: float = 0.0
    retry_later: bool = False  # something transient failed: run again in RETRY_AFTER

    def as_dict(self) -> dict[str, object]:
        return {
            "threads": self.threads,
            "papers": self.papers,
            "looked_up": self.looked_up,
            "hf_requests": self.hf_requests,
            "hf_failed": self.hf_failed,
            "replies": self.replies,
            "announced": self.announced,
            "held": self.held,
            "errors": dict(self.errors),
            "duration_s": round(self.duration, 3),
        }


class FollowUpChecker:
    """The daily follow-up check; collaborators injected so tests use the real clients against fakes.

    ``check_time``: when, in UTC, the day's check runs (``PAPERS_BOT_FOLLOW_UP_TIME``); ``hf_rate``:
    Hugging Face requests a second at most (``None``: unpaced, for benchmarks against a fake).
    """

    def __init__(
        self,
        store: Store,
        hf: HFClient,
        poster: SlackPoster | Workspaces,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        check_time: dtime = dtime(14, 0),
        window: timedelta = FOLLOW_UP_WINDOW,
        hf_rate: float | None = HF_REQUESTS_PER_SECOND,
        fetch_workers: int = FETCH_WORKERS,
        reply_workers: int = REPLY_WORKERS,
    ) -> None:
        self.store = store
        self.hf = hf
        self.workspaces = poster if isinstance(poster, Workspaces) else Workspaces(poster)
        self.clock = clock
        self.check_time = check_time
        self.window = window
        # A burst of 10 lets a post's new papers get their baseline at once; the rate holds over the day.
        self._hf_pacer = Pacer(hf_rate, burst=10, key_interval=0.0) if hf_rate else None
        self.fetch_workers = max(1, fetch_workers)
        self.reply_workers = max(1, reply_workers)
        self.last_run: FollowUpSummary | None = None
        self.last_run_at: datetime | None = None
        self._done_on: date | None = None  # the UTC day whose check completed in this process
        self._not_before: datetime | None = None
        self._pending: set[tuple[str, str]] = set()  # (workspace, paper) posted since the last tick
        self._pending_lock = threading.Lock()
        self._one_run = threading.Lock()
        self._stopping = threading.Event()

    # -- what the scheduler calls ---------------------------------------------------------------------

    def note_posted(self, record: RunRecord, team_id: str = "") -> None:
        """The runner posted ``record``: its papers get their baseline look at the next tick."""
        team = record.team_id or team_id
        with self._pending_lock:
            self._pending.update((team, key) for key in record.paper_keys)

    def due(self, now: datetime) -> bool:
        """Today's check is due: its time has passed and it has not completed here today."""
        now = now.astimezone(UTC)
        if self._done_on == now.date() or (self._not_before is not None and now < self._not_before):
            return False
        return now >= datetime.combine(now.date(), self.check_time, tzinfo=UTC)

    def tick(self, now: datetime | None = None) -> FollowUpSummary | None:
        """The scheduler's minute: baselines for what was just posted, then the day's check when due."""
        if self._stopping.is_set():
            return None
        now = (now or self.clock()).astimezone(UTC)
        self.take_baselines(now)
        return self.run(now) if self.due(now) else None

    def stop(self) -> None:
        """Start no further request or reply; the one in flight finishes."""
        self._stopping.set()

    def wait_idle(self, timeout: float) -> bool:
        """True once no check is running (waited at most ``timeout`` seconds)."""
        if self._one_run.acquire(timeout=max(timeout, 0.0)):
            self._one_run.release()
            return True
        return False

    def state(self) -> dict[str, object]:
        """For ``/healthz``."""
        return {
            "check_time_utc": self.check_time.strftime("%H:%M"),
            "last_run_at": self.last_run_at.isoformat() if self.last_run_at else None,
            "last_run": self.last_run.as_dict() if self.last_run else None,
        }

    # -- baselines ------------------------------------------------------------------------------------

    def take_baselines(self, now: datetime | None = None) -> int:
        """Look at the papers just posted that have no watch yet; returns how many were looked at."""
        with self._pending_lock:
            pending, self._pending = self._pending, set()
        if not pending:
            return 0
        now = (now or self.clock()).astimezone(UTC)
        known = self.store.paper_watches(pending)
        wanted = sorted(pending - set(known))
        if not wanted:
            return 0
        summary = FollowUpSummary()
        watches = self._look_up(wanted, {}, now, summary)
        if summary.hf_failed:  # the daily check takes their baseline instead
            logger.info("follow-ups: %d new paper(s) could not be looked at yet", summary.hf_failed)
        return len(watches)

    # -- the daily check ------------------------------------------------------------------------------

    def run(self, now: datetime | None = None, *, channel_id: str | None = None) -> FollowUpSummary:
        """The check, now (``post-now --kind follow-ups`` calls it whatever the hour); ``channel_id``:
        only that channel's posts. Still one request per paper per day and one reply per post per day."""
        with self._one_run:
            now = (now or self.clock()).astimezone(UTC)
            started = time.monotonic()
            requests_before = self.hf.requests_made
            summary = FollowUpSummary()
            try:
                self._run(now, channel_id, summary)
            finally:
                summary.hf_requests = self.hf.requests_made - requests_before
                summary.duration = time.monotonic() - started
            if channel_id is None:
                self.last_run, self.last_run_at = summary, now
                if summary.retry_later or summary.hf_failed:
                    self._not_before = now + RETRY_AFTER
                else:
                    self._done_on, self._not_before = now.date(), None
            logger.info(
                "follow-ups: threads=%d papers=%d looked_up=%d hf_requests=%d hf_failed=%d replies=%d "
                "announced=%d held=%d errors=%d duration=%.2fs",
                summary.threads,
                summary.papers,
                summary.looked_up,
                summary.hf_requests,
                summary.hf_failed,
                summary.replies,
                summary.announced,
                summary.held,
                len(summary.errors),
                summary.duration,
            )
            return summary

    def _run(self, now: datetime, only: str | None, summary: FollowUpSummary) -> None:
        today = now.date()
        since = today - self.window - timedelta(days=2)  # local dates run up to a day ahead of UTC
        configs = {(c.team_id, c.channel_id): c for c in self.store.channels()}
        teams: dict[str, set[str]] = {}
        for team, channel in configs:
            teams.setdefault(channel, set()).add(team)
        only_team, _, only_channel = (only or "").rpartition("/")  # "C0123", or "T0456/C0123"
        threads = [
            t
            for t in threads_of(
                self.store.ledger_since(RunKind.DIGEST, since),
                now=now,
                window=self.window,
                team_of={channel: next(iter(ts)) for channel, ts in teams.items() if len(ts) == 1},
            )
            if self._wants(configs.get((t.team_id, t.channel_id)), t)
            and (only is None or (t.channel_id == only_channel and (not only_team or t.team_id == only_team)))
        ]
        summary.threads = len(threads)
        keys = sorted({(t.team_id, key) for t in threads for key in t.paper_keys})
        summary.papers = len(keys)
        watches = self.store.paper_watches(keys)
        stale = [k for k in keys if k not in watches or watches[k].checked_on < today]
        watches.update(self._look_up(stale, watches, now, summary))
        if self._stopping.is_set():
            return
        announced = {(r.team_id, r.channel_id, r.period): r for r in self.store.ledger_since(RunKind.FOLLOW_UP, since)}
        batches, summary.held = plan_replies(threads, watches, announced, now=now, lease=CLAIM_LEASE)
        self._send_all(batches, now, summary)
        if only is None:
            removed = self.store.prune_paper_watches(today - KEEP_WATCHES)
            if removed:
                logger.info("follow-ups: dropped %d watch(es) of papers out of every window", removed)

    def _name(self, thread: Thread) -> str:
        return self.workspaces.label(thread.team_id, thread.channel_id)

    def _wants(self, config: ChannelConfig | None, thread: Thread) -> bool:
        """A channel hears follow-ups while it is subscribed, not paused and has them on."""
        if config is None or not config.active or not config.follow_ups:
            return False
        return not self.workspaces.rejected(thread.team_id)

    def _look_up(
        self,
        keys: Sequence[tuple[str, str]],
        watches: dict[tuple[str, str], PaperWatch],
        now: datetime,
        summary: FollowUpSummary,
    ) -> dict[tuple[str, str], PaperWatch]:
        """One request per distinct paper (a paper in two workspaces is asked once), saved as it goes."""
        teams_of: dict[str, list[str]] = {}
        for team, key in keys:
            teams_of.setdefault(key, []).append(team)
        updated: dict[tuple[str, str], PaperWatch] = {}
        unsaved: list[PaperWatch] = []
        lock = threading.Lock()

        def one(key: str) -> None:
            if self._stopping.is_set():
                return
            if self._hf_pacer is not None:
                self._hf_pacer.acquire()
            try:
                paper: Paper | None = self.hf.paper(key)
            except HFError as exc:
                logger.warning("follow-ups: Hugging Face could not say what %s has (%s)", key, exc)
                with lock:
                    summary.hf_failed += 1
                return
            with lock:
                summary.looked_up += 1
                for team in teams_of[key]:
                    watch = observe(watches.get((team, key)), team_id=team, paper_key=key, paper=paper, now=now)
                    updated[(team, key)] = watch
                    unsaved.append(watch)
                if len(unsaved) >= SAVE_EVERY:
                    self.store.save_paper_watches(unsaved)
                    unsaved.clear()

        papers = sorted(teams_of)
        if papers:
            with ThreadPoolExecutor(
                max_workers=min(self.fetch_workers, len(papers)), thread_name_prefix="follow-up"
            ) as pool:
                for _ in pool.map(one, papers):
                    pass
        self.store.save_paper_watches(unsaved)
        return updated

    # -- replies --------------------------------------------------------------------------------------

    def _send_all(self, batches: Sequence[Batch], now: datetime, summary: FollowUpSummary) -> None:
        lock = threading.Lock()

        def one(batch: Batch) -> None:
            team = batch.thread.team_id
            if self._stopping.is_set() or self.workspaces.rejected(team):
                return
            try:
                sent, told, settled, error = self._send(batch, now)
            except Exception:  # one thread's bug must not stop the others
                logger.exception("follow-up to %s failed unexpectedly", self._name(batch.thread))
                sent, told, settled, error = 0, 0, 0, "unexpected_error"
            with lock:
                summary.replies += sent
                summary.announced += told
                summary.settled += settled
                if error:
                    summary.errors[self._name(batch.thread)] = error
                    summary.retry_later = summary.retry_later or error in TRANSIENT_ERRORS

        if len(batches) <= 1 or self.reply_workers == 1:
            for batch in batches:
                one(batch)
            return
        with ThreadPoolExecutor(max_workers=min(self.reply_workers, len(batches)), thread_name_prefix="reply") as pool:
            for _ in pool.map(one, batches):
                pass

    def _send(self, batch: Batch, now: datetime) -> tuple[int, int, int, str]:
        """Settle, claim, reply, record. Returns (replies, items told, claims settled, error code)."""
        thread = batch.thread
        try:
            poster = self.workspaces.poster_for(thread.team_id)  # the workspace's own token, never another's
        except SlackError as exc:  # OAuth mode: the workspace has no installation (any more)
            return 0, 0, 0, exc.code
        items, settled = self._settle_earlier(poster, batch)
        run_id = uuid.uuid4().hex
        claimed: list[RunRecord] = []
        for key, item in items:
            record = RunRecord(
                channel_id=thread.channel_id,
                local_date=now.date(),
                state=RunState.CLAIMED,
                run_id=run_id,
                claimed_at=now,
                paper_keys=(key,),
                kind=RunKind.FOLLOW_UP,
                period=period_for(key, item),
                team_id=thread.team_id,
            )
            if self.store.claim_run(record):
                claimed.append(record)
        if not claimed:
            return 0, 0, settled, ""
        news = self._news(batch, claimed)
        message = render_follow_up(news)
        metadata = follow_up_metadata(run_id, [r.period for r in claimed])
        try:
            ts = poster.post_message(
                thread.channel_id,
                text=message.text,
                blocks=message.blocks,
                metadata=metadata,
                thread_ts=thread.thread_ts,
            )
        except SlackError as exc:
            return self._reply_failed(poster, batch, claimed, exc, settled)
        for record in claimed:
            self.store.finish_run(record.replace(state=RunState.POSTED, ts=(ts,)))
        return 1, len(claimed), settled, ""

    @staticmethod
    def _news(batch: Batch, claimed: Iterable[RunRecord]) -> list[PaperNews]:
        items: dict[str, list[str]] = {}
        for record in claimed:
            key, _, item = record.period.rpartition("/")
            items.setdefault(key, []).append(item)
        news = []
        for owed in batch.owed:  # the post's order
            if owed.paper_key in items:
                watch = batch.watches[owed.paper_key]
                chosen = tuple(i for i in owed.items if i in items[owed.paper_key])
                news.append(PaperNews(owed.paper_key, watch.title, watch.links, chosen))
        return news

    def _settle_earlier(self, poster: SlackPoster, batch: Batch) -> tuple[list[tuple[str, str]], int]:
        """The items still to send. A dead process's claim is looked for in the thread first: found,
        it is recorded and not sent again; absent, it is failed and sent now; thread unreadable, it is
        closed unsent (at most once)."""
        thread = batch.thread
        orphans = [e for o in batch.owed for e in o.earlier if e.state == RunState.CLAIMED]
        found: dict[str, str] | None = {}
        if orphans:
            found = self._tagged_replies(poster, thread)
        items: list[tuple[str, str]] = []
        settled = 0
        for owed in batch.owed:
            for item in owed.items:
                period = period_for(owed.paper_key, item)
                orphan = next((e for e in orphans if e.period == period), None)
                if orphan is None:
                    items.append((owed.paper_key, item))
                elif found is None:
                    logger.error(
                        "follow-up %s in %s: the thread cannot be read; not sent again", period, thread.channel_id
                    )
                    self.store.finish_run(orphan.replace(state=RunState.POSTED, error="unsettled"))
                elif orphan.run_id in found:
                    self.store.finish_run(orphan.replace(state=RunState.POSTED, ts=(found[orphan.run_id],)))
                    settled += 1
                else:
                    self.store.fail_run(orphan.replace(state=RunState.FAILED, error="never_arrived"))
                    items.append((owed.paper_key, item))
        return items, settled

    def _tagged_replies(self, poster: SlackPoster, thread: Thread) -> dict[str, str] | None:
        """Run id -> reply ts of this bot's follow-ups in the thread; None when it cannot be read."""
        found: dict[str, str] = {}
        cursor = None
        try:
            for _ in range(_MAX_THREAD_PAGES):
                page = poster.replies(thread.channel_id, thread.thread_ts, cursor=cursor)
                for message in page.get("messages") or []:
                    metadata = message.get("metadata") or {}
                    payload = metadata.get("event_payload") or {}
                    if metadata.get("event_type") == FOLLOW_UP_EVENT_TYPE and payload.get("run_id"):
                        found[str(payload["run_id"])] = str(message.get("ts", ""))
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not page.get("has_more") or not cursor:
                    return found
        except SlackError as exc:
            logger.warning("cannot read the thread %s in %s: %s", thread.thread_ts, thread.channel_id, exc.code)
            return None
        return None

    def _reply_failed(
        self, poster: SlackPoster, batch: Batch, claimed: list[RunRecord], exc: SlackError, settled: int
    ) -> tuple[int, int, int, str]:
        thread = batch.thread
        if isinstance(exc, SlackConnectionLost):
            time.sleep(1.0)  # let a reply Slack may have stored reach the thread
            found = self._tagged_replies(poster, thread)
            run_id = claimed[0].run_id
            if found is not None and run_id in found:
                for record in claimed:
                    self.store.finish_run(record.replace(state=RunState.POSTED, ts=(found[run_id],)))
                return 1, len(claimed), settled, ""
            if found is None:  # unknown: never send it twice
                logger.error("follow-up in %s: connection lost and thread unreadable; not retried", thread.channel_id)
                for record in claimed:
                    self.store.finish_run(record.replace(state=RunState.POSTED, error=exc.code))
                return 0, 0, settled, exc.code
        logger.warning("follow-up in %s refused by Slack: %s", thread.channel_id, exc.code)
        for record in claimed:
            self.store.fail_run(record.replace(state=RunState.FAILED, error=exc.code))
        if exc.code in AUTH_ERRORS:
            self.workspaces.reject(thread.team_id, exc.code)
        return 0, 0, settled, exc.code
