"""The one choke point for Slack's Web API calls the bot makes on its own (posts, not replies).

It builds the real ``slack_sdk.WebClient`` with retry handlers (429 honouring ``Retry-After``,
connection errors) and turns Slack's error strings into decisions: which errors pause a channel,
which stop the whole run, which may be retried later.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Sequence
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)

from bot.errors import SlackError

__all__ = [
    "AUTH_ERRORS",
    "CHANNEL_ERRORS",
    "TOO_LONG_ERRORS",
    "SlackPoster",
    "make_web_client",
]

logger = logging.getLogger(__name__)

# The channel can no longer receive posts: pause its subscription, keep posting elsewhere.
CHANNEL_ERRORS = frozenset(
    {"channel_not_found", "is_archived", "not_in_channel", "restricted_action", "team_access_not_granted"}
)
# The token is dead: every further call would fail the same way; stop the run.
AUTH_ERRORS = frozenset(
    {"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive", "app_uninstalled"}
)
# The message was refused for its size or shape: split it and try again.
TOO_LONG_ERRORS = frozenset({"msg_blocks_too_long", "invalid_blocks", "msg_too_long"})
# Worth another attempt later in the day.
TRANSIENT_ERRORS = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"})


def make_web_client(token: str, base_url: str, *, rate_limit_retries: int = 3, timeout: int = 30) -> WebClient:
    """A WebClient that waits out 429s (``Retry-After``) and retries connection failures once."""
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=1),
            RateLimitErrorRetryHandler(max_retry_count=rate_limit_retries),
        ],
    )


def _refused(exc: BaseException) -> bool:
    """True when the connection was never made (refused, DNS), so Slack cannot have the message."""
    reason = getattr(exc, "reason", None)
    return isinstance(exc, ConnectionRefusedError) or isinstance(reason, ConnectionRefusedError | socket.gaierror)


class SlackPoster:
    """Posts messages and reports failures as ``SlackError`` with Slack's error code."""

    def __init__(self, client: WebClient) -> None:
        self.client = client

    def post_message(
        self,
        channel: str,
        *,
        text: str,
        blocks: Sequence[dict[str, Any]] = (),
        metadata: dict[str, Any] | None = None,
    ) -> str:
        """Post visibly, unfurls off; returns the message ``ts``."""
        try:
            response = self.client.chat_postMessage(
                channel=channel,
                text=text,
                blocks=list(blocks) or None,
                unfurl_links=False,
                unfurl_media=False,
                metadata=metadata,
            )
        except SlackApiError as exc:
            code = str(exc.response.get("error") or f"http_{exc.response.status_code}")
            if exc.response.status_code >= 500:
                code = code if code in TRANSIENT_ERRORS else "service_unavailable"
            raise SlackError(code, retryable=code in TRANSIENT_ERRORS) from None
        except (SlackClientError, OSError) as exc:
            if _refused(exc):
                # Nothing reached Slack: safe to try again later.
                raise SlackError("connection_refused", retryable=True) from None
            # The request may have reached Slack: never retried blindly (that could post twice).
            raise SlackError(f"connection_lost ({type(exc).__name__})", retryable=False) from None
        return str(response["ts"])

    def permalink(self, channel: str, ts: str) -> str:
        try:
            return str(self.client.chat_getPermalink(channel=channel, message_ts=ts)["permalink"])
        except (SlackApiError, SlackClientError, OSError):
            return ""
