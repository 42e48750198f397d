"""Requests the HTTP server has accepted and not answered yet, so work after ``ack()`` can let them go first.

Why: Python runs one thread at a time (the GIL). When Slack delivers a burst of commands, the work of
the first ones (rendering, posting to ``response_url``, Slack's Web API) would otherwise share the
interpreter with the acknowledgements of the last ones and push them towards Slack's 3-second limit.
Work waits until no request is being answered, or ``max_wait`` at most, so a steady stream of
requests delays the replies by that much and never starves them.
"""

from __future__ import annotations

import threading

__all__ = ["InFlight"]


class InFlight:
    def __init__(self) -> None:
        self._count = 0
        self._changed = threading.Condition(threading.Lock())

    def enter(self) -> None:
        with self._changed:
            self._count += 1

    def leave(self) -> None:
        with self._changed:
            self._count -= 1
            if self._count <= 0:
                self._count = 0
                self._changed.notify_all()

    @property
    def count(self) -> int:
        return self._count

    def wait_idle(self, max_wait: float) -> bool:
        """Block until no request is in flight (True) or ``max_wait`` seconds passed (False)."""
        with self._changed:
            return self._changed.wait_for(lambda: self._count == 0, timeout=max_wait)
