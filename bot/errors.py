"""papers-bot's own exceptions, so callers never catch another library's errors.

PapersBotError
├── ConfigError        missing or invalid configuration (start-up stops with one line)
├── UserInputError     a slash command or setting the user can fix (shown to them, ephemeral)
│   └── NotAllowedError    the user may not change this channel's settings
├── UpstreamError      a remote service failed after its retries
│   ├── HFError        Hugging Face
│   ├── ArxivError     arXiv's API (link cards for papers Hugging Face lacks)
│   └── SlackError     Slack's Web API
└── StoreError         the database cannot be opened or written
    └── StoreLockedError   another process holds the database
"""

from __future__ import annotations

__all__ = [
    "ArxivError",
    "ConfigError",
    "HFError",
    "NotAllowedError",
    "PapersBotError",
    "SlackError",
    "StoreError",
    "StoreLockedError",
    "UpstreamError",
    "UserInputError",
]


class PapersBotError(Exception):
    """Base of every error papers-bot raises on purpose."""


class ConfigError(PapersBotError):
    """The message names the variable to set; it never contains a secret's value."""


class UserInputError(PapersBotError):
    """Something a user typed; ``example`` shows a correct form."""

    def __init__(self, message: str, example: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.example = example


class NotAllowedError(UserInputError):
    """A refusal whose ``message`` the bot built itself as mrkdwn (it names who may help)."""


class UpstreamError(PapersBotError):
    """A remote call failed; ``retryable`` says whether a later attempt may succeed."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class HFError(UpstreamError):
    """Hugging Face failed: timeouts, 5xx, 429 after retries, or an unreadable body."""

    def __init__(self, message: str, *, retryable: bool = True, status: int | None = None) -> None:
        super().__init__(message, retryable=retryable)
        self.status = status


class ArxivError(UpstreamError):
    """arXiv's API failed or is being spared (its terms allow one request every three seconds)."""


class SlackError(UpstreamError):
    """Slack's Web API answered ``ok: false`` (``code`` is Slack's error string) or could not be reached."""

    def __init__(self, code: str, *, retryable: bool = False) -> None:
        super().__init__(f"Slack error: {code}", retryable=retryable)
        self.code = code


class SlackUnreachable(SlackError):
    """Slack could not be reached for a call that posts nothing (a modal, a history page)."""

    def __init__(self, cause: str) -> None:
        super().__init__(f"connection_failed ({cause})", retryable=True)


class SlackConnectionLost(SlackError):
    """The connection broke after the request may have reached Slack: the message may exist. Never
    retried blindly (that could post twice); the channel's history settles it."""

    def __init__(self, cause: str) -> None:
        super().__init__(f"connection_lost ({cause})", retryable=False)


class SlackHistoryBusy(SlackError):
    """This minute's ``conversations.history`` request of the workspace is spent (Slack allows apps
    outside its Marketplace one a minute): the read waits for a later tick, nothing is decided."""

    def __init__(self) -> None:
        super().__init__("history_budget_spent", retryable=True)


class StoreError(PapersBotError):
    """The database could not be read or written."""


class StoreFullError(StoreError):
    """The disk under the database is full: the write was refused and nothing changed."""


class StoreLockedError(StoreError):
    """A second process tried to open a database another papers-bot process is using."""
