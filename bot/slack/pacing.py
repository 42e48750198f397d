"""A shared pacer for ``chat.postMessage``: a workspace-wide token bucket plus a minimum gap per channel.

Why: Slack answers posts beyond its limits with HTTP 429 and ``Retry-After`` in whole seconds, so one
429 costs at least a second, and every worker thread that ignores it and keeps posting earns its own.
A fan-out to hundreds of channels is fastest when it never meets a 429: each post waits here for
its slot, all threads share one budget, and a 429 that does arrive pauses *everyone* (and lowers the
rate for a while) instead of one thread sleeping while the others hammer on.

The limits, from Slack's ``chat.postMessage`` reference ("Rate limiting"): "It will generally allow an
app to post 1 message per second to a specific channel. There are limits governing your app's
relationship with the entire workspace above that, limiting posting to several hundred messages per
minute. Generous burst behavior is also granted." (docs.slack.dev/reference/methods/chat.postMessage;
the same text is the javadoc of ``SpecialTier_chat_postMessage`` in slackapi/java-slack-sdk). Slack
gives no exact workspace figure; we read "several hundred" at its low end, 300 per minute.

The algorithm is GCRA (a token bucket expressed as a "theoretical arrival time"): a caller reserves
the next free slot under a lock and sleeps outside it, so waiting threads cost nothing and are served
in order. Pure apart from the injectable ``clock``/``sleep``; thread-safe.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "SLACK_CHANNEL_BURST",
    "SLACK_CHANNEL_INTERVAL",
    "SLACK_WORKSPACE_BURST",
    "SLACK_WORKSPACE_MARGIN",
    "SLACK_WORKSPACE_PER_MINUTE",
    "Pacer",
    "PacerStats",
]

SLACK_WORKSPACE_PER_MINUTE = 300  # "several hundred messages per minute", read at its low end
SLACK_WORKSPACE_BURST = 5  # Slack grants "generous" bursts but never says how many; one second's worth
# The pace kept is 95% of that: a burst at the start plus a full rate would put 305 posts in the first
# minute and earn a 429 (and a minute at 70% speed) from a workspace that allows exactly 300. With the
# margin any 60 s window holds at most 5 + 285 = 290 posts.
SLACK_WORKSPACE_MARGIN = 0.95
SLACK_CHANNEL_INTERVAL = 1.05  # "1 message per second to a specific channel", plus 50 ms for network jitter
SLACK_CHANNEL_BURST = 2  # "Short bursts >1 allowed" (rate-limits page): a notice and a digest may go together

_SLOWDOWN = 0.7  # a workspace 429 multiplies the rate by this …
_MIN_RATE_FRACTION = 0.2  # … down to this fraction of the configured rate …
_RECOVERY_SECONDS = 60.0  # … and it climbs back to the configured rate linearly over this long


@dataclass(frozen=True, slots=True)
class PacerStats:
    """Counters for logs and benchmarks."""

    acquired: int
    waited: float  # total seconds callers spent waiting for a slot
    rate_limited: int  # 429s reported
    workspace_pauses: int  # of those, the ones that paused every channel


class Pacer:
    """Hands out posting slots: at most ``rate`` per second overall (after a ``burst``), and one per
    ``key_interval`` per key (channel, after a ``key_burst``).

    ``acquire(key)`` blocks until the caller may send; ``rate_limited(key, retry_after)`` reports a
    429 so that later callers wait too.
    """

    def __init__(
        self,
        rate: float = SLACK_WORKSPACE_PER_MINUTE * SLACK_WORKSPACE_MARGIN / 60,
        *,
        burst: int = SLACK_WORKSPACE_BURST,
        key_interval: float = SLACK_CHANNEL_INTERVAL,
        key_burst: int = SLACK_CHANNEL_BURST,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep
        self._tat = -math.inf  # GCRA theoretical arrival time of the next unreserved slot
        self._paused_until = -math.inf
        self._key_tat: dict[str, float] = {}  # GCRA theoretical arrival time per key
        self._key_last: dict[str, tuple[float, float]] = {}  # key → (previous slot, latest slot)
        self._acquired = 0
        self._waited = 0.0
        self._rate_limited = 0
        self._pauses = 0
        self._slowed_at = -math.inf
        self._slowed_rate = 0.0
        self.reconfigure(rate, burst=burst, key_interval=key_interval, key_burst=key_burst)

    def reconfigure(
        self,
        rate: float,
        *,
        burst: int | None = None,
        key_interval: float | None = None,
        key_burst: int | None = None,
    ) -> None:
        """Change the limits (benchmarks scale them; a deployment with a known quota raises them)."""
        if rate <= 0:
            raise ValueError("rate must be positive")
        with self._lock:
            self._rate = float(rate)
            if burst is not None:
                self._burst = max(1, int(burst))
            if key_interval is not None:
                self._key_interval = max(0.0, float(key_interval))
            if key_burst is not None:
                self._key_burst = max(1, int(key_burst))
            self._slowed_at = -math.inf

    @property
    def rate(self) -> float:
        """The configured workspace rate (posts per second)."""
        return self._rate

    @property
    def key_interval(self) -> float:
        return self._key_interval

    def current_rate(self) -> float:
        """The rate in force now: lower for a while after a workspace-wide 429."""
        with self._lock:
            return self._rate_at(self._clock())

    def stats(self) -> PacerStats:
        with self._lock:
            return PacerStats(self._acquired, self._waited, self._rate_limited, self._pauses)

    # -- the two operations ------------------------------------------------------------------------

    def acquire(self, key: str | None = None) -> float:
        """Block until a post to ``key`` may be sent; returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                ready = self._key_ready(key)
                slot = None
                if ready <= now:  # the channel is free: take the next workspace slot
                    slot = self._reserve(now, key)
                    delay = slot - now
                else:  # wait for the channel first, without holding a workspace slot meanwhile
                    delay = ready - now
            if delay > 0:
                self._sleep(delay)
                waited += delay
            if slot is None:
                continue
            with self._lock:
                if self._clock() < self._paused_until:  # a 429 arrived while we slept: queue again
                    self._release(key, slot)
                    continue
                self._acquired += 1
                self._waited += waited
                return waited

    def try_acquire(self, key: str | None = None) -> bool:
        """Take a slot only if one is free now (True); never waits. For work that can as well be done
        at a later tick than block a thread (settling a cut-off run from the channel's history)."""
        with self._lock:
            now = self._clock()
            if self._key_ready(key) > now or now < self._paused_until:
                return False
            interval = 1.0 / self._rate_at(now)
            if max(now, self._tat - (self._burst - 1) * interval) > now:
                return False
            self._reserve(now, key)
            self._acquired += 1
            return True

    def rate_limited(self, key: str | None, retry_after: float) -> None:
        """Slack answered 429 for ``key``: nobody posts there before ``retry_after`` seconds pass.

        Slack does not say which limit was hit. The pacer already spaces a channel's posts, so a
        429 on a channel whose previous post was not just before this one is the workspace's limit:
        then every channel pauses and the rate drops, recovering over a minute.
        """
        retry_after = max(0.0, retry_after)
        with self._lock:
            now = self._clock()
            until = now + retry_after
            self._rate_limited += 1
            previous, latest = self._key_last.get(key, (-math.inf, -math.inf)) if key else (-math.inf, -math.inf)
            channel_limit = key is not None and latest - previous < self._key_interval * 1.5
            if key is not None:
                tolerance = (self._key_burst - 1) * self._key_interval
                self._key_tat[key] = max(self._key_tat.get(key, -math.inf), until + tolerance)
            if channel_limit:
                return
            if now >= self._paused_until:  # one slow-down per congestion, not one per refused thread
                self._pauses += 1
                self._slowed_rate = max(self._rate * _MIN_RATE_FRACTION, self._rate_at(now) * _SLOWDOWN)
                self._slowed_at = now
            self._paused_until = max(self._paused_until, until)
            # Slack's bucket is empty: after the pause, posts resume one interval apart, no burst.
            interval = 1.0 / self._rate_at(now)
            self._tat = max(self._tat, self._paused_until + (self._burst - 1) * interval)

    # -- internals (caller holds the lock) -----------------------------------------------------------

    def _rate_at(self, now: float) -> float:
        if now - self._slowed_at >= _RECOVERY_SECONDS:
            return self._rate
        climbed = self._slowed_rate + (self._rate - self._slowed_rate) * (now - self._slowed_at) / _RECOVERY_SECONDS
        return min(self._rate, climbed)

    def _key_ready(self, key: str | None) -> float:
        if key is None:
            return -math.inf
        return self._key_tat.get(key, -math.inf) - (self._key_burst - 1) * self._key_interval

    def _reserve(self, now: float, key: str | None) -> float:
        interval = 1.0 / self._rate_at(now)
        tolerance = (self._burst - 1) * interval
        slot = max(now, self._tat - tolerance, self._paused_until)
        self._tat = max(self._tat, slot) + interval
        if key is not None:
            self._key_tat[key] = max(self._key_tat.get(key, -math.inf), slot) + self._key_interval
            self._key_last[key] = (self._key_last.get(key, (-math.inf, -math.inf))[1], slot)
        return slot

    def _release(self, key: str | None, slot: float) -> None:
        """Undo the per-key part of a reservation invalidated by a pause (the workspace slot is lost)."""
        if key is None:
            return
        previous, latest = self._key_last.get(key, (-math.inf, -math.inf))
        if latest == slot:
            self._key_last[key] = (-math.inf, previous)
        if key in self._key_tat:
            self._key_tat[key] -= self._key_interval
