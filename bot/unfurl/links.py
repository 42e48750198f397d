"""Which papers a ``link_shared`` event names, and where Slack wants their cards. Pure.

Slack sends ``link_shared`` for every link to a domain in the manifest's ``unfurl_domains``
(``arxiv.org``, ``huggingface.co``, ``hf.co``), in a posted message (``source: conversations_history``,
answered with ``channel`` + ``ts``) or in the message composer before sending (``source: composer``,
answered with ``unfurl_id`` + ``source``). Only paper links count: ``arxiv.org/abs|pdf|html/<id>`` with
or without a version (and the old ``.pdf`` suffix), ``huggingface.co/papers/<id>``, ``hf.co/papers/<id>``;
a model page or the arXiv listing pages are left to Slack. The URL is kept exactly as Slack sent it:
``chat.unfurl`` matches its cards to the message's links by that string.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.search.query import find_arxiv_id

__all__ = ["MAX_CARDS", "LinkShared", "paper_id_of", "parse_link_shared"]

MAX_CARDS = 5  # cards per message: a message listing twenty papers should not become a wall of cards


@dataclass(frozen=True, slots=True)
class LinkShared:
    """One ``link_shared`` event, reduced to what an unfurl needs."""

    channel: str
    message_ts: str
    unfurl_id: str
    source: str  # "conversations_history" or "composer"
    user: str
    links: tuple[tuple[str, str], ...]  # (url as Slack sent it, arXiv id), one per paper, in order

    @property
    def composer(self) -> bool:
        return self.source == "composer"

    def target(self) -> dict[str, str]:
        """``chat.unfurl``'s address for the cards: the composer's ``unfurl_id`` + ``source``, or the
        posted message's ``channel`` + ``ts`` (Slack's documented pair for each case)."""
        if self.composer or not (self.channel and self.message_ts):
            return {"unfurl_id": self.unfurl_id, "source": self.source or "composer"}
        return {"channel": self.channel, "ts": self.message_ts}


def paper_id_of(url: str) -> str:
    """The arXiv id (no version) a paper link names, or ``""`` for any other link."""
    if not url.lower().startswith(("http://", "https://")):
        return ""
    return find_arxiv_id(url)


def parse_link_shared(event: Mapping[str, Any]) -> LinkShared | None:
    """The papers of an event, at most ``MAX_CARDS``, each once (its first link); None when the event
    has no paper link or no address to answer to."""
    links = event.get("links")
    if not isinstance(links, list):
        return None
    found: dict[str, str] = {}  # arXiv id -> first url
    for link in links:
        url = link.get("url") if isinstance(link, Mapping) else None
        if not isinstance(url, str):
            continue
        key = paper_id_of(url)
        if key and key not in found:
            found[key] = url
        if len(found) >= MAX_CARDS:
            break
    shared = LinkShared(
        channel=str(event.get("channel") or ""),
        message_ts=str(event.get("message_ts") or ""),
        unfurl_id=str(event.get("unfurl_id") or ""),
        source=str(event.get("source") or ""),
        user=str(event.get("user") or ""),
        links=tuple((url, key) for key, url in found.items()),
    )
    addressed = (shared.unfurl_id and shared.source) or (shared.channel and shared.message_ts and not shared.composer)
    return shared if shared.links and addressed else None
