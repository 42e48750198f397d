"""Thin Bolt listeners. ``register`` wires them; each calls pure functions in ``bot/``.

Each group of ``/papers`` subcommands lives in its own module and contributes a ``ROUTES`` table;
``commands`` owns the one ``/papers`` listener that dispatches to them.
"""

from __future__ import annotations

from slack_bolt import App

from bot.services import Services
from handlers import commands, events, filters, library, search, settings, unfurls
from handlers.later import Later

__all__ = ["register"]


def register(app: App, services: Services, later: Later) -> None:
    """``later`` runs a listener's work after its ``ack()`` (``handlers/later.py``)."""
    routes = {**filters.ROUTES, **search.ROUTES, **settings.ROUTES, **library.ROUTES}
    commands.register(app, services, later, routes)
    for module in (events, filters, search, settings, library, unfurls):
        module.register(app, services, later)
