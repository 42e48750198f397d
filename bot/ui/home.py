"""The App Home tab: a person's reading list and the team picks of their channels. Pure.

The Home tab is private to the person it is published for (``views.publish`` with their user id), so
the reading list never shows anyone else's saves. A view holds at most 100 blocks: the list is shown a
page at a time (``PAGE_SIZE`` papers, two blocks each) with **Show more** and **Back to the top**, and
the whole view is checked against the cap, the team picks giving way first.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.feed.papers import ARXIV_ID_RE
from bot.models import PaperRef, SavedPaper
from bot.ui.ids import BIBTEX_CALLBACK, HOME_BIBTEX, HOME_MORE, HOME_READ, HOME_REMOVE, HOME_UNREAD
from bot.ui.render import (
    context_block,
    escape_mrkdwn,
    format_authors,
    format_day,
    mrkdwn_link,
    saved_by_text,
    section_block,
    truncate,
)

__all__ = [
    "MAX_VIEW_BLOCKS",
    "PAGE_SIZE",
    "PICKS_PER_CHANNEL",
    "ChannelPicks",
    "bibtex_view",
    "home_offset",
    "home_view",
    "offset_metadata",
]

MAX_VIEW_BLOCKS = 100  # Slack's cap for a Home tab (views.publish)
PAGE_SIZE = 20  # papers per page: 40 blocks, leaving room for the team picks and the headings
PICKS_PER_CHANNEL = 3
MAX_PICK_CHANNELS = 8


@dataclass(frozen=True, slots=True)
class ChannelPicks:
    """A channel's most signalled papers of the week: (paper, how many people), best first."""

    channel_id: str
    picks: tuple[tuple[PaperRef, int], ...]


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": text, "emoji": True}}


def _button(text: str, action_id: str, value: str, style: str = "") -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": text, "emoji": True},
        "action_id": action_id,
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def _title_link(paper: PaperRef, limit: int = 200) -> str:
    url = f"https://huggingface.co/papers/{paper.key}" if ARXIV_ID_RE.match(paper.key) else ""
    return mrkdwn_link(url, truncate(paper.title or f"arXiv {paper.key}", limit))


def _saved_item(item: SavedPaper, saved_by: int, today: date) -> list[dict[str, Any]]:
    paper = item.paper
    mark = "🔵 " if item.unread else "✓ "
    meta = []
    if paper.authors:
        meta.append(escape_mrkdwn(truncate(format_authors(paper.authors), 300)))
    saved_on = item.saved_at.date()
    when = "today" if saved_on == today else format_day(saved_on, year=saved_on.year != today.year)
    meta.append(f"saved {when}")
    if not item.unread and item.read_at is not None:
        meta.append("read")
    if saved_by > 1:
        meta.append(saved_by_text(saved_by))
    text = f"{mark}*{_title_link(paper)}*\n{' · '.join(meta)}"
    read = (
        _button("Mark read", HOME_READ, paper.key, "primary")
        if item.unread
        else _button("Mark unread", HOME_UNREAD, paper.key)
    )
    buttons = [read, _button("BibTeX", HOME_BIBTEX, paper.key), _button("Remove", HOME_REMOVE, paper.key)]
    return [section_block(text), {"type": "actions", "block_id": f"saved_{paper.key}", "elements": buttons}]


def _picks_blocks(picks: Sequence[ChannelPicks], room: int) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [{"type": "divider"}, _header("🏆 Team picks this week")]
    shown = [c for c in picks if c.picks][:MAX_PICK_CHANNELS]
    if not shown:
        blocks.append(
            context_block(
                "Nothing yet this week in your channels. Papers people save, share or react to in a channel "
                "show up here for everyone in it."
            )
        )
        return blocks if len(blocks) <= room else []
    for channel in shown:
        lines = [f"*<#{channel.channel_id}>*"]
        for rank, (paper, people) in enumerate(channel.picks[:PICKS_PER_CHANNEL], 1):
            who = "1 person" if people == 1 else f"{people} people"
            lines.append(f"{rank}. {_title_link(paper, 150)} · {who}")
        block = section_block("\n".join(lines))
        if len(blocks) + 1 > room:
            break
        blocks.append(block)
    return blocks if len(blocks) > 2 else []


def home_view(
    page: Sequence[SavedPaper],
    *,
    total: int,
    unread: int,
    today: date,
    offset: int = 0,
    saved_by: Mapping[str, int] | None = None,
    picks: Sequence[ChannelPicks] = (),
    notice: str = "",
) -> dict[str, Any]:
    """The Home tab: one page of the reading list (``page``: at most ``PAGE_SIZE`` papers from position
    ``offset`` of a list of ``total``, unread first, newest saved first, as the store returns it), then
    the team picks of the person's channels. ``notice``: one line on top (mrkdwn, already escaped),
    e.g. what the last button did."""
    saved_by = saved_by or {}
    page = list(page)[:PAGE_SIZE]
    blocks: list[dict[str, Any]] = [_header("📚 Your reading list")]
    if notice:
        blocks.append(context_block(notice))
    if not total:
        blocks.append(
            section_block(
                "*Nothing saved yet.* Press *Save* on any paper card (the daily posts, search results, shared "
                "papers), or choose *Save paper* from the ⋯ menu of any message with arXiv or Hugging Face "
                "paper links. Saved papers gather here, unread first, with their BibTeX."
            )
        )
    else:
        summary = f"{total} saved · {unread} unread · only you can see this list"
        if offset:
            summary += f" · showing {offset + 1}–{offset + len(page)}"
        blocks.append(context_block(summary))
        for item in page:
            blocks += _saved_item(item, saved_by.get(item.key, 0), today)
        nav = []
        if offset + len(page) < total:
            rest = total - offset - len(page)
            nav.append(_button(f"Show more ({rest} more)", HOME_MORE, str(offset + len(page))))
        if offset:
            nav.append(_button("Back to the top", HOME_MORE, "0"))
        if nav:
            blocks.append({"type": "actions", "block_id": "home_nav", "elements": nav})
        blocks.append(context_block("Export the whole list as a BibTeX file: `/papers export saved`."))
    blocks += _picks_blocks(picks, MAX_VIEW_BLOCKS - len(blocks) - 1)
    blocks.append(
        context_block("`/papers help` lists every command · `/papers forget me` removes everything stored about you")
    )
    return {"type": "home", "blocks": blocks[:MAX_VIEW_BLOCKS], "private_metadata": offset_metadata(offset)}


def offset_metadata(offset: int) -> str:
    """Where the list stands, kept in the view so a button press re-publishes the same page."""
    return json.dumps({"o": offset})


def home_offset(metadata: str) -> int:
    """``offset_metadata`` read back; 0 for anything else (an old view, a hand-made payload)."""
    try:
        value = json.loads(metadata).get("o", 0)
    except (ValueError, AttributeError):
        return 0
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def bibtex_view(paper: PaperRef, entry: str) -> dict[str, Any]:
    """A modal with one paper's BibTeX entry to copy (opened from the Home tab's BibTeX button)."""
    code = escape_mrkdwn(entry.strip())[:2900]
    return {
        "type": "modal",
        "callback_id": BIBTEX_CALLBACK,
        "title": {"type": "plain_text", "text": "BibTeX"},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": [
            context_block(f"*{_title_link(paper)}* · copy the entry into your reference manager"),
            section_block(f"```{code}```"),
            context_block("The whole reading list as a file: `/papers export saved`."),
        ],
    }
