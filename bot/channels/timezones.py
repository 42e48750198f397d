"""Time zones the way people type them: ``Europe/Berlin``, ``europe/berlin``, ``Berlin``, ``new york``.

Slack's forms have no time-zone picker, and a select menu holds at most 100 options, so the zone is
typed: in ``/papers subscribe`` and in the settings form. A strict IANA check would turn away
``berlin`` or ``America/New York``; this accepts any spelling that names exactly one zone and, for a
typo, suggests the closest names. Pure functions over one table built once from the tz database.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import cache
from zoneinfo import available_timezones

from bot.errors import UserInputError

__all__ = ["did_you_mean", "parse_timezone", "resolve_timezone", "suggest_timezones", "timezone_error"]

# Zones named after a place; their last part ("Berlin", "New_York") is what people type alone.
_REGIONS = frozenset(
    {"Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific"}
)
# Old names whose last part is not the place people mean: "samoa" is not American Samoa, "victoria"
# not Melbourne, "north" not Darwin. Typed in full they still work; alone they are not places.
_NOT_PLACES = frozenset(
    {
        "Pacific/Samoa", "Australia/ACT", "Australia/LHI", "Australia/NSW", "Australia/North",
        "Australia/Queensland", "Australia/South", "Australia/Tasmania", "Australia/Victoria",
        "Australia/West", "Australia/Yancowinna",
    }
)  # fmt: skip
_UTC_SPELLINGS = frozenset({"utc", "gmt", "z", "zulu", "etc/utc", "etc/gmt", "universal"})
# Abbreviations are not zones people mean: the tz database's EST is UTC-5 all year, with no summer
# time. Each is refused with the zone that most likely was meant, as are two misleading old names.
_MEANT = {
    "est": "America/New_York", "edt": "America/New_York", "et": "America/New_York",
    "cst": "America/Chicago", "cdt": "America/Chicago", "ct": "America/Chicago",
    "mst": "America/Denver", "mdt": "America/Denver", "mt": "America/Denver",
    "pst": "America/Los_Angeles", "pdt": "America/Los_Angeles", "pt": "America/Los_Angeles",
    "hst": "Pacific/Honolulu", "akst": "America/Anchorage",
    "bst": "Europe/London", "wet": "Europe/Lisbon", "cet": "Europe/Berlin", "cest": "Europe/Berlin",
    "met": "Europe/Berlin", "eet": "Europe/Athens", "msk": "Europe/Moscow",
    "ist": "Asia/Kolkata", "jst": "Asia/Tokyo", "kst": "Asia/Seoul", "sgt": "Asia/Singapore",
    "aest": "Australia/Sydney", "aedt": "Australia/Sydney", "nzst": "Pacific/Auckland",
    "samoa": "Pacific/Apia", "san_juan": "America/Puerto_Rico",  # not the old names' places
}  # fmt: skip


@dataclass(frozen=True)
class _Table:
    names: dict[str, str]  # lower-case IANA name → IANA name
    places: dict[str, str]  # lower-case place ("new_york") → IANA name


@cache
def _table() -> _Table:
    zones = available_timezones()
    # With a "/" any IANA name counts (US/Eastern keeps summer time); without one, country names do
    # (Japan, Poland), abbreviations do not: "EST" or "MST" (no summer time) cannot slip in.
    names = {zone.lower(): zone for zone in zones if "/" in zone or _is_country_name(zone)}
    places: dict[str, str] = {}
    for zone in sorted(zones, key=lambda z: (len(z), z)):  # a place named twice is one zone under two names
        parts = zone.split("/")
        # Three parts (America/Argentina/San_Juan) name a place within a region: "san juan" alone
        # more likely means Puerto Rico.
        if len(parts) == 2 and parts[0] in _REGIONS and zone not in _NOT_PLACES:
            places.setdefault(parts[1].lower(), zone)
    return _Table(names, places)


def _is_country_name(zone: str) -> bool:
    return zone.isalpha() and not zone.isupper() and zone not in ("Factory", "localtime")


def _key(text: str) -> str:
    return "_".join(text.strip().strip("`'\"").lower().split())


def resolve_timezone(text: str) -> str | None:
    """The IANA name that ``text`` means (any case, spaces for underscores, a place alone), or None."""
    key = _key(text)
    if not key or key.startswith("/") or ".." in key:
        return None
    if key in _UTC_SPELLINGS:
        return "UTC"
    table = _table()
    return table.names.get(key) or table.places.get(key)


def suggest_timezones(text: str, limit: int = 2) -> list[str]:
    """The IANA names closest to a mistyped zone (``Europe/Berln`` → ``Europe/Berlin``), best first."""
    key = _key(text)[:80]
    if not key:
        return []
    if key in _MEANT:
        return [_MEANT[key]]
    table = _table()
    candidates = {**table.places, **table.names}
    suggestions: list[str] = []
    for close in difflib.get_close_matches(key, list(candidates), n=limit * 2, cutoff=0.75):
        zone = candidates[close]
        if zone not in suggestions:
            suggestions.append(zone)
    return suggestions[:limit]


def parse_timezone(text: str, example: str = "") -> str:
    """``resolve_timezone``, or a UserInputError that names the closest zones (raw text: the reply escapes)."""
    zone = resolve_timezone(text)
    if zone is None:
        raise timezone_error(text, example)
    return zone


def did_you_mean(text: str) -> str:
    """`` Did you mean Europe/Berlin?`` for a mistyped zone (the zone meant, or the closest names), else ""."""
    close = suggest_timezones(text)
    return f" Did you mean {' or '.join(close)}?" if close else ""


def timezone_error(text: str, example: str = "") -> UserInputError:
    """What to tell someone whose ``text`` names no zone: the zone meant, or the closest names."""
    shown = " ".join(text.split())[:60] or "(empty)"
    if _key(text) in _MEANT:
        return UserInputError(f'"{shown}" is ambiguous as a time zone.{did_you_mean(text)}', example)
    hint = did_you_mean(text) or (
        " Use an IANA name like Europe/Berlin, America/New_York or Asia/Kolkata, or a city such as Berlin."
    )
    return UserInputError(f'"{shown}" is not a time zone I know.{hint}', example)
