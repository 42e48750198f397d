"""Events: the App Home tab (the reading list, ``handlers/library.py``), and the workspace removing the
app (``app_uninstalled``, ``tokens_revoked``).

Why the removal events pause channels instead of deleting them: the scheduler decides from the store
alone, so a paused channel simply stops being due, without a failed post per channel per tick against
a dead token; the settings survive a reinstall, and ``/papers subscribe`` resumes a channel. In OAuth
mode the workspace's tokens are deleted at once and its data 30 days later (``bot/installs.py``).
Both events may be redelivered by Slack (``X-Slack-Retry-Num``); doing it twice changes nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App

from bot.services import Services
from handlers.later import Later
from handlers.library import publish_home
from handlers.routing import team_of

__all__ = ["register"]

logger = logging.getLogger(__name__)


def register(app: App, services: Services, later: Later) -> None:
    """Bolt acknowledges an event when its listener returns, so each one hands its work to ``later``."""
    installs = services.installs
    assert installs is not None

    def removed(team_id: str, reason: str, message: str) -> None:
        paused = installs.removed(team_id, reason)
        logger.warning(message, team_id or "?", len(paused))

    @app.event("app_uninstalled")
    def on_app_uninstalled(body: dict[str, Any]) -> None:
        team_id = str(body.get("team_id") or "")
        later(lambda: removed(team_id, "app_uninstalled", "app uninstalled from workspace %s: paused %d channel(s)"))

    @app.event("tokens_revoked")
    def on_tokens_revoked(body: dict[str, Any], event: dict[str, Any]) -> None:
        tokens = event.get("tokens") or {}
        team_id = str(body.get("team_id") or "")
        if not tokens.get("bot"):
            # Only user tokens went; the bot token still works, so the schedules go on.
            logger.info("user tokens revoked in workspace %s; the bot token is unaffected", team_id or "?")
            return
        later(lambda: removed(team_id, "tokens_revoked", "bot token revoked in workspace %s: paused %d channel(s)"))

    @app.event("app_home_opened")
    def on_home_opened(body: dict[str, Any], event: dict[str, Any]) -> None:
        if event.get("tab") == "home" and event.get("user"):
            team_id, user_id = team_of(body), str(event["user"])
            # The person's reading list and team picks (issue 16, handlers/library.py), as their workspace's.
            later(lambda: publish_home(services.for_team(team_id), user_id))
