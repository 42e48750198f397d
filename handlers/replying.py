"""One place where a listener's failure becomes a reply: users get a clear message, never silence."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from slack_bolt import Respond

from bot.errors import HFError, StoreError
from bot.ui.errors import error_text, unexpected_text

__all__ = ["reply_errors"]

logger = logging.getLogger(__name__)


def reply_errors(respond: Respond, work: Callable[[], Any]) -> None:
    """Run ``work``; a known error becomes an ephemeral explanation, an unknown one a reference id."""
    try:
        work()
    except Exception as exc:
        text = error_text(exc)
        if text is None:
            ref = uuid.uuid4().hex[:8]
            logger.exception("command failed (ref %s)", ref)
            text = unexpected_text(ref)
        elif isinstance(exc, HFError):
            logger.warning("Hugging Face unavailable while answering a command", exc_info=True)
        elif isinstance(exc, StoreError):
            logger.error("the store refused a change: %s", exc)
        respond(text=text, response_type="ephemeral", replace_original=False)
