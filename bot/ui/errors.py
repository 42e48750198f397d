"""The one place where an error becomes what a user reads. Pure.

Why one place: the same Slack refusal (``not_in_channel``) reached users as three different sentences
from three listeners, and a new error type had to be taught to each. Listeners now catch, log, and ask
here: ``error_text`` for a reply, ``slack_advice`` for what to do about a channel Slack refused.
"""

from __future__ import annotations

from typing import Literal

from bot.errors import HFError, NotAllowedError, SlackError, StoreError, StoreFullError, UserInputError
from bot.ui.render import escape_mrkdwn

__all__ = ["error_text", "slack_advice", "unexpected_text"]

# What the user was doing when Slack refused the channel, and so what to do again once it is fixed.
Doing = Literal["subscribe", "share", "post"]

_CHANNEL_PROBLEMS = {
    "not_in_channel": "I'm not a member of this private channel. Invite me with `/invite @papers-bot`, then {again}.",
    "channel_not_found": "Slack says this channel doesn't exist for me (a private channel or a DM I'm not in); "
    "invite me with `/invite @papers-bot`, then {again}.",
    "is_archived": "This channel is archived. Unarchive it, then {again}.",
}
_AGAIN = {
    "subscribe": "run `/papers subscribe` again",
    "share": "press Share again",
    "post": "run `/papers subscribe` to resume",
}


def slack_advice(code: str, doing: Doing) -> str:
    """What to do about a channel Slack refused (``not_in_channel`` …); "" for codes that are not about
    the channel (those are worth a retry, which the caller says in its own words)."""
    problem = _CHANNEL_PROBLEMS.get(code)
    return problem.format(again=_AGAIN[doing]) if problem else ""


def error_text(error: BaseException) -> str | None:
    """The reply for an error a user caused or can wait out; ``None`` for a bug (see ``unexpected_text``)."""
    if isinstance(error, NotAllowedError):
        return error.message
    if isinstance(error, UserInputError):
        text = f":warning: {escape_mrkdwn(error.message)}"
        if error.example:
            text += f"\nExample: `{escape_mrkdwn(error.example)}`"
        return text
    if isinstance(error, HFError):
        return ":hourglass: Hugging Face isn't answering right now. Please try again in a few minutes."
    if isinstance(error, StoreFullError):
        return (
            ":warning: I couldn't save that: the disk papers-bot keeps its data on is full. Nothing was "
            "changed. Please tell whoever runs papers-bot."
        )
    if isinstance(error, StoreError):
        return ":warning: I couldn't save that right now; nothing was changed. Please try again in a minute."
    if isinstance(error, SlackError):
        advice = slack_advice(error.code, "subscribe") or "Please try again in a moment."
        return f":warning: Slack refused (`{escape_mrkdwn(error.code)}`). {advice}"
    return None


def unexpected_text(ref: str) -> str:
    """For a bug: no details (they may hold anything), a reference the operator finds in the log."""
    return f":x: Something went wrong on my side (ref `{ref}`). The team running papers-bot can look it up."
