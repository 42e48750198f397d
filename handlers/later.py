"""What a listener does after ``ack()``: handed to the listener pool so Slack gets its HTTP 200 at once.

The app runs with Bolt's ``process_before_response=True``: a listener runs on the thread that
answers Slack's request, and the response leaves as soon as the listener returns. Every listener
therefore acknowledges (or, for a modal, validates and acknowledges) and then gives its slow part,
Hugging Face, the store, Slack's Web API, ``response_url``, to ``later``. Without this, Bolt would
run the whole listener on its pool and poll for ``ack()`` every 10 ms before answering.

In HTTP mode the work also lets the requests in flight be answered first (``bot/slack/in_flight.py``):
during a burst of commands, acknowledgements come before answers, for at most ``MAX_WAIT``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor

from bot.slack.in_flight import InFlight

__all__ = ["MAX_WAIT", "Later", "on_pool"]

logger = logging.getLogger(__name__)

Later = Callable[[Callable[[], object]], None]

# The longest a reply waits for a burst's acknowledgements; a search's Hugging Face deadline (2.5 s)
# starts after it, so a useful answer still comes within about 3 s.
MAX_WAIT = 0.2


def on_pool(executor: Executor, in_flight: InFlight | None = None, *, max_wait: float = MAX_WAIT) -> Later:
    """``later(work)`` runs ``work`` on ``executor``; an exception it lets out is logged, never lost."""

    def run(work: Callable[[], object]) -> None:
        if in_flight is not None:
            in_flight.wait_idle(max_wait)
        try:
            work()
        except Exception:
            logger.exception("unhandled error in a listener's work after ack()")

    def later(work: Callable[[], object]) -> None:
        executor.submit(run, work)

    return later
