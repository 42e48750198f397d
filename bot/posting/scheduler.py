"""APScheduler wiring around the pure ``due_local_date`` rule (see ``bot/channels/schedule.py``).

One job ticks every minute and asks the runner which channels are due; a second prunes old ledger
rows once a day; a third, every minute, gives the follow-up check (``bot/posting/follow_ups.py``) its
chance: new papers' baselines at once, the day's check when its time has come. That one runs on a
thread of its own, so a long check (a thousand papers at Hugging Face's pace) never delays a post.

The scheduler is in-memory on purpose: every decision comes from the ledger in the store, so there is
nothing to persist and nothing to replay after a restart.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.installs import Installs
from bot.posting.follow_ups import FollowUpChecker
from bot.posting.leader import AlwaysLeader, Leadership
from bot.posting.recap import RecapRunner
from bot.posting.runner import PostRunner
from bot.store import Store

__all__ = ["PostScheduler"]

logger = logging.getLogger(__name__)

LEDGER_RETENTION = timedelta(days=120)
# Heroku kills 30 s after SIGTERM, systemd after 90 s: finish the channels already at Slack before that.
SHUTDOWN_GRACE_SECONDS = 20.0
# /healthz calls the scheduler stuck past these. Ticks come every minute and a late one may still run
# for 5 minutes (misfire grace); 10,000 channels at Slack's 300 posts a minute take about 35 minutes.
TICKS_STOPPED_AFTER = 6 * 60.0
RUN_STUCK_AFTER = 2 * 60 * 60.0


class PostScheduler:
    def __init__(
        self,
        runner: PostRunner,
        store: Store,
        leader: Leadership | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        installs: Installs | None = None,
        follow_ups: FollowUpChecker | None = None,
        recaps: RecapRunner | None = None,
    ) -> None:
        self.runner = runner
        self.installs = installs  # workspaces removed 30 days ago are purged with the daily prune
        self.follow_ups = follow_ups
        self._follow_up_thread: threading.Thread | None = None
        self.recaps = recaps  # the weekly recaps ride the same tick, after the daily posts
        self._clock = clock
        self.store = store
        # Only the leader runs the jobs; other processes (PostgreSQL mode) keep ticking as standbys.
        self.leader: Leadership = leader if leader is not None else AlwaysLeader()
        self.scheduler = BackgroundScheduler(
            timezone=UTC,
            job_defaults={
                # The default of 1 s silently drops a tick delayed by a busy machine.
                "misfire_grace_time": 300,
                "coalesce": True,
                "max_instances": 1,
            },
        )
        self.scheduler.add_listener(self._on_problem, EVENT_JOB_ERROR | EVENT_JOB_MISSED)
        self.ticks = 0
        self.last_tick: datetime | None = None
        # The minute's tick and the tick on election are two jobs, so APScheduler's max_instances
        # does not keep them apart; two overlapping runs would double the posting threads.
        self._one_run = threading.Lock()
        self._last_call: float | None = None  # the latest tick APScheduler fired, leader or not
        self._run_began: float | None = None

    def tick(self) -> None:
        """One minute's tick, as APScheduler fires it: the leader posts to every channel that is due;
        skipped while the previous run still goes. Public so that operators' scripts and tests can
        drive the scheduler without waiting for the clock."""
        self._last_call = self._clock()
        if not self.leader.is_leader():
            return
        if not self._one_run.acquire(blocking=False):
            logger.info(
                "tick skipped: the previous post run is still going; what fell due meanwhile goes out next tick"
            )
            return
        try:
            self.ticks += 1
            self.last_tick = datetime.now(UTC)
            self._run_began = self._clock()
            self.runner.run_due()
            if self.recaps is not None and not self.runner.stopping:
                try:
                    self.recaps.run_due()
                except Exception:  # a recap bug must never stop the daily posts' ticks
                    logger.exception("the weekly recap run failed")
        finally:
            # APScheduler does not call a job while it runs, so a long run is a long gap in ticks:
            # its end counts as a tick, or /healthz would call it stuck until the next minute.
            self._last_call = self._clock()
            self._run_began = None
            self._one_run.release()

    def follow_up_tick(self) -> None:
        """The follow-up check's minute (leader only): started on its own thread unless still running."""
        if self.follow_ups is None or not self.leader.is_leader():
            return
        running = self._follow_up_thread
        if running is not None and running.is_alive():
            return
        checker = self.follow_ups

        def work() -> None:
            try:
                checker.tick()
            except Exception:
                logger.exception("the follow-up check failed")

        self._follow_up_thread = threading.Thread(target=work, name="follow-ups", daemon=True)
        self._follow_up_thread.start()

    def stuck(self) -> str:
        """Why no post would go out although the scheduler runs: ticks stopped, or a run never ends.

        Either means a wedged thread that only a restart frees; "" when neither.
        """
        now, began, last_call = self._clock(), self._run_began, self._last_call
        if began is not None and now - began > RUN_STUCK_AFTER:
            return f"a post run has been going for {(now - began) / 60:.0f} minutes"
        if began is None and last_call is not None and now - last_call > TICKS_STOPPED_AFTER:
            return f"the scheduler has not ticked for {(now - last_call) / 60:.0f} minutes"
        return ""

    def _prune(self) -> None:
        if not self.leader.is_leader():
            return
        removed = self.store.prune((datetime.now(UTC) - LEDGER_RETENTION).date())
        if removed:
            logger.info("pruned %d old ledger rows", removed)
        signals = self.store.prune_signals(datetime.now(UTC) - LEDGER_RETENTION)  # the team layer (issue 16)
        if signals:
            logger.info("pruned %d signals older than %d days", signals, LEDGER_RETENTION.days)
        if self.installs is not None:
            purged = self.installs.purge_due()
            if purged:
                logger.info(
                    "purged %d workspace(s) uninstalled more than 30 days ago: %s", len(purged), ", ".join(purged)
                )

    def _on_problem(self, event: JobExecutionEvent) -> None:
        if event.code == EVENT_JOB_MISSED:
            logger.warning("scheduler job %s missed its run at %s", event.job_id, event.scheduled_run_time)
        else:
            logger.error("scheduler job %s failed", event.job_id, exc_info=event.exception)

    def start(self) -> None:
        """Start ticking; the first tick runs at once so a post missed while down goes out now."""
        self.scheduler.add_job(self.tick, CronTrigger(second=0, timezone=UTC), id="tick", replace_existing=True)
        self.scheduler.add_job(
            self._prune, CronTrigger(hour=3, minute=17, timezone=UTC), id="prune", replace_existing=True
        )
        if self.follow_ups is not None:
            self.scheduler.add_job(
                self.follow_up_tick, CronTrigger(second=30, timezone=UTC), id="follow-ups", replace_existing=True
            )
        self.scheduler.start()
        self._last_call = self._clock()  # counts as a tick: the first cron tick is up to a minute away
        self.leader.start(on_elected=self._tick_soon)

    def _tick_soon(self) -> None:
        """On becoming leader (at start-up, or taking over from a dead one): catch up at once."""
        if self.scheduler.running:
            self.scheduler.add_job(self.tick, id="elected-tick", replace_existing=True)

    def shutdown(self, grace: float = SHUTDOWN_GRACE_SECONDS) -> None:
        """Let a post run in progress finish its channels (no new ones), then hand leadership over.

        Closing the store under a running post would leave posts that reached Slack recorded only as
        claims; the next leader settles those from history, but only after the claim's lease.
        """
        self.runner.stop()
        started = time.monotonic()
        if self.follow_ups is not None:
            self.follow_ups.stop()  # no new request or reply; the one in flight is recorded
        if self.recaps is not None:
            self.recaps.stop()
        if self._one_run.acquire(timeout=grace):
            self._one_run.release()
        else:
            logger.warning(
                "shutdown: the post run was still going after %.0f s; the next leader settles its channels "
                "from Slack's history",
                grace,
            )
        if self.follow_ups is not None and not self.follow_ups.wait_idle(grace - (time.monotonic() - started)):
            logger.warning("shutdown: the follow-up check was still replying; the next leader settles its claims")
        self.leader.stop()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def state(self) -> dict[str, Any]:
        """For ``/healthz``."""
        job = self.scheduler.get_job("tick") if self.scheduler.running else None
        last = self.runner.last_run
        return {
            **self.leader.state(),
            "running": bool(self.scheduler.running),
            "next_tick": job.next_run_time.isoformat() if job and job.next_run_time else None,
            "last_tick": self.last_tick.isoformat() if self.last_tick else None,
            "ticks": self.ticks,
            "last_fetch": _iso(self.runner.feed.last_success),
            "last_post": self.runner.last_post_at.isoformat() if self.runner.last_post_at else None,
            # Slack rejected the token: no post goes out until a restart with a working one.
            "token_rejected": self.runner.token_rejected or None,
            "stuck": (self.stuck() if self.scheduler.running else "") or None,
            "follow_ups": self.follow_ups.state() if self.follow_ups is not None else None,
            "last_run": {
                "outcomes": dict(last.outcomes),
                "errors": dict(last.errors),
                "hf_requests": last.hf_requests,
                "duration_s": round(last.duration, 3),
            }
            if last
            else None,
            "last_recap_run": _recap_state(self.recaps),
        }


def _recap_state(recaps: RecapRunner | None) -> dict[str, Any] | None:
    """The last weekly recap run, for ``/healthz`` (None before the first)."""
    last = recaps.last_run if recaps is not None else None
    if last is None:
        return None
    return {"outcomes": dict(last.outcomes), "errors": dict(last.errors), "duration_s": round(last.duration, 3)}


def _iso(timestamp: float | None) -> str | None:
    return datetime.fromtimestamp(timestamp, UTC).isoformat() if timestamp else None
