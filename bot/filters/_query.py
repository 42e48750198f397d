"""The filter model and its query language (``parse_filter``/``format_filter``). Pure; see
``bot.filters`` for the language."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from bot.errors import UserInputError
from bot.filters._terms import (
    EXAMPLE,
    MAX_EXCLUDED,
    MAX_NAMES,
    MAX_TERM_LENGTH,
    MAX_TERM_WORDS,
    MAX_TOPICS,
    MAX_UPVOTES,
    TOPICS_EXAMPLE,
    phrase_key,
    words_of,
)

# ---------------------------------------------------------------------------------------------------
# The filter model

__all__ = ["ChannelFilter", "format_filter", "parse_filter", "parse_topic_list"]


@dataclass(frozen=True, slots=True)
class ChannelFilter:
    """What one channel wants; values as typed, de-duplicated on their normalised form."""

    topics: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    orgs: tuple[str, ...] = ()
    min_upvotes: int = 0
    has_code: bool = False
    # A channel setting, not part of the query text: papers close in meaning to a topic match too
    # (when the `semantic` extra is installed). ``format_filter`` leaves it out.
    related: bool = True

    def is_empty(self) -> bool:
        return replace(self, related=True) == ChannelFilter()

    def with_topics(self, topics: Iterable[str]) -> ChannelFilter:
        return replace(self, topics=_merge(self.topics, topics, "topic", MAX_TOPICS))

    def without_topic(self, topic: str) -> ChannelFilter:
        return replace(self, topics=_remove(self.topics, topic, "topic"))

    def with_excluded(self, terms: Iterable[str]) -> ChannelFilter:
        return replace(self, excluded=_merge(self.excluded, terms, "exclusion", MAX_EXCLUDED))

    def without_excluded(self, term: str) -> ChannelFilter:
        return replace(self, excluded=_remove(self.excluded, term, "exclusion"))


def _clean(text: str, what: str) -> str:
    term = " ".join(text.translate(_QUOTES).split())
    if len(term) >= 2 and term[0] == term[-1] == '"':
        term = term[1:-1].strip()
    if not term:
        raise UserInputError(f"Empty {what}.", EXAMPLE)
    if '"' in term:
        raise UserInputError(f"A {what} cannot contain a double quote: {term}", EXAMPLE)
    if len(term) > MAX_TERM_LENGTH:
        raise UserInputError(
            f'The {what} "{term[:40]}…" has {len(term)} characters; the limit is {MAX_TERM_LENGTH}.', EXAMPLE
        )
    words = words_of(term)
    if not words:
        raise UserInputError(f'The {what} "{term}" has no letters or digits.', EXAMPLE)
    if len(words) > MAX_TERM_WORDS:
        raise UserInputError(f'The {what} "{term}" has {len(words)} words; the limit is {MAX_TERM_WORDS}.', EXAMPLE)
    return term


def _merge(old: tuple[str, ...], new: Iterable[str], what: str, cap: int, *, names: bool = False) -> tuple[str, ...]:
    keyed = (lambda t: " ".join(words_of(t))) if names else (lambda t: phrase_key(tuple(words_of(t))))
    out, seen = list(old), {keyed(t) for t in old}
    for raw in [new] if isinstance(new, str) else new:
        term = _clean(raw, what)
        if keyed(term) not in seen:
            seen.add(keyed(term))
            out.append(term)
    if len(out) > cap:
        raise UserInputError(
            f"A channel can have at most {cap} {what}s; this would make {len(out)}. Remove some first.",
            TOPICS_EXAMPLE,
        )
    return tuple(out)


def _remove(old: tuple[str, ...], term: str, what: str) -> tuple[str, ...]:
    key = phrase_key(tuple(words_of(term)))
    kept = tuple(t for t in old if phrase_key(tuple(words_of(t))) != key)
    if not key or len(kept) == len(old):
        listed = ", ".join(old) if old else "nothing yet"
        article = "an" if what[0] in "aeiou" else "a"
        message = f'"{term.strip()}" is not {article} {what} here. Current {what}s: {listed}.'
        raise UserInputError(message, old[0] if old else "")
    return kept


# ---------------------------------------------------------------------------------------------------
# Query language

_QUOTES = str.maketrans(dict.fromkeys("“”„‟«»＂", '"'))
_LEX_RE = re.compile(r'\s*(?:(,)|"([^"]*)("?)|([^\s,"]+))')
_QUALIFIER_RE = re.compile(r"^([^\W\d_][\w-]*):(.*)$")
_KEYS = {
    "author": "author", "authors": "author", "org": "org", "organization": "org", "organisation": "org",
    "min-upvotes": "min-upvotes", "min_upvotes": "min-upvotes", "minupvotes": "min-upvotes",
    "upvotes": "min-upvotes", "has": "has", "exclude": "exclude",
}  # fmt: skip


def _lex(text: str) -> list[tuple[str, str]]:
    """(",", ","), ('"', phrase) or ("w", word) tokens; an unclosed quote is an error."""
    text, pos, out = text.translate(_QUOTES), 0, []
    while (m := _LEX_RE.match(text, pos)) is not None:
        pos = m.end()
        if m[1]:
            out.append((",", ","))
        elif m[2] is not None:
            if not m[3]:
                raise UserInputError(f"Unclosed quote in: {text.strip()}", EXAMPLE)
            if m[2].strip():
                out.append(('"', m[2]))
        else:
            out.append(("w", m[4]))
    return out


def _value(tokens: list[tuple[str, str]], i: int, key: str) -> tuple[str, int]:
    if i < len(tokens) and tokens[i][0] != ",":
        return tokens[i][1], i + 1
    raise UserInputError(f"`{key}` needs a value right after it.", EXAMPLE)


def parse_filter(text: str) -> ChannelFilter:
    """Parse the query language described in the module docstring; raise ``UserInputError``."""
    tokens = _lex(text)
    topics: list[str] = []
    excluded: list[str] = []
    authors: list[str] = []
    orgs: list[str] = []
    min_upvotes, has_code, phrase, i = 0, False, [], 0
    while i < len(tokens):
        kind, word = tokens[i]
        i += 1
        if kind == "w" and not word.startswith("-") and not _QUALIFIER_RE.match(word):
            phrase.append(word)
            continue
        if phrase:
            topics.append(" ".join(phrase))
            phrase = []
        if kind == '"':
            topics.append(word)
        elif kind == "w" and word.startswith("-"):
            term, i = (word[1:], i) if len(word) > 1 else _value(tokens, i, "-")
            qualifier = _QUALIFIER_RE.match(term) if len(word) > 1 else None
            if qualifier and qualifier[1].casefold() in _KEYS:
                raise UserInputError(f"`{word}`: qualifiers cannot be negated; only terms can.", EXAMPLE)
            excluded.append(term)
        elif kind == "w":
            qualifier = _QUALIFIER_RE.match(word)
            assert qualifier is not None
            key = _KEYS.get(qualifier[1].casefold())
            if key is None:
                close = difflib.get_close_matches(qualifier[1].casefold(), list(_KEYS), n=1, cutoff=0.7)
                guess = f" Did you mean `{close[0]}:`?" if close else ""
                raise UserInputError(
                    f"Unknown filter `{qualifier[1]}:`.{guess} Known: author:, org:, min-upvotes:, "
                    'has:code, exclude: (or -term). Put a topic containing ":" in quotes.',
                    EXAMPLE,
                )
            value, i = (qualifier[2], i) if qualifier[2] else _value(tokens, i, f"{qualifier[1]}:")
            if key == "author":
                authors.append(value)
            elif key == "org":
                orgs.append(value)
            elif key == "exclude":
                excluded.append(value)
            elif key == "has":
                if value.strip().casefold() not in ("code", "github", "repo"):
                    raise UserInputError(f"`has:` only knows `code` (a GitHub repo), not `{value}`.", "has:code")
                has_code = True
            else:
                value = value.strip()
                if not (value.isascii() and value.isdigit()) or len(value) > 9 or int(value) > MAX_UPVOTES:
                    raise UserInputError(
                        f"`min-upvotes:` needs a whole number from 0 to {MAX_UPVOTES}, not `{value[:20]}`.",
                        "min-upvotes:10",
                    )
                min_upvotes = int(value)
    if phrase:
        topics.append(" ".join(phrase))
    return replace(
        ChannelFilter(min_upvotes=min_upvotes, has_code=has_code).with_topics(topics).with_excluded(excluded),
        authors=_merge((), authors, "author", MAX_NAMES, names=True),
        orgs=_merge((), orgs, "org", MAX_NAMES, names=True),
    )


def _quoted(value: str, *, qualifier: bool) -> str:
    bare = "," not in value and ":" not in value and not any(w.startswith("-") for w in value.split())
    return value if bare and not (qualifier and " " in value) else f'"{value}"'


def format_filter(f: ChannelFilter) -> str:
    """The canonical text of a filter: ``parse_filter(format_filter(f)) == f``."""
    parts = [_quoted(t, qualifier=False) for t in f.topics]
    parts += [f"-{_quoted(t, qualifier=True)}" for t in f.excluded]
    parts += [f"author:{_quoted(a, qualifier=True)}" for a in f.authors]
    parts += [f"org:{_quoted(o, qualifier=True)}" for o in f.orgs]
    parts += [f"min-upvotes:{f.min_upvotes}"] if f.min_upvotes else []
    parts += ["has:code"] if f.has_code else []
    return ", ".join(parts)


def parse_topic_list(text: str) -> list[str]:
    """Topics for ``/papers follow a, "b c", d``: comma-separated, quotes optional, validated."""
    topics, phrase = [], []
    for kind, word in _lex(text):
        if kind == "w" and (word.startswith("-") or _QUALIFIER_RE.match(word)):
            raise UserInputError(
                f"`{word}` looks like a filter, not a topic. Quote it to follow it as written.", TOPICS_EXAMPLE
            )
        if kind == "w":
            phrase.append(word)
            continue
        if phrase:
            topics.append(" ".join(phrase))
            phrase = []
        if kind == '"':
            topics.append(word)
    if phrase:
        topics.append(" ".join(phrase))
    if not topics:
        raise UserInputError("Name at least one topic.", TOPICS_EXAMPLE)
    return list(ChannelFilter().with_topics(topics).topics)
