"""The changes ``/papers subscribe|unsubscribe|follow|unfollow|exclude|include|set|clear`` make to a
channel. Pure.

Each edit takes the stored config and the user's text and returns the new config plus a one-line
summary for the change history (``/papers topics`` shows it), or raises ``UserInputError`` naming what
was wrong, so nothing is stored half-changed. The channel's minimum upvotes live in one place,
``ChannelConfig.min_upvotes``: a ``min-upvotes:10`` typed into a filter moves there, so
``/papers set min-upvotes`` and the filter can never disagree.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import replace

from bot.channels.recap import RECAP_EXAMPLE, format_recap, parse_recap
from bot.channels.schedule import ScheduleSpec, format_weekdays
from bot.errors import UserInputError
from bot.filters import MAX_NAMES, MAX_UPVOTES, ChannelFilter, format_filter, parse_filter, parse_topic_list
from bot.filters.selection import channel_filter
from bot.models import ChannelConfig, FilterChange, PostFormat

__all__ = [
    "MAX_HISTORY",
    "MAX_PAPERS_LIMIT",
    "MAX_UPVOTES_LIMIT",
    "Edit",
    "apply_clear",
    "apply_exclude",
    "apply_follow",
    "apply_include",
    "apply_recap",
    "apply_set",
    "apply_subscribe",
    "apply_unfollow",
    "apply_unsubscribe",
    "can_follow_topic",
    "follow_text",
    "record_change",
    "schedule_text",
    "with_filter",
]

MAX_PAPERS_LIMIT = 50  # a Slack message holds 50 blocks; more papers would be unreadable anyway
MAX_UPVOTES_LIMIT = MAX_UPVOTES  # one cap for `set`, the settings form and the `min-upvotes:` qualifier
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


def follow_text(topics: Iterable[str]) -> str:
    """The ``follow`` text that takes each topic exactly as given (a search query, a paper keyword):
    one quoted phrase each, its own quotes (straight or curly) dropped so they cannot end the phrase."""
    return ", ".join('"' + " ".join(t.translate(_NO_QUOTES).split()) + '"' for t in topics)


def can_follow_topic(topic: str) -> bool:
    """Whether following ``topic`` as given would be accepted (length, word count, letters), checked
    by the parser itself so a **Follow as topic** button is only offered when pressing it works."""
    try:
        return len(parse_filter(follow_text([topic])).topics) == 1
    except UserInputError:
        return False


_NO_QUOTES = str.maketrans(dict.fromkeys('"“”„‟«»＂', " "))
_QUALIFIER_RE = re.compile(r"^\s*(author|org|has|min-upvotes|exclude)\s*:\s*(.*?)\s*$", re.IGNORECASE | re.DOTALL)
_QUOTE_CHARS = frozenset('"“”„‟«»＂')


def _unquote(value: str) -> str:
    value = value.strip()
    return value[1:-1].strip() if len(value) >= 2 and value[0] == value[-1] == '"' else value


def _items(text: str) -> list[str]:
    """Comma-separated items; a comma inside quotes (``author:"Smith, J"``) stays in its item."""
    items: list[str] = []
    current: list[str] = []
    quoted = False
    for ch in text:
        if ch in _QUOTE_CHARS:
            quoted = not quoted
        if ch == "," and not quoted:
            items.append("".join(current))
            current = []
        else:
            current.append(ch)
    items.append("".join(current))
    return [item.strip() for item in items if item.strip()]


# One removal: what to take out of the filter ("topic", "exclude", "author", "org", "has", "min-upvotes")
# and the value, as typed.
_Removal = tuple[str, str]
_VERBS = {"unfollowed": "unfollowed {}", "removed": "removed {}", "included": "included {} again"}


def _shown(removal: _Removal) -> str:
    kind, value = removal
    if kind in ("topic", "exclude"):  # an exclusion is named as typed: 'included "survey" again'
        return f'"{value}"'
    if kind in ("has", "min-upvotes"):
        return "has:code" if kind == "has" else "min-upvotes"
    return f'{kind}:"{value}"'


def _without(f: ChannelFilter, removal: _Removal) -> tuple[ChannelFilter, str]:
    """``f`` without one item, and the verb for the summary; ``UserInputError`` when it is not there."""
    kind, value = removal
    try:
        if kind == "topic":
            return f.without_topic(value), "unfollowed"
        if kind == "exclude":
            return f.without_excluded(value), "included"
    except UserInputError as exc:  # its example is an item the filter has: make it a command to run
        verb = "unfollow" if kind == "topic" else "include"
        raise UserInputError(
            exc.message, f"/papers {verb} {exc.example}" if exc.example else "/papers topics"
        ) from None
    if kind == "has":
        if not f.has_code:
            raise UserInputError("This channel does not require code (`has:code`); nothing changed.", "/papers topics")
        return replace(f, has_code=False), "removed"
    if kind == "min-upvotes":
        if not f.min_upvotes:
            raise UserInputError("This channel has no minimum upvotes; nothing changed.", "/papers topics")
        return replace(f, min_upvotes=0), "removed"
    names = f.authors if kind == "author" else f.orgs
    kept = tuple(n for n in names if n.casefold() != value.casefold())
    if len(kept) == len(names):
        listed = _quoted_list(names) or "none"
        example = f"/papers unfollow {kind}:…"
        raise UserInputError(f'"{value}" is not among this channel\'s {kind}s ({listed}).', example)
    return (replace(f, authors=kept) if kind == "author" else replace(f, orgs=kept)), "removed"


def _unique(removals: list[_Removal]) -> list[_Removal]:
    """Each item once: topics and exclusions by their normalised form (``LLM, LLMs`` is one), the
    other qualifiers ignoring case, so a repeat is not reported as missing after the first went."""
    typed = ChannelFilter().with_topics(v for k, v in removals if k == "topic")
    typed = typed.with_excluded(v for k, v in removals if k == "exclude")
    others: dict[tuple[str, str], _Removal] = {}
    for kind, value in removals:
        if kind not in ("topic", "exclude"):
            others.setdefault((kind, value.casefold()), (kind, value))
    return [*(("topic", t) for t in typed.topics), *(("exclude", t) for t in typed.excluded), *others.values()]


def _remove_all(config: ChannelConfig, removals: list[_Removal], nothing: str, absent: str) -> Edit:
    """Take out every item that is there; the summary says what went and what was not there.

    Only when none was there does it refuse: with one item, that item's own message (which lists what
    the filter has), with several, ``nothing`` and the filter as it is. ``absent`` labels the items
    that were not there in a summary that removed others.
    """
    current = channel_filter(config)
    changed, done, missing = current, dict[str, list[str]](), list[tuple[_Removal, UserInputError]]()
    for removal in _unique(removals):
        try:
            changed, verb = _without(changed, removal)
        except UserInputError as exc:
            missing.append((removal, exc))
            continue
        done.setdefault(verb, []).append(_shown(removal))
    if not done:
        if len(missing) == 1:
            raise missing[0][1]
        listed = ", ".join(_shown(r) for r, _ in missing)
        raise UserInputError(f"{nothing} {listed}. The filter: {format_filter(current) or 'empty'}.", "/papers topics")
    summary = "; ".join(_VERBS[verb].format(", ".join(shown)) for verb, shown in done.items())
    if missing:
        summary += f" ({absent}: {', '.join(_shown(r) for r, _ in missing)})"
    return with_filter(config, changed), summary


def apply_unfollow(config: ChannelConfig, text: str) -> Edit:
    """``unfollow model merging, org:nvidia, has:code``: drops each topic or qualifier that is there.

    Like ``follow``, commas separate items (a comma inside quotes does not); the reply names the items
    that were not in the filter rather than failing the whole list for one of them.
    """
    if not text.strip():
        raise UserInputError("Name the topic to stop following.", "/papers unfollow model merging")
    removals: list[_Removal] = []
    for item in _items(text):
        qualifier = _QUALIFIER_RE.match(item)
        if item.startswith("-"):  # undoes ``follow -medical``
            removals += [("exclude", term) for term in _terms(item)]
        elif qualifier is None:
            removals += [("topic", topic) for topic in parse_topic_list(item)]
        elif qualifier[1].casefold() == "exclude":
            removals += [("exclude", term) for term in _terms(_unquote(qualifier[2]))]
        else:
            removals.append((qualifier[1].casefold(), _unquote(qualifier[2])))
    return _remove_all(
        config, removals, "None of these is in this channel's filter, so nothing changed:", "not in the filter"
    )


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
    """``include survey, medical`` undoes exclusions (not a new topic: ``follow`` does that)."""
    if not text.strip():
        raise UserInputError("Name the excluded term to allow again.", "/papers include survey")
    removals = [("exclude", term) for term in _terms(text)]
    return _remove_all(config, removals, "None of these is excluded here, so nothing changed:", "not excluded")


def schedule_text(config: ChannelConfig) -> str:
    """``09:00 Mon–Fri (Europe/Berlin)``: replies and the change history say a schedule the same way."""
    return f"{config.post_time} {format_weekdays(config.weekdays)} ({config.timezone})"


def apply_subscribe(config: ChannelConfig, spec: ScheduleSpec, *, user_id: str, at: str, team_id: str = "") -> Edit:
    """``subscribe [time] [zone] [days]``: posts start (or resume); only what is given changes."""
    new = config.replace(
        team_id=team_id or config.team_id,
        subscribed=True,
        paused_reason="",
        post_time=spec.post_time or config.post_time,
        timezone=spec.timezone or config.timezone,
        weekdays=spec.weekdays or config.weekdays,
        subscribed_by=user_id,
        active_since=at,
    )
    return new, f"subscribed: {schedule_text(new)}"


def apply_unsubscribe(config: ChannelConfig) -> Edit:
    """Posts stop; every setting stays for a later ``subscribe``."""
    if not config.subscribed:
        raise UserInputError("This channel is not subscribed, so there is nothing to stop.", "/papers subscribe")
    return config.replace(subscribed=False), "unsubscribed"


_SETTINGS = {
    "max-papers": ("max_papers", 1, MAX_PAPERS_LIMIT),
    "min-upvotes": ("min_upvotes", 0, MAX_UPVOTES_LIMIT),
}
_SETTING_ALIASES = {
    "max": "max-papers",
    "papers": "max-papers",
    "limit": "max-papers",
    "upvotes": "min-upvotes",
    "followups": "follow-ups",
    "follow-up": "follow-ups",
    "followup": "follow-ups",
}
_FORMATS = tuple(PostFormat)
_SWITCHES = {"on": True, "off": False, "yes": True, "no": False, "true": True, "false": False}
_SET_EXAMPLE_VALUES = {
    "max-papers": "5",
    "min-upvotes": "10",
    "format": "compact",
    "related": "off",
    "follow-ups": "off",
    "recap": "fri 16:00",
}
_SWITCH_SETTINGS = {  # name -> (config field, what `on` means, for the error message)
    "related": ("related", "also post papers close in meaning to a topic"),
    "follow-ups": ("follow_ups", "reply in a post's thread when a paper's code or models appear"),
}
_SETTING_NAMES = "max-papers, min-upvotes, format, related, follow-ups, recap"


def apply_recap(config: ChannelConfig, words: list[str], *, at: str = "") -> Edit:
    """``set recap fri 16:00`` (in the channel's time zone) or ``set recap off``. A new slot counts from
    ``at``: turning the recap on after this week's slot passed does not post it at once."""
    day, time_of_day = parse_recap(words)
    if day is None:
        if config.recap_day is None:
            raise UserInputError("The weekly recap is already off here; nothing changed.", RECAP_EXAMPLE)
        return config.replace(recap_day=None, recap_time="", recap_since=""), "set recap off"
    new = config.replace(recap_day=day, recap_time=time_of_day, recap_since=at or config.recap_since)
    return new, f"set recap {format_recap(new)}"


def apply_set(config: ChannelConfig, text: str, *, at: str = "") -> Edit:
    """``set max-papers 5``, ``set min-upvotes 10``, ``set format compact``, ``set related off``,
    ``set follow-ups off``, ``set recap fri 16:00`` (``at``: now, ISO UTC, from when a new recap slot
    counts)."""
    words = text.replace("=", " ").split()
    if words and words[0].casefold() == "recap":
        return apply_recap(config, words[1:], at=at)
    name = words[0].casefold().replace("_", "-") if words else ""
    name = _SETTING_ALIASES.get(name, name)
    if name and name not in _SET_EXAMPLE_VALUES:  # misspelt, whatever the number of values ("recapp fri 16:00")
        close = difflib.get_close_matches(name, list(_SET_EXAMPLE_VALUES), n=1, cutoff=0.6)
        guess = f" Did you mean `{close[0]}`?" if close else ""
        example = f"/papers set {close[0]} {_SET_EXAMPLE_VALUES[close[0]]}" if close else SET_EXAMPLE
        raise UserInputError(f"I can't set `{words[0]}`.{guess} Settings: {_SETTING_NAMES}.", example)
    if len(words) != 2:
        raise UserInputError(f"`set` takes a setting and a value: {_SETTING_NAMES}.", SET_EXAMPLE)
    value = words[1]
    if name == "format":
        if value.casefold() not in _FORMATS:
            raise UserInputError(
                f"The post format is `full` or `compact`, not `{value}`.", "/papers set format compact"
            )
        return config.replace(post_format=value.casefold()), f"set format {value.casefold()}"
    if name in _SWITCH_SETTINGS:
        field, meaning = _SWITCH_SETTINGS[name]
        switch = _SWITCHES.get(value.casefold())
        if switch is None:
            raise UserInputError(f"`{name}` is `on` ({meaning}) or `off`, not `{value}`.", f"/papers set {name} off")
        return config.replace(**{field: switch}), f"set {name} {'on' if switch else 'off'}"
    field, low, high = _SETTINGS[name]
    if not re.fullmatch(r"[+-]?\d{1,9}", value) or not low <= int(value) <= high:
        raise UserInputError(
            f"`{name}` must be a whole number from {low} to {high}, not `{value}`.",
            f"/papers set {name} {_SET_EXAMPLE_VALUES[name]}",
        )
    return config.replace(**{field: int(value)}), f"set {name} {int(value)}"


def apply_clear(config: ChannelConfig) -> Edit:
    if not config.filter_text and not config.min_upvotes:
        raise UserInputError("This channel has no filter to clear: it already gets the top papers.", "/papers topics")
    return config.replace(filter_text="", min_upvotes=0), "cleared the filter"


def record_change(config: ChannelConfig, user_id: str, at: str, summary: str) -> ChannelConfig:
    """Append who changed what and when; the oldest entries go beyond ``MAX_HISTORY``."""
    entry = FilterChange(user_id=user_id, at=at, summary=summary[:300])
    return config.replace(history=(*config.history, entry)[-MAX_HISTORY:], updated_at=at)
