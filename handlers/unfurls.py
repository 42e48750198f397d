"""``link_shared``: arXiv and Hugging Face paper links get the paper's card (``bot/unfurl``).

The listener only hands the event over: ``Unfurler.submit`` queues it on the unfurler's own pool and
returns, so Slack has its HTTP 200 at once (Bolt acknowledges an event when its listener returns) and
a burst of links never occupies the threads that answer slash commands. Slack may deliver an event
twice (``X-Slack-Retry-Num``): the HTTP edge drops repeats by ``event_id``, and a second ``chat.unfurl``
for the same message would only replace the same cards. The card goes out with the token of the
workspace the link was shared in (``services.for_team``): a link in workspace B is unfurled by B's
installation, never A's; a workspace without an installation gets no card.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext

from bot.errors import SlackError
from bot.services import Services
from handlers.later import Later
from handlers.routing import team_of

__all__ = ["register"]

logger = logging.getLogger(__name__)


def register(app: App, services: Services, later: Later) -> None:
    @app.event("link_shared")
    def on_link_shared(event: dict[str, Any], body: dict[str, Any], context: BoltContext) -> None:
        if services.unfurler is None:
            return
        team_id = team_of(body)
        try:
            poster = services.for_team(team_id).poster
        except SlackError as exc:  # OAuth mode: the workspace has no installation (any more)
            logger.info("no link card in workspace %s: %s", team_id or "?", exc.code)
            return
        services.unfurler.submit(event, poster, context.bot_user_id or "")
