"""The Bolt app factory: the only place (with ``cli``) that knows Bolt and registers handlers."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App
from slack_bolt.error import BoltError
from slack_sdk.errors import SlackApiError

from bot.errors import ConfigError
from bot.services import Services

__all__ = ["build_app"]

logger = logging.getLogger(__name__)


def build_app(services: Services, *, socket_mode: bool = False) -> App:
    """Build the app on the services' WebClient; a rejected token stops start-up with one line."""
    settings = services.settings
    try:
        app = App(
            client=services.poster.client,
            signing_secret=settings.slack_signing_secret or None,
            request_verification_enabled=not socket_mode,
            # Listeners ack at once and then wait on Hugging Face; enough threads that a burst of
            # commands never waits for a free one before its ack.
            listener_executor=ThreadPoolExecutor(max_workers=32, thread_name_prefix="listener"),
            logger=logging.getLogger("slack_bolt.App"),
        )
    except (BoltError, SlackApiError) as exc:
        code = exc.response.get("error") if isinstance(exc, SlackApiError) else type(exc).__name__
        raise ConfigError(f"Slack rejected SLACK_BOT_TOKEN ({code}); copy the Bot User OAuth Token again.") from None

    @app.error
    def on_error(error: Exception, body: dict[str, Any]) -> None:
        logger.error("unhandled error in a listener (%s)", body.get("type") or body.get("command"), exc_info=error)

    from handlers import register

    register(app, services)
    return app
