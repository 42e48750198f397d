"""/papers subcommands: settings."""

from __future__ import annotations

from slack_bolt import App

from bot.services import Services
from handlers.routing import Route

__all__ = ["ROUTES", "register"]

ROUTES: dict[str, Route] = {}


def register(app: App, services: Services) -> None:
    """Listeners for this group's buttons and modals."""
