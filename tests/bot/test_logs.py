"""LOG_FORMAT=json: one JSON object per line, secrets redacted as in text logs."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.config import load_settings
from bot.errors import ConfigError
from tests.logs import production_logs


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    with production_logs("INFO", ("s3cret-signing-value",), "json") as buffer:
        yield buffer


def test_json_lines_carry_level_logger_message_and_a_redacted_traceback(json_logs: io.StringIO) -> None:
    log = logging.getLogger("bot.test")
    log.info("posted %d papers with xoxb-123-456-abcdef", 3)
    try:
        raise RuntimeError("boom s3cret-signing-value")
    except RuntimeError:
        log.exception("crashed")
    first, second = (json.loads(line) for line in json_logs.getvalue().splitlines())
    assert (first["level"], first["logger"], first["message"]) == (
        "INFO",
        "bot.test",
        "posted 3 papers with [redacted]",
    )
    assert first["time"].endswith("+00:00")
    assert second["level"] == "ERROR" and "RuntimeError: boom [redacted]" in second["message"]
    assert "s3cret" not in json_logs.getvalue()


def test_log_format_is_checked_at_start_up() -> None:
    assert load_settings({"LOG_FORMAT": "JSON"}).log_format == "json"
    with pytest.raises(ConfigError, match="LOG_FORMAT must be text or json"):
        load_settings({"LOG_FORMAT": "xml"})
