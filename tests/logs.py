"""The production log set-up (``bot.logs.setup_logging``, redaction included) writing into a buffer,
for tests that read what an operator would read; pytest's own handlers and levels are put back after."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from bot.logs import setup_logging


@contextmanager
def production_logs(level: str, secrets: Iterable[str] = (), log_format: str = "text") -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    setup_logging(level, secrets, log_format)
    buffer = io.StringIO()
    [handler] = root.handlers
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(buffer)
    try:
        yield buffer
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
