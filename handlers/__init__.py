"""Thin Bolt listeners. ``register`` wires them; each calls pure functions in ``bot/``."""

from __future__ import annotations

from slack_bolt import App

from bot.services import Services
from handlers import commands, events

__all__ = ["register"]


def register(app: App, services: Services) -> None:
    commands.register(app, services)
    events.register(app, services)
