"""Parsing ``/papers`` text into a subcommand, with a suggestion for typos. Pure."""

from __future__ import annotations

import difflib
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
    "help": ("", "/papers help", "List every command."),
}
_ALIASES = {
    "sub": "subscribe",
    "unsub": "unsubscribe",
    "stop": "unsubscribe",
    "start": "subscribe",
    "?": "help",
}


@dataclass(frozen=True)
class Command:
    name: str  # a key of COMMANDS, or "unknown"
    args: str = ""
    word: str = ""  # what the user typed as the subcommand
    suggestion: str = ""  # closest subcommand for a typo


def parse_command(text: str) -> Command:
    """Split ``text`` into subcommand and arguments; empty text means help."""
    text = " ".join(text.split())
    if not text:
        return Command("help")
    word, _, args = text.partition(" ")
    name = _ALIASES.get(word.lower(), word.lower())
    if name in COMMANDS:
        return Command(name, args, word)
    close = difflib.get_close_matches(name, list(COMMANDS), n=1, cutoff=0.7)
    return Command("unknown", text, word, close[0] if close else "")
