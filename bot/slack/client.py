"""The one choke point for Slack's Web API calls the bot makes on its own (posts, not replies).

It builds the real ``slack_sdk.WebClient`` with retry handlers (429 honouring ``Retry-After``,
connection errors) and turns Slack's error strings into decisions: which errors pause a channel,
which stop the whole run, which may be retried later.
"""

from __future__ import annotations

import json
import logging
import re
import socket
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError, SlackRequestError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.errors import SlackConnectionLost, SlackError, SlackHistoryBusy, SlackUnreachable
from bot.slack.pacing import Pacer

__all__ = [
    "AUTH_ERRORS",
    "CHANNEL_ERRORS",
    "TOO_LONG_ERRORS",
    "PacedRateLimitRetryHandler",
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
    {
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "token_expired",
        "account_inactive",
        "app_uninstalled",
        "not_installed",  # OAuth mode: the workspace has no installation (bot/slack/workspaces.py)
    }
)
# The message was refused for its size or shape: split it and try again.
TOO_LONG_ERRORS = frozenset({"msg_blocks_too_long", "invalid_blocks", "msg_too_long"})
# Worth another attempt later in the day.
TRANSIENT_ERRORS = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"})


# Methods that create something in Slack and have no idempotency key: a retry after a lost answer can
# make a second one.
_NOT_IDEMPOTENT = ("chat.postMessage", "chat.postEphemeral", "chat.update", "chat.delete")


class SafeConnectionErrorRetryHandler(ConnectionErrorRetryHandler):
    """slack_sdk's connection retry, minus the blind retry of a post whose answer was lost.

    A reset after the request went out may mean Slack already stored the message; retrying
    chat.postMessage then posts it twice. Such a post is retried here only when the connection was
    refused (nothing was sent); otherwise the caller decides, with the run's tag in the channel's
    history (``bot/posting/runner.py``). Reads (history, auth.test, users.info) keep the retry.
    """

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if request.url.rstrip("/").endswith(_NOT_IDEMPOTENT) and error is not None and not _refused(error):
            return False
        return super()._can_retry(state=state, request=request, response=response, error=error)


def make_web_client(token: str, base_url: str, *, rate_limit_retries: int = 3, timeout: int = 30) -> WebClient:
    """A WebClient that waits out 429s (``Retry-After``) and retries connection failures that cannot
    duplicate a message (see ``SafeConnectionErrorRetryHandler``)."""
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,
        retry_handlers=[
            SafeConnectionErrorRetryHandler(max_retry_count=1),
            RateLimitErrorRetryHandler(max_retry_count=rate_limit_retries),
        ],
    )


def _refused(exc: BaseException) -> bool:
    """True when the connection was never made (refused, DNS), so Slack cannot have the message."""
    reason = getattr(exc, "reason", None)
    return isinstance(exc, ConnectionRefusedError) or isinstance(reason, ConnectionRefusedError | socket.gaierror)


def _retry_after(response: HttpResponse) -> float:
    for name, values in response.headers.items():
        if name.lower() == "retry-after" and values:
            value = values[0] if isinstance(values, list) else values
            try:
                return max(0.0, float(value))
            except (TypeError, ValueError):
                break
    return 1.0


def _channel_of(request: HttpRequest) -> str | None:
    """The ``channel`` argument of a Web API request (slack_sdk sends JSON or a form)."""
    data = request.data or b""
    try:
        body = json.loads(data)
        if isinstance(body, dict) and isinstance(body.get("channel"), str):
            return body["channel"]
    except ValueError:
        values = parse_qs(data.decode("utf-8", "replace")).get("channel")
        if values:
            return values[0]
    return None


# ``conversations.history`` for apps distributed outside Slack's Marketplace (since 2025-05-29): one
# request a minute per workspace, at most 15 messages each (docs.slack.dev, "Rate limits": the limits for
# conversations.history and conversations.replies). The bot reads history only to settle a post that a
# crash or a lost connection left in doubt, so it keeps to these limits whatever its distribution.
HISTORY_PER_MINUTE = 1
HISTORY_PAGE_MESSAGES = 15

# chat.unfurl's pace: Tier 3 is "50+ per minute" (the method catalog); 40 a minute after a burst of 10.
UNFURLS_PER_MINUTE = 40

# A refused (429) post never reached the channel, so retrying it cannot duplicate it; the pacer spaces the
# retries, so a few more than slack_sdk's default are cheap and carry a post through a congested minute.
PACED_RATE_LIMIT_RETRIES = 6


class PacedRateLimitRetryHandler(RateLimitErrorRetryHandler):
    """Retries 429s of ``chat.postMessage`` through the shared ``Pacer`` instead of a private sleep.

    slack_sdk's own handler sleeps ``Retry-After`` in the calling thread only, so the other posting
    threads keep hitting the limit and collect 429s of their own. Here the 429 is reported to the
    pacer (which pauses every channel when it was the workspace's limit) and the retry waits for a
    fresh slot like any other post. Other methods keep slack_sdk's behaviour.
    """

    def __init__(self, pacer: Pacer, max_retry_count: int = 6, *, methods: Mapping[str, Pacer] | None = None) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.pacer = pacer
        self.methods = dict(methods or {})  # other paced methods (chat.unfurl) -> their pacer

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        method = request.url.rstrip("/").rpartition("/")[2]
        if response is not None and method in self.methods:
            # The method's own budget (Tier 3 for chat.unfurl): every caller waits out the 429, not one thread.
            other = self.methods[method]
            other.rate_limited(None, _retry_after(response))
            other.acquire()
            state.next_attempt_requested = True
            state.increment_current_attempt()
            return
        if response is None or method != "chat.postMessage":
            super().prepare_for_next_attempt(state=state, request=request, response=response, error=error)
            return
        state.next_attempt_requested = True
        channel = _channel_of(request)
        retry_after = _retry_after(response)
        logger.info("Slack rate-limited a post to %s; waiting %.0fs (shared by every channel)", channel, retry_after)
        self.pacer.rate_limited(channel, retry_after)
        self.pacer.acquire(channel)
        state.increment_current_attempt()


_ERROR_CODE = re.compile(r"[a-z][a-z0-9_]{1,60}")


def api_error(exc: SlackApiError) -> SlackError:
    """Slack's refusal as a ``SlackError`` with Slack's own code (``not_in_channel``, ``ratelimited``).

    Why not take ``error`` as it comes: during incidents Slack (or a proxy in front of it) answers with
    an HTML page, which slack_sdk reports as an "error" holding that page. Anything that is not one of
    Slack's codes, and any 5xx, is ``service_unavailable``: an upstream failure, retried later, whose
    text never reaches a log line or a user.
    """
    status = exc.response.status_code
    code = exc.response.get("error")
    if not isinstance(code, str) or not _ERROR_CODE.fullmatch(code):
        code = "service_unavailable" if status >= 500 or status < 400 else f"http_{status}"
    elif status >= 500 and code not in TRANSIENT_ERRORS:
        code = "service_unavailable"
    return SlackError(code, retryable=code in TRANSIENT_ERRORS)


class SlackPoster:
    """Posts messages and reports failures as ``SlackError`` with Slack's error code.

    Every post first takes a slot from ``pacer`` (one per poster, shared by the post run's worker
    threads), so a fan-out to many channels runs at Slack's posting rate without meeting its 429s.
    The client's 429 retry handler is swapped for one that reports to the same pacer.
    """

    def __init__(
        self,
        client: WebClient,
        *,
        pacer: Pacer | None = None,
        history_per_minute: float = HISTORY_PER_MINUTE,
        history_pacer: Pacer | None = None,
        unfurl_pacer: Pacer | None = None,
    ) -> None:
        self.client = client
        self.pacer = pacer if pacer is not None else Pacer()
        # The workspace's history budget (one read a minute by default), shared by every history read.
        self.history_pacer = (
            history_pacer
            if history_pacer is not None
            else Pacer(history_per_minute / 60, burst=max(1, int(history_per_minute // 60)), key_interval=0.0)
        )
        # chat.unfurl is Tier 3 ("50+ per minute" per workspace): a burst of 10, then 40 a minute, so
        # that no 60 s window holds more than 50 calls.
        self.unfurl_pacer = unfurl_pacer if unfurl_pacer is not None else Pacer(UNFURLS_PER_MINUTE / 60, burst=10)
        self.client.retry_handlers = [
            PacedRateLimitRetryHandler(
                self.pacer,
                max(h.max_retry_count, PACED_RATE_LIMIT_RETRIES),
                methods={"chat.unfurl": self.unfurl_pacer},
            )
            if type(h) is RateLimitErrorRetryHandler
            else h
            for h in self.client.retry_handlers
        ]

    def post_message(
        self,
        channel: str,
        *,
        text: str,
        blocks: Sequence[dict[str, Any]] = (),
        metadata: dict[str, Any] | None = None,
        thread_ts: str | None = None,
    ) -> str:
        """Post visibly, unfurls off; returns the message ``ts``. Waits for a slot from the pacer.

        ``thread_ts``: reply in that message's thread (a follow-up), not in the channel itself."""
        self.pacer.acquire(channel)
        try:
            response = self.client.chat_postMessage(
                channel=channel,
                text=text,
                blocks=list(blocks) or None,
                unfurl_links=False,
                unfurl_media=False,
                metadata=metadata,
                thread_ts=thread_ts,
            )
        except SlackApiError as exc:
            raise api_error(exc) from None
        except (SlackClientError, OSError) as exc:
            if _refused(exc):
                # Nothing reached Slack: safe to try again later.
                raise SlackError("connection_refused", retryable=True) from None
            # The request may have reached Slack: never retried blindly (that could post twice).
            raise SlackConnectionLost(type(exc).__name__) from None
        return str(response["ts"])

    def open_view(self, trigger_id: str, view: dict[str, Any]) -> None:
        """``views.open`` (a modal); raises ``SlackError`` with Slack's code, ``SlackUnreachable`` when
        Slack cannot be reached."""
        self._call("views_open", trigger_id=trigger_id, view=view)

    def publish_home(self, user_id: str, view: dict[str, Any]) -> None:
        """``views.publish``: the user's App Home tab."""
        self._call("views_publish", user_id=user_id, view=view)

    def post_ephemeral(self, channel: str, user_id: str, *, text: str) -> None:
        """A message only ``user_id`` sees in ``channel`` (not paced: it is an answer, not a post)."""
        self._call("chat_postEphemeral", channel=channel, user=user_id, text=text)

    def direct_message(self, user_id: str, *, text: str) -> None:
        """A DM from the bot (where it cannot answer in the channel); paced like any post."""
        self.post_message(user_id, text=text)

    def unfurl(self, unfurls: Mapping[str, dict[str, Any]], **target: str) -> None:
        """``chat.unfurl``: cards for the links of one message, ``{url: {"blocks": [...]}}``; ``target`` is
        ``channel`` + ``ts`` (a posted message) or ``unfurl_id`` + ``source`` (the composer). Waits for
        a slot of the workspace's Tier-3 budget; raises ``SlackError`` when Slack refuses."""
        self.unfurl_pacer.acquire()
        self._call("chat_unfurl", unfurls=dict(unfurls), **target)

    # --- the team layer (issue 16) ---------------------------------------------------------------

    def update_message(self, channel: str, ts: str, *, text: str, blocks: Sequence[dict[str, Any]]) -> None:
        """``chat.update`` of one of the bot's messages (a card's "Saved by N" after a save)."""
        self._call("chat_update", channel=channel, ts=ts, text=text, blocks=list(blocks))

    def open_dm(self, user_id: str) -> str:
        """``conversations.open``: the bot's DM with a person (created if needed); its channel id."""
        response = self._call("conversations_open", users=user_id)
        channel = (response.get("channel") or {}).get("id")
        if not isinstance(channel, str) or not channel:
            raise SlackError("channel_not_found")
        return channel

    def user_channels(self, user_id: str, *, max_pages: int = 5) -> list[str]:
        """``users.conversations``: the public and private channels a person is in (those the bot can
        see), for the team picks of their Home tab."""
        channels: list[str] = []
        cursor = None
        for _ in range(max_pages):
            arguments: dict[str, Any] = {
                "user": user_id,
                "types": "public_channel,private_channel",
                "exclude_archived": True,
                "limit": 1000,
            }
            if cursor:
                arguments["cursor"] = cursor
            response = self._call("users_conversations", **arguments)
            channels += [str(c["id"]) for c in response.get("channels") or [] if isinstance(c, dict) and c.get("id")]
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        return channels

    def upload_file(
        self,
        channel: str,
        content: bytes,
        *,
        filename: str,
        title: str,
        alt_text: str = "",
        thread_ts: str | None = None,
        initial_comment: str = "",
    ) -> str:
        """Upload a file into a channel (or a thread) with ``files_upload_v2``: Slack's
        ``files.getUploadURLExternal``, the bytes to the URL it returns, then
        ``files.completeUploadExternal``. Returns the file id. Raises ``SlackError`` with Slack's code
        (``file_uploads_disabled`` where the workspace forbids uploads) or ``upload_failed``."""
        arguments: dict[str, Any] = {"channel": channel, "content": content, "filename": filename, "title": title}
        if alt_text:
            arguments["alt_txt"] = alt_text[:1000]  # Slack's limit for alt text
        if thread_ts:
            arguments["thread_ts"] = thread_ts
        if initial_comment:
            arguments["initial_comment"] = initial_comment
        try:
            response = self.client.files_upload_v2(**arguments)
        except SlackApiError as exc:
            raise api_error(exc) from None
        except SlackRequestError:  # the upload URL refused the bytes
            raise SlackError("upload_failed", retryable=True) from None
        except (SlackClientError, OSError) as exc:
            raise SlackUnreachable(type(exc).__name__) from None
        file = response.get("file") or {}
        return str(file.get("id") or "") if isinstance(file, dict) else ""

    def _call(self, method: str, **arguments: Any) -> dict[str, Any]:
        """One Web API call whose failure is a ``SlackError``, so no caller handles slack_sdk's errors."""
        try:
            response = getattr(self.client, method)(**arguments)
        except SlackApiError as exc:
            raise api_error(exc) from None
        except (SlackClientError, OSError) as exc:
            raise SlackUnreachable(type(exc).__name__) from None
        return dict(response.data) if isinstance(response.data, dict) else {}

    def permalink(self, channel: str, ts: str) -> str:
        try:
            return str(self.client.chat_getPermalink(channel=channel, message_ts=ts)["permalink"])
        except (SlackApiError, SlackClientError, OSError):
            return ""

    def history(
        self,
        channel: str,
        *,
        oldest: str,
        latest: str | None = None,
        cursor: str | None = None,
        wait: bool = True,
    ) -> dict[str, Any]:
        """One page (15 messages at most) of ``conversations.history`` with message metadata, within the
        workspace's budget of one read a minute (``bot/posting/reconcile.py``). ``wait=False``: raise
        ``SlackHistoryBusy`` instead of waiting for the budget. Raises ``SlackError`` when the history
        cannot be read (``missing_scope``, ``not_in_channel``, network)."""
        if wait:
            self.history_pacer.acquire()
        elif not self.history_pacer.try_acquire():
            raise SlackHistoryBusy()
        try:
            response = self.client.conversations_history(
                channel=channel,
                oldest=oldest,
                latest=latest,
                inclusive=True,
                include_all_metadata=True,
                limit=HISTORY_PAGE_MESSAGES,
                cursor=cursor,
            )
        except SlackApiError as exc:
            raise api_error(exc) from None
        except (SlackClientError, OSError) as exc:
            raise SlackUnreachable(type(exc).__name__) from None
        return dict(response.data) if isinstance(response.data, dict) else {}

    def replies(self, channel: str, thread_ts: str, *, cursor: str | None = None) -> dict[str, Any]:
        """One page of ``conversations.replies`` (a thread, with message metadata), to settle a follow-up
        whose answer was lost; raises ``SlackError`` when it cannot be read."""
        return self._call(
            "conversations_replies",
            channel=channel,
            ts=thread_ts,
            include_all_metadata=True,
            limit=200,
            cursor=cursor,
        )


def is_workspace_admin(client: WebClient, user_id: str) -> bool:
    """``users.info``: admins and owners of the workspace (raises ``SlackError`` when Slack refuses)."""
    try:
        user = client.users_info(user=user_id)["user"]
    except SlackApiError as exc:
        raise api_error(exc) from None
    return bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))
