"""The team layer's listeners (issue 16): Save (button and message shortcut), the App Home reading list
and its buttons, reactions on the bot's posts, ``/papers export`` and ``/papers forget me``.

Thin, like every listener: acknowledge, then hand the work to ``later``; the rules live in
``bot.team.library.TeamLibrary`` and the texts and views in ``bot.ui``. Every listener works through the
view of the workspace the request came from (``services.for_team``): its store (``TeamStore``), so a
click in workspace B never reads or changes workspace A's lists, and its poster, so B's Home tab,
"Saved by" updates and ``.bib`` uploads go out with B's token. The functions below take those scoped
services and key every record by ``services.team_id``.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond

from bot.errors import SlackError, UserInputError
from bot.feed.papers import ARXIV_ID_RE, arxiv_key
from bot.models import PaperRef
from bot.services import Services
from bot.team.library import SaveResult
from bot.team.links import paper_ids_in_message
from bot.ui.bibtex import bibtex_entry, bibtex_file
from bot.ui.home import bibtex_view, home_offset
from bot.ui.ids import (
    FORGET_CANCEL,
    FORGET_CONFIRM,
    HOME_BIBTEX,
    HOME_MORE,
    HOME_READ,
    HOME_REMOVE,
    HOME_UNREAD,
    SAVE_ACTION,
    SAVE_SHORTCUT,
)
from bot.ui.render import escape_mrkdwn, truncate, with_saved_by
from handlers.later import Later
from handlers.replying import reply_errors
from handlers.routing import Invocation, Reply, Route, team_of

__all__ = ["ROUTES", "publish_home", "register"]

logger = logging.getLogger(__name__)

EXPORT_DEFAULT_DAYS = 30
_COUNT_UPDATES = threading.Lock()
EXPORT_MAX_DAYS = 365


# --- payload fields --------------------------------------------------------------------------------


def _user(body: dict[str, Any]) -> str:
    return str((body.get("user") or {}).get("id") or "")


def _value(body: dict[str, Any]) -> str:
    actions = body.get("actions") or [{}]
    return str(actions[0].get("value") or "")


def _title(paper: PaperRef) -> str:
    return escape_mrkdwn(truncate(paper.title or f"arXiv {paper.key}", 150))


def _private(respond: Respond, text: str) -> None:
    respond(text=text, response_type="ephemeral", replace_original=False)


# --- the Home tab ----------------------------------------------------------------------------------


def publish_home(services: Services, user_id: str, *, offset: int = 0, notice: str = "") -> None:
    """Publish the person's Home tab (``services``: their workspace's, from ``for_team``): their reading
    list and the team picks of the channels they are in, with that workspace's token.

    Which channels: ``users.conversations`` (cached a few minutes). When Slack will not say (a missing
    scope, an outage), the tab still shows the reading list, with no picks."""
    library, team_id = services.library, services.team_id

    def fetch() -> list[str]:
        return services.poster.user_channels(user_id)

    try:
        channels: list[str] = library.channels_of(team_id, user_id, fetch)
    except SlackError as exc:
        logger.warning("cannot list the channels of %s for team picks: %s", user_id, exc.code)
        channels = []
    view = library.home(team_id, user_id, offset=offset, channels=channels, notice=notice)
    services.poster.publish_home(user_id, view)


# --- saving ----------------------------------------------------------------------------------------


def _saved_text(result: SaveResult) -> str:
    parts = []
    if result.saved:
        titles = ", ".join(f"*{_title(p)}*" for p in result.saved[:5])
        more = f" and {len(result.saved) - 5} more" if len(result.saved) > 5 else ""
        parts.append(f":bookmark: Saved {titles}{more} to your reading list.")
    if result.already:
        if len(result.already) == 1 and not result.saved:
            parts.append(f"*{_title(result.already[0])}* is already in your reading list.")
        else:
            parts.append(f"{len(result.already)} already in your reading list.")
    parts.append("Find it under *Home* in the papers-bot app.")
    return " ".join(parts)


def _update_counts(services: Services, body: dict[str, Any], team_id: str, keys: list[str]) -> None:
    """Make the bot's own message say how many people saved each paper now ("Saved by N")."""
    message = body.get("message") or {}
    container = body.get("container") or {}
    channel = str((body.get("channel") or {}).get("id") or container.get("channel_id") or "")
    ts = str(message.get("ts") or container.get("message_ts") or "")
    blocks = message.get("blocks")
    if container.get("is_ephemeral") or not channel or not ts or not isinstance(blocks, list):
        return
    # Two people saving at once: the counts are read and written one update at a time, so the later
    # update can never carry the older, lower count.
    with _COUNT_UPDATES:
        counts = services.store.save_counts(team_id, keys)
        changed = None
        for key in keys:
            updated = with_saved_by(changed or blocks, key, counts.get(key, 0))
            changed = updated if updated is not None else changed
        if changed is None:
            return  # not one of the bot's cards
        try:
            services.poster.update_message(channel, ts, text=str(message.get("text") or "Papers"), blocks=changed)
        except SlackError as exc:
            logger.info("could not update the saved count on %s/%s: %s", channel, ts, exc.code)


def save_clicked(services: Services, body: dict[str, Any], respond: Respond) -> None:
    """**Save** on any paper card: in a channel message, the Home tab or a modal."""
    key = arxiv_key(_value(body))
    team_id, user_id = services.team_id, _user(body)
    container = body.get("container") or {}
    in_view = container.get("type") == "view"
    if not ARXIV_ID_RE.match(key) or not user_id:
        if not in_view:
            _private(respond, ":warning: I couldn't tell which paper to save. Please try again from a fresh card.")
        return
    channel = "" if in_view else str((body.get("channel") or {}).get("id") or container.get("channel_id") or "")
    result = services.library.save(team_id, user_id, [key], channel_id=channel)
    if in_view:
        publish_home(services, user_id, notice=_saved_text(result))
        return
    _update_counts(services, body, team_id, [key])
    _private(respond, _saved_text(result))


def save_shortcut(services: Services, body: dict[str, Any], respond: Respond) -> None:
    """*Save paper* from a message's ⋯ menu: every arXiv or Hugging Face paper the message links."""
    message = body.get("message") or {}
    keys = paper_ids_in_message(message)
    if not keys:
        _private(
            respond,
            ":mag: I found no arXiv or Hugging Face paper link in that message, so nothing was saved. "
            "*Save paper* saves links like `arxiv.org/abs/2406.12345` or `huggingface.co/papers/2406.12345`.",
        )
        return
    team_id, user_id = services.team_id, _user(body)
    channel = str((body.get("channel") or {}).get("id") or "")
    result = services.library.save(team_id, user_id, keys, channel_id=channel)
    _update_counts(services, body, team_id, keys)
    _private(respond, _saved_text(result))


# --- Home tab buttons ------------------------------------------------------------------------------


def _home_offset(body: dict[str, Any]) -> int:
    return home_offset(str((body.get("view") or {}).get("private_metadata") or ""))


def home_mark(services: Services, body: dict[str, Any], *, read: bool) -> None:
    team_id, user_id, key = services.team_id, _user(body), arxiv_key(_value(body))
    services.library.mark(team_id, user_id, key, read=read)
    publish_home(services, user_id, offset=_home_offset(body))


def home_remove(services: Services, body: dict[str, Any]) -> None:
    team_id, user_id, key = services.team_id, _user(body), arxiv_key(_value(body))
    removed = next((s.paper for s in services.library.saved(team_id, user_id) if s.key == key), None)
    services.library.remove(team_id, user_id, key)
    notice = f"Removed *{_title(removed)}* from your reading list." if removed else ""
    publish_home(services, user_id, offset=_home_offset(body), notice=notice)


def home_more(services: Services, body: dict[str, Any]) -> None:
    value = _value(body)
    offset = int(value) if value.isdigit() else 0
    publish_home(services, _user(body), offset=offset)


def home_bibtex(services: Services, body: dict[str, Any]) -> None:
    """The BibTeX entry of one saved paper, privately: in a modal over the Home tab."""
    team_id, user_id, key = services.team_id, _user(body), arxiv_key(_value(body))
    saved = next((s.paper for s in services.library.saved(team_id, user_id) if s.key == key), None)
    paper = saved or services.library.paper(key)
    trigger = str(body.get("trigger_id") or "")
    try:
        services.poster.open_view(trigger, bibtex_view(paper, bibtex_entry(paper)))
    except SlackError as exc:
        logger.warning("could not open the BibTeX of %s for %s: %s", key, user_id, exc.code)
        publish_home(
            services,
            user_id,
            offset=_home_offset(body),
            notice=":warning: Slack didn't open the BibTeX window; press *BibTeX* again.",
        )


# --- /papers export and /papers forget me ----------------------------------------------------------


def _export_days(words: list[str]) -> int:
    if not words:
        return EXPORT_DEFAULT_DAYS
    match = re.fullmatch(r"(\d{1,4})\s*(?:d|days?)?", " ".join(words), re.IGNORECASE)
    if match is None or not 1 <= int(match[1]) <= EXPORT_MAX_DAYS:
        raise UserInputError(
            f"Export covers 1 to {EXPORT_MAX_DAYS} days, not `{' '.join(words)}`.", "/papers export posted 30"
        )
    return int(match[1])


def _send_bib(services: Services, user_id: str, papers: list[PaperRef], *, name: str, what: str) -> str:
    """Upload the ``.bib`` to the person's DM with the bot; returns the file name."""
    today = services.clock().date().isoformat()
    filename = f"papers-{name}-{today}.bib"
    text = bibtex_file(papers, header=[f"{what}, exported by papers-bot on {today}", f"{len(papers)} entries"])
    dm = services.poster.open_dm(user_id)
    services.poster.upload_file(
        dm,
        text.encode("utf-8"),
        filename=filename,
        title=f"{what} (BibTeX)",
        initial_comment=f"{escape_mrkdwn(what)}: {len(papers)} BibTeX entries.",
    )
    return filename


def export(services: Services, call: Invocation) -> Reply:
    words = call.command.args.split()
    what = words[0].lower() if words else ""
    if what == "saved" and len(words) == 1:
        saved = services.library.saved(services.team_id, call.user_id)
        if not saved:
            return Reply("Your reading list is empty, so there is nothing to export. Press *Save* on a paper first.")
        filename = _send_bib(services, call.user_id, [s.paper for s in saved], name="saved", what="Your reading list")
        return Reply(f":page_facing_up: Sent `{filename}` ({len(saved)} entries) to our direct messages.")
    if what == "posted":
        days = _export_days(words[1:])
        papers, unknown = _posted_papers(services, call.channel_id, days)
        if not papers:
            return Reply(f"Nothing was posted in this channel in the last {days} days, so there is nothing to export.")
        where = f"#{call.channel_name}" if call.channel_name else "this channel"
        filename = _send_bib(
            services, call.user_id, papers, name="posted", what=f"Papers posted in {where}, last {days} days"
        )
        note = (
            f" {unknown} of them could not be looked up on Hugging Face and carry only their arXiv id."
            if unknown
            else ""
        )
        return Reply(f":page_facing_up: Sent `{filename}` ({len(papers)} entries) to our direct messages.{note}")
    raise UserInputError(
        "Export `saved` (your reading list) or `posted [days]` (this channel).", "/papers export saved"
    )


def _posted_papers(services: Services, channel_id: str, days: int) -> tuple[list[PaperRef], int]:
    """Papers this channel was sent in the last ``days`` days (newest post first), and how many of them
    are known only by id (Hugging Face unavailable for their day)."""
    finder = services.finder
    since = services.clock().date().toordinal() - days
    posted = {k: p for k, p in finder.posted(channel_id).items() if p.day.toordinal() > since}
    finder.look_up_posted({key: at.sources for key, at in posted.items()})
    papers, unknown = [], 0
    for key in sorted(posted, key=lambda k: (posted[k].day, k), reverse=True):
        found = services.archive.get(key)
        if found is None:
            unknown += 1
            papers.append(PaperRef(key))
        else:
            papers.append(services.library.paper(key))
    return papers, unknown


def forget(services: Services, call: Invocation) -> Reply:
    if call.command.args.strip().lower() != "me":
        raise UserInputError("To remove everything stored about you, type it in full.", "/papers forget me")
    saved = len(services.library.saved(services.team_id, call.user_id))
    question = (
        f"*Forget everything stored about you?* Your reading list ({saved} paper{'s' if saved != 1 else ''}) and "
        "your signals (saves, shares and reactions counted for team picks) are removed for good. "
        "Messages already posted stay."
    )
    buttons = [
        {
            "type": "button",
            "action_id": FORGET_CONFIRM,
            "style": "danger",
            "text": {"type": "plain_text", "text": "Forget me"},
            "value": "me",
        },
        {"type": "button", "action_id": FORGET_CANCEL, "text": {"type": "plain_text", "text": "Keep it"}, "value": "-"},
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": question}},
        {"type": "actions", "elements": buttons},
    ]
    return Reply("Forget everything stored about you?", blocks)


def forget_confirmed(services: Services, body: dict[str, Any], respond: Respond) -> None:
    team_id, user_id = services.team_id, _user(body)
    saves, signals = services.library.forget(team_id, user_id)
    respond(
        text=(
            f":wastebasket: Done: removed {saves} saved paper{'s' if saves != 1 else ''} and {signals} "
            f"signal{'s' if signals != 1 else ''}. Nothing else about you is stored."
        ),
        replace_original=True,
        response_type="ephemeral",
    )
    publish_home(services, user_id)


ROUTES: dict[str, Route] = {"export": export, "forget": forget}


# --- wiring ----------------------------------------------------------------------------------------


def register(app: App, services: Services, later: Later) -> None:
    """Each listener acknowledges, then works as the request's workspace (``services.for_team``)."""

    def scoped(body: dict[str, Any]) -> Services:
        return services.for_team(team_of(body))

    @app.action(SAVE_ACTION)
    def on_save(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        later(lambda: reply_errors(respond, lambda: save_clicked(scoped(body), body, respond)))

    @app.shortcut(SAVE_SHORTCUT)
    def on_save_shortcut(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        later(lambda: reply_errors(respond, lambda: save_shortcut(scoped(body), body, respond)))

    def home_action(work: Any) -> Any:
        def listener(ack: Ack, body: dict[str, Any]) -> None:
            ack()
            later(lambda: work(scoped(body), body))

        return listener

    app.action(HOME_READ)(home_action(lambda s, b: home_mark(s, b, read=True)))
    app.action(HOME_UNREAD)(home_action(lambda s, b: home_mark(s, b, read=False)))
    app.action(HOME_REMOVE)(home_action(home_remove))
    app.action(HOME_MORE)(home_action(home_more))
    app.action(HOME_BIBTEX)(home_action(home_bibtex))

    @app.action(FORGET_CONFIRM)
    def on_forget(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        later(lambda: reply_errors(respond, lambda: forget_confirmed(scoped(body), body, respond)))

    @app.action(FORGET_CANCEL)
    def on_forget_cancel(ack: Ack, respond: Respond) -> None:
        ack()
        later(
            lambda: respond(text="Kept everything; nothing changed.", replace_original=True, response_type="ephemeral")
        )

    def on_reaction(added: bool) -> Any:
        def listener(body: dict[str, Any], event: dict[str, Any], context: BoltContext) -> None:
            item = event.get("item") or {}
            user = str(event.get("user") or "")
            if item.get("type") != "message" or not user or user == context.bot_user_id:
                return  # the bot's own reactions never count
            channel, ts, reaction = (
                str(item.get("channel") or ""),
                str(item.get("ts") or ""),
                str(event.get("reaction") or ""),
            )

            def work() -> None:
                mine = scoped(body)
                mine.library.reaction(mine.team_id, channel, ts, user, reaction, added=added)

            later(work)

        return listener

    app.event("reaction_added")(on_reaction(True))
    app.event("reaction_removed")(on_reaction(False))
