"""What every ``/papers`` subcommand handler takes and returns, so each group lives in its own module.

A route is ``(services, invocation) -> Reply``: it runs after the command was acknowledged and its
reply goes to the user privately through ``response_url``. An empty reply sends nothing (a route
that opened a modal has already answered).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.services import Services
from bot.ui.commands import Command, parse_command

__all__ = ["Invocation", "Reply", "Route", "team_of"]


@dataclass
class Reply:
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Invocation:
    """The fields of a slash command the handlers use (everything else stays in Bolt's payload)."""

    channel_id: str
    user_id: str
    team_id: str
    command: Command
    trigger_id: str = ""
    response_url: str = ""
    channel_name: str = ""

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Invocation:
        return cls(
            channel_id=payload.get("channel_id", ""),
            user_id=payload.get("user_id", ""),
            team_id=payload.get("team_id", ""),
            command=parse_command(payload.get("text", "")),
            trigger_id=payload.get("trigger_id", ""),
            response_url=payload.get("response_url", ""),
            channel_name=payload.get("channel_name", ""),
        )


Route = Callable[[Services, Invocation], Reply]


def team_of(body: dict[str, Any]) -> str:
    """The workspace a request came from: an event's ``team_id``, an interaction's ``team.id``
    (or its user's ``team_id``), a slash command's ``team_id``."""
    team = body.get("team")
    if isinstance(team, dict) and team.get("id"):
        return str(team["id"])
    user = body.get("user")
    if isinstance(user, dict) and user.get("team_id"):
        return str(user["team_id"])
    return str(body.get("team_id") or "")
