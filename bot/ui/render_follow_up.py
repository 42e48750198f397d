"""The follow-up reply in a post's thread: which of its papers got code, models, datasets or Spaces.

Pure. One reply carries every paper of the post with news (``Code released: owner/repo (★ 120) · 2
models · 1 Space``), each line naming its paper, so a thread that hears about three papers gets one
notification, not three. Titles and repository names come from Hugging Face and reach mrkdwn only
through ``escape_mrkdwn`` (inside ``mrkdwn_link``); links are only https URLs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bot.feed.papers import ARXIV_ID_RE
from bot.models import PaperLinks
from bot.ui.render import MAX_FALLBACK_CHARS, Message, escape_mrkdwn, mrkdwn_link, section_block, short_count, truncate

__all__ = ["PaperNews", "news_text", "render_follow_up", "repo_name"]

_GITHUB_PATH_RE = re.compile(r"^/([\w.-]+)/([\w.-]+)")
_WORDS = {"models": "model", "datasets": "dataset", "spaces": "Space"}
_MAX_TITLE = 200


@dataclass(frozen=True, slots=True)
class PaperNews:
    """One paper's news: what appeared since the post (``items``) and its links as last seen."""

    paper_key: str
    title: str
    links: PaperLinks
    items: tuple[str, ...]  # of FOLLOW_UP_ITEMS: "code", "models", "datasets", "spaces"

    @property
    def page(self) -> str:
        return f"https://huggingface.co/papers/{self.paper_key}" if ARXIV_ID_RE.match(self.paper_key) else ""


def repo_name(url: str) -> str:
    """``https://github.com/owner/repo`` → ``owner/repo``; another host shows as ``host/path``."""
    parts = urlsplit(url)
    match = _GITHUB_PATH_RE.match(parts.path) if parts.netloc.lower() in ("github.com", "www.github.com") else None
    if match:
        return f"{match.group(1)}/{match.group(2).removesuffix('.git')}"
    return truncate(f"{parts.netloc}{parts.path}".rstrip("/") or url, 100)


def _count(n: int, item: str) -> str:
    word = _WORDS[item]
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def news_text(news: PaperNews, *, mrkdwn: bool = True) -> str:
    """``Code released: owner/repo (★ 120) · 2 models · 1 Space`` (links in mrkdwn, plain otherwise)."""
    parts = []
    links = news.links
    if "code" in news.items and links.repo:
        name = repo_name(links.repo)
        stars = f" (★ {short_count(links.stars)})" if links.stars is not None else ""
        parts.append(f"Code released: {mrkdwn_link(links.repo, name) if mrkdwn else name}{stars}")
    for item in ("models", "datasets", "spaces"):
        n = getattr(links, item)
        if item in news.items and n > 0:
            label = _count(n, item)
            parts.append(mrkdwn_link(news.page, label) if mrkdwn and news.page else label)
    text = " · ".join(parts)
    return text if "code" in news.items else f"New on Hugging Face: {text}"


def _title(news: PaperNews) -> str:
    return news.title or f"arXiv {news.paper_key}"


def render_follow_up(news: Sequence[PaperNews]) -> Message:
    """The reply: a context line, then one section per paper (title, then its news)."""
    if not news:
        raise ValueError("a follow-up needs at least one paper with news")
    lead = "🔔 News since this post" if len(news) == 1 else f"🔔 News since this post, for {len(news)} papers"
    blocks: list[dict[str, Any]] = [{"type": "context", "elements": [{"type": "mrkdwn", "text": lead}]}]
    for item in news:
        title = mrkdwn_link(item.page, truncate(_title(item), _MAX_TITLE))
        text = f"*{title}*\n{news_text(item)}"
        blocks.append(section_block(text))
    return Message(_fallback(news), blocks, tuple(n.paper_key for n in news))


def _fallback(news: Sequence[PaperNews]) -> str:
    """The notification text: ``Since this post: Title: Code released: o/r (★ 1); …``, escaped and capped."""
    text = "Since this post:"
    for index, item in enumerate(news):
        piece = f"{';' if index else ''} {escape_mrkdwn(truncate(_title(item), 150))}: "
        piece += escape_mrkdwn(news_text(item, mrkdwn=False))
        if len(text) + len(piece) > MAX_FALLBACK_CHARS - 3:
            return text + "; …"
        text += piece
    return text
