"""Parsing ``/papers`` text into a subcommand, with a suggestion for typos. Pure."""

from __future__ import annotations

import difflib
import unicodedata
from dataclasses import dataclass

from bot.channels.edits import MAX_PAPERS_LIMIT, MAX_UPVOTES_LIMIT

__all__ = ["COMMANDS", "Command", "parse_command"]

# subcommand → (arguments, example, what it does); the help text and the typo suggestions use it.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "subscribe": (
        "[HH:MM] [time zone] [days]",
        "/papers subscribe 08:30 Europe/Berlin mon-fri",
        "Post the day's trending papers in this channel (default 09:00 Mon–Fri); the time zone may be a "
        "city (`berlin`, `new york`).",
    ),
    "unsubscribe": ("", "/papers unsubscribe", "Stop the daily posts here (settings are kept)."),
    "status": ("", "/papers status", "Show this channel's schedule, filter and next post time."),
    "today": ("", "/papers today", "Show privately what the next post would contain."),
    "follow": (
        "<topic>[, <topic> …]",
        '/papers follow model merging, "process reward", LLM',
        "Post only papers about these topics (any of them); qualifiers like `org:nvidia` narrow.",
    ),
    "unfollow": (
        "<topic>[, <topic> …]",
        "/papers unfollow model merging, org:nvidia",
        "Stop following topics, or drop qualifiers like `org:nvidia`; says which were not in the filter.",
    ),
    "exclude": ("<term>[, <term> …]", "/papers exclude medical, survey", "Drop papers that mention a term."),
    "include": (
        "<term>[, <term> …]",
        "/papers include survey, medical",
        "Undo exclusions; says which terms were not excluded.",
    ),
    "topics": ("", "/papers topics", "Show this channel's filter in full, with who changed it and when."),
    "set": (
        "max-papers <n> | min-upvotes <n> | format compact|full | related on|off | follow-ups on|off | "
        "recap <day> <HH:MM>|off",
        "/papers set recap fri 16:00",
        f"Change how many papers a post has (1–{MAX_PAPERS_LIMIT}), the upvotes a paper needs "
        f"(0–{MAX_UPVOTES_LIMIT}), the post format (`full`: a card per paper, `compact`: a line each), "
        "whether papers close in meaning to a topic come too (`related`, marked _Related to:_), whether "
        "a post's thread is told when its papers' code, models, datasets or Spaces appear (`follow-ups`), "
        "and the weekly recap (the week's top papers here and a chart, in the channel's time zone).",
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
    "export": (
        "saved | posted [days]",
        "/papers export posted 30",
        "Send yourself a BibTeX file (.bib, in our DM): your reading list, or what was posted here in the "
        "last days (default 30, max 365).",
    ),
    "forget": ("me", "/papers forget me", "Remove everything stored about you: reading list and signals (asks first)."),
    "help": ("", "/papers help", "List every command."),
}
_ALIASES = {
    "sub": "subscribe",
    "unsub": "unsubscribe",
    "?": "help",
    "find": "search",
    "unexclude": "include",
    "config": "settings",
}
# Everyday words that begin real queries ("stop words", "start tokens", "filter bubbles"): they are the
# command only when typed alone, so ``/papers start`` subscribes but ``/papers start tokens`` searches.
_BARE_ALIASES = {"stop": "unsubscribe", "start": "subscribe", "filter": "topics"}


@dataclass(frozen=True)
class Command:
    name: str  # a key of COMMANDS, or "unknown" (a likely typo of one)
    args: str = ""
    word: str = ""  # what the user typed as the subcommand
    suggestion: str = ""  # closest subcommand for a typo, or the one a search began with


def _takes_arguments(name: str) -> bool:
    return bool(COMMANDS[name][0])


def parse_command(text: str) -> Command:
    """Split ``text`` into subcommand and arguments; empty text means help.

    Text that does not start with a subcommand is a search (``/papers speculative decoding``), unless
    it is one word that looks like a mistyped subcommand (``/papers subscibe``): that gets a
    suggestion instead of a search nobody asked for. A subcommand that takes no arguments followed by
    more words is a search too (``/papers stop words in transformers``, ``/papers status of RLHF``):
    running ``unsubscribe`` or ``clear`` on words it would ignore is the worse mistake, and a search
    changes nothing. ``help <subcommand>`` is still help.
    """
    # Control characters (NUL, ESC, DEL, …) have no business in a command and would be stored in
    # filters and echoed in replies; whitespace ones become spaces with the split below.
    text = " ".join("".join(ch if unicodedata.category(ch) != "Cc" else " " for ch in text).split())
    if not text:
        return Command("help")
    word, _, args = text.partition(" ")
    key = word.lower()
    if key in _BARE_ALIASES:
        return Command(_BARE_ALIASES[key], "", word) if not args else Command("search", text)
    name = _ALIASES.get(key, key)
    if name in COMMANDS:
        if not args or _takes_arguments(name):
            return Command(name, args, word)
        asked = args.lower()
        if name == "help" and (asked in COMMANDS or asked in _ALIASES or asked in _BARE_ALIASES):
            return Command("help", "", word)
        return Command("search", text, "", name)
    close = difflib.get_close_matches(name, list(COMMANDS), n=1, cutoff=0.75)
    if close and not args:
        return Command("unknown", text, word, close[0])
    return Command("search", text, "", close[0] if close else "")
