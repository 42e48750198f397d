"""Paper links in a message, for the *Save paper* shortcut. Pure.

A message names papers as links Slack wrapped (``<https://arxiv.org/abs/2406.12345|title>``), bare
URLs, ``arXiv:2406.12345`` or, in the bot's own cards, inside its blocks; unfurled previews sit in its
attachments. All of it is searched, and each paper is counted once, in the order it first appears.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["MAX_PAPERS_PER_MESSAGE", "paper_ids_in", "paper_ids_in_message"]

MAX_PAPERS_PER_MESSAGE = 50  # a message listing more is a bibliography, not a save

_ID = r"(\d{4}\.\d{4,5})(?:v\d+)?"
_PATTERNS = (
    re.compile(rf"arxiv\.org/(?:abs|pdf|html)/{_ID}", re.IGNORECASE),
    re.compile(rf"(?:huggingface\.co|hf\.co)/papers/{_ID}", re.IGNORECASE),
    re.compile(rf"\barxiv:\s*{_ID}", re.IGNORECASE),
)


def paper_ids_in(text: str) -> list[str]:
    """arXiv ids (no version) of every paper link or ``arXiv:`` reference in ``text``, first seen first."""
    found: dict[str, int] = {}
    for pattern in _PATTERNS:
        for match in pattern.finditer(text):
            found.setdefault(match.group(1), match.start())
    return sorted(found, key=lambda key: found[key])[:MAX_PAPERS_PER_MESSAGE]


def paper_ids_in_message(message: dict[str, Any]) -> list[str]:
    """Every paper a Slack message shows: its text, then its blocks and attachments (link previews)."""
    parts = [str(message.get("text") or "")]
    for key in ("blocks", "attachments", "files"):
        if message.get(key):
            parts.append(json.dumps(message[key], ensure_ascii=False))
    return paper_ids_in("\n".join(parts))
