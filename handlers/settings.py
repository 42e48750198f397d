"""``/papers settings``: the whole channel configuration in one modal.

The command opens the modal (``views.open`` needs the command's ``trigger_id``, valid for 3 seconds,
so nothing slow happens first). The submit is validated before anything is saved: wrong fields
come back inline (``response_action: "errors"``), a valid form is saved in one store update by
``ChannelEditor.change`` (which also checks who may configure and records the change), and only then does
the user get the resulting configuration as an ephemeral message in the channel.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App

from bot.channels.schedule import next_post_time
from bot.errors import SlackError, SlackUnreachable, StoreError, UserInputError
from bot.models import ChannelConfig, RunState
from bot.services import Services
from bot.ui.settings_form import (
    CALLBACK_ID,
    FIRST_BLOCK,
    UNREADABLE_ANSWER,
    UNREADABLE_FORM,
    SettingsForm,
    channel_from_metadata,
    describe_changes,
    parse_submission,
    plain_message,
    settings_text,
    settings_view,
)
from handlers.later import Later
from handlers.routing import Invocation, Reply, Route, team_of

__all__ = ["ROUTES", "open_settings", "register", "save_settings"]

logger = logging.getLogger(__name__)


def _current(services: Services, channel_id: str) -> ChannelConfig:
    """The stored config, or what a channel starts from (the deployment's time zone)."""
    return services.store.get_channel(channel_id) or ChannelConfig(
        channel_id, team_id=services.team_id, timezone=services.settings.timezone
    )


def open_settings(services: Services, call: Invocation) -> Reply:
    """Open the modal prefilled with the channel's settings; people who may not configure are told so."""
    services.editor.check_may_configure(call.user_id)
    view = settings_view(_current(services, call.channel_id))
    try:
        services.poster.open_view(call.trigger_id, view)
    except SlackError as exc:
        logger.warning("views.open for the settings of %s failed: %s", call.channel_id, exc.code)
        if isinstance(exc, SlackUnreachable):
            return Reply(":warning: I couldn't reach Slack to open the settings form. Run `/papers settings` again.")
        return Reply(f":warning: Slack would not open the settings form ({exc.code}). Run `/papers settings` again.")
    return Reply("")


def save_settings(services: Services, channel_id: str, user_id: str, form: SettingsForm) -> ChannelConfig:
    """Apply a validated form in one update (``ChannelEditor.change`` checks permission and records it)."""
    now_iso = services.clock().astimezone(UTC).isoformat(timespec="seconds")
    before = _current(services, channel_id)  # only for the history line; the save reads again, atomically
    summary = describe_changes(before, form.apply(before, now_iso=now_iso))
    return services.editor.change(channel_id, user_id, summary, lambda c: form.apply(c, now_iso=now_iso))


def _next_post_line(services: Services, config: ChannelConfig) -> str:
    if not config.active:
        return ""
    now = services.clock()
    run = services.store.get_run(config.channel_id, now.astimezone(ZoneInfo(config.timezone)).date())
    moment: datetime | None = next_post_time(now, config, done_today=run is not None and run.state != RunState.FAILED)
    return f"\n*Next post:* {moment:%a %d %b, %H:%M %Z}" if moment else ""


def _tell(services: Services, channel_id: str, user_id: str, text: str) -> None:
    """Ephemeral in the channel; where the bot can't post (a private channel it isn't in), a DM."""
    try:
        services.poster.post_ephemeral(channel_id, user_id, text=text)
        return
    except SlackError as exc:
        logger.info("settings confirmation in %s failed (%s); sending a DM", channel_id, exc.code)
    try:
        services.poster.direct_message(user_id, text=text)
    except SlackError as exc:
        logger.warning("could not confirm the saved settings of %s to %s: %s", channel_id, user_id, exc.code)


def register(app: App, everyone: Services, later: Later) -> None:
    """The modal's submit listener; the ``/papers settings`` route is in ``ROUTES``."""

    @app.view(CALLBACK_ID)
    def on_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        services = everyone.for_team(team_of(body))  # this workspace's poster and admins
        user = body.get("user")
        user_id = str(user.get("id") or "") if isinstance(user, dict) else ""
        channel_id = channel_from_metadata(view.get("private_metadata", ""))
        if not channel_id:
            ack(
                response_action="errors",
                errors={FIRST_BLOCK: "This form lost its channel. Run /papers settings again."},
            )
            return
        try:
            services.editor.check_may_configure(user_id)
        except UserInputError as exc:
            ack(response_action="errors", errors={FIRST_BLOCK: plain_message(exc.message)})
            return
        state = view.get("state")
        parsed = parse_submission(state.get("values", {}) if isinstance(state, dict) else None)
        if isinstance(parsed, dict):
            unreadable = sorted(b for b, m in parsed.items() if m in (UNREADABLE_ANSWER, UNREADABLE_FORM))
            if unreadable:  # not a person's typo: a client sent fields Slack never would
                logger.info("refused a settings form with unreadable fields: %s", ", ".join(unreadable))
            ack(response_action="errors", errors=parsed)
            return
        try:
            config = save_settings(services, channel_id, user_id, parsed)
        except UserInputError as exc:  # refused between the check and the save
            ack(response_action="errors", errors={FIRST_BLOCK: plain_message(exc.message)})
            return
        except StoreError:
            logger.exception("saving the settings of %s failed", channel_id)
            ack(
                response_action="errors", errors={FIRST_BLOCK: "I couldn't save right now; nothing changed. Try again."}
            )
            return
        ack()  # the modal closes when this listener returns; the confirmation follows
        later(lambda: _tell(services, channel_id, user_id, settings_text(config) + _next_post_line(services, config)))


ROUTES: dict[str, Route] = {"settings": open_settings}
