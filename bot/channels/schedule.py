"""When each channel posts and which Hugging Face days it gets: pure functions of the clock.

Design: instead of one cron job per channel, a single scheduler tick (every minute) asks
``due_local_date`` for every channel. A channel is due when its slot for *today in its own time
zone* has passed and the ledger has no run for that local date. This one rule gives:

* DST safety: slots are computed with ``zoneinfo`` for each date (a 02:30 slot in a spring-forward
  gap fires at 03:30; in a fall-back fold it fires once, at the first 01:30);
* catch-up after downtime: a bot that was down at 09:00 posts when it comes back the same day;
* no double post after a restart or a clock jumping back, since the ledger is keyed by local date.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.channels.timezones import did_you_mean, resolve_timezone, timezone_error
from bot.errors import UserInputError
from bot.models import ChannelConfig

__all__ = [
    "DAY_NAMES",
    "SETTLE_HOUR_UTC",
    "ScheduleSpec",
    "candidate_days",
    "due_local_date",
    "format_weekdays",
    "next_post_time",
    "parse_schedule_spec",
    "parse_time",
    "parse_weekdays",
    "settled_day",
    "slot_utc",
]

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SETTLE_HOUR_UTC = 18  # day D's list is treated as complete from 18:00 UTC on D (hf_api.md §8.3)
MAX_CATCHUP_DAYS = 3  # at most this many days with papers go into one catch-up post
LOOKBACK_DAYS = 10  # calendar days searched for them (covers a long weekend plus downtime)
_TIME_RE = re.compile(r"^(\d{1,2})(?::(\d{2}))?\s*(am|pm)?$")
_DAY_ALIASES = {
    "daily": (0, 1, 2, 3, 4, 5, 6),
    "everyday": (0, 1, 2, 3, 4, 5, 6),
    "weekdays": (0, 1, 2, 3, 4),
    "workdays": (0, 1, 2, 3, 4),
    "weekends": (5, 6),
    "weekend": (5, 6),
}
_DAY_PREFIXES = {name: i for i, name in enumerate(DAY_NAMES)}
_DAY_PREFIXES.update({"monday": 0, "tuesday": 1, "tues": 1, "wednesday": 2, "thursday": 3, "thur": 3, "thurs": 3})
_DAY_PREFIXES.update({"friday": 4, "saturday": 5, "sunday": 6})

TIME_EXAMPLE = "/papers subscribe 08:30 Europe/Berlin mon-fri"


def parse_time(text: str) -> str:
    """``8:30``, ``08:30``, ``9am``, ``5:15pm`` → ``"HH:MM"`` (24-hour)."""
    match = _TIME_RE.match(text.strip().lower())
    if not match:
        raise UserInputError(f"`{text}` is not a time of day. Use 08:30 (24-hour), 9am or 5:15pm.", TIME_EXAMPLE)
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    suffix = match.group(3)
    if suffix:
        if not 1 <= hour <= 12:
            raise UserInputError(f"`{text}` is not a valid time.", TIME_EXAMPLE)
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    elif match.group(2) is None:
        raise UserInputError(f"`{text}` is ambiguous: write it as HH:MM, e.g. `{hour:02d}:00`.", TIME_EXAMPLE)
    if hour > 23 or minute > 59:
        raise UserInputError(f"`{text}` is not a valid time: hours go 00–23 and minutes 00–59.", TIME_EXAMPLE)
    return f"{hour:02d}:{minute:02d}"


def _day_index(word: str) -> int:
    if word in _DAY_PREFIXES:
        return _DAY_PREFIXES[word]
    raise UserInputError(f"`{word}` is not a weekday. Use mon, tue, wed, thu, fri, sat, sun.", TIME_EXAMPLE)


def parse_weekdays(text: str) -> tuple[int, ...]:
    """``mon-fri``, ``mon,wed,fri``, ``daily``, ``weekdays``, ``sat-sun`` → sorted weekday numbers."""
    word = text.strip().lower().replace(" ", "")
    if word in _DAY_ALIASES:
        return _DAY_ALIASES[word]
    days: set[int] = set()
    for part in filter(None, word.split(",")):
        if "-" in part:
            start_text, _, end_text = part.partition("-")
            start, end = _day_index(start_text), _day_index(end_text)
            span = (end - start) % 7
            days.update((start + i) % 7 for i in range(span + 1))
        else:
            days.add(_day_index(part))
    if not days:
        raise UserInputError("No weekdays given.", TIME_EXAMPLE)
    return tuple(sorted(days))


def format_weekdays(days: Iterable[int]) -> str:
    """The shortest readable form: ``every day``, ``Mon–Fri``, ``Mon, Wed, Fri``."""
    ordered = sorted(set(days))
    if ordered == list(range(7)):
        return "every day"
    names = [DAY_NAMES[d].capitalize() for d in ordered]
    if len(ordered) >= 3 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{names[0]}–{names[-1]}"
    return ", ".join(names)


class ScheduleSpec:
    """The optional parts of ``/papers subscribe [time] [zone] [days]``; None = keep current."""

    def __init__(self, post_time: str | None, timezone: str | None, weekdays: tuple[int, ...] | None):
        self.post_time = post_time
        self.timezone = timezone
        self.weekdays = weekdays


def parse_schedule_spec(words: Iterable[str]) -> ScheduleSpec:
    """Each word is a time, a weekday set or a time zone, in any order; a zone may take up to three
    words (``New York``, ``America/Sao Paulo``)."""
    words = list(words)
    post_time: str | None = None
    timezone: str | None = None
    weekdays: tuple[int, ...] | None = None
    i = 0
    while i < len(words):
        word = words[i]
        if word[:1].isdigit():
            post_time, i = parse_time(word), i + 1
            continue
        not_days: UserInputError | None = None
        if "/" not in word:
            try:
                weekdays, i = parse_weekdays(word), i + 1
                continue
            except UserInputError as exc:
                not_days = exc
        zone, used = _zone_at(words, i)
        if zone is not None:
            timezone, i = zone, i + used
            continue
        if not_days is None:  # a zone with a "/" that names none: say which zones come close
            raise timezone_error(word, TIME_EXAMPLE)
        if any(c in word for c in ",-"):
            raise not_days  # a list or range of days with a typo: the days' own message says which
        raise _neither_days_nor_zone(word) from not_days
    return ScheduleSpec(post_time, timezone, weekdays)


def _zone_at(words: list[str], start: int) -> tuple[str | None, int]:
    """The zone the longest run of words from ``start`` names (three words at most), and its length."""
    for length in (3, 2, 1):
        if start + length <= len(words) and (zone := resolve_timezone(" ".join(words[start : start + length]))):
            return zone, length
    return None, 0


def _neither_days_nor_zone(word: str) -> UserInputError:
    return UserInputError(
        f"`{word[:60]}` is neither days (mon-fri, mon,wed,fri, daily, weekends) nor a time zone I know."
        + did_you_mean(word),
        TIME_EXAMPLE,
    )


def slot_utc(local_date: date, config: ChannelConfig) -> datetime | None:
    """The UTC instant of the channel's post on ``local_date``, or None if it does not post that day.

    zoneinfo resolves a wall time in a DST gap with the pre-transition offset (02:30 → 03:30 local)
    and an ambiguous one with ``fold=0`` (the first occurrence), so every date has exactly one slot.
    """
    if local_date.weekday() not in config.weekdays:
        return None
    hour, minute = (int(p) for p in config.post_time.split(":"))
    local = datetime.combine(local_date, time(hour, minute), tzinfo=ZoneInfo(config.timezone))
    return local.astimezone(UTC)


def due_local_date(now: datetime, config: ChannelConfig) -> date | None:
    """The channel's local date whose slot has passed by ``now`` (same local day), else None."""
    if not config.active:
        return None
    local_today = now.astimezone(ZoneInfo(config.timezone)).date()
    slot = slot_utc(local_today, config)
    if slot is not None and slot <= now and not _before_activation(slot, config):
        return local_today
    return None


def _before_activation(slot: datetime, config: ChannelConfig) -> bool:
    return bool(config.active_since) and slot < datetime.fromisoformat(config.active_since)


def next_post_time(now: datetime, config: ChannelConfig, *, done_today: bool = False) -> datetime | None:
    """When the channel's next post goes out, in its zone: ``now`` when it is due but not yet done."""
    zone = ZoneInfo(config.timezone)
    if not done_today and due_local_date(now, config) is not None:
        return now.astimezone(zone)
    local_today = now.astimezone(zone).date()
    for offset in range(0, 8):
        slot = slot_utc(local_today + timedelta(days=offset), config)
        if slot is not None and slot > now and not (offset == 0 and done_today):
            return slot.astimezone(zone)
    return None


def settled_day(now: datetime) -> date:
    """The newest Hugging Face day whose list has settled at ``now``."""
    utc_now = now.astimezone(UTC)
    today = utc_now.date()
    return today if utc_now.hour >= SETTLE_HOUR_UTC else today - timedelta(days=1)


def candidate_days(now: datetime, last_day: date | None) -> list[date]:
    """Hugging Face days a channel may get now, newest first.

    A channel that already had ``last_day`` gets the settled days after it; a new channel gets the
    last ``LOOKBACK_DAYS``. The caller keeps the newest days that have papers: at most
    ``MAX_CATCHUP_DAYS`` of them, and only one for a channel's first post.
    """
    newest = settled_day(now)
    span = LOOKBACK_DAYS if last_day is None else (newest - last_day).days
    return [newest - timedelta(days=i) for i in range(max(0, min(span, LOOKBACK_DAYS)))]
