"""The Bolt app factory: the only place (with ``cli``) that knows Bolt and registers handlers."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.errors import ConfigError
from bot.services import Services

__all__ = ["build_app"]

logger = logging.getLogger(__name__)


def _ignore_token_skipped(record: logging.LogRecord) -> bool:
    """Bolt also reads SLACK_BOT_TOKEN itself and warns that our client's token wins: it is the same."""
    return "will be unused" not in record.getMessage()


def build_app(services: Services, *, socket_mode: bool = False) -> App:
    """Build the app on the services' WebClient; a rejected token stops start-up with one line."""
    settings = services.settings
    client = services.poster.client
    try:
        client.auth_test()
    except SlackApiError as exc:
        code = exc.response.get("error", "unknown error")
        raise ConfigError(f"Slack rejected SLACK_BOT_TOKEN ({code}); copy the Bot User OAuth Token again.") from None
    except (SlackClientError, OSError):
        raise ConfigError(f"Cannot reach Slack at {settings.slack_api_url}; check SLACK_API_URL.") from None
    bolt_logger = logging.getLogger("slack_bolt.App")
    bolt_logger.addFilter(_ignore_token_skipped)
    app = App(
        client=client,
        signing_secret=settings.slack_signing_secret or "",
        token_verification_enabled=False,  # done above, with a clearer message
        request_verification_enabled=not socket_mode,
        # Listeners ack at once and then wait on Hugging Face; enough threads that a burst of
        # commands never waits for a free one before its ack.
        listener_executor=ThreadPoolExecutor(max_workers=32, thread_name_prefix="listener"),
        logger=bolt_logger,
    )

    @app.error
    def on_error(error: Exception, body: dict[str, Any]) -> None:
        logger.error("unhandled error in a listener (%s)", body.get("type") or body.get("command"), exc_info=error)

    from handlers import register

    register(app, services)
    return app
