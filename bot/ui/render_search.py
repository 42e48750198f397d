"""Block Kit for ``/papers search``: result pages, one paper's card, a shared card, posted-search links.

Pure, like ``bot/ui/render.py`` whose card it reuses. Every string from a user or a paper reaches mrkdwn
through ``escape_mrkdwn`` (a query of ``<!channel>`` shows as text, never as a broadcast), and every
payload stays inside Slack's limits: a page holds as many cards as fit (the rest go to **More**),
button values stay under 2,000 characters.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.channels.edits import can_follow_topic
from bot.feed.papers import ARXIV_ID_RE, Paper
from bot.ui.ids import FOLLOW_ACTION, MORE_ACTION, SHARE_ACTION
from bot.ui.render import (
    MAX_FALLBACK_CHARS,
    Message,
    context_block,
    escape_mrkdwn,
    format_day,
    render_paper_card,
    section_block,
    truncate,
)

__all__ = [
    "PagePosition",
    "PostedHit",
    "follow_button",
    "main_keyword",
    "more_value",
    "parse_more_value",
    "render_not_found",
    "render_paper_lookup",
    "render_posted_results",
    "render_results",
    "render_shared",
]


MAX_VALUE_CHARS = 2000  # Slack's limit for a button value
_MAX_PAGE_BLOCKS = 46  # of 50, leaving room for the heading, the More button and a note
_MAX_PAGE_CHARS = 10_000  # Slack refuses ~12-13k characters of block text per message
_USER_ID_RE = re.compile(r"^[UW][A-Z0-9]{2,}$")
_UNSAFE_URL_RE = re.compile(r"[\s<>|]")
_COUNT_WORDS = (("numTotalModels", "model"), ("numTotalDatasets", "dataset"), ("numTotalSpaces", "Space"))


@dataclass(frozen=True, slots=True)
class PagePosition:
    """Where a page starts and whether more results follow, for the More button."""

    query: str
    offset: int = 0
    posted: bool = False


@dataclass(frozen=True, slots=True)
class PostedHit:
    """A paper this channel was sent, with the day of that post and a link to it (may be empty)."""

    paper: Paper
    posted_on: date
    permalink: str = ""


# --- small pieces -------------------------------------------------------------------------------


def _quote(query: str, n: int = 150) -> str:
    return f"“{escape_mrkdwn(truncate(query, n))}”"


def _link(url: str, label: str) -> str:
    """``<url|label>`` for an https URL we built or Slack gave us; otherwise just the escaped label."""
    label = escape_mrkdwn(label.replace("|", "¦"))
    if url.startswith("https://") and not _UNSAFE_URL_RE.search(url):
        return f"<{escape_mrkdwn(url)}|{label}>"
    return label


def _button(text: str, action_id: str, value: str, *, style: str = "") -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": truncate(text, 75), "emoji": True},
        "action_id": action_id,
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def _dated(paper: Paper) -> Paper:
    """Search hits carry no Daily-Papers day; the card then shows the arXiv date instead."""
    return paper if paper.day or not paper.published else dataclasses.replace(paper, day=paper.published)


def _chars(value: Any) -> int:
    """Characters of every ``text`` string in the blocks: what Slack's ~12k aggregate limit counts."""
    if isinstance(value, dict):
        return sum(len(v) if k == "text" and isinstance(v, str) else _chars(v) for k, v in value.items())
    if isinstance(value, list):
        return sum(_chars(item) for item in value)
    return 0


def _follow_value(topic: str) -> str:
    return json.dumps({"t": topic}, ensure_ascii=False)


def _followable(topic: str) -> str:
    """``topic`` if **Follow as topic** would be accepted for it, else "": a search may be 500
    characters but a topic only ``MAX_TERM_LENGTH``, and a button that always fails is worse than none."""
    return topic if topic and can_follow_topic(topic) and len(_follow_value(topic)) <= MAX_VALUE_CHARS else ""


def _card_buttons(paper: Paper, topic: str) -> list[dict[str, Any]]:
    """Share, and Follow when ``topic`` is not empty (callers pass it through ``_followable``)."""
    buttons = [_button("📣 Share in channel", SHARE_ACTION, paper.key, style="primary")]
    if topic:
        buttons.append(_button("➕ Follow as topic", FOLLOW_ACTION, _follow_value(topic)))
    return buttons


def follow_button(topic: str, label: str = "➕ Follow as topic") -> dict[str, Any] | None:
    """The **Follow** button for ``topic`` (a link card's), or None when following it would be refused."""
    topic = _followable(topic)
    return _button(label, FOLLOW_ACTION, _follow_value(topic)) if topic else None


def main_keyword(paper: Paper) -> str:
    """The topic a paper is "about": its first AI keyword (Hugging Face lists the main one first)."""
    return paper.ai_keywords[0] if paper.ai_keywords else ""


# --- paging -------------------------------------------------------------------------------------


def more_value(position: PagePosition) -> str | None:
    """The More button's value (JSON); None if it would break Slack's 2,000-character limit."""
    value = json.dumps({"q": position.query, "o": position.offset, "p": position.posted}, ensure_ascii=False)
    return value if len(value) <= MAX_VALUE_CHARS else None


def parse_more_value(value: str) -> PagePosition | None:
    """Read a More value back; None for anything we did not write (values are Slack-signed, but still)."""
    try:
        data = json.loads(value)
    except (TypeError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    query, offset, posted = data.get("q"), data.get("o"), data.get("p", False)
    if not isinstance(query, str) or not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        return None
    return PagePosition(query, offset, bool(posted))


def _fallback(lead: str, papers: Sequence[Paper]) -> str:
    text = escape_mrkdwn(lead)
    for number, paper in enumerate(papers, 1):
        piece = f"{',' if number > 1 else ':'} {number}. {escape_mrkdwn(truncate(paper.title, 150))}"
        if len(text) + len(piece) > MAX_FALLBACK_CHARS - 3:
            return text + ", …"
        text += piece
    return text


# --- public builders ----------------------------------------------------------------------------


def render_results(
    position: PagePosition,
    papers: Sequence[Paper],
    *,
    more_after: bool,
    note: str = "",
    follow_topic: str | None = None,
    saved_by: Mapping[str, int] | None = None,
) -> tuple[Message, int]:
    """A page of text-search results; returns the message and how many papers it shows.

    ``papers`` are the candidates for this page; as many as fit are shown, the others start the next
    page. ``note`` (mrkdwn, already escaped) explains an archive answer. ``follow_topic`` is what
    **Follow** adds: the query by default; the button is left out when that can't be a topic.
    """
    topic = _followable(position.query if follow_topic is None else follow_topic)
    first = position.offset + 1
    heading = f"🔎 Results for {_quote(position.query)}"
    blocks: list[dict[str, Any]] = [context_block(heading + (f" · from result {first}" if position.offset else ""))]
    if note:
        blocks.append(context_block(note))
    if not papers:
        where = "in the archive" if note else "on Hugging Face"
        blocks.append(section_block(f"No papers {where} match {_quote(position.query)}. Try other or fewer words."))
        return Message(f"No papers match {_quote(position.query)}.", blocks), 0
    shown = 0
    for paper in papers:
        card = [
            {"type": "divider"},
            *render_paper_card(
                _dated(paper), buttons=_card_buttons(paper, topic), saved_by=(saved_by or {}).get(paper.key, 0)
            ),
        ]
        if shown and (len(blocks) + len(card) > _MAX_PAGE_BLOCKS or _chars(blocks) + _chars(card) > _MAX_PAGE_CHARS):
            break
        blocks += card
        shown += 1
    next_position = dataclasses.replace(position, offset=position.offset + shown)
    value = more_value(next_position) if (more_after or shown < len(papers)) else None
    if value is not None:
        blocks.append({"type": "actions", "elements": [_button("More results", MORE_ACTION, value)]})
    blocks.append(context_block("_Only you can see these results._"))
    lead = f"Results {first}–{position.offset + shown} for “{truncate(position.query, 150)}”"
    return Message(_fallback(lead, papers[:shown]), blocks), shown


def render_paper_lookup(paper: Paper, *, note: str = "", saved_by: int = 0) -> Message:
    """One paper asked for by id or link: its card, its linked models/datasets/Spaces, the buttons."""
    blocks: list[dict[str, Any]] = [context_block(note)] if note else []
    buttons = _card_buttons(paper, _followable(main_keyword(paper)))
    blocks += render_paper_card(_dated(paper), buttons=buttons, saved_by=saved_by)
    counts = [(paper.extra.get(k), word) for k, word in _COUNT_WORDS]
    if any(n is not None for n, _ in counts):
        listed = " · ".join(f"{n or 0} {word if (n or 0) == 1 else word + 's'}" for n, word in counts)
        blocks.insert(len(blocks) - 1, context_block(f"🤗 Linked on Hugging Face: {listed}"))
    return Message(f"{escape_mrkdwn(truncate(paper.title, 300))} (arXiv {paper.key})", blocks)


def render_not_found(arxiv_id: str) -> str:
    """Hugging Face has no page for the id: say so, and point at arXiv where it may still exist."""
    shown = escape_mrkdwn(arxiv_id)
    valid = ARXIV_ID_RE.match(arxiv_id) or "/" in arxiv_id
    link = f" It may still be on arXiv: {_link(f'https://arxiv.org/abs/{arxiv_id}', 'arxiv.org/abs/' + arxiv_id)}"
    return f":mag: Not found: Hugging Face has no paper page for arXiv `{shown}`.{link if valid else ''}"


def render_shared(paper: Paper, user_id: str, *, saved_by: int = 0) -> Message:
    """The visible card a **Share** click posts, saying who shared it (and how many saved it)."""
    who = f"<@{user_id}>" if _USER_ID_RE.match(user_id) else "Someone"
    blocks = [context_block(f"📣 Shared by {who}"), *render_paper_card(_dated(paper), saved_by=saved_by)]
    return Message(f"{who} shared: {escape_mrkdwn(truncate(paper.title, 300))}", blocks)


def render_posted_results(position: PagePosition, hits: Sequence[PostedHit], *, more_after: bool) -> Message:
    """``--posted``: papers this channel was sent that match, each with a link to its post."""
    if position.query:
        heading = f"🗂 Papers posted in this channel matching {_quote(position.query)}"
    else:
        heading = "🗂 Papers posted most recently in this channel"
    blocks: list[dict[str, Any]] = [context_block(heading)]
    if not hits:
        text = (
            f"Nothing posted in this channel matches {_quote(position.query)}."
            if position.query
            else "I haven't posted any papers in this channel yet."
        )
        blocks.append(section_block(text))
        return Message(text, blocks)
    for hit in hits:
        paper = hit.paper
        title = _link(paper.hf_url if ARXIV_ID_RE.match(paper.key) else "", truncate(paper.title, 250))
        parts = [f"*{title}*", f"posted {format_day(hit.posted_on)}"]
        if hit.permalink:
            parts.append(_link(hit.permalink, "view the post"))
        blocks.append(section_block(" · ".join(parts)))
    next_position = dataclasses.replace(position, offset=position.offset + len(hits))
    value = more_value(next_position) if more_after else None
    if value is not None:
        blocks.append({"type": "actions", "elements": [_button("More results", MORE_ACTION, value)]})
    lead = "Posted papers" + (f" matching “{truncate(position.query, 150)}”" if position.query else "")
    return Message(_fallback(lead, [h.paper for h in hits]), blocks)
