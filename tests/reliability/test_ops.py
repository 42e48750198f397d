"""Operations: ``/healthz`` says what the scheduler did, every post run logs one structured line, a
channel that fails for good is reported once in ``PAPERS_BOT_ALERT_CHANNEL``, and no secret ever
reaches a log line or a reply."""

from __future__ import annotations

import io
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from bot.config import Settings
from bot.posting.alerts import ALERT_PREFIX, Alerts
from bot.posting.runner import MAX_ATTEMPTS, PostRunner
from bot.posting.scheduler import PostScheduler
from bot.slack.server import SlackHTTPServer, health_report
from bot.store.tinydb_store import TinyStore
from tests.conftest import BOT_TOKEN, SIGNING_SECRET, Clock, RunningBot
from tests.fakes import FakeHF, FakeSlack, make_day
from tests.logs import production_logs
from tests.reliability.conftest import (
    ALERT_CHANNEL,
    FRIDAY,
    FRIDAY_0900,
    THURSDAY,
    alerts_posted,
    digest_posts,
    subscribe,
    unpaced,
)
from tests.reliability.procs import HF_TOKEN, BotProcess, bot_env

SECRETS = (BOT_TOKEN, SIGNING_SECRET, HF_TOKEN)
# The alert dedupe lives in the store's ledger, so it is proven on both backends.
BOTH_STORES = pytest.mark.parametrize("store_backend", ["tinydb", pytest.param("postgres", marks=pytest.mark.postgres)])


# ----- the real process: /healthz, the run log line, the alert, no secrets ------------------------


def _seed(db: Path, fake_hf: FakeHF, now: datetime) -> None:
    """Two channels due today (slot 00:00 UTC, every day) and ten days of papers on Hugging Face."""
    for back in range(11):
        day = (now - timedelta(days=back)).date()
        fake_hf.days[day.isoformat()] = make_day(day, 2, start_id=10001 + back * 10)
    since = (now - timedelta(days=1)).isoformat()
    with TinyStore(db) as store:
        for channel in ("C0001", "C0002"):
            store.update_channel(
                channel,
                lambda c: c.replace(subscribed=True, post_time="00:00", weekdays=tuple(range(7)), active_since=since),
                team_id="T0001",
            )


def _wait_for(predicate, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.1)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX process handling")
def test_healthz_run_log_and_alert_from_the_real_process(
    tmp_path: Path, fake_slack: FakeSlack, fake_hf: FakeHF
) -> None:
    db = tmp_path / "db.json"
    _seed(db, fake_hf, datetime.now(UTC))
    fake_slack.archived_channels.add("C0002")
    env = bot_env(fake_slack, fake_hf, db, PAPERS_BOT_ALERT_CHANNEL=ALERT_CHANNEL, LOG_LEVEL="DEBUG")

    bot = BotProcess("serve", env, tmp_path)
    try:
        bot.wait_healthy()
        _wait_for(lambda: bot.health().get("last_post") is not None)
        health = bot.health()
    finally:
        bot.stop()
    output = bot.output

    assert health["ok"] is True and health["running"] is True and health["mode"] == "http"
    assert health["ticks"] >= 1 and health["last_tick"] and health["next_tick"]
    assert health["last_fetch"] and health["last_post"]
    assert health["last_run"]["outcomes"] == {"C0001": "posted", "C0002": "paused"}
    assert health["last_run"]["errors"] == {"C0002": "is_archived"}
    assert health["last_run"]["hf_requests"] >= 1 and health["last_run"]["duration_s"] >= 0
    run_line = re.search(
        r"post run: channels=2 posted=1 nothing=0 skipped=0 waiting=0 failed=0 paused=1 hf_requests=(\d+) "
        r"duration=\d+\.\d\ds",
        output,
    )
    assert run_line, output
    [alert] = alerts_posted(fake_slack)
    assert "<#C0002>" in alert and "is_archived" in alert
    assert len(digest_posts(fake_slack, "C0001")) == 1
    for secret in SECRETS:
        assert secret not in output  # at DEBUG, through HTTP, Slack and HF traffic

    again = BotProcess("serve", env, tmp_path)  # a restart the same day: nothing is said twice
    try:
        again.wait_healthy()
        _wait_for(lambda: again.health().get("last_tick") is not None)
    finally:
        again.stop()
    assert len(digest_posts(fake_slack, "C0001")) == 1 and len(alerts_posted(fake_slack)) == 1
    assert all(secret not in again.output for secret in SECRETS)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX process handling")
def test_healthz_answers_503_with_the_reason_once_slack_rejects_the_token(
    tmp_path: Path, fake_slack: FakeSlack, fake_hf: FakeHF
) -> None:
    """The token passed auth.test at start-up and was revoked later: the process is up but can post
    nothing until a restart, so a platform's health check must see it failing, and why."""
    db = tmp_path / "db.json"
    _seed(db, fake_hf, datetime.now(UTC))
    fake_slack.fail("chat.postMessage", "token_revoked", times=10_000)
    env = bot_env(fake_slack, fake_hf, db)
    bot = BotProcess("serve", env, tmp_path)
    try:
        bot.wait_healthy()
        _wait_for(lambda: httpx.get(f"{bot.url}/healthz").status_code == 503)
        response = httpx.get(f"{bot.url}/healthz")
    finally:
        bot.stop()
    body = response.json()
    assert response.status_code == 503 and response.headers["content-type"] == "application/json"
    assert body["ok"] is False and body["token_rejected"] == "token_revoked" and body["running"] is True
    [problem] = body["problems"]
    assert "Slack rejected the bot token (token_revoked)" in problem and "SLACK_BOT_TOKEN" in problem
    assert env["SLACK_BOT_TOKEN"] not in response.text


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX process handling")
def test_a_worker_with_port_set_serves_healthz_and_nothing_else(
    tmp_path: Path, fake_slack: FakeSlack, fake_hf: FakeHF
) -> None:
    """``worker`` (and ``socket``) answer no Slack requests; with PORT set they still answer the
    container's or uptime service's ``GET /healthz``, from the same server code as ``serve``."""
    db = tmp_path / "db.json"
    _seed(db, fake_hf, datetime.now(UTC))
    bot = BotProcess("worker", bot_env(fake_slack, fake_hf, db), tmp_path)  # BotProcess sets PORT
    try:
        bot.wait_healthy()
        _wait_for(lambda: bot.health().get("last_post") is not None)  # the scheduler is really running
        response = httpx.get(f"{bot.url}/healthz")
        events = httpx.post(f"{bot.url}/slack/events", content=b"token=x")
    finally:
        bot.stop()
    body = response.json()
    assert response.status_code == 200 and body["ok"] is True and body["problems"] == []
    assert body["mode"] == "worker" and body["running"] is True and body["leader"] is True
    assert events.status_code == 404  # no Slack endpoint: the worker has no signing secret check to run
    assert f"GET /healthz on port {bot.port}" in bot.output
    assert len(digest_posts(fake_slack, "C0001")) == 1


DB_PASSWORD = "Sup3rS3cretDbPw"


@pytest.mark.postgres
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX process handling")
@pytest.mark.parametrize("spelling", ["user:password@", "?password="])
def test_the_database_password_never_reaches_the_log_in_either_spelling(
    tmp_path: Path, fake_slack: FakeSlack, fake_hf: FakeHF, pg_url: str, spelling: str
) -> None:
    """The throwaway server trusts every connection, so the password is accepted whatever it is: the
    process connects, migrates, elects itself and logs where its state lives, at DEBUG."""
    if spelling == "?password=":
        url = f"{pg_url}&password={DB_PASSWORD}"
    else:
        url = pg_url.replace("postgresql+psycopg://postgres@", f"postgres://postgres:{DB_PASSWORD}@")
    env = bot_env(fake_slack, fake_hf, tmp_path / "unused.json", DATABASE_URL=url, LOG_LEVEL="DEBUG")
    bot = BotProcess("worker", env, tmp_path)
    try:
        health = bot.wait_healthy()
    finally:
        bot.stop()
    assert health["ok"] is True and health["election"] == "postgres-advisory-lock"
    assert "state in postgresql+psycopg://postgres" in bot.output and "***" in bot.output
    assert DB_PASSWORD not in bot.output


def test_healthz_answers_503_while_the_post_scheduler_is_not_running(bot: RunningBot) -> None:
    """The health-only server (``app=None``) over a scheduler that is stopped, then started, then
    stopped again: the answer follows, and the body says why."""
    scheduler = PostScheduler(bot.services.runner, bot.store)
    server = SlackHTTPServer(None, port=0, host="127.0.0.1", health=lambda: health_report("worker", scheduler.state()))
    server.start_background()
    url = f"http://127.0.0.1:{server.port}/healthz"
    try:
        before = httpx.get(url)
        scheduler.start()
        running = httpx.get(url)
        scheduler.shutdown()
        after = httpx.get(url)
    finally:
        scheduler.shutdown()
        server.shutdown()
    assert before.status_code == 503 and before.json()["problems"] == ["the post scheduler is not running"]
    assert running.status_code == 200 and running.json()["ok"] is True
    assert after.status_code == 503 and after.json()["ok"] is False


def test_healthz_answers_503_when_the_scheduler_stops_ticking_and_200_once_it_ticks_again(bot: RunningBot) -> None:
    """A wedged scheduler thread posts nothing while the process looks alive: only a restart helps."""
    now = [1_000.0]
    scheduler = PostScheduler(bot.services.runner, bot.store, clock=lambda: now[0])
    server = SlackHTTPServer(None, port=0, host="127.0.0.1", health=lambda: health_report("worker", scheduler.state()))
    server.start_background()
    url = f"http://127.0.0.1:{server.port}/healthz"
    try:
        scheduler.start()
        deadline = time.monotonic() + 10
        while scheduler.ticks < 1 and time.monotonic() < deadline:  # the tick on taking the lead
            time.sleep(0.01)
        scheduler.scheduler.pause_job("tick")  # the wedge: APScheduler stops calling the minute's tick
        now[0] += 5 * 60  # ticks every minute; a late one may come up to 5 minutes late
        late = httpx.get(url)
        now[0] += 2 * 60
        stopped = httpx.get(url)
        scheduler.tick()  # a tick again, as APScheduler calls it every minute
        ticking = httpx.get(url)
    finally:
        scheduler.shutdown()
        server.shutdown()
    assert late.status_code == 200
    assert stopped.status_code == 503
    assert stopped.json()["problems"] == ["the post scheduler is stuck: the scheduler has not ticked for 7 minutes"]
    assert ticking.status_code == 200 and ticking.json()["stuck"] is None


# ----- alerts, in process -------------------------------------------------------------------------


def restarted_runner(bot: RunningBot, clock: Clock) -> PostRunner:
    """What a restarted process builds over the same database: new runner, new in-memory counts."""
    services = bot.services
    alerts = Alerts(services.store, services.poster, ALERT_CHANNEL, clock=clock)
    return PostRunner(services.store, services.runner.feed, services.poster, clock=clock, alerts=alerts)


@BOTH_STORES
def test_hugging_face_down_all_morning_is_alerted_once_even_across_a_restart(
    alerting_bot: RunningBot, clock: Clock, fake_hf: FakeHF, fake_slack: FakeSlack
) -> None:
    bot = alerting_bot
    fake_hf.days[THURSDAY] = make_day(THURSDAY, 2)
    subscribe(bot, clock, "C0001")
    fake_hf.fail("/api/daily_papers", status=503, times=10_000)
    runner = bot.services.runner
    for minutes in range(0, 60, 10):
        runner.run_due(FRIDAY_0900 + timedelta(minutes=minutes))
    [alert] = alerts_posted(fake_slack)
    assert "<#C0001>" in alert and "Hugging Face" in alert and "503" in alert and "still retrying" in alert
    assert "Fri 21 Aug 2026" in alert

    runner = restarted_runner(bot, clock)
    for minutes in range(60, 120, 10):
        runner.run_due(FRIDAY_0900 + timedelta(minutes=minutes))
    assert len(alerts_posted(fake_slack)) == 1
    assert digest_posts(fake_slack) == []

    fake_hf.reset()  # Hugging Face is back
    runner.run_due(FRIDAY_0900 + timedelta(minutes=130))
    assert len(digest_posts(fake_slack, "C0001")) == 1


@BOTH_STORES
def test_a_post_failing_every_retry_is_alerted_once_with_the_reason(
    alerting_bot: RunningBot, clock: Clock, fake_hf: FakeHF, fake_slack: FakeSlack
) -> None:
    unpaced(alerting_bot)
    bot = alerting_bot
    fake_hf.days[THURSDAY] = make_day(THURSDAY, 2)
    subscribe(bot, clock, "C0001")
    subscribe(bot, clock, "C0002")
    fake_slack.fail("chat.postMessage", "internal_error", status=500, channel="C0001", times=10_000)
    runner = bot.services.runner
    for minutes in range(0, 6 * 60, 15):
        runner.run_due(FRIDAY_0900 + timedelta(minutes=minutes))
        if minutes == 60:
            runner = restarted_runner(bot, clock)
    [alert] = alerts_posted(fake_slack)
    assert "<#C0001>" in alert and f"internal_error after {MAX_ATTEMPTS} attempts" in alert
    assert len(digest_posts(fake_slack, "C0002")) == 1  # the other channel never noticed
    assert bot.store.get_run(f"{ALERT_PREFIX}C0001", FRIDAY).state == "posted"  # the dedupe record


def test_an_unreachable_alert_channel_never_breaks_the_post_run(
    alerting_bot: RunningBot, clock: Clock, fake_hf: FakeHF, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    bot = alerting_bot
    fake_hf.days[THURSDAY] = make_day(THURSDAY, 2)
    for channel in ("C0001", "C0002"):
        subscribe(bot, clock, channel)
    fake_slack.missing_channels.update({ALERT_CHANNEL, "C0002"})

    summary = bot.services.runner.run_due(FRIDAY_0900)

    assert summary.outcomes == {"C0001": "posted", "C0002": "paused"}
    assert f"could not post an alert about C0002 to {ALERT_CHANNEL}: channel_not_found" in caplog.text
    # The alert may be tried again later (its ledger row is FAILED, not done).
    fake_slack.missing_channels.discard(ALERT_CHANNEL)
    assert bot.services.runner.alerts.channel_failed("C0002", FRIDAY, "channel_not_found; paused")
    assert len(alerts_posted(fake_slack)) == 1


def test_without_an_alert_channel_nothing_is_posted_anywhere_else(
    bot: RunningBot, clock: Clock, fake_hf: FakeHF, fake_slack: FakeSlack
) -> None:
    fake_hf.days[THURSDAY] = make_day(THURSDAY, 2)
    subscribe(bot, clock, "C0001")
    fake_slack.archived_channels.add("C0001")
    fake_slack.reset()
    assert bot.services.runner.alerts is None
    bot.services.runner.run_due(FRIDAY_0900)
    assert [c.channel for c in fake_slack.calls("chat.postMessage")] == ["C0001"]


# ----- secrets ------------------------------------------------------------------------------------


@pytest.fixture
def real_logging(settings: Settings) -> Iterator[io.StringIO]:
    """The production log set-up (with its redaction filter) writing into a buffer."""
    with production_logs("DEBUG", replace(settings, hf_token=HF_TOKEN).secrets) as buffer:
        yield buffer


def test_a_crash_carrying_secrets_leaves_them_out_of_logs_and_replies(
    bot: RunningBot, real_logging: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    def leaky_plan(*args: object, **kwargs: object) -> None:
        raise RuntimeError(f"boom: token={BOT_TOKEN} secret={SIGNING_SECRET} hf={HF_TOKEN} xoxp-1234-abcd")

    monkeypatch.setattr(bot.services.runner, "plan", leaky_plan)
    reply = bot.command("today").text
    bot.command("subscribe 25:00")  # an input error path too
    bot.post("text=hi", secret="wrong-secret")  # a rejected signature is logged by Bolt
    time.sleep(0.2)
    logged = real_logging.getvalue()

    assert "Something went wrong on my side (ref" in reply
    assert "RuntimeError" in logged and "[redacted]" in logged  # the failure is logged, masked
    for secret in (*SECRETS, "xoxp-1234-abcd"):
        assert secret not in reply and secret not in logged
