"""One place where a listener's failure becomes a reply: users get a clear message, never silence."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from slack_bolt import Respond

from bot.errors import HFError, NotAllowedError, UserInputError
from bot.replies import error_text

__all__ = ["reply_errors"]

logger = logging.getLogger(__name__)


def reply_errors(respond: Respond, work: Callable[[], Any]) -> None:
    """Run ``work``; a known error becomes an ephemeral explanation, an unknown one a reference id."""
    try:
        work()
    except NotAllowedError as exc:
        respond(text=exc.message, response_type="ephemeral", replace_original=False)
    except UserInputError as exc:
        respond(text=error_text(exc), response_type="ephemeral", replace_original=False)
    except HFError:
        logger.warning("Hugging Face unavailable while answering a command", exc_info=True)
        respond(
            text=":hourglass: Hugging Face isn't answering right now. Please try again in a few minutes.",
            response_type="ephemeral",
        )
    except Exception:
        ref = uuid.uuid4().hex[:8]
        logger.exception("command failed (ref %s)", ref)
        respond(
            text=f":x: Something went wrong on my side (ref `{ref}`). The team running papers-bot can look it up.",
            response_type="ephemeral",
        )
