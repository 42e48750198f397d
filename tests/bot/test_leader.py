"""Scheduler leadership: one leader per database schema, a quick hand-over when it goes away."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from bot.config import Settings
from bot.posting.leader import AdvisoryLockLeader, AlwaysLeader, make_leader
from bot.posting.scheduler import PostScheduler
from bot.slack.server import health_report

CHECK = 0.05


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_without_postgres_this_process_always_leads() -> None:
    elected: list[bool] = []
    leader = make_leader(Settings())
    assert isinstance(leader, AlwaysLeader)
    leader.start(on_elected=lambda: elected.append(True))
    assert leader.is_leader() and elected == [True]
    assert leader.state()["leader"] is True


@pytest.mark.postgres
def test_one_leader_and_a_standby_takes_over_when_it_stops(pg_url: str) -> None:
    elected: list[str] = []
    first = AdvisoryLockLeader(pg_url, check_seconds=CHECK)
    second = AdvisoryLockLeader(pg_url, check_seconds=CHECK)
    try:
        first.start(on_elected=lambda: elected.append("first"))
        second.start(on_elected=lambda: elected.append("second"))
        assert first.is_leader() and not second.is_leader()
        time.sleep(5 * CHECK)
        assert not second.is_leader() and elected == ["first"]

        first.stop()
        assert not first.is_leader()
        assert wait_until(second.is_leader)
        assert elected == ["first", "second"]
        assert second.state()["leader"] is True and second.state()["leader_since"]
    finally:
        first.stop()
        second.stop()


@pytest.mark.postgres
def test_a_leader_whose_session_dies_steps_down_and_someone_takes_over(pg_url: str) -> None:
    first = AdvisoryLockLeader(pg_url, check_seconds=CHECK)
    second = AdvisoryLockLeader(pg_url, check_seconds=CHECK)
    engine = create_engine(pg_url, poolclass=NullPool)
    try:
        first.start()
        second.start()
        assert first.is_leader()
        with engine.begin() as conn:  # what the server does when the leader's process is SIGKILLed
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = :pid"),
                {"pid": first._conn.connection.dbapi_connection.info.backend_pid},  # type: ignore[union-attr]
            )
        assert wait_until(lambda: second.is_leader() or first.is_leader())
        assert wait_until(lambda: first.is_leader() != second.is_leader())
        time.sleep(5 * CHECK)
        assert first.is_leader() != second.is_leader()  # exactly one, stably
    finally:
        first.stop()
        second.stop()
        engine.dispose()


@pytest.mark.postgres
def test_each_schema_has_its_own_leader(pg_url: str, pg_server: str) -> None:
    from tests import pg

    with pg.fresh_schema(pg_server) as other_url:
        here, there = (
            AdvisoryLockLeader(pg_url, check_seconds=CHECK),
            AdvisoryLockLeader(other_url, check_seconds=CHECK),
        )
        try:
            here.start()
            there.start()
            assert here.is_leader() and there.is_leader()
        finally:
            here.stop()
            there.stop()


def test_an_unreachable_database_means_standby_not_a_crash() -> None:
    leader = AdvisoryLockLeader("postgresql+psycopg://bot:pw@127.0.0.1:1/papers", check_seconds=CHECK)
    try:
        leader.start()
        assert not leader.is_leader()
        assert leader.state()["leader"] is False
    finally:
        leader.stop()


class _Runner:
    """Just what PostScheduler touches."""

    def __init__(self) -> None:
        self.runs = 0
        self.last_run = None
        self.last_post_at = None
        self.token_rejected = ""
        self.feed = type("Feed", (), {"last_success": None})()

        self.hold: threading.Event | None = None  # set: run_due blocks until it is set
        self.started = threading.Event()

    def stop(self) -> None:
        self.stopped = True

    def run_due(self) -> None:
        self.runs += 1
        self.started.set()
        if self.hold is not None:
            self.hold.wait(10)


class _Standby(AlwaysLeader):
    def is_leader(self) -> bool:
        return False

    def state(self) -> dict:
        return {**super().state(), "leader": False}


def test_the_scheduler_runs_jobs_only_while_leader_and_healthz_says_so() -> None:
    runner = _Runner()
    standby = PostScheduler(runner, store=None, leader=_Standby())  # type: ignore[arg-type]
    standby.tick()
    standby._prune()  # would fail on store=None if it ran
    assert runner.runs == 0 and standby.state()["leader"] is False

    leading = PostScheduler(runner, store=None)  # type: ignore[arg-type]  # default: TinyDB's single process
    leading.tick()
    assert runner.runs == 1 and leading.state()["leader"] is True


def _mid_run(clock: Callable[[], float] = time.monotonic) -> tuple[PostScheduler, _Runner, threading.Thread]:
    """A leading scheduler whose tick is inside a post run that lasts until ``runner.hold`` is set."""
    runner = _Runner()
    runner.hold = threading.Event()
    scheduler = PostScheduler(runner, store=None, clock=clock)  # type: ignore[arg-type]
    running = threading.Thread(target=scheduler.tick)
    running.start()
    assert runner.started.wait(5)
    return scheduler, runner, running


def test_the_tick_on_election_and_the_minute_tick_never_run_at_once() -> None:
    """Two overlapping runs in one process would double its posting threads (and its Slack rate)."""
    scheduler, runner, first = _mid_run()  # the tick on election, still posting
    scheduler.tick()  # the minute's tick arrives meanwhile
    assert runner.runs == 1
    runner.hold.set()
    first.join(5)
    scheduler.tick()  # once the run is over, ticks run again
    assert runner.runs == 2


def test_a_post_run_that_never_ends_makes_the_scheduler_stuck() -> None:
    now = [0.0]
    scheduler, runner, running = _mid_run(lambda: now[0])
    now[0] += 60 * 60  # an hour: 10,000 channels take about 35 minutes
    assert scheduler.stuck() == ""  # and no tick for an hour is fine while the run goes on
    now[0] += 61 * 60
    scheduler.tick()  # the minute's tick keeps coming, and is skipped: the run is still the one going
    assert scheduler.stuck() == "a post run has been going for 121 minutes"
    report = health_report("http", {"running": True, "stuck": scheduler.stuck()})
    assert report["ok"] is False and report["problems"] == [
        "the post scheduler is stuck: a post run has been going for 121 minutes"
    ]
    runner.hold.set()
    running.join(5)
    assert scheduler.stuck() == "" and runner.runs == 1


def test_the_end_of_a_long_run_counts_as_a_tick() -> None:
    """APScheduler does not call the tick job while it runs: a 10-minute run is a 10-minute gap."""
    now = [0.0]
    scheduler, runner, running = _mid_run(lambda: now[0])
    now[0] += 10 * 60
    runner.hold.set()
    running.join(5)
    assert scheduler.stuck() == ""
    now[0] += 7 * 60  # then nothing for 7 minutes: stuck
    assert scheduler.stuck() == "the scheduler has not ticked for 7 minutes"
