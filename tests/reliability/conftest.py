"""Helpers for the reliability battery: the real app against the fakes, plus ways to bend it.

Everything here drives the production code paths (signed HTTP commands, ``PostRunner`` over the real
``HFClient``/``WebClient``); only the clock, the retry sleeps and the timeouts are shortened.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.config import Settings
from bot.feed.hf import DayFeed, HFClient
from bot.posting.alerts import Alerts
from bot.services import build_services
from tests.conftest import Clock, RunningBot, texts_of
from tests.fakes import FakeSlack
from tests.fakes.slack import Call

THURSDAY = "2026-08-20"
FRIDAY = datetime(2026, 8, 21).date()
FRIDAY_0900 = datetime(2026, 8, 21, 9, 0, tzinfo=UTC)
ALERT_CHANNEL = "CALERTS"


def subscribe(bot: RunningBot, clock: Clock, channel: str, spec: str = "", user: str = "U0001") -> None:
    """Subscribe as a user would, the day before, so today's slot is owed."""
    saved = clock()
    clock.set(saved - timedelta(days=1))
    result = bot.command(f"subscribe {spec}".strip(), channel=channel, user=user)
    assert "Subscribed" in result.text, result.text
    clock.set(saved)


def digest_posts(fake: FakeSlack, channel: str | None = None) -> list[Call]:
    """Digests Slack accepted (not the one-line subscription notices, not alerts)."""
    return [c for c in fake.posts(channel) if c.args.get("blocks") and c.channel != ALERT_CHANNEL]


def unpaced(bot: RunningBot) -> None:
    """Lift the posting pacer's real-time gaps (one post per channel per second): tests that retry
    one channel many times in simulated time would otherwise sleep a second per attempt. Pacing has
    its own tests (``tests/scenarios/test_fanout.py``)."""
    bot.services.poster.pacer.reconfigure(10_000, burst=10_000, key_interval=0.001, key_burst=10_000)


def alerts_posted(fake: FakeSlack) -> list[str]:
    return [texts_of(c.args) for c in fake.posts(ALERT_CHANNEL)]


QuickHF = Callable[..., list[float]]


@pytest.fixture
def quick_hf(bot: RunningBot, clock: Clock) -> Iterator[QuickHF]:
    """``quick_hf(timeout=…, url=…)`` swaps the runner's HF client for one with a short timeout and a
    recording sleep (production waits whole seconds); returns the list of waits it asked for."""
    clients: list[HFClient] = []

    def swap(*, timeout: float = 0.4, url: str = "") -> list[float]:
        waits: list[float] = []
        hf = HFClient(url or bot.services.settings.hf_endpoint, timeout=timeout, sleep=waits.append)
        clients.append(hf)
        bot.services.runner.feed = DayFeed(hf, clock=clock)
        return waits

    yield swap
    for hf in clients:
        hf.close()


@pytest.fixture
def alerting_bot(settings: Settings, clock: Clock, fake_slack: FakeSlack) -> Iterator[RunningBot]:
    """The bot with ``PAPERS_BOT_ALERT_CHANNEL`` set, built by the production ``build_services``."""
    services = build_services(replace(settings, alert_channel=ALERT_CHANNEL), clock=clock, hf_sleep=lambda _s: None)
    assert isinstance(services.runner.alerts, Alerts)
    running = RunningBot(services, fake_slack)
    yield running
    running.close()
