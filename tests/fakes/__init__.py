"""Test doubles that speak real HTTP: a fake Slack Web API, a fake Hugging Face API, and helpers.

Why real servers on 127.0.0.1: the app's production clients (slack_sdk ``WebClient``, bolt's
``respond``, our ``httpx`` HF client) run unchanged against them, so encoding, retries and error
mapping are tested too. See ``slack.py`` and ``hf.py`` for what each checks.
"""

from __future__ import annotations

from .arxiv import ArxivPaper, FakeArxiv
from .entries import make_day, make_entry
from .hf import FakeHF, Request
from .signing import (
    block_actions_payload,
    event_callback_body,
    interactive_body,
    link_shared_event,
    message_action_payload,
    signed_headers,
    slash_command_body,
    view_state_values,
    view_submission_payload,
)
from .slack import Call, FakeSlack, check_blocks

__all__ = [
    "ArxivPaper",
    "Call",
    "FakeArxiv",
    "FakeHF",
    "FakeSlack",
    "Request",
    "block_actions_payload",
    "check_blocks",
    "event_callback_body",
    "interactive_body",
    "link_shared_event",
    "make_day",
    "make_entry",
    "message_action_payload",
    "signed_headers",
    "slash_command_body",
    "view_state_values",
    "view_submission_payload",
]
