"""Paper lookups for link cards, shared: one upstream call per paper however many messages link it.

Why: a link pasted in a busy channel is often pasted again (a thread, a cross-post), and a bot or an
import can post hundreds of messages with links at once. Each paper is looked up once and kept for
``ttl`` seconds; while a lookup is in flight, other requests for the same paper wait for it instead of
starting their own (single flight). A lookup that found nothing anywhere is kept only ``miss_ttl``
seconds, so a paper Hugging Face indexes a minute later gets its card soon. The cache holds at most
``max_entries`` papers (least recently used go first) and nothing about the messages.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["PaperCache"]

T = TypeVar("T")


@dataclass
class _Flight(Generic[T]):
    done: threading.Event
    value: T | None = None


class PaperCache(Generic[T]):
    """``get(key)`` returns ``fetch(key)``, computed once per ``ttl`` (``miss_ttl`` when ``is_miss``)."""

    def __init__(
        self,
        fetch: Callable[[str], T],
        *,
        ttl: float = 600.0,
        miss_ttl: float = 60.0,
        is_miss: Callable[[T], bool] = lambda value: value is None,
        max_entries: int = 2000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._ttl = ttl
        self._miss_ttl = miss_ttl
        self._is_miss = is_miss
        self._max = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, T]] = OrderedDict()  # key -> (expires, value)
        self._flights: dict[str, _Flight[T]] = {}
        self._guard = threading.Lock()
        self.fetches = 0  # lookups that went upstream (for benchmarks and tests)
        self.hits = 0

    def get(self, key: str, *, timeout: float | None = 30.0) -> T | None:
        """The cached value, or the in-flight lookup's (waited for at most ``timeout``), or a new one."""
        with self._guard:
            cached = self._entries.get(key)
            if cached is not None and cached[0] > self._clock():
                self._entries.move_to_end(key)
                self.hits += 1
                return cached[1]
            flight = self._flights.get(key)
            leader = flight is None
            if flight is None:
                flight = self._flights[key] = _Flight(threading.Event())
                self.fetches += 1
            else:
                self.hits += 1
        if not leader:
            flight.done.wait(timeout)
            return flight.value
        try:
            flight.value = value = self._fetch(key)
        finally:
            with self._guard:
                self._flights.pop(key, None)
            flight.done.set()
        with self._guard:
            ttl = self._miss_ttl if self._is_miss(value) else self._ttl
            self._entries[key] = (self._clock() + ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._guard:
            self._entries.clear()
