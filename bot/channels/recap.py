"""When a channel's weekly recap is due and which week it covers: pure functions of the clock.

The rule mirrors the daily post's (``bot/channels/schedule.py``): one scheduler tick asks every
channel; a recap is due when its slot *in this ISO week, in the channel's time zone* has passed and the
ledger has no recap for the week it covers. So a bot that was down at Friday 16:00 posts the recap when
it comes back the same week, never twice, and a recap missed for a whole week is not sent late.

Which week: a recap on Friday, Saturday or Sunday covers its own ISO week (Monday to Friday's papers
are in); one on Monday to Thursday covers the week before, which would otherwise be cut short. The
ledger's period is that covered week (``2026-W23``), so ``post-now --kind recap --week 2026-W23`` and
the schedule can never both post it.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.channels.schedule import DAY_NAMES, parse_time
from bot.errors import UserInputError
from bot.models import ChannelConfig

__all__ = [
    "RECAP_EXAMPLE",
    "covered_week",
    "due_recap",
    "format_recap",
    "next_recap_time",
    "parse_recap",
    "parse_week",
    "recap_slot",
    "week_days",
    "week_label",
]

RECAP_EXAMPLE = "/papers set recap fri 16:00"
_WEEK_RE = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)
_FULL_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def parse_recap(words: list[str]) -> tuple[int | None, str]:
    """``fri 16:00`` -> (4, "16:00"); ``off`` -> (None, ""). Either order; the time defaults to 16:00."""
    if [w.lower() for w in words] in (["off"], ["stop"], ["none"]):
        return None, ""
    day: int | None = None
    at = ""
    for word in words:
        lowered = word.lower().rstrip(",")
        if lowered[:1].isdigit():
            try:
                at = parse_time(lowered)
            except UserInputError as exc:  # its example is the daily post's: give the recap's
                raise UserInputError(exc.message, RECAP_EXAMPLE) from None
        elif lowered in DAY_NAMES or lowered in _FULL_DAY_NAMES:
            day = DAY_NAMES.index(lowered[:3])
        else:
            raise UserInputError(
                f"`{word[:40]}` is neither a weekday (mon … sun) nor a time. Turn the recap off with `off`.",
                RECAP_EXAMPLE,
            )
    if day is None:
        raise UserInputError("Say which weekday the weekly recap goes out, e.g. `fri 16:00`, or `off`.", RECAP_EXAMPLE)
    return day, at or "16:00"


def format_recap(config: ChannelConfig) -> str:
    """``Fri 16:00 (Europe/Berlin)``, or ``off``."""
    if config.recap_day is None:
        return "off"
    return f"{DAY_NAMES[config.recap_day].capitalize()} {config.recap_time} ({config.timezone})"


def week_label(day: date) -> str:
    """The ISO week of ``day``: ``2026-W23`` (what Hugging Face's ``?week=`` takes)."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def parse_week(text: str) -> str:
    """``2026-W23`` (also ``2026W23``, ``2026-w3``) -> ``2026-W23``; a week that does not exist is refused."""
    match = _WEEK_RE.match(text.strip())
    if match is None:
        raise UserInputError(f"`{text[:20]}` is not an ISO week; write it like 2026-W23.", "--week 2026-W23")
    year, week = int(match[1]), int(match[2])
    try:
        date.fromisocalendar(year, week, 1)
    except ValueError:
        raise UserInputError(f"{year} has no week {week}.", "--week 2026-W23") from None
    return f"{year}-W{week:02d}"


def week_days(label: str) -> list[date]:
    """Monday to Sunday of an ISO week label."""
    year, week = (int(part) for part in parse_week(label).split("-W"))
    return [date.fromisocalendar(year, week, weekday) for weekday in range(1, 8)]


def covered_week(slot_day: date) -> str:
    """The week a recap posted on ``slot_day`` covers: its own from Friday on, else the week before."""
    return week_label(slot_day if slot_day.weekday() >= 4 else slot_day - timedelta(days=7))


def recap_slot(local_today: date, config: ChannelConfig) -> datetime | None:
    """This ISO week's recap slot (UTC), or None when the recap is off."""
    if config.recap_day is None or not config.recap_time:
        return None
    slot_day = local_today - timedelta(days=local_today.weekday() - config.recap_day)
    hour, minute = (int(p) for p in config.recap_time.split(":"))
    return datetime.combine(slot_day, time(hour, minute), tzinfo=ZoneInfo(config.timezone)).astimezone(UTC)


def due_recap(now: datetime, config: ChannelConfig) -> tuple[str, date] | None:
    """(covered week, the channel's local date) when this week's slot has passed by ``now``, else None.

    Slots before ``recap_since`` (when the recap was turned on or moved) are not owed, as with
    ``active_since`` for the daily post. A paused channel (Slack refused its posts) gets none."""
    if config.recap_day is None or config.paused_reason:
        return None
    local_today = now.astimezone(ZoneInfo(config.timezone)).date()
    slot = recap_slot(local_today, config)
    if slot is None or slot > now:
        return None
    if config.recap_since and slot < datetime.fromisoformat(config.recap_since):
        return None
    slot_day = slot.astimezone(ZoneInfo(config.timezone)).date()
    return covered_week(slot_day), local_today


def next_recap_time(now: datetime, config: ChannelConfig) -> datetime | None:
    """When the next recap slot comes, in the channel's zone (for replies); None when off."""
    zone = ZoneInfo(config.timezone)
    local_today = now.astimezone(zone).date()
    for weeks in (0, 1):
        slot = recap_slot(local_today + timedelta(days=7 * weeks), config)
        if slot is not None and slot > now:
            return slot.astimezone(zone)
    return None
