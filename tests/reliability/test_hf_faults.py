"""Hugging Face misbehaving while a post is due: the post still goes out once HF recovers, exactly
once per channel, and no channel is told anything (no empty or "nothing new" post) in the meantime.

Client-level retry details (backoff, page walking) are in ``tests/bot/test_hf.py``; these tests
drive the whole post run through the real ``HFClient`` against the fake server.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from bot.models import RunState
from tests.conftest import Clock, RunningBot, texts_of
from tests.fakes import FakeHF, FakeSlack, make_day, make_entry
from tests.reliability.conftest import FRIDAY, FRIDAY_0900, THURSDAY, QuickHF, digest_posts, subscribe

DAILY = "/api/daily_papers"


def _broken_body(kind: str) -> dict[str, Any]:
    return {
        "503": {"status": 503},
        "500 html": {"status": 500, "body": "<html><body>Internal Server Error</body></html>"},
        "429 RateLimit": {"status": 429, "headers": {"RateLimit": '"api";r=0;t=3', "RateLimit-Policy": '"api";q=500'}},
    }[kind]


def _inject(fake_hf: FakeHF, kind: str, times: int) -> None:
    if kind in ("503", "500 html", "429 RateLimit"):
        fake_hf.fail(DAILY, times=times, **_broken_body(kind))
    elif kind == "connection reset":
        fake_hf.drop(DAILY, times=times)
    elif kind == "truncated JSON":
        fake_hf.fail_with_body(DAILY, b'[{"paper": {"id": "2608.10001", "title": "Cut sh', times=times)
    elif kind == "not JSON":
        fake_hf.fail_with_body(DAILY, b"<!doctype html><title>Bad gateway</title>", times=times)
    elif kind == "timeout":
        fake_hf.delay(DAILY, 0.6, times=times)
    else:  # pragma: no cover - a typo in a parameter
        raise AssertionError(kind)


FAULTS = ["503", "500 html", "429 RateLimit", "connection reset", "truncated JSON", "not JSON", "timeout"]


@pytest.mark.parametrize("kind", FAULTS)
def test_a_fault_outlasting_the_retries_posts_once_when_hf_recovers(
    bot: RunningBot, clock: Clock, fake_hf: FakeHF, fake_slack: FakeSlack, quick_hf: QuickHF, kind: str
) -> None:
    fake_hf.days[THURSDAY] = make_day(THURSDAY, 3)
    for channel in ("C0001", "C0002"):
        subscribe(bot, clock, channel)
    waits = quick_hf(timeout=0.2)
    _inject(fake_hf, kind, times=4)  # every attempt of the first run (HFClient tries 4 times)
    fake_slack.reset()

    first = bot.services.runner.run_due(FRIDAY_0900)

    assert set(first.errors) == {"C0001", "C0002"} and not first.stopped
    assert first.hf_requests == 4  # the second channel reuses the failure instead of hammering HF again
    assert fake_slack.calls("chat.postMessage") == []  # nobody is told "nothing new" or gets a half post
    assert bot.store.runs() == []  # nothing claimed, so the day is still owed
    if kind == "429 RateLimit":
        assert waits == [3.0, 3.0, 3.0]  # the RateLimit header's t=, not our own backoff

    bot.services.runner.run_due(FRIDAY_0900 + timedelta(minutes=5))  # too early to try again
    assert digest_posts(fake_slack) == []
    bot.services.runner.run_due(FRIDAY_0900 + timedelta(minutes=11))
    bot.services.runner.run_due(FRIDAY_0900 + timedelta(minutes=40))
    for channel in ("C0001", "C0002"):
        assert len(digest_posts(fake_slack, channel)) == 1, channel
        assert bot.store.get_run(channel, FRIDAY).state == RunState.POSTED


@pytest.mark.parametrize("kind", FAULTS)
def test_a_short_fault_is_absorbed_by_the_retries_of_the_same_run(
    bot: RunningBot, clock: Clock, fake_hf: FakeHF, fake_slack: FakeSlack, quick_hf: QuickHF, kind: str
) -> None:
    fake_hf.days[THURSDAY] = make_day(THURSDAY, 3)
    subscribe(bot, clock, "C0001")
    waits = quick_hf(timeout=0.2)
    _inject(fake_hf, kind, times=2)

    summary = bot.services.runner.run_due(FRIDAY_0900)

    assert summary.ok and summary.hf_requests == 3
    assert len(digest_posts(fake_slack, "C0001")) == 1
    assert len(waits) == 2 and (waits == [3.0, 3.0] if kind == "429 RateLimit" else max(waits) < 5)


class _Relay(socketserver.ThreadingTCPServer):
    """A TCP relay on a fixed port to the fake HF: "Hugging Face is back at the same address"."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, target_port: int) -> None:
        relay = self

        class Pipe(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                with socket.create_connection(("127.0.0.1", relay.target_port)) as upstream:
                    back = threading.Thread(target=_copy, args=(upstream, self.request), daemon=True)
                    back.start()
                    _copy(self.request, upstream)
                    back.join(timeout=5)

        self.target_port = target_port
        super().__init__(("127.0.0.1", port), Pipe)
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()


def _copy(source: socket.socket, sink: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            sink.sendall(data)
    with contextlib.suppress(OSError):
        sink.shutdown(socket.SHUT_WR)


def test_connection_refused_then_hf_comes_back_on_the_same_address(
    bot: RunningBot, clock: Clock, fake_hf: FakeHF, fake_slack: FakeSlack, quick_hf: QuickHF
) -> None:
    with socket.socket() as probe:  # a free port nobody listens on: connections are refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    fake_hf.days[THURSDAY] = make_day(THURSDAY, 2)
    subscribe(bot, clock, "C0001")
    quick_hf(url=f"http://127.0.0.1:{port}")

    down = bot.services.runner.run_due(FRIDAY_0900)
    assert "connection failed" in down.errors["C0001"]
    assert digest_posts(fake_slack) == [] and bot.store.runs() == []

    relay = _Relay(port, fake_hf.port)  # Hugging Face comes back on the very same port
    try:
        bot.services.runner.run_due(FRIDAY_0900 + timedelta(minutes=15))
        bot.services.runner.run_due(FRIDAY_0900 + timedelta(minutes=30))
    finally:
        relay.shutdown()
        relay.server_close()
    assert len(digest_posts(fake_slack, "C0001")) == 1


def test_entries_missing_required_fields_are_left_out_and_the_rest_is_posted(
    bot: RunningBot, clock: Clock, fake_hf: FakeHF, fake_slack: FakeSlack
) -> None:
    good = make_entry("2608.00001", "A complete paper", upvotes=9, day=THURSDAY)
    no_title = make_entry("2608.00002", "gone", upvotes=50, day=THURSDAY)
    del no_title["paper"]["title"], no_title["title"]
    no_id = make_entry("2608.00003", "No id at all", upvotes=40, day=THURSDAY)
    del no_id["paper"]["id"]
    wrong_types = make_entry("2608.00004", "Typed wrong", upvotes=30, day=THURSDAY)
    wrong_types["paper"]["authors"] = "not a list"
    wrong_types["paper"]["upvotes"] = "many"
    fake_hf.days[THURSDAY] = [good, no_title, no_id, wrong_types, {"paper": None}, ["not", "an", "object"]]
    subscribe(bot, clock, "C0001")

    summary = bot.services.runner.run_due(FRIDAY_0900)

    assert summary.ok
    [post] = digest_posts(fake_slack, "C0001")
    text = texts_of(post.args)
    assert "A complete paper" in text and "No id at all" not in text
    assert "2608.00002" not in text  # no title: nothing sensible to show
    keys = set(bot.store.get_run("C0001", FRIDAY).paper_keys)
    assert "2608.00001" in keys and keys <= {"2608.00001", "2608.00004"}


def test_a_day_of_only_broken_entries_waits_like_an_unpublished_day(
    bot: RunningBot, clock: Clock, fake_hf: FakeHF, fake_slack: FakeSlack
) -> None:
    fake_hf.days[THURSDAY] = [{"paper": {"id": None}}, "garbage"]
    subscribe(bot, clock, "C0001")
    bot.store.update_channel("C0001", lambda c: c.replace(last_day=date(2026, 8, 19)))
    fake_slack.reset()
    assert bot.services.runner.run_due(FRIDAY_0900).outcomes == {"C0001": "waiting"}
    assert fake_slack.calls("chat.postMessage", "C0001") == [] and bot.store.runs() == []


def test_a_weekday_list_empty_all_day_is_caught_up_the_next_day_without_loss(
    bot: RunningBot, clock: Clock, fake_hf: FakeHF, fake_slack: FakeSlack
) -> None:
    subscribe(bot, clock, "C0001", "09:00 UTC daily")
    bot.store.update_channel("C0001", lambda c: c.replace(last_day=date(2026, 8, 19)))
    fake_slack.reset()
    runner = bot.services.runner
    for minutes in range(0, 15 * 60, 10):  # Friday 09:00 to 23:50 UTC: Thursday's list never shows up
        runner.run_due(FRIDAY_0900 + timedelta(minutes=minutes))
    assert fake_slack.calls("chat.postMessage", "C0001") == []
    assert bot.store.get_run("C0001", FRIDAY) is None  # not marked "nothing": the day stays owed

    fake_hf.days[THURSDAY] = [make_entry("2608.00001", "Thursday, published late", upvotes=3, day=THURSDAY)]
    fake_hf.days["2026-08-21"] = [make_entry("2608.00002", "Friday paper", upvotes=4, day="2026-08-21")]
    runner.run_due(datetime(2026, 8, 22, 9, 0, tzinfo=FRIDAY_0900.tzinfo))
    [post] = digest_posts(fake_slack, "C0001")
    assert "Thursday, published late" in texts_of(post.args) and "Friday paper" in texts_of(post.args)


def test_a_list_that_grows_between_two_fetches_reaches_later_channels_and_repeats_nothing(
    bot: RunningBot, clock: Clock, fake_hf: FakeHF, fake_slack: FakeSlack
) -> None:
    fake_hf.days[THURSDAY] = make_day(THURSDAY, 2)
    subscribe(bot, clock, "C0001", "09:00 UTC daily")
    subscribe(bot, clock, "C0002", "10:00 UTC daily")
    runner = bot.services.runner
    runner.run_due(FRIDAY_0900)
    late = [make_entry(f"2608.2000{i}", f"Added later {i}", upvotes=500 + i, day=THURSDAY) for i in range(2)]
    fake_hf.days[THURSDAY] = fake_hf.days[THURSDAY] + late  # HF's list grows after the first fetch
    runner.run_due(FRIDAY_0900 + timedelta(hours=1))  # C0002's slot; the cached list has expired
    runner.run_due(FRIDAY_0900 + timedelta(hours=2))

    [first] = digest_posts(fake_slack, "C0001")
    [second] = digest_posts(fake_slack, "C0002")
    assert "Added later" not in texts_of(first.args)  # C0001 posted before the list grew …
    assert {"2608.20000", "2608.20001"} <= set(bot.store.get_run("C0002", FRIDAY).paper_keys)  # … C0002 did not
    assert "Added later 0" in texts_of(second.args) and "Added later 1" in texts_of(second.args)
    assert len(bot.store.get_run("C0001", FRIDAY).paper_keys) == 2  # and C0001 is not posted twice

    fake_hf.days["2026-08-21"] = [*make_day("2026-08-21", 2, start_id=30001), *late]  # re-listed next day
    runner.run_due(FRIDAY_0900 + timedelta(days=1, hours=1))
    saturday_c2 = digest_posts(fake_slack, "C0002")[-1]
    assert "Added later" not in texts_of(saturday_c2.args)  # never the same paper twice in a channel
