"""Parsing ``/papers`` text into a subcommand, with a suggestion for typos. Pure."""

from __future__ import annotations

import difflib
import unicodedata
from dataclasses import dataclass

__all__ = ["COMMANDS", "Command", "parse_command"]

# subcommand → (arguments, example, what it does); the help text and the typo suggestions use it.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "subscribe": (
        "[HH:MM] [time zone] [days]",
        "/papers subscribe 08:30 Europe/Berlin mon-fri",
        "Post the day's trending papers in this channel (default 09:00 Mon–Fri).",
    ),
    "unsubscribe": ("", "/papers unsubscribe", "Stop the daily posts here (settings are kept)."),
    "status": ("", "/papers status", "Show this channel's schedule, filter and next post time."),
    "today": ("", "/papers today", "Show privately what the next post would contain."),
    "follow": (
        "<topic>[, <topic> …]",
        '/papers follow model merging, "process reward", LLM',
        "Post only papers about these topics (any of them); qualifiers like `org:nvidia` narrow.",
    ),
    "unfollow": ("<topic>", "/papers unfollow model merging", "Stop following a topic."),
    "exclude": ("<term>[, <term> …]", "/papers exclude medical, survey", "Drop papers that mention a term."),
    "include": ("<term>", "/papers include survey", "Undo an exclusion."),
    "topics": ("", "/papers topics", "Show this channel's filter in full, with who changed it and when."),
    "set": (
        "max-papers <n> | min-upvotes <n>",
        "/papers set min-upvotes 10",
        "Change how many papers a post has (1–50) or the upvotes a paper needs.",
    ),
    "clear": ("", "/papers clear", "Remove every topic, exclusion and qualifier (asks first)."),
    "preview": (
        "[days]",
        "/papers preview 7",
        "Show privately what the filter would have posted over the last days (default 5, max 14).",
    ),
    "settings": ("", "/papers settings", "Edit this channel's whole configuration in a form."),
    "search": (
        "[--posted] <query | arXiv id | link>",
        "/papers search speculative decoding",
        "Find papers privately; `--posted` searches what was posted here. `/papers <query>` works too.",
    ),
    "help": ("", "/papers help", "List every command."),
}
_ALIASES = {
    "sub": "subscribe",
    "unsub": "unsubscribe",
    "stop": "unsubscribe",
    "start": "subscribe",
    "?": "help",
    "find": "search",
    "unexclude": "include",
    "filter": "topics",
    "config": "settings",
}


@dataclass(frozen=True)
class Command:
    name: str  # a key of COMMANDS, or "unknown" (a likely typo of one)
    args: str = ""
    word: str = ""  # what the user typed as the subcommand
    suggestion: str = ""  # closest subcommand for a typo


def parse_command(text: str) -> Command:
    """Split ``text`` into subcommand and arguments; empty text means help.

    Text that does not start with a subcommand is a search (``/papers speculative decoding``), unless
    it is one word that looks like a mistyped subcommand (``/papers subscibe``): that gets a
    suggestion instead of a search nobody asked for.
    """
    # Control characters (NUL, ESC, DEL, …) have no business in a command and would be stored in
    # filters and echoed in replies; whitespace ones become spaces with the split below.
    text = " ".join("".join(ch if unicodedata.category(ch) != "Cc" else " " for ch in text).split())
    if not text:
        return Command("help")
    word, _, args = text.partition(" ")
    name = _ALIASES.get(word.lower(), word.lower())
    if name in COMMANDS:
        return Command(name, args, word)
    close = difflib.get_close_matches(name, list(COMMANDS), n=1, cutoff=0.75)
    if close and not args:
        return Command("unknown", text, word, close[0])
    return Command("search", text, "", close[0] if close else "")
