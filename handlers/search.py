"""``/papers search`` (and ``/papers <anything that is not a subcommand>``) and its buttons.

The command was acknowledged before any of this runs (``handlers/commands.py``); the answer goes
through ``response_url``. Hugging Face gets ``bot.search.finder.SEARCH_DEADLINE`` seconds for all its attempts; after
that (or on a 5xx) the bot answers from its archive of fetched day lists and says so, so the user
hears back within about three seconds whatever Hugging Face does. ``--posted`` searches the papers the
ledger says this channel was sent; day lists the local archive lacks (fetched by another process, or
lost with the disk) are read from Hugging Face within the same deadline, and the answer says when some
could not be.

Buttons on a result: **Share** posts the card visibly, **Follow** adds a topic to the channel's
filter (through ``ChannelEditor.follow_topics``, which checks who may), **More** replaces the
private message with the next page.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.errors import HFError, SlackError
from bot.feed.papers import ARXIV_ID_RE, Paper, arxiv_key
from bot.search.finder import PaperFinder
from bot.search.query import MAX_QUERY_CHARS, SearchQuery, find_arxiv_id, parse_search
from bot.services import Services
from bot.ui.errors import slack_advice
from bot.ui.render import escape_mrkdwn, truncate
from bot.ui.render_search import (
    FOLLOW_ACTION,
    MORE_ACTION,
    SHARE_ACTION,
    PagePosition,
    PostedHit,
    parse_more_value,
    render_not_found,
    render_paper_lookup,
    render_posted_results,
    render_results,
    render_shared,
)
from bot.ui.replies import help_text
from handlers.later import Later
from handlers.replying import reply_errors
from handlers.routing import Invocation, Reply, Route, team_of

__all__ = ["FOLLOW_ACTION", "MORE_ACTION", "ROUTES", "SHARE_ACTION", "register", "search"]

logger = logging.getLogger(__name__)

PAGE_SIZE = 5
MAX_RESULTS = 50  # Hugging Face returns at most ~120; ten pages is more than anyone clicks through
POSTED_PAGE_SIZE = 10


def _deadline() -> float:
    return PaperFinder.deadline()


def _archive_note(services: Services) -> str:
    count = len(services.archive)
    return (
        ":warning: Hugging Face search isn't answering right now, so these results come from my archive "
        f"of the {count:,} papers in past daily lists. Try again later for a full search."
    )


# --- answers ------------------------------------------------------------------------------------


def text_results(services: Services, position: PagePosition) -> Reply:
    """One page of a text search: Hugging Face first, the archive when it fails or is too slow.
    ``services``: the asking workspace's (``for_team``), whose saves the cards count."""
    team_id = services.team_id
    if position.offset >= MAX_RESULTS:
        return Reply(f"That's the last of the {MAX_RESULTS} results I show. Try a more specific search.")
    want = min(position.offset + PAGE_SIZE + 1, MAX_RESULTS)  # one extra tells whether there is more
    finder = services.finder
    found = finder.text(position.query, want)
    if found is None:
        return Reply(
            ":hourglass: Hugging Face search isn't answering right now and I have no archived papers to "
            "search instead. Please try again in a few minutes."
        )
    papers, note = found.papers, _archive_note(services) if found.from_archive else ""
    page = [finder.with_archived_details(p) for p in papers[position.offset : position.offset + PAGE_SIZE]]
    more_after = len(papers) > position.offset + PAGE_SIZE and position.offset + PAGE_SIZE < MAX_RESULTS
    saved_by = services.store.save_counts(team_id, [p.key for p in page]) if team_id else {}
    message, _shown = render_results(position, page, more_after=more_after, note=note, saved_by=saved_by)
    return Reply(message.text, message.blocks)


def paper_lookup(services: Services, arxiv_id: str) -> Reply:
    """``/papers 2406.12345`` (or a link): that paper's card with its linked models, datasets, Spaces."""
    team_id = services.team_id
    if not ARXIV_ID_RE.match(arxiv_id):  # old-style ids (hep-th/9901001) predate Hugging Face's pages
        return Reply(render_not_found(arxiv_id))
    found = services.finder.paper(arxiv_id)
    if not found.papers:
        return Reply(render_not_found(arxiv_id))
    paper = found.papers[0]
    note = (
        ":warning: Hugging Face isn't answering right now; this is my archived copy (no linked-repo counts)."
        if found.from_archive
        else ""
    )
    saved_by = services.library.save_count(team_id, paper.key) if team_id else 0
    message = render_paper_lookup(paper, note=note, saved_by=saved_by)
    return Reply(message.text, message.blocks)


def _unreachable_note(count: int) -> dict[str, Any]:
    papers = f"{count:,} paper{'' if count == 1 else 's'}"
    text = (
        f":warning: Hugging Face isn't answering right now, so I couldn't look up {papers} posted here: "
        "they may be missing from these results or shown by arXiv id only. Try again in a few minutes."
    )
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def posted_results(services: Services, channel_id: str, position: PagePosition) -> Reply:
    """``--posted``: search what this channel was sent (text from the archive), with links to the posts."""
    finder = services.finder
    posted = finder.posted(channel_id)
    want = position.offset + POSTED_PAGE_SIZE + 1
    named = find_arxiv_id(position.query)
    if named:  # one paper asked for by id or link: was it posted here?
        keys = [named] if named in posted else []
    elif position.query:
        keys = list(posted)
    else:
        keys = sorted(posted, key=lambda k: posted[k].day, reverse=True)[:want]
    unreachable = finder.look_up_posted({key: posted[key].sources for key in keys})
    papers: list[Paper]
    if position.query and not named:
        papers = services.archive.search(position.query, limit=want, keys=posted.keys())
    else:
        papers = [services.archive.get(k) or Paper(id=k, title=f"arXiv {k}") for k in keys]
    page = papers[position.offset : position.offset + POSTED_PAGE_SIZE]
    links: dict[str, str] = {}
    hits = []
    for paper in page:
        post = posted[paper.key]
        if post.ts not in links:
            links[post.ts] = services.poster.permalink(channel_id, post.ts)
        hits.append(PostedHit(paper, post.day, links[post.ts]))
    message = render_posted_results(position, hits, more_after=len(papers) > position.offset + POSTED_PAGE_SIZE)
    if unreachable:
        message.blocks.insert(1, _unreachable_note(unreachable))
    return Reply(message.text, message.blocks)


def search(services: Services, call: Invocation) -> Reply:
    """The ``search`` route: help for an empty query, else a paper card, a posted search or results."""
    query: SearchQuery = parse_search(call.command.args)
    if query.empty and not query.posted:
        return Reply(help_text())
    if query.posted:
        return posted_results(services, call.channel_id, PagePosition(query.text, 0, posted=True))
    if query.arxiv_id:
        return paper_lookup(services, query.arxiv_id)
    reply = text_results(services, PagePosition(query.text))
    if call.command.suggestion:
        hint = f"Searching for this. Did you mean `/papers {call.command.suggestion}`?"
        if reply.blocks:
            reply.blocks.insert(0, {"type": "context", "elements": [{"type": "mrkdwn", "text": hint}]})
        else:  # a text-only answer (nothing found, Hugging Face and the archive both unavailable)
            reply = Reply(f"{hint}\n{reply.text}", reply.blocks)
    return reply


ROUTES: dict[str, Route] = {"search": search}


# --- buttons ------------------------------------------------------------------------------------


def _channel_of(body: dict[str, Any]) -> str:
    return str((body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id") or "")


def _value(body: dict[str, Any]) -> str:
    actions = body.get("actions") or [{}]
    return str(actions[0].get("value") or "")


def _private(respond: Respond, text: str) -> None:
    respond(text=text, response_type="ephemeral", replace_original=False)


def share(services: Services, body: dict[str, Any], respond: Respond) -> None:
    """Post the paper's card visibly in the channel the results were shown in."""
    key = arxiv_key(_value(body))
    channel, user = _channel_of(body), str((body.get("user") or {}).get("id") or "")
    if not ARXIV_ID_RE.match(key) or not channel:
        _private(respond, ":warning: I couldn't tell which paper to share. Please run the search again.")
        return
    paper = services.archive.get(key)
    if paper is None:
        try:
            paper = services.hf.paper(key, deadline=_deadline())
        except HFError:
            _private(respond, ":hourglass: Hugging Face isn't answering right now, so I couldn't fetch that paper.")
            return
    if paper is None:
        _private(respond, render_not_found(key))
        return
    team_id = services.team_id  # the workspace's view (``for_team``): its saves, its token, its signals
    message = render_shared(paper, user, saved_by=services.library.save_count(team_id, key) if team_id else 0)
    try:
        ts = services.poster.post_message(channel, text=message.text, blocks=message.blocks)
    except SlackError as exc:
        advice = slack_advice(exc.code, "share") or "Please try again in a moment."
        _private(respond, f":warning: Slack refused the post (`{escape_mrkdwn(exc.code)}`). {advice}")
        return
    # A share is a team signal, and reactions on the shared card count for the paper (issue 16).
    services.library.shared(team_id, channel, user, paper, ts)


def follow(services: Services, body: dict[str, Any], respond: Respond) -> None:
    """Add the search's query (or the paper's main keyword) to the channel's topics."""
    try:
        topic = json.loads(_value(body)).get("t", "")
    except (ValueError, AttributeError):
        topic = ""
    if not isinstance(topic, str) or not topic.strip():
        _private(respond, ":warning: I couldn't tell which topic to follow. Please run the search again.")
        return
    services.editor.follow_topics(_channel_of(body), str((body.get("user") or {}).get("id") or ""), [topic])
    _private(
        respond,
        f":white_check_mark: This channel now follows “{escape_mrkdwn(truncate(topic, 200))}”: the daily post "
        "will include papers about it. See every topic with `/papers topics`.",
    )


def more(services: Services, body: dict[str, Any], respond: Respond) -> None:
    """Replace the private results with the next page."""
    position = parse_more_value(_value(body))
    if position is None or len(position.query) > MAX_QUERY_CHARS:
        _private(respond, ":warning: That button no longer works. Please run the search again.")
        return
    if position.posted:
        reply = posted_results(services, _channel_of(body), position)
    else:
        reply = text_results(services, position)
    respond(text=reply.text, blocks=reply.blocks or None, response_type="ephemeral", replace_original=True)


def _listener(
    services: Services, later: Later, work: Callable[[Services, dict[str, Any], Respond], None]
) -> Callable[..., None]:
    def listener(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        later(lambda: reply_errors(respond, lambda: work(services.for_team(team_of(body)), body, respond)))

    return listener


def register(app: App, services: Services, later: Later) -> None:
    """The three buttons of a search result; their action ids are constants in ``bot.ui.render_search``."""
    app.action(SHARE_ACTION)(_listener(services, later, share))
    app.action(FOLLOW_ACTION)(_listener(services, later, follow))
    app.action(MORE_ACTION)(_listener(services, later, more))
