"""The ``/papers settings`` modal: building it from a channel's config and validating what comes back.

Pure (no Slack, store or clock), so every rule is tested without a server. The modal shows the whole
configuration at once; a submit is validated field by field and either becomes one ``SettingsForm``
(saved in a single store update by the handler) or a ``{block_id: message}`` map that Slack shows
next to each wrong field (``response_action: "errors"``). Nothing is ever half-saved.

The filter fields are split up for the form, then put back together with ``bot.filters`` and stored
in its canonical text (``format_filter``), so the form, ``/papers follow`` and ``/papers topics`` can
never disagree about what a channel follows. The minimum upvotes are saved where every other command
keeps them, ``ChannelConfig.min_upvotes`` (``bot.channels.edits.with_filter``), with the same limits.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from bot.channels.edits import MAX_PAPERS_LIMIT, MAX_UPVOTES_LIMIT, with_filter
from bot.channels.recap import format_recap
from bot.channels.schedule import format_weekdays, parse_time
from bot.channels.timezones import parse_timezone
from bot.errors import UserInputError
from bot.filters import ChannelFilter, format_filter, parse_filter, parse_topic_list
from bot.filters.selection import channel_filter
from bot.models import ChannelConfig
from bot.ui.render import escape_mrkdwn
from bot.ui.settings_view import (
    BLOCK_AUTHORS,
    BLOCK_EXCLUDED,
    BLOCK_FOLLOW_UPS,
    BLOCK_HAS_CODE,
    BLOCK_MAX_PAPERS,
    BLOCK_MIN_UPVOTES,
    BLOCK_ORGS,
    BLOCK_POST_FORMAT,
    BLOCK_POST_TIME,
    BLOCK_RECAP_DAY,
    BLOCK_RECAP_TIME,
    BLOCK_RELATED,
    BLOCK_TIMEZONE,
    BLOCK_TOPICS,
    BLOCK_WEEKDAYS,
    CALLBACK_ID,
    FIRST_BLOCK,
    FOLLOW_UPS_VALUE,
    HAS_CODE_VALUE,
    POST_FORMATS,
    RECAP_OFF,
    RELATED_VALUE,
    channel_from_metadata,
    metadata_for,
    settings_view,
)

__all__ = [
    "BLOCK_AUTHORS",
    "BLOCK_EXCLUDED",
    "BLOCK_FOLLOW_UPS",
    "BLOCK_HAS_CODE",
    "BLOCK_MAX_PAPERS",
    "BLOCK_MIN_UPVOTES",
    "BLOCK_ORGS",
    "BLOCK_POST_FORMAT",
    "BLOCK_POST_TIME",
    "BLOCK_TIMEZONE",
    "BLOCK_TOPICS",
    "BLOCK_WEEKDAYS",
    "CALLBACK_ID",
    "FIRST_BLOCK",
    "POST_FORMATS",
    "UNREADABLE_ANSWER",
    "UNREADABLE_FORM",
    "SettingsForm",
    "channel_from_metadata",
    "describe_changes",
    "metadata_for",
    "parse_submission",
    "plain_message",
    "settings_text",
    "settings_view",
]
_T = TypeVar("_T")

# ---------------------------------------------------------------------------------------------------
# Reading a submit


@dataclass(frozen=True)
class SettingsForm:
    """A fully validated submit: everything the form controls, ready to be saved in one update."""

    filter: ChannelFilter
    post_time: str
    timezone: str
    weekdays: tuple[int, ...]
    max_papers: int
    post_format: str
    related: bool | None = None  # None: the submission had no such field; the setting stays
    follow_ups: bool | None = None  # likewise (a form opened before the field existed)
    # The weekly recap: (weekday or None for off, "HH:MM"); None: the form had no recap fields.
    recap: tuple[int | None, str] | None = None

    def schedule_changed(self, config: ChannelConfig) -> bool:
        return (self.post_time, self.timezone, self.weekdays) != (config.post_time, config.timezone, config.weekdays)

    def apply(self, config: ChannelConfig, *, now_iso: str) -> ChannelConfig:
        """``config`` with the form's settings.

        A new schedule counts from ``now_iso`` (as ``/papers subscribe`` does), so moving the time to
        one that already passed today does not post at once: the change takes effect at the next slot.
        """
        changed = self.schedule_changed(config)
        recap_day, recap_time = self.recap if self.recap is not None else (config.recap_day, config.recap_time)
        recap_moved = (recap_day, recap_time) != (config.recap_day, config.recap_time) or (
            changed and recap_day is not None
        )
        config = config.replace(
            recap_day=recap_day,
            recap_time=recap_time if recap_day is not None else "",
            recap_since=(now_iso if recap_day is not None else "") if recap_moved else config.recap_since,
        )
        return with_filter(config, self.filter).replace(
            post_time=self.post_time,
            timezone=self.timezone,
            weekdays=self.weekdays,
            max_papers=self.max_papers,
            post_format=self.post_format,
            related=config.related if self.related is None else self.related,
            follow_ups=config.follow_ups if self.follow_ups is None else self.follow_ups,
            active_since=now_iso if changed and config.subscribed else config.active_since,
        )


UNREADABLE_ANSWER = "This answer was not understood. Choose it again."


def _state(values: Mapping[str, Any], block_id: str) -> dict[str, Any]:
    """The field's state; missing is empty (Slack leaves out untouched optional fields), but a field
    of the wrong shape is refused: read as empty it would clear the setting on save."""
    block = values.get(block_id)
    if block is None:
        return {}
    if not isinstance(block, Mapping):
        raise UserInputError(UNREADABLE_ANSWER)
    state = block.get(block_id)
    if state is None:  # another action id: take the block's only element
        state = next(iter(block.values()), {}) if len(block) == 1 else {}
    if not isinstance(state, dict):
        raise UserInputError(UNREADABLE_ANSWER)
    return state


def _text(values: Mapping[str, Any], block_id: str) -> str:
    value = _state(values, block_id).get("value")
    if value is None:  # an emptied text field
        return ""
    if not isinstance(value, str):
        raise UserInputError(UNREADABLE_ANSWER)
    return value.strip()


def _selected(values: Mapping[str, Any], block_id: str) -> list[str]:
    options = _state(values, block_id).get("selected_options")
    if options is None:
        return []
    if not isinstance(options, list) or not all(
        isinstance(o, Mapping) and isinstance(o.get("value"), str) for o in options
    ):
        raise UserInputError(UNREADABLE_ANSWER)
    return [o["value"] for o in options]


_ITEM_RE = re.compile(r'\s*(-?)\s*(?:"([^"]*)"|([^,"]*))\s*(?:,|$)')
_CURLY = str.maketrans(dict.fromkeys("“”„‟«»＂", '"'))
_QUALIFIER_RE = re.compile(r"^[^\W\d_][\w-]*:")


def _items(text: str, *, dashes: bool) -> list[tuple[str, bool]]:
    """Comma-separated items, each ``(text, quoted)``; a quoted item may contain commas.

    With ``dashes`` a leading ``-`` is dropped (people paste exclusions from a filter); otherwise it
    stays part of the item.
    """
    text, items, pos = text.translate(_CURLY), [], 0
    while pos < len(text) and (m := _ITEM_RE.match(text, pos)) is not None and m.end() > pos:
        dash = "" if dashes else m[1]
        value = " ".join((m[2] if m[2] is not None else dash + m[3]).split())
        if value:
            items.append((value, m[2] is not None))
        pos = m.end()
    if pos < len(text.rstrip()):
        raise UserInputError("Unclosed or misplaced quote. Separate the items with commas.")
    return items


def _names(text: str, qualifier: str) -> tuple[str, ...]:
    """Names, validated (length, count, duplicates) by the filter parser itself.

    Not ``parse_topic_list``: that de-duplicates by word stem, which is right for topics but would
    merge two different surnames that differ by a final "s".
    """
    names = [name for name, _ in _items(text, dashes=False)]
    if not names:
        return ()
    typed = ChannelFilter(authors=tuple(names)) if qualifier == "authors" else ChannelFilter(orgs=tuple(names))
    f = parse_filter(format_filter(typed))
    return f.authors if qualifier == "authors" else f.orgs


def _topics(text: str) -> tuple[str, ...]:
    return tuple(parse_topic_list(text)) if text else ()


def _excluded(text: str) -> tuple[str, ...]:
    """Terms in the order typed, with or without a leading ``-``; counted and checked as exclusions."""
    terms = []
    for term, quoted in _items(text, dashes=True):
        if not quoted and _QUALIFIER_RE.match(term):
            raise UserInputError(
                f"{term} is a qualifier: only terms go here. Use the author, organization, upvotes and code fields."
            )
        terms.append(term)
    return ChannelFilter().with_excluded(terms).excluded


def _min_upvotes(text: str) -> int:
    """The limits of ``/papers set min-upvotes``, so both ways accept the same values."""
    if not text:
        return 0
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_UPVOTES_LIMIT:
        raise UserInputError(f"Minimum upvotes is a whole number from 0 to {MAX_UPVOTES_LIMIT}, not {text[:20]}.")
    return int(text)


def _post_time(values: Mapping[str, Any]) -> str:
    selected = _state(values, BLOCK_POST_TIME).get("selected_time")
    if not isinstance(selected, str) or not selected.strip():
        raise UserInputError("Pick the time of day for the post.")
    return parse_time(selected)


def _timezone(text: str) -> str:
    return parse_timezone(text)


def _weekdays(values: Mapping[str, Any]) -> tuple[int, ...]:
    days = {int(v) for v in _selected(values, BLOCK_WEEKDAYS) if v.isdigit() and int(v) < 7}
    if not days:
        raise UserInputError("Pick at least one day. To stop the posts, use `/papers unsubscribe`.")
    return tuple(sorted(days))


def _max_papers(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_PAPERS_LIMIT:
        raise UserInputError(f"Papers per post is a whole number from 1 to {MAX_PAPERS_LIMIT}.")
    return int(text)


def _post_format(values: Mapping[str, Any]) -> str:
    option = _state(values, BLOCK_POST_FORMAT).get("selected_option")
    if option is not None and not isinstance(option, Mapping):
        raise UserInputError(UNREADABLE_ANSWER)
    value = option.get("value") if option is not None else None
    if value not in POST_FORMATS:
        raise UserInputError("Choose full or compact.")
    return str(value)


def _optional_checkbox(values: Mapping[str, Any], block_id: str, value: str) -> bool | None:
    """None when the form has no such field (an older form, or the extra is off): the setting is kept."""
    return value in _selected(values, block_id) if block_id in values else None


UNREADABLE_FORM = "This form's answers were not understood; nothing was saved. Run /papers settings again."


def _recap(values: Mapping[str, Any]) -> tuple[int | None, str] | None:
    if BLOCK_RECAP_DAY not in values:
        return None  # a form opened before the recap existed: the setting stays
    option = _state(values, BLOCK_RECAP_DAY).get("selected_option")
    if option is not None and not isinstance(option, Mapping):
        raise UserInputError(UNREADABLE_ANSWER)  # never read as "off": that would stop the recap
    value = option.get("value") if option is not None else RECAP_OFF
    if value == RECAP_OFF or value is None:
        return None, ""
    if not (isinstance(value, str) and value.isdigit() and int(value) < 7):
        raise UserInputError("Choose a weekday for the recap, or Off.")
    selected = _state(values, BLOCK_RECAP_TIME).get("selected_time")
    if selected is not None and not isinstance(selected, str):
        raise UserInputError(UNREADABLE_ANSWER)
    at = parse_time(selected) if selected and selected.strip() else "16:00"
    return int(value), at


def plain_message(text: str) -> str:
    """An mrkdwn message made readable as plain text, the only kind Slack shows under a field."""
    text = re.sub(r"<@(\w+)>", r"@\1", text)
    text = re.sub(r"^:[a-z0-9_+-]+:\s*", "", text)
    return text.replace("`", "").replace("*", "")


def _message(error: UserInputError) -> str:
    """Inline errors sit under their field, whose hint already shows the format: the message alone.

    ``bot.filters`` examples are written for the one-line query language and would mislead here.
    """
    return error.message


_NO_TEXTS: tuple[str, ...] = ()  # a field's value when it is invalid (the form is then refused)
_NO_DAYS: tuple[int, ...] = ()


def parse_submission(values: Mapping[str, Any] | None) -> SettingsForm | dict[str, str]:
    """``view.state.values`` → the validated settings, or ``{block_id: message}`` for every bad field.

    A field of the wrong shape (a number where Slack sends text, a list where it sends an object) is
    an error under that field, never read as empty: nothing is saved from a form that was not
    understood."""
    errors: dict[str, str] = {}
    if not isinstance(values, Mapping):
        return {FIRST_BLOCK: UNREADABLE_FORM}

    def field(block_id: str, read: Callable[[], _T], default: _T) -> _T:
        try:
            return read()
        except UserInputError as exc:
            errors[block_id] = _message(exc)
            return default

    topics = field(BLOCK_TOPICS, lambda: _topics(_text(values, BLOCK_TOPICS)), _NO_TEXTS)
    excluded = field(BLOCK_EXCLUDED, lambda: _excluded(_text(values, BLOCK_EXCLUDED)), _NO_TEXTS)
    authors = field(BLOCK_AUTHORS, lambda: _names(_text(values, BLOCK_AUTHORS), "authors"), _NO_TEXTS)
    orgs = field(BLOCK_ORGS, lambda: _names(_text(values, BLOCK_ORGS), "orgs"), _NO_TEXTS)
    min_upvotes = field(BLOCK_MIN_UPVOTES, lambda: _min_upvotes(_text(values, BLOCK_MIN_UPVOTES)), 0)
    has_code = field(BLOCK_HAS_CODE, lambda: HAS_CODE_VALUE in _selected(values, BLOCK_HAS_CODE), False)
    post_time = field(BLOCK_POST_TIME, lambda: _post_time(values), "")
    timezone = field(BLOCK_TIMEZONE, lambda: _timezone(_text(values, BLOCK_TIMEZONE)), "")
    weekdays = field(BLOCK_WEEKDAYS, lambda: _weekdays(values), _NO_DAYS)
    max_papers = field(BLOCK_MAX_PAPERS, lambda: _max_papers(_text(values, BLOCK_MAX_PAPERS)), 0)
    post_format = field(BLOCK_POST_FORMAT, lambda: _post_format(values), "")
    related = field(BLOCK_RELATED, lambda: _optional_checkbox(values, BLOCK_RELATED, RELATED_VALUE), None)
    follow_ups = field(BLOCK_FOLLOW_UPS, lambda: _optional_checkbox(values, BLOCK_FOLLOW_UPS, FOLLOW_UPS_VALUE), None)
    recap = field(BLOCK_RECAP_DAY, lambda: _recap(values), None)
    if errors:
        return errors
    f = ChannelFilter(
        topics=topics, excluded=excluded, authors=authors, orgs=orgs, min_upvotes=min_upvotes, has_code=has_code
    )
    try:  # the stored text must read back as this filter; each part was checked, so this is a safety net
        f = parse_filter(format_filter(f))
    except UserInputError as exc:
        return {FIRST_BLOCK: _message(exc)}
    return SettingsForm(f, post_time, timezone, weekdays, max_papers, post_format, related, follow_ups, recap)


# ---------------------------------------------------------------------------------------------------
# Telling the user


def describe_changes(old: ChannelConfig, new: ChannelConfig) -> str:
    """The history line for a save: which parts changed (``/papers topics`` shows it)."""
    old_f, new_f = channel_filter(old), channel_filter(new)
    parts = [
        name
        for name, before, after in (
            ("topics", old_f.topics, new_f.topics),
            ("exclusions", old_f.excluded, new_f.excluded),
            ("authors", old_f.authors, new_f.authors),
            ("organizations", old_f.orgs, new_f.orgs),
            ("minimum upvotes", old_f.min_upvotes, new_f.min_upvotes),
            ("code requirement", old_f.has_code, new_f.has_code),
            ("schedule", (old.post_time, old.timezone, old.weekdays), (new.post_time, new.timezone, new.weekdays)),
            ("papers per post", old.max_papers, new.max_papers),
            ("post format", old.post_format, new.post_format),
            ("related papers", old.related, new.related),
            ("follow-ups", old.follow_ups, new.follow_ups),
            ("weekly recap", (old.recap_day, old.recap_time), (new.recap_day, new.recap_time)),
        )
        if before != after
    ]
    return f"settings form: {', '.join(parts) if parts else 'saved without changes'}"


def _listed(items: tuple[str, ...], empty: str) -> str:
    return ", ".join(escape_mrkdwn(i) for i in items) if items else empty


def settings_text(config: ChannelConfig) -> str:
    """The saved configuration as the user reads it after a submit (every user string escaped)."""
    f = channel_filter(config)
    lines = [
        f":white_check_mark: Saved the settings for <#{config.channel_id}>.",
        f"*Schedule:* {config.post_time} {format_weekdays(config.weekdays)} ({escape_mrkdwn(config.timezone)})",
        f"*Papers per post:* up to {config.max_papers}, {config.post_format} format",
        f"*Topics:* {_listed(f.topics, 'none (the top papers of the day)')}",
        f"*Left out:* {_listed(f.excluded, 'nothing')}",
    ]
    if f.authors:
        lines.append(f"*Authors:* {_listed(f.authors, '')}")
    if f.orgs:
        lines.append(f"*Organizations:* {_listed(f.orgs, '')}")
    if f.min_upvotes:
        lines.append(f"*Minimum upvotes:* {f.min_upvotes}")
    if f.has_code:
        lines.append("*Code:* only papers with a GitHub repo")
    lines.append(
        "*Follow-ups:* "
        + ("on (a post's thread hears when its papers' code or models appear)" if config.follow_ups else "off")
    )
    lines.append(f"*Weekly recap:* {escape_mrkdwn(format_recap(config))}")
    if not config.subscribed:
        lines.append("This channel is not subscribed yet: `/papers subscribe` starts the daily posts.")
    return "\n".join(lines)
