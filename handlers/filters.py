"""``/papers follow|unfollow|exclude|include|topics|set|clear|preview``: a channel's filter from Slack.

Listeners stay thin: the edits are pure functions in ``bot.channels.edits``, the texts in
``bot.ui.filter_replies``. Every change goes through ``ChannelEditor`` (``bot/channels/editor.py``):
it checks who may configure, applies the edit in one atomic store update and records who and when,
so nothing is half-saved.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, timedelta
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.channels.edits import (
    Edit,
    apply_clear,
    apply_exclude,
    apply_follow,
    apply_include,
    apply_set,
    apply_unfollow,
)
from bot.errors import HFError, UserInputError
from bot.filters import select_papers
from bot.filters.selection import channel_filter
from bot.models import ChannelConfig
from bot.services import Services
from bot.ui.commands import COMMANDS
from bot.ui.filter_replies import DayPreview, change_reply, filter_overview, preview_blocks
from bot.ui.ids import CLEAR_CANCEL, CLEAR_CONFIRM
from handlers.later import Later
from handlers.replying import reply_errors
from handlers.routing import Invocation, Reply, Route, team_of

__all__ = [
    "CLEAR_CANCEL",
    "CLEAR_CONFIRM",
    "ROUTES",
    "register",
]

logger = logging.getLogger(__name__)

PREVIEW_DEFAULT_DAYS = 5
PREVIEW_MAX_DAYS = 14


def _edit(services: Services, call: Invocation, edit: Callable[[ChannelConfig], Edit]) -> Reply:
    try:
        config, summary = services.editor.apply(call.channel_id, call.user_id, edit)
    except UserInputError as exc:
        if not exc.example or exc.example.startswith("/"):
            raise
        # A bare filter example (``model merging, org:nvidia``, written for anywhere a filter is typed)
        # becomes a command to run as it stands; exclusions take plain terms, so theirs is the help's.
        name = call.command.name
        example = COMMANDS[name][1] if name in ("exclude", "include") else f"/papers {name} {exc.example}"
        raise UserInputError(exc.message, example) from None
    return Reply(change_reply(config, summary))


def follow(services: Services, call: Invocation) -> Reply:
    return _edit(services, call, lambda c: apply_follow(c, call.command.args))


def unfollow(services: Services, call: Invocation) -> Reply:
    return _edit(services, call, lambda c: apply_unfollow(c, call.command.args))


def exclude(services: Services, call: Invocation) -> Reply:
    return _edit(services, call, lambda c: apply_exclude(c, call.command.args))


def include(services: Services, call: Invocation) -> Reply:
    return _edit(services, call, lambda c: apply_include(c, call.command.args))


def set_setting(services: Services, call: Invocation) -> Reply:
    now_iso = services.clock().astimezone(UTC).isoformat(timespec="seconds")
    return _edit(services, call, lambda c: apply_set(c, call.command.args, at=now_iso))


def topics(services: Services, call: Invocation) -> Reply:
    return Reply(filter_overview(services.store.get_channel(call.channel_id)))


def clear(services: Services, call: Invocation) -> Reply:
    """Asks first: a cleared filter floods a focused channel with every trending paper."""
    services.editor.check_may_configure(call.user_id)
    config = services.store.get_channel(call.channel_id)
    if config is None or (not config.filter_text and not config.min_upvotes):
        return Reply("This channel has no filter to clear: it already gets the day's top papers.")
    question = (
        "*Clear this channel's whole filter?* Every topic, exclusion and qualifier goes, and the next post "
        "brings the day's top papers on any subject."
    )
    buttons = [
        {
            "type": "button",
            "action_id": CLEAR_CONFIRM,
            "style": "danger",
            "text": {"type": "plain_text", "text": "Clear the filter"},
            "value": call.channel_id,
        },
        {"type": "button", "action_id": CLEAR_CANCEL, "text": {"type": "plain_text", "text": "Keep it"}, "value": "-"},
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": question}},
        {"type": "actions", "elements": buttons},
    ]
    return Reply("Clear this channel's whole filter?", blocks)


def _preview_days(args: str) -> int:
    """``""``, ``7``, ``7d``, ``7 days``, ``1 day``."""
    if not args.strip():
        return PREVIEW_DEFAULT_DAYS
    match = re.fullmatch(r"(\d{1,3})\s*(?:d|days?)?", args.strip(), re.IGNORECASE)
    if match is None or not 1 <= int(match[1]) <= PREVIEW_MAX_DAYS:
        raise UserInputError(f"Preview covers 1 to {PREVIEW_MAX_DAYS} days, not `{args.strip()}`.", "/papers preview 7")
    return int(match[1])


def preview(services: Services, call: Invocation) -> Reply:
    """What the current filter would have posted over the last days (the ledger is ignored)."""
    count = _preview_days(call.command.args)
    config = services.store.get_channel(call.channel_id) or ChannelConfig(call.channel_id, team_id=services.team_id)
    now = services.clock()
    today = now.astimezone(UTC).date()
    days = [today - timedelta(days=i) for i in range(count)]

    known = services.known_days()

    def fetch(day: date) -> list[Any] | None:
        try:
            return known.papers(day, now=now)
        except HFError:
            return None

    with ThreadPoolExecutor(max_workers=4) as pool:
        lists = list(pool.map(fetch, days))
    if all(papers is None for papers in lists):
        raise HFError("no day list could be fetched for the preview")
    wanted = channel_filter(config)
    previews = []
    for day, papers in zip(days, lists, strict=True):
        if papers is None:
            continue
        chosen, dropped = select_papers(wanted, papers, config.max_papers, related=services.runner.related)
        reasons = {paper.key: result.explain() for paper, result in chosen if result.explain()}
        previews.append(DayPreview(day, [paper for paper, _ in chosen], reasons, dropped))
    missing = sum(1 for papers in lists if papers is None)
    posted = sum(len(p.chosen) for p in previews)
    blocks = preview_blocks(config, previews, missing, saved=len(known.from_archive))
    return Reply(f"Preview: {posted} papers over the last {count} days", blocks)


ROUTES: dict[str, Route] = {
    "follow": follow,
    "unfollow": unfollow,
    "exclude": exclude,
    "include": include,
    "set": set_setting,
    "topics": topics,
    "clear": clear,
    "preview": preview,
}


def register(app: App, services: Services, later: Later) -> None:
    @app.action(CLEAR_CONFIRM)
    def confirm_clear(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        user_id = (body.get("user") or {}).get("id", "")
        channel_id = (body.get("channel") or {}).get("id", "")

        def work() -> None:
            config, summary = services.for_team(team_of(body)).editor.apply(channel_id, user_id, apply_clear)
            respond(text=change_reply(config, summary), replace_original=True, response_type="ephemeral")

        later(lambda: reply_errors(respond, work))

    @app.action(CLEAR_CANCEL)
    def cancel_clear(ack: Ack, respond: Respond) -> None:
        ack()
        later(
            lambda: respond(text="Kept the filter; nothing changed.", replace_original=True, response_type="ephemeral")
        )
