"""Logging set-up with secret redaction: a token that slips into a message is masked before output."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime

__all__ = ["LOG_FORMATS", "JsonFormatter", "RedactingFilter", "setup_logging"]

LOG_FORMATS = ("text", "json")

# Slack tokens (xoxb-, xoxp-, xapp-, …) and Hugging Face tokens, whatever the configuration holds.
# HF tokens are ``hf_`` plus 30-odd letters and digits; requiring 20 keeps identifiers such as the
# run log's ``hf_requests=`` readable.
_TOKEN_RE = re.compile(r"\b(?:xox[abeposr]|xapp)-[A-Za-z0-9-]+|\bhf_[A-Za-z0-9]{20,}")


class RedactingFilter(logging.Filter):
    """Masks configured secrets and anything shaped like a Slack or HF token in every record."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = tuple(s for s in secrets if len(s) >= 6)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        return _TOKEN_RE.sub("[redacted]", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.redact(message)
        if record.exc_info:
            # Format the traceback now, through the filter, so exception text is masked too.
            formatter = logging.Formatter()
            redacted += "\n" + self.redact(formatter.formatException(record.exc_info))
            record.exc_info = None
            record.exc_text = None
        if redacted != message or record.args:
            record.msg, record.args = redacted, None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line (``LOG_FORMAT=json``), for hosts that index logs: time (UTC, ISO
    8601), level, logger, message, and the traceback when there is one. The message is the redacted
    one: this formatter runs after ``RedactingFilter``."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(level: str = "INFO", secrets: Iterable[str] = (), log_format: str = "text") -> None:
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Bolt logs request bodies and signatures at DEBUG; httpx logs every URL at INFO; alembic its
    # plugins and steps at INFO, a dozen lines before a start-up's one-line database error (an upgrade
    # is reported in one line by bot.store.migrations).
    for noisy in ("slack_bolt", "slack_sdk", "httpx", "httpcore", "apscheduler", "alembic"):
        logging.getLogger(noisy).setLevel(
            max(logging.getLevelName(level), logging.INFO) if noisy.startswith("slack") else logging.WARNING
        )
