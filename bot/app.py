"""The Bolt app factory: the only place (with ``cli``) that knows Bolt and registers handlers."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from slack_bolt import App
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.errors import ConfigError
from bot.services import Services
from bot.slack.in_flight import InFlight

if TYPE_CHECKING:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

__all__ = ["build_app", "check_bot_token", "connect_socket_mode"]

logger = logging.getLogger(__name__)


def _ignore_token_skipped(record: logging.LogRecord) -> bool:
    """Bolt also reads SLACK_BOT_TOKEN itself and warns that our client's token wins: it is the same."""
    return "will be unused" not in record.getMessage()


@contextlib.contextmanager
def _quiet(name: str) -> Iterator[None]:
    """Silence a library's own log lines for a step whose failure we report ourselves in one line."""
    library = logging.getLogger(name)
    saved = library.level
    library.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        library.setLevel(saved)


def check_bot_token(services: Services) -> None:
    """``auth.test`` at start-up: a bad token stops the process in one line, not at the first post
    (slack_sdk's own retry and error lines are silenced for this call: the one line says it all).

    Its answer names the token's workspace: every request is then served as that workspace's, and
    whatever was stored before workspaces were recorded becomes its own. OAuth mode has no token of
    its own (each workspace's is checked by Slack at every call)."""
    if services.settings.oauth:
        return
    try:
        with _quiet("slack_sdk"):
            identity = services.poster.client.auth_test()
    except SlackApiError as exc:
        code = exc.response.get("error", "unknown error")
        raise ConfigError(f"Slack rejected SLACK_BOT_TOKEN ({code}); copy the Bot User OAuth Token again.") from None
    except (SlackClientError, OSError):
        raise ConfigError(f"Cannot reach Slack at {services.settings.slack_api_url}; check SLACK_API_URL.") from None
    team_id = str(identity.get("team_id") or "")
    if team_id and team_id != services.home_team:
        services.home_team = team_id
        moved = services.store.adopt_unowned(team_id)  # records from before workspaces were recorded
        if moved:
            logger.info("%d channel(s) stored without a workspace now belong to workspace %s", moved, team_id)


def build_app(
    services: Services,
    *,
    socket_mode: bool = False,
    in_flight: InFlight | None = None,
    listener_pool: ThreadPoolExecutor | None = None,
) -> App:
    """Build the app on the services' WebClient; a rejected token stops start-up with one line.

    ``in_flight``: the HTTP server's count of unanswered requests (the same object is given to
    ``SlackHTTPServer``); work after ``ack()`` lets them be answered first. ``listener_pool``: where
    that work runs (tests pass one they can wait on)."""
    settings = services.settings
    client = services.poster.client
    bolt_logger = logging.getLogger("slack_bolt.App")
    bolt_logger.addFilter(_ignore_token_skipped)
    # Listeners ack at once and hand their slow part (Hugging Face, the store, Slack) to this pool.
    listener_pool = listener_pool or ThreadPoolExecutor(max_workers=32, thread_name_prefix="listener")
    oauth: dict[str, Any] = {}
    if services.oauth is not None and services.installs is not None:
        # "Add to Slack": each request is authorized with its workspace's installation; no token of our own.
        from slack_sdk import WebClient

        from bot.slack.oauth import build_oauth

        flow, authorize = build_oauth(settings, services.oauth, services.installs)
        client = WebClient(base_url=settings.slack_api_url, timeout=30)
        oauth = {"oauth_flow": flow, "authorize": authorize}
    else:
        check_bot_token(services)
    app = App(
        client=client,
        signing_secret=settings.slack_signing_secret or "",
        token_verification_enabled=False,  # done above, with a clearer message
        request_verification_enabled=not socket_mode,
        # The HTTP response leaves as soon as a listener returns, on the request's own thread: no
        # hand-over to a pool thread and no 10 ms polling for ack() (Bolt's default). So every
        # listener acks and then gives its work to ``later`` (``handlers/later.py``).
        process_before_response=True,
        listener_executor=listener_pool,
        logger=bolt_logger,
        **oauth,
    )

    @app.error
    def on_error(error: Exception, body: dict[str, Any]) -> None:
        logger.error("unhandled error in a listener (%s)", body.get("type") or body.get("command"), exc_info=error)

    from handlers import register
    from handlers.later import on_pool

    register(app, services, on_pool(listener_pool, in_flight))
    return app


def connect_socket_mode(app: App, app_token: str) -> SocketModeHandler:
    """Open the Socket Mode connection; a rejected app token ends start-up in one line."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    handler = SocketModeHandler(app, app_token)
    try:
        handler.connect()
    except SlackApiError as exc:
        code = exc.response.get("error", "unknown error")
        raise ConfigError(
            f"Slack rejected SLACK_APP_TOKEN ({code}); create an app-level token (xapp-) with the "
            "connections:write scope under Basic Information → App-Level Tokens."
        ) from None
    except (SlackClientError, OSError) as exc:
        raise ConfigError(f"Cannot open a Socket Mode connection to Slack ({type(exc).__name__}).") from None
    return handler
