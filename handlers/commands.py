"""``/papers``: acknowledged at once, answered through ``response_url`` (Slack's 3-second rule).

``subscribe`` and ``unsubscribe`` change the channel like the filter commands do, through
``ChannelEditor.apply`` (``bot/channels/editor.py``): the same permission check
(``PAPERS_BOT_CONFIG_ADMINS``), one atomic store update, and a line in the change history that
``/papers topics`` shows.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App, Respond

from bot.channels.edits import apply_subscribe, apply_unsubscribe
from bot.channels.schedule import next_post_time, parse_schedule_spec
from bot.errors import SlackError
from bot.models import ChannelConfig, RunKind, RunState
from bot.services import Services
from bot.ui.errors import slack_advice
from bot.ui.filter_replies import saved_copy_note
from bot.ui.ids import SLASH_COMMAND
from bot.ui.render import render_digest
from bot.ui.replies import help_text, schedule_text, status_text, unknown_command_text
from handlers.later import Later
from handlers.replying import reply_errors
from handlers.routing import Invocation, Reply, Route

__all__ = ["register"]

logger = logging.getLogger(__name__)


def _now_iso(services: Services) -> str:
    return services.clock().astimezone(UTC).isoformat(timespec="seconds")


def _next_post(services: Services, config: ChannelConfig) -> datetime | None:
    now = services.clock()
    local_date = now.astimezone(ZoneInfo(config.timezone)).date()
    run = services.store.get_run(config.channel_id, local_date)
    return next_post_time(now, config, done_today=run is not None and run.state != RunState.FAILED)


def subscribe(services: Services, call: Invocation) -> Reply:
    words = call.command.args.split()
    now_iso = _now_iso(services)

    def edit(config: ChannelConfig) -> tuple[ChannelConfig, str]:
        spec = parse_schedule_spec(words)  # inside the edit: who may configure is checked first
        return apply_subscribe(config, spec, user_id=call.user_id, at=now_iso)

    config, _ = services.editor.apply(call.channel_id, call.user_id, edit)
    when = schedule_text(config)
    try:
        services.poster.post_message(
            call.channel_id,
            text=f"<@{call.user_id}> subscribed this channel to Hugging Face's trending papers: {when}.",
        )
    except SlackError as exc:
        code = exc.code
        if slack_advice(code, "subscribe"):
            services.store.update_channel(call.channel_id, lambda c: c.replace(paused_reason=code))
            return Reply(f":warning: Subscribed, but I can't post here yet. {slack_advice(code, 'subscribe')}")
        logger.warning("could not announce the subscription in %s: %s", call.channel_id, exc.code)
    next_post = _next_post(services, config)
    when_next = next_post.strftime("%a %d %b, %H:%M %Z") if next_post else "not scheduled"
    return Reply(
        f":white_check_mark: Subscribed: trending papers every {when}. Next post: {when_next}.\n"
        "Change the schedule with `/papers subscribe 08:30 Europe/Berlin mon-fri`; "
        "see it with `/papers status`."
    )


def unsubscribe(services: Services, call: Invocation) -> Reply:
    existing = services.store.get_channel(call.channel_id)
    if existing is None or not existing.subscribed:
        return Reply("This channel is not subscribed, so there is nothing to stop.")
    services.editor.apply(call.channel_id, call.user_id, apply_unsubscribe)
    return Reply(
        ":wave: Unsubscribed: no more daily posts here. Your settings are kept; `/papers subscribe` resumes them."
    )


def status(services: Services, call: Invocation) -> Reply:
    config = services.store.get_channel(call.channel_id)
    if config is None or not config.subscribed:
        return Reply(status_text(config, None, None))
    # Digests only: the ledger also holds this channel's follow-up replies (and, later, recaps).
    runs = [r for r in services.store.runs(call.channel_id) if r.kind == RunKind.DIGEST]
    last_run = runs[-1] if runs else None
    return Reply(status_text(config, _next_post(services, config), last_run))


def today(services: Services, call: Invocation) -> Reply:
    config = services.store.get_channel(call.channel_id) or ChannelConfig(
        call.channel_id, team_id=services.team_id, timezone=services.settings.timezone
    )
    known = services.known_days()
    plan = services.runner.plan(config, services.clock(), source=known)
    if plan.waiting:
        return Reply("Hugging Face hasn't published today's list yet. Try again later today.")
    if not plan.selection.papers:
        why = f" (your filter left out {plan.selection.dropped})" if plan.selection.dropped else ""
        return Reply(f"Nothing new to post right now{why}: every recent paper has already been posted here.")
    messages = render_digest(plan.selection.papers, days=plan.days, reasons=plan.selection.reasons)
    notes = [{"type": "mrkdwn", "text": "_Only you can see this: the next post would contain…_"}]
    if saved := len(known.from_archive):
        notes.append({"type": "mrkdwn", "text": saved_copy_note(saved)})
    first = messages[0]
    blocks = [{"type": "context", "elements": notes}, *first.blocks][:50]
    return Reply(first.text, blocks)


def help_reply(services: Services, call: Invocation) -> Reply:
    return Reply(help_text())


def unknown(services: Services, call: Invocation) -> Reply:
    return Reply(unknown_command_text(call.command))


ROUTES: dict[str, Route] = {
    "subscribe": subscribe,
    "unsubscribe": unsubscribe,
    "status": status,
    "today": today,
    "help": help_reply,
    "unknown": unknown,
}


def register(app: App, services: Services, later: Later, extra_routes: dict[str, Route] | None = None) -> None:
    """Wire ``/papers``; each other handler module contributes its subcommands as ``extra_routes``."""
    routes = {**ROUTES, **(extra_routes or {})}

    @app.command(SLASH_COMMAND)
    def papers_command(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        ack()  # Slack gets its 200 when this listener returns; everything else happens later

        def answer() -> None:
            call = Invocation.from_payload(command)
            route = routes.get(call.command.name, unknown)

            def work() -> None:
                reply = route(services.for_team(call.team_id), call)
                if reply.text or reply.blocks:
                    respond(text=reply.text, blocks=reply.blocks or None, response_type="ephemeral")

            reply_errors(respond, work)

        later(answer)
