"""When a weekly recap is due and which week it covers (``bot/channels/recap.py``): pure rules."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.channels.recap import covered_week, due_recap, next_recap_time, parse_recap, parse_week, week_days
from bot.errors import UserInputError
from bot.models import ChannelConfig


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["fri", "16:00"], (4, "16:00")),
        (["16:00", "Friday"], (4, "16:00")),
        (["mon"], (0, "16:00")),
        (["sun", "9am"], (6, "09:00")),
        (["off"], (None, "")),
        (["OFF"], (None, "")),
    ],
)
def test_parse_recap(words: list[str], expected: tuple[int | None, str]) -> None:
    assert parse_recap(words) == expected


@pytest.mark.parametrize("words", [[], ["16:00"], ["fri", "25:00"], ["someday"], ["fri", "16"]])
def test_parse_recap_refuses_with_an_example(words: list[str]) -> None:
    with pytest.raises(UserInputError) as refused:
        parse_recap(words)
    assert refused.value.example == "/papers set recap fri 16:00"


def test_weeks() -> None:
    assert parse_week("2026w3") == "2026-W03" and parse_week("2026-W53") == "2026-W53"
    with pytest.raises(UserInputError, match="2025 has no week 53"):
        parse_week("2025-W53")
    with pytest.raises(UserInputError):
        parse_week("June")
    assert week_days("2026-W34")[0] == date(2026, 8, 17) and week_days("2026-W34")[-1] == date(2026, 8, 23)
    assert week_days("2027-W01")[0] == date(2027, 1, 4)  # ISO weeks across a year end


@pytest.mark.parametrize(
    ("slot_day", "week"),
    [
        (date(2026, 8, 21), "2026-W34"),
        (date(2026, 8, 23), "2026-W34"),
        (date(2026, 8, 17), "2026-W33"),
        (date(2026, 8, 20), "2026-W33"),
        (date(2027, 1, 4), "2026-W53"),
    ],
)
def test_covered_week(slot_day: date, week: str) -> None:
    assert covered_week(slot_day) == week


def recap(day: int = 4, at: str = "16:00", zone: str = "UTC", **changes: object) -> ChannelConfig:
    return ChannelConfig("C1", recap_day=day, recap_time=at, timezone=zone).replace(**changes)


def test_due_only_after_this_weeks_slot_in_the_channels_zone() -> None:
    config = recap(zone="America/New_York")  # Fri 16:00 EDT = 20:00 UTC
    assert due_recap(datetime(2026, 8, 21, 19, 59, tzinfo=UTC), config) is None
    assert due_recap(datetime(2026, 8, 21, 20, 0, tzinfo=UTC), config) == ("2026-W34", date(2026, 8, 21))
    # Sunday night in New York is already Monday in UTC: still the same local week, still owed.
    assert due_recap(datetime(2026, 8, 24, 3, 0, tzinfo=UTC), config) == ("2026-W34", date(2026, 8, 23))
    assert due_recap(datetime(2026, 8, 24, 5, 0, tzinfo=UTC), config) is None  # Monday 01:00 local


def test_not_owed_before_it_was_turned_on_nor_in_a_paused_channel_nor_when_off() -> None:
    friday = datetime(2026, 8, 21, 17, 0, tzinfo=UTC)
    assert due_recap(friday, recap(recap_since="2026-08-21T16:30:00+00:00")) is None
    assert due_recap(friday, recap(recap_since="2026-08-20T00:00:00+00:00")) is not None
    assert due_recap(friday, recap(paused_reason="is_archived")) is None
    assert due_recap(friday, ChannelConfig("C1")) is None


def test_a_monday_recap_covers_the_week_before_and_dst_keeps_the_wall_time() -> None:
    config = recap(day=0, at="09:00", zone="Europe/Berlin")
    assert due_recap(datetime(2026, 10, 26, 8, 0, tzinfo=UTC), config) == ("2026-W43", date(2026, 10, 26))
    assert due_recap(datetime(2026, 10, 26, 7, 59, tzinfo=UTC), config) is None  # 08:59 CET, after the change
    nxt = next_recap_time(datetime(2026, 10, 21, 12, 0, tzinfo=UTC), config)
    assert nxt is not None and (nxt.hour, nxt.minute, nxt.date()) == (9, 0, date(2026, 10, 26))
