"""The changes ``/papers follow|unfollow|exclude|include|set|clear`` make to a channel. Pure.

Each edit takes the stored config and the user's text and returns the new config plus a one-line
summary for the change history, or raises ``UserInputError`` naming what was wrong, so nothing is
stored half-changed. The channel's minimum upvotes live in one place, ``ChannelConfig.min_upvotes``:
a ``min-upvotes:10`` typed into a filter moves there, so ``/papers set min-upvotes`` and the filter
can never disagree.
"""

from __future__ import annotations

import re
from dataclasses import replace

from bot.errors import UserInputError
from bot.filters import MAX_NAMES, ChannelFilter, format_filter, parse_filter, parse_topic_list
from bot.models import ChannelConfig, FilterChange
from bot.selection import channel_filter

__all__ = [
    "MAX_HISTORY",
    "MAX_PAPERS_LIMIT",
    "MAX_UPVOTES_LIMIT",
    "Edit",
    "apply_clear",
    "apply_exclude",
    "apply_follow",
    "apply_include",
    "apply_set",
    "apply_unfollow",
    "record_change",
    "with_filter",
]

MAX_PAPERS_LIMIT = 50  # a Slack message holds 50 blocks; more papers would be unreadable anyway
MAX_UPVOTES_LIMIT = 100_000
MAX_HISTORY = 20
SET_EXAMPLE = "/papers set max-papers 5"

Edit = tuple[ChannelConfig, str]


def with_filter(config: ChannelConfig, new: ChannelFilter) -> ChannelConfig:
    """Store ``new`` canonically, its min-upvotes qualifier moved to the channel setting."""
    return config.replace(filter_text=format_filter(replace(new, min_upvotes=0)), min_upvotes=new.min_upvotes)


def _quoted_list(items: list[str] | tuple[str, ...]) -> str:
    return ", ".join(f'"{item}"' for item in items)


def _add_names(old: tuple[str, ...], new: tuple[str, ...]) -> tuple[str, ...]:
    known = {n.casefold() for n in old}
    added = tuple(n for n in new if n.casefold() not in known)
    if len(old) + len(added) > MAX_NAMES:
        raise UserInputError(f"A channel can have at most {MAX_NAMES} authors and {MAX_NAMES} orgs.", "/papers topics")
    return old + added


def apply_follow(config: ChannelConfig, text: str) -> Edit:
    """``follow a, "b c", org:nvidia``: topics add up; qualifiers and exclusions may come along."""
    if not text.strip():
        raise UserInputError("Name at least one topic to follow.", '/papers follow model merging, "process reward"')
    typed = parse_filter(text)
    current = channel_filter(config)
    merged = current.with_topics(typed.topics).with_excluded(typed.excluded)
    merged = replace(
        merged,
        authors=_add_names(current.authors, typed.authors),
        orgs=_add_names(current.orgs, typed.orgs),
        min_upvotes=typed.min_upvotes or current.min_upvotes,
        has_code=current.has_code or typed.has_code,
    )
    if merged == current:
        raise UserInputError("This channel already follows all of that; nothing changed.", "/papers topics")
    return with_filter(config, merged), f"followed {format_filter(typed)}"


_QUALIFIER_RE = re.compile(r"^\s*(author|org|has|min-upvotes|exclude)\s*:\s*(.*?)\s*$", re.IGNORECASE | re.DOTALL)


def _unquote(value: str) -> str:
    value = value.strip()
    return value[1:-1].strip() if len(value) >= 2 and value[0] == value[-1] == '"' else value


def apply_unfollow(config: ChannelConfig, text: str) -> Edit:
    """``unfollow model merging`` drops a topic; ``unfollow org:nvidia`` or ``has:code`` a qualifier."""
    if not text.strip():
        raise UserInputError("Name the topic to stop following.", "/papers unfollow model merging")
    current = channel_filter(config)
    qualifier = _QUALIFIER_RE.match(text)
    if qualifier is None:
        (topic,) = parse_topic_list(text)[:1] or [text]
        return with_filter(config, current.without_topic(topic)), f'unfollowed "{topic}"'
    key, value = qualifier[1].casefold(), _unquote(qualifier[2])
    if key == "exclude":
        return apply_include(config, value)
    if key == "has":
        if not current.has_code:
            raise UserInputError("This channel does not require code (`has:code`); nothing changed.", "/papers topics")
        return with_filter(config, replace(current, has_code=False)), "removed has:code"
    if key == "min-upvotes":
        return with_filter(config, replace(current, min_upvotes=0)), "removed min-upvotes"
    names = current.authors if key == "author" else current.orgs
    kept = tuple(n for n in names if n.casefold() != value.casefold())
    if len(kept) == len(names):
        listed = _quoted_list(names) or "none"
        raise UserInputError(f'"{value}" is not among this channel\'s {key}s ({listed}).', f"/papers unfollow {key}:…")
    changed = replace(current, authors=kept) if key == "author" else replace(current, orgs=kept)
    return with_filter(config, changed), f'removed {key}:"{value}"'


def _terms(text: str) -> list[str]:
    """``exclude medical, -survey, exclude:"case study"``: the dash and ``exclude:`` are optional."""
    pieces = [re.sub(r"^(?:-|exclude\s*:)\s*", "", p.strip(), flags=re.IGNORECASE) for p in text.split(",")]
    return parse_topic_list(", ".join(f'"{_unquote(p)}"' for p in pieces if _unquote(p)))


def apply_exclude(config: ChannelConfig, text: str) -> Edit:
    if not text.strip():
        raise UserInputError("Name at least one term to exclude.", "/papers exclude medical, survey")
    terms = _terms(text)
    current = channel_filter(config)
    changed = current.with_excluded(terms)
    if changed == current:
        raise UserInputError("Those terms are already excluded; nothing changed.", "/papers topics")
    return with_filter(config, changed), f"excluded {_quoted_list(terms)}"


def apply_include(config: ChannelConfig, text: str) -> Edit:
    """Undo an exclusion (not a new topic: ``follow`` does that)."""
    if not text.strip():
        raise UserInputError("Name the excluded term to allow again.", "/papers include survey")
    (term,) = _terms(text)[:1]
    return with_filter(config, channel_filter(config).without_excluded(term)), f'included "{term}" again'


_SETTINGS = {
    "max-papers": ("max_papers", 1, MAX_PAPERS_LIMIT),
    "min-upvotes": ("min_upvotes", 0, MAX_UPVOTES_LIMIT),
}
_SETTING_ALIASES = {"max": "max-papers", "papers": "max-papers", "limit": "max-papers", "upvotes": "min-upvotes"}
_FORMATS = ("full", "compact")


def apply_set(config: ChannelConfig, text: str) -> Edit:
    """``set max-papers 5``, ``set min-upvotes 10``, ``set format compact``."""
    words = text.replace("=", " ").split()
    if len(words) != 2:
        raise UserInputError("`set` takes a setting and a value: max-papers, min-upvotes or format.", SET_EXAMPLE)
    name = words[0].casefold().replace("_", "-")
    name = _SETTING_ALIASES.get(name, name)
    value = words[1]
    if name == "format":
        if value.casefold() not in _FORMATS:
            raise UserInputError(
                f"The post format is `full` or `compact`, not `{value}`.", "/papers set format compact"
            )
        return config.replace(post_format=value.casefold()), f"set format {value.casefold()}"
    if name not in _SETTINGS:
        raise UserInputError(f"I can't set `{words[0]}`. Settings: max-papers, min-upvotes, format.", SET_EXAMPLE)
    field, low, high = _SETTINGS[name]
    if not re.fullmatch(r"[+-]?\d{1,9}", value) or not low <= int(value) <= high:
        raise UserInputError(f"`{name}` must be a whole number from {low} to {high}, not `{value}`.", SET_EXAMPLE)
    return config.replace(**{field: int(value)}), f"set {name} {int(value)}"


def apply_clear(config: ChannelConfig) -> Edit:
    if not config.filter_text and not config.min_upvotes:
        raise UserInputError("This channel has no filter to clear: it already gets the top papers.", "/papers topics")
    return config.replace(filter_text="", min_upvotes=0), "cleared the filter"


def record_change(config: ChannelConfig, user_id: str, at: str, summary: str) -> ChannelConfig:
    """Append who changed what and when; the oldest entries go beyond ``MAX_HISTORY``."""
    entry = FilterChange(user_id=user_id, at=at, summary=summary[:300])
    return config.replace(history=(*config.history, entry)[-MAX_HISTORY:], updated_at=at)
