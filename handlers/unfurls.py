"""``link_shared``: arXiv and Hugging Face paper links get the paper's card (``bot/unfurl``).

The listener only hands the event over: ``Unfurler.submit`` queues it on the unfurler's own pool and
returns, so Slack has its HTTP 200 at once (Bolt acknowledges an event when its listener returns) and
a burst of links never occupies the threads that answer slash commands. Slack may deliver an event
twice (``X-Slack-Retry-Num``): the HTTP edge drops repeats by ``event_id``, and a second ``chat.unfurl``
for the same message would only replace the same cards.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext

from bot.services import Services
from handlers.later import Later

__all__ = ["register"]


def register(app: App, services: Services, later: Later) -> None:
    @app.event("link_shared")
    def on_link_shared(event: dict[str, Any], body: dict[str, Any], context: BoltContext) -> None:
        if services.unfurler is not None:
            services.unfurler.submit(event, str(body.get("team_id") or ""), context.bot_user_id or "")
