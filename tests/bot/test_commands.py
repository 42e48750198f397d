"""``parse_command``: which ``/papers`` texts run a subcommand and which are searches (pure)."""

from __future__ import annotations

import pytest

from bot.ui.commands import COMMANDS, Command, parse_command
from bot.ui.replies import help_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Command("help")),
        ("subscribe 08:30 Europe/Berlin", Command("subscribe", "08:30 Europe/Berlin", "subscribe")),
        ("Unsubscribe", Command("unsubscribe", "", "Unsubscribe")),
        ("follow LLM, RAG", Command("follow", "LLM, RAG", "follow")),
        ("sub 9am", Command("subscribe", "9am", "sub")),
        ("unsub", Command("unsubscribe", "", "unsub")),
        ("find speculative decoding", Command("search", "speculative decoding", "find")),
        ("unexclude survey, medical", Command("include", "survey, medical", "unexclude")),
        ("?", Command("help", "", "?")),
        # everyday words are the command only when typed alone
        ("start", Command("subscribe", "", "start")),
        ("stop", Command("unsubscribe", "", "stop")),
        ("filter", Command("topics", "", "filter")),
    ],
)
def test_subcommands_and_aliases(text: str, expected: Command) -> None:
    assert parse_command(text) == expected


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("stop words in transformers", ""),
        ("start tokens for streaming LLMs", ""),
        ("filter bubbles in recommender systems", ""),
        ("status of diffusion models", "status"),
        ("unsubscribe now please", "unsubscribe"),
        ("unsub me", "unsubscribe"),
        ("today's papers", "today"),  # a near-miss of a subcommand, as before
        ("today papers on RAG", "today"),
        ("topics in RLHF", "topics"),
        ("clear reasoning chains", "clear"),
        ("settings for test-time compute", "settings"),
        ("config search", "settings"),
        ("help me find papers", "help"),
    ],
)
def test_a_subcommand_without_arguments_followed_by_words_is_a_search(text: str, hint: str) -> None:
    """The words would be ignored by the subcommand, so running it (unsubscribing!) is the wrong guess."""
    assert parse_command(text) == Command("search", text, "", hint)


def test_only_subcommands_without_arguments_turn_into_searches() -> None:
    no_args = {name for name, (args, _, _) in COMMANDS.items() if not args}
    assert no_args == {"unsubscribe", "status", "today", "topics", "clear", "settings", "help"}
    for name in set(COMMANDS) - no_args:
        assert parse_command(f"{name} some words") == Command(name, "some words", name)
    for name in no_args:
        assert parse_command(f"{name} some words") == Command("search", f"{name} some words", "", name)


def test_help_about_a_subcommand_is_still_help() -> None:
    assert parse_command("help follow") == Command("help", "", "help")
    assert parse_command("help stop") == Command("help", "", "help")


def test_typos_still_get_a_suggestion() -> None:
    assert parse_command("subscibe") == Command("unknown", "subscibe", "subscibe", "subscribe")
    assert parse_command("unfolow robotics") == Command("search", "unfolow robotics", "", "unfollow")
    assert parse_command("speculative decoding") == Command("search", "speculative decoding")


def test_control_characters_become_spaces() -> None:
    assert parse_command("stop\x00words\x1b[31m") == Command("search", "stop words [31m")


def test_help_documents_set_format_and_lists() -> None:
    text = help_text()
    assert (
        "`/papers set max-papers &lt;n&gt; | min-upvotes &lt;n&gt; | format compact|full | related on|off "
        "| follow-ups on|off | recap &lt;day&gt; &lt;HH:MM&gt;|off`"
    ) in text
    assert "(0–100000)" in text and "(1–50)" in text
    assert "`/papers unfollow &lt;topic&gt;[, &lt;topic&gt; …]`" in text
    assert "`/papers include &lt;term&gt;[, &lt;term&gt; …]`" in text
