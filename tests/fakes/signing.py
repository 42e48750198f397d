"""Requests as Slack sends them to the app: signed form bodies for commands and interactions.

Why: the app must verify Slack's signature, so end-to-end tests have to sign exactly like Slack.
The signature comes from slack_sdk's own ``SignatureVerifier`` (not our code); the field lists follow
docs.slack.dev (slash commands: ``shared/research/slack.md`` §1; interactions: ``payload=<json>``).
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

__all__ = [
    "block_actions_payload",
    "event_callback_body",
    "interactive_body",
    "link_shared_event",
    "message_action_payload",
    "signed_headers",
    "slash_command_body",
    "view_state_values",
    "view_submission_payload",
]

# Port 9 (discard) on loopback: an unset response_url fails fast instead of reaching the internet.
_UNSET_RESPONSE_URL = "http://127.0.0.1:9/response/unset"


def signed_headers(body: bytes | str, secret: str, timestamp: int | None = None) -> dict[str, str]:
    """Headers Slack adds to every request; ``timestamp`` defaults to now (replay window is 5 min)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    assert signature is not None
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
    }


def slash_command_body(
    text: str,
    *,
    channel_id: str = "C0001",
    user_id: str = "U0001",
    team_id: str = "T0001",
    response_url: str = _UNSET_RESPONSE_URL,
    command: str = "/papers",
    trigger_id: str = "123.456",
    channel_name: str = "general",
    user_name: str = "tester",
) -> str:
    """The urlencoded body of a slash command, every field Slack sends."""
    return urlencode(
        {
            "token": "verification-token-deprecated",
            "team_id": team_id,
            "team_domain": "test",
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": user_name,
            "command": command,
            "text": text,
            "api_app_id": "A0001",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
    )


def interactive_body(payload: dict[str, Any]) -> str:
    """``payload=<json>`` form-encoded, as Slack posts block_actions and view_submission."""
    return urlencode({"payload": json.dumps(payload)})


def _user(user_id: str, team_id: str) -> dict[str, str]:
    return {"id": user_id, "username": "tester", "name": "tester", "team_id": team_id}


def block_actions_payload(
    action_id: str,
    value: str = "",
    *,
    block_id: str = "b1",
    channel_id: str | None = "C0001",
    user_id: str = "U0001",
    team_id: str = "T0001",
    response_url: str = _UNSET_RESPONSE_URL,
    message_ts: str = "1700000000.000100",
    view: dict[str, Any] | None = None,
    trigger_id: str = "123.456",
) -> dict[str, Any]:
    """A button click: in a message (``channel_id``) or, with ``view``, in a modal/Home tab."""
    action = {
        "action_id": action_id,
        "block_id": block_id,
        "text": {"type": "plain_text", "text": "Button", "emoji": True},
        "value": value,
        "type": "button",
        "action_ts": f"{int(time.time())}.000001",
    }
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": _user(user_id, team_id),
        "api_app_id": "A0001",
        "token": "verification-token-deprecated",
        "trigger_id": trigger_id,
        "team": {"id": team_id, "domain": "test"},
        "enterprise": None,
        "is_enterprise_install": False,
        "actions": [action],
    }
    if view is not None:
        payload["container"] = {"type": "view", "view_id": view.get("id", "V0001")}
        payload["view"] = view
    else:
        payload["container"] = {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": False,
        }
        payload["channel"] = {"id": channel_id, "name": "general"}
        payload["message"] = {"type": "message", "ts": message_ts, "text": "", "user": "UBOT", "bot_id": "BBOT"}
        payload["response_url"] = response_url
        payload["state"] = {"values": {}}
    return payload


def view_submission_payload(
    callback_id: str,
    values: dict[str, dict[str, Any]],
    *,
    private_metadata: str = "",
    user_id: str = "U0001",
    team_id: str = "T0001",
    view_id: str = "V0001",
    blocks: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A modal submit; ``values`` is ``view.state.values`` (block_id -> action_id -> state value)."""
    return {
        "type": "view_submission",
        "team": {"id": team_id, "domain": "test"},
        "user": _user(user_id, team_id),
        "api_app_id": "A0001",
        "token": "verification-token-deprecated",
        "trigger_id": "123.456",
        "view": {
            "id": view_id,
            "team_id": team_id,
            "type": "modal",
            "blocks": blocks or [],
            "private_metadata": private_metadata,
            "callback_id": callback_id,
            "state": {"values": values},
            "hash": "1700000000.abcdef",
            "title": {"type": "plain_text", "text": "Papers"},
            "close": {"type": "plain_text", "text": "Cancel"},
            "submit": {"type": "plain_text", "text": "Save"},
            "clear_on_close": False,
            "notify_on_close": False,
            "root_view_id": view_id,
            "previous_view_id": None,
            "app_id": "A0001",
            "external_id": "",
            "bot_id": "BBOT",
        },
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def view_state_values(view: dict[str, Any], changes: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """``view.state.values`` as Slack sends them when a user submits ``view`` after editing ``changes``.

    Every input block keeps its initial value unless ``changes[block_id]`` gives the new one: the typed
    text (text and number inputs, None when cleared), the chosen values (checkboxes: a list), the chosen
    value (radio buttons and static selects, None for none) or the picked time (timepicker).
    """
    changes = changes or {}
    values: dict[str, dict[str, Any]] = {}
    for block in view.get("blocks", []):
        if block.get("type") != "input":
            continue
        element, block_id = block["element"], block["block_id"]
        kind, changed, new = element["type"], block_id in changes, changes.get(block_id)
        if kind in ("plain_text_input", "number_input", "email_text_input", "url_text_input"):
            state = {"type": kind, "value": new if changed else element.get("initial_value")}
        elif kind in ("checkboxes", "multi_static_select"):
            chosen = [o for o in element["options"] if o["value"] in new] if changed else element.get("initial_options")
            state = {"type": kind, "selected_options": chosen or []}
        elif kind in ("radio_buttons", "static_select"):
            option = next((o for o in element["options"] if o["value"] == new), None)
            state = {"type": kind, "selected_option": option if changed else element.get("initial_option")}
        elif kind == "timepicker":
            state = {"type": kind, "selected_time": new if changed else element.get("initial_time")}
        else:
            raise ValueError(f"view_state_values does not know {kind} elements yet")
        values[block_id] = {element["action_id"]: state}
    return values


def event_callback_body(
    event: dict[str, Any], *, team_id: str = "T0001", event_id: str | None = None, bot_user_id: str = "UBOT"
) -> str:
    """An Events API delivery as Slack posts it (JSON): the ``event_callback`` envelope with the
    ``authorizations`` of the app's bot user (docs.slack.dev, "Events API": callback fields)."""
    now = time.time()
    return json.dumps(
        {
            "token": "verification-token-deprecated",
            "team_id": team_id,
            "api_app_id": "A0001",
            "event": {**event, "event_ts": event.get("event_ts", f"{now:.6f}")},
            "type": "event_callback",
            "event_id": event_id or f"Ev{time.monotonic_ns()}",
            "event_time": int(now),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": team_id,
                    "user_id": bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{team_id}-{event_id or 'ctx'}",
        }
    )


def link_shared_event(
    urls: list[str],
    *,
    channel: str = "C0001",
    message_ts: str = "1700000000.000100",
    user: str = "U0001",
    source: str = "conversations_history",
    unfurl_id: str | None = None,
) -> dict[str, Any]:
    """``link_shared`` (docs.slack.dev/reference/events/link_shared): the links of one message, each with
    its domain. In the composer, ``channel`` is ``COMPOSER`` and ``message_ts`` the same opaque id as
    ``unfurl_id``."""
    composer = source == "composer"
    unfurl = unfurl_id or (f"{user}-909b5454-75f8-4ac4-b325-1b40e230bbd8" if composer else f"{channel}.{message_ts}.x")
    return {
        "type": "link_shared",
        "channel": "COMPOSER" if composer else channel,
        "is_bot_user_member": True,
        "user": user,
        "message_ts": unfurl if composer else message_ts,
        "unfurl_id": unfurl,
        "source": source,
        "links": [{"domain": url.split("/")[2].removeprefix("www."), "url": url} for url in urls],
    }


def message_action_payload(
    callback_id: str,
    message: dict[str, Any],
    *,
    channel_id: str = "C0001",
    user_id: str = "U0001",
    team_id: str = "T0001",
    response_url: str = _UNSET_RESPONSE_URL,
) -> dict[str, Any]:
    """A message shortcut (``message_action``): the message it was used on, the channel, a response_url."""
    return {
        "type": "message_action",
        "token": "verification-token-deprecated",
        "action_ts": f"{int(time.time())}.000001",
        "team": {"id": team_id, "domain": "test"},
        "user": _user(user_id, team_id),
        "channel": {"id": channel_id, "name": "general"},
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": "123.456",
        "response_url": response_url,
        "message_ts": message.get("ts", "1700000000.000100"),
        "message": {"type": "message", "ts": "1700000000.000100", **message},
    }
