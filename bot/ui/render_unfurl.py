"""Link cards: the paper's card Slack shows under a message that links it (``chat.unfurl``). Pure.

Three kinds of card, by where the paper came from:

* Hugging Face's paper page (``/api/papers/{id}``): title, upvotes, authors, the AI summary (or the
  abstract's first sentences), GitHub stars and the counts of linked models, datasets and Spaces;
* Hugging Face's day list kept in the archive (when the paper page is unavailable): the same, without
  the counts;
* arXiv's metadata (a paper Hugging Face does not know yet): title, authors, the abstract's first
  sentences, the arXiv date and links, and a line saying it is not on Hugging Face yet.

Each ends with **Save** (the reading list) and, when the paper has a main keyword that can be a topic,
**Follow** for that keyword. Untrusted text reaches mrkdwn through ``escape_mrkdwn`` only.
"""

from __future__ import annotations

from typing import Any

from bot.feed.papers import ARXIV_ID_RE, Paper
from bot.ui.render import (
    escape_mrkdwn,
    first_sentences,
    format_authors,
    format_day,
    mrkdwn_link,
    mrkdwn_text,
    render_paper_card,
    save_button,
    truncate,
)
from bot.ui.render_search import follow_button, main_keyword

__all__ = ["CARD_SOURCES", "render_unfurl_card"]

CARD_SOURCES = ("hf", "archive", "arxiv")


def _buttons(paper: Paper) -> list[dict[str, Any]]:
    buttons = [save_button(paper.key)]
    keyword = main_keyword(paper)
    follow = follow_button(keyword, f"➕ Follow “{truncate(keyword, 40)}”") if keyword else None
    if follow is not None:
        buttons.append(follow)
    return buttons


def _arxiv_card(paper: Paper) -> list[dict[str, Any]]:
    abs_url, pdf_url = f"https://arxiv.org/abs/{paper.key}", f"https://arxiv.org/pdf/{paper.key}"
    head = f"*{mrkdwn_link(abs_url, truncate(paper.title, 300))}*"
    meta = [escape_mrkdwn(format_authors(paper.authors))] if paper.authors else []
    if paper.published:
        meta.append(f"arXiv, {format_day(paper.published)}")
    summary = escape_mrkdwn(first_sentences(paper.abstract, 300)) if paper.abstract else ""
    text = "\n".join(part for part in (head, " · ".join(meta), summary) if part)
    links = f"{mrkdwn_link(abs_url, 'arXiv')} · {mrkdwn_link(pdf_url, 'PDF')} · not on Hugging Face yet"
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": mrkdwn_text(text)},
        {"type": "context", "elements": [mrkdwn_text(links)]},
    ]
    if ARXIV_ID_RE.match(paper.key):  # the reading list keeps new-style ids; older papers get no Save
        blocks.append({"type": "actions", "elements": [save_button(paper.key)]})
    return blocks


def render_unfurl_card(paper: Paper, *, source: str) -> list[dict[str, Any]]:
    """The card's blocks for a paper found on Hugging Face (``hf``), in the archive (``archive``) or on
    arXiv (``arxiv``)."""
    if source not in CARD_SOURCES:
        raise ValueError(f"unknown card source {source!r}")
    if source == "arxiv":
        return _arxiv_card(paper)
    return render_paper_card(paper, include_counts=source == "hf", buttons=_buttons(paper))
