"""Events: the App Home tab."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.replies import help_text
from bot.services import Services

__all__ = ["register"]

logger = logging.getLogger(__name__)


def home_view() -> dict[str, Any]:
    return {
        "type": "home",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "📚 papers-bot"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": help_text()}},
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": "Papers come from <https://huggingface.co/papers|Hugging Face Daily Papers>.",
                    }
                ],
            },
        ],
    }


def register(app: App, services: Services) -> None:
    @app.event("app_home_opened")
    def on_home_opened(event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab") == "home":
            client.views_publish(user_id=event["user"], view=home_view())
