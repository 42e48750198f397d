"""The posting pacer: slots spaced by the workspace rate and the per-channel gap, 429s shared by all."""

from __future__ import annotations

import threading
import time

import pytest

from bot.slack.pacing import Pacer


class FakeTime:
    """A clock whose ``sleep`` moves time forward; ``on_sleep`` runs once during the next sleep."""

    def __init__(self) -> None:
        self.now = 100.0
        self.on_sleep: list = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        while self.on_sleep:
            self.on_sleep.pop(0)()


def make(rate: float = 10.0, burst: int = 1, key_interval: float = 1.0, key_burst: int = 1) -> tuple[Pacer, FakeTime]:
    t = FakeTime()
    pacer = Pacer(rate, burst=burst, key_interval=key_interval, key_burst=key_burst, clock=t.clock, sleep=t.sleep)
    return pacer, t


def times_of(pacer: Pacer, t: FakeTime, keys: list[str | None]) -> list[float]:
    out = []
    for key in keys:
        pacer.acquire(key)
        out.append(round(t.now - 100.0, 6))
    return out


def test_a_burst_goes_at_once_then_posts_are_spaced_by_the_rate() -> None:
    pacer, t = make(rate=10, burst=3)
    assert times_of(pacer, t, ["A", "B", "C", "D", "E"]) == [0, 0, 0, 0.1, 0.2]


def test_one_channel_waits_its_interval_while_other_channels_go_on() -> None:
    pacer, t = make(rate=10, key_interval=1.0)
    assert times_of(pacer, t, ["A", "B", "A"]) == [0, 0.1, 1.0]
    # A waited for its channel without holding a workspace slot: the next channel goes 0.1 s later.
    assert times_of(pacer, t, ["C"]) == [1.1]


def test_a_channel_may_burst_two_posts_then_gets_one_per_interval() -> None:
    pacer, t = make(rate=100, key_interval=1.0, key_burst=2)
    assert times_of(pacer, t, ["A", "A", "A", "A"]) == [0, 0.01, 1.0, 2.0]


def test_a_workspace_429_pauses_every_channel_and_slows_down_for_a_while() -> None:
    pacer, t = make(rate=10)
    pacer.acquire("A")
    pacer.rate_limited("A", 2.0)  # A had no earlier post: not its channel limit
    assert pacer.current_rate() == pytest.approx(7.0)
    assert times_of(pacer, t, ["B"]) == [2.0]
    assert times_of(pacer, t, ["C"]) == [pytest.approx(2.0 + 1 / pacer.current_rate(), abs=0.01)]
    t.now += 60
    assert pacer.current_rate() == 10.0
    stats = pacer.stats()
    assert (stats.rate_limited, stats.workspace_pauses) == (1, 1)


def test_a_429_right_after_the_channel_posted_only_holds_that_channel() -> None:
    pacer, t = make(rate=10, key_interval=1.0)
    times_of(pacer, t, ["A", "A"])  # 0 and 1.0
    pacer.rate_limited("A", 3.0)
    assert pacer.stats().workspace_pauses == 0 and pacer.current_rate() == 10.0
    assert times_of(pacer, t, ["B", "A"]) == [1.1, 4.0]


def test_a_pause_reported_while_a_caller_sleeps_sends_it_back_to_the_queue() -> None:
    pacer, t = make(rate=1)
    pacer.acquire("A")  # the next workspace slot is 1 s away
    t.on_sleep.append(lambda: pacer.rate_limited(None, 5.0))
    pacer.acquire("B")
    assert t.now - 100.0 >= 1.0 + 5.0 - 1e-9


def test_threads_share_one_budget() -> None:
    pacer = Pacer(rate=200, burst=1, key_interval=0.0)
    stamps: list[float] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        for i in range(10):
            pacer.acquire(f"C{n}-{i}")
            with lock:
                stamps.append(time.monotonic())

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(stamps) == 40
    assert time.monotonic() - started >= 39 / 200 - 0.01  # 40 slots at 200/s, never faster


def test_reconfigure_rejects_a_rate_of_zero() -> None:
    with pytest.raises(ValueError):
        Pacer(0)


def test_the_default_pace_never_puts_more_than_300_posts_in_any_minute() -> None:
    """A workspace that allows exactly 300 posts a minute must never answer 429 to a fan-out."""
    t = FakeTime()
    pacer = Pacer(clock=t.clock, sleep=t.sleep)  # Slack's defaults
    sent = times_of(pacer, t, [f"C{i}" for i in range(1000)])
    busiest = max(sum(1 for x in sent if start <= x < start + 60) for start in sent)
    assert busiest <= 300
    assert busiest >= 285  # the margin costs at most 5% of the pace
