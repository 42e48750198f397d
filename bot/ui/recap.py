"""The weekly recap message. Pure.

One message: a header naming the week, one line of how the papers were chosen, then one compact card
per paper (title link, upvotes, how many people here signalled it, first authors) with its **Save**
button. At most ``MAX_RECAP_PAPERS`` papers, so the message is far inside Slack's 50 blocks and 12k
characters; the chart follows in the thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from bot.feed.papers import ARXIV_ID_RE, Paper
from bot.ui.render import (
    MAX_FALLBACK_CHARS,
    Message,
    escape_mrkdwn,
    format_authors,
    format_days,
    mrkdwn_link,
    mrkdwn_text,
    save_button,
    truncate,
)

__all__ = ["MAX_RECAP_PAPERS", "render_recap", "uploads_refused_text"]

MAX_RECAP_PAPERS = 10


def render_recap(week: str, days: Sequence[date], picks: Sequence[tuple[Paper, int]], *, chart: bool) -> Message:
    """``picks``: (paper, people here who signalled it), best first. ``chart``: a chart follows in the thread."""
    span = format_days([days[0], days[-1]]) if days else week
    header = truncate(f"📈 Weekly recap · {span}", 150)
    how = "Team signals here (saves, shares, reactions) first, then Hugging Face upvotes, within this channel's filter."
    if chart:
        how += " The chart is in the thread."
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header, "emoji": True}},
        {"type": "context", "elements": [mrkdwn_text(how)]},
    ]
    shown = list(picks)[:MAX_RECAP_PAPERS]
    if not shown:
        blocks.append({"type": "section", "text": mrkdwn_text("No paper of this week matched this channel's filter.")})
    for rank, (paper, people) in enumerate(shown, 1):
        url = paper.hf_url if ARXIV_ID_RE.match(paper.key) else ""
        meta = [f"▲ {paper.upvotes}"]
        if people:
            meta.append(f"👥 {people} here")
        if paper.authors:
            meta.append(escape_mrkdwn(truncate(format_authors(paper.authors), 300)))
        text = f"*{rank}. {mrkdwn_link(url, truncate(paper.title, 250))}*\n{' · '.join(meta)}"
        section: dict[str, Any] = {"type": "section", "text": mrkdwn_text(text)}
        if ARXIV_ID_RE.match(paper.key):
            section["accessory"] = save_button(paper.key)
        blocks.append(section)
    fallback = f"Weekly recap {week}: " + ", ".join(
        f"{rank}. {escape_mrkdwn(truncate(p.title, 120))}" for rank, (p, _) in enumerate(shown, 1)
    )
    return Message(truncate(fallback, MAX_FALLBACK_CHARS), blocks, tuple(p.key for p, _ in shown))


def uploads_refused_text(code: str) -> str:
    """Said once per channel, in the recap's thread, when Slack refuses the chart upload."""
    if code in ("file_uploads_disabled", "file_uploads_except_images_disabled"):
        why = "file uploads are turned off in this workspace"
    else:
        why = f"Slack refused the upload (`{escape_mrkdwn(code)}`)"
    return (
        f"I couldn't attach this week's chart: {why}. Recaps here will come without it; "
        "the papers above are the whole recap."
    )
