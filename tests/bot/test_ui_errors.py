"""Every error a user can meet becomes one clear, escaped sentence, from one module."""

from __future__ import annotations

import pytest

from bot.errors import HFError, NotAllowedError, SlackError, StoreError, StoreFullError, UserInputError
from bot.ui.errors import error_text, slack_advice, unexpected_text


@pytest.mark.parametrize(
    ("doing", "again"),
    [("subscribe", "run `/papers subscribe` again"), ("share", "press Share again"), ("post", "to resume")],
)
def test_a_channel_slack_refused_gets_advice_for_what_the_user_was_doing(doing: str, again: str) -> None:
    for code in ("not_in_channel", "channel_not_found", "is_archived"):
        assert again in slack_advice(code, doing)
    assert "/invite @papers-bot" in slack_advice("not_in_channel", "share")
    assert slack_advice("ratelimited", "share") == ""  # not about the channel: the caller says "try again"


def test_each_kind_of_error_reads_as_one_reply() -> None:
    assert error_text(NotAllowedError("Only admins may change this.")) == "Only admins may change this."
    assert error_text(UserInputError("Bad <time>", "/papers subscribe 08:30")) == (
        ":warning: Bad &lt;time&gt;\nExample: `/papers subscribe 08:30`"
    )
    assert "Hugging Face isn't answering" in (error_text(HFError("timeout")) or "")
    slack = error_text(SlackError("not_in_channel"))
    assert slack is not None and "`not_in_channel`" in slack and "/invite @papers-bot" in slack
    assert "<@" not in (error_text(SlackError("<!channel>")) or "")  # codes are escaped like any text
    assert "nothing was changed" in (error_text(StoreError("locked")) or "")
    full = error_text(StoreFullError("the disk is full")) or ""
    assert "disk" in full and "is full" in full and "Nothing was changed" in full
    assert error_text(KeyError("x")) is None  # a bug: only a reference (unexpected_text)


def test_an_unexpected_error_shows_only_a_reference() -> None:
    text = unexpected_text("abc12345")
    assert "`abc12345`" in text and "Traceback" not in text
