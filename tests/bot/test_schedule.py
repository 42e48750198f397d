"""When a channel posts and which Hugging Face days it gets, across zones and DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.channels.schedule import (
    candidate_days,
    due_local_date,
    format_weekdays,
    next_post_time,
    parse_schedule_spec,
    parse_time,
    parse_weekdays,
    settled_day,
    slot_utc,
)
from bot.errors import UserInputError
from bot.models import ChannelConfig


def channel(**kw: object) -> ChannelConfig:
    return ChannelConfig("C1", subscribed=True, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("08:30", "08:30"),
        ("8:30", "08:30"),
        ("9am", "09:00"),
        ("12am", "00:00"),
        ("5:15pm", "17:15"),
        ("23:59", "23:59"),
    ],
)
def test_parse_time_accepts_common_forms(text: str, expected: str) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize("text", ["25:00", "12:60", "noon", "13pm", "9"])
def test_parse_time_rejects_with_an_example(text: str) -> None:
    with pytest.raises(UserInputError) as err:
        parse_time(text)
    assert "subscribe" in err.value.example


def test_weekday_forms() -> None:
    assert parse_weekdays("mon-fri") == (0, 1, 2, 3, 4)
    assert parse_weekdays("mon,wed,fri") == (0, 2, 4)
    assert parse_weekdays("daily") == tuple(range(7))
    assert parse_weekdays("fri-mon") == (0, 4, 5, 6)
    assert parse_weekdays("weekends") == (5, 6)
    with pytest.raises(UserInputError):
        parse_weekdays("mon-funday")
    assert format_weekdays((0, 1, 2, 3, 4)) == "Mon–Fri"
    assert format_weekdays((0, 2, 4)) == "Mon, Wed, Fri"
    assert format_weekdays(range(7)) == "every day"


def test_schedule_spec_in_any_order() -> None:
    spec = parse_schedule_spec(["Europe/Berlin", "mon-fri", "08:30"])
    assert (spec.post_time, spec.timezone, spec.weekdays) == ("08:30", "Europe/Berlin", (0, 1, 2, 3, 4))
    with pytest.raises(UserInputError) as err:
        parse_schedule_spec(["Mars/Olympus"])
    assert "time zone" in err.value.message


@pytest.mark.parametrize(
    ("words", "zone"),
    [
        (["europe/berlin"], "Europe/Berlin"),
        (["9am", "berlin", "weekdays"], "Europe/Berlin"),
        (["kolkata"], "Asia/Kolkata"),
        (["Sao_Paulo"], "America/Sao_Paulo"),
        (["gmt"], "UTC"),
        (["9am", "New", "York", "mon-fri"], "America/New_York"),  # a zone may take several words
        (["America/New", "York"], "America/New_York"),
        (["hong", "kong", "daily"], "Asia/Hong_Kong"),
    ],
)
def test_schedule_spec_reads_a_time_zone_as_people_type_it(words: list[str], zone: str) -> None:
    assert parse_schedule_spec(words).timezone == zone


def test_a_mistyped_zone_or_day_says_what_was_meant() -> None:
    with pytest.raises(UserInputError) as err:
        parse_schedule_spec(["Europe/Berln"])
    assert "Did you mean Europe/Berlin" in err.value.message and err.value.example
    with pytest.raises(UserInputError) as err:
        parse_schedule_spec(["08:30", "Berln"])  # neither days nor a zone: both are named
    assert "neither days" in err.value.message and "Europe/Berlin" in err.value.message
    with pytest.raises(UserInputError) as err:
        parse_schedule_spec(["mon-fry"])  # a range of days keeps the days' own message
    assert "`fry` is not a weekday" in err.value.message


def test_slot_uses_the_channel_zone_on_each_side_of_dst() -> None:
    berlin = channel(post_time="08:30", timezone="Europe/Berlin", weekdays=tuple(range(7)))
    # Berlin is UTC+1 in winter and UTC+2 in summer: the UTC slot moves, the wall clock does not.
    assert slot_utc(date(2026, 3, 28), berlin) == datetime(2026, 3, 28, 7, 30, tzinfo=UTC)
    assert slot_utc(date(2026, 3, 30), berlin) == datetime(2026, 3, 30, 6, 30, tzinfo=UTC)


def test_slot_in_spring_forward_gap_fires_once_after_the_gap() -> None:
    # 2026-03-08: New York jumps from 02:00 to 03:00; a 02:30 slot does not exist that day.
    ny = channel(post_time="02:30", timezone="America/New_York", weekdays=tuple(range(7)))
    slot = slot_utc(date(2026, 3, 8), ny)
    assert slot is not None
    assert slot.astimezone(ZoneInfo("America/New_York")).strftime("%H:%M") == "03:30"


def test_fall_back_fold_gives_one_due_date_all_day() -> None:
    # 2026-11-01: New York repeats 01:00–02:00. A 01:30 slot must be due once for that local date.
    ny = channel(post_time="01:30", timezone="America/New_York", weekdays=tuple(range(7)))
    first = datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT
    second = datetime(2026, 11, 1, 6, 30, tzinfo=UTC)  # 01:30 EST, an hour later
    assert due_local_date(first - timedelta(minutes=1), ny) is None
    assert due_local_date(first, ny) == date(2026, 11, 1)
    # Still the same local date an hour later: the ledger (keyed by it) prevents a second post.
    assert due_local_date(second, ny) == date(2026, 11, 1)


def test_due_only_on_scheduled_weekdays_and_after_the_slot() -> None:
    cfg = channel(post_time="09:00", timezone="UTC")
    friday_0859 = datetime(2026, 8, 21, 8, 59, tzinfo=UTC)
    assert due_local_date(friday_0859, cfg) is None
    assert due_local_date(friday_0859 + timedelta(minutes=1), cfg) == date(2026, 8, 21)
    # Down at 09:00, back at 15:00 the same day: still due (one late post).
    assert due_local_date(datetime(2026, 8, 21, 15, 0, tzinfo=UTC), cfg) == date(2026, 8, 21)
    assert due_local_date(datetime(2026, 8, 22, 10, 0, tzinfo=UTC), cfg) is None  # Saturday
    assert due_local_date(datetime(2026, 8, 21, 10, 0, tzinfo=UTC), cfg.replace(subscribed=False)) is None
    assert due_local_date(datetime(2026, 8, 21, 10, 0, tzinfo=UTC), cfg.replace(paused_reason="is_archived")) is None


def test_local_date_follows_the_channel_zone() -> None:
    tokyo = channel(post_time="08:00", timezone="Asia/Tokyo")
    # 23:30 UTC Sunday is 08:30 Monday in Tokyo.
    assert due_local_date(datetime(2026, 8, 23, 23, 30, tzinfo=UTC), tokyo) == date(2026, 8, 24)


def test_next_post_time_skips_weekend_and_done_today() -> None:
    cfg = channel(post_time="09:00", timezone="Europe/Berlin")
    friday_noon = datetime(2026, 8, 21, 10, 0, tzinfo=UTC)
    nxt = next_post_time(friday_noon, cfg, done_today=True)
    assert nxt is not None and nxt.strftime("%a %H:%M %Z") == "Mon 09:00 CEST"
    before = next_post_time(datetime(2026, 8, 21, 6, 0, tzinfo=UTC), cfg)
    assert before is not None and before.strftime("%a %H:%M") == "Fri 09:00"


def test_settled_day_rolls_at_1800_utc() -> None:
    assert settled_day(datetime(2026, 8, 21, 17, 59, tzinfo=UTC)) == date(2026, 8, 20)
    assert settled_day(datetime(2026, 8, 21, 18, 0, tzinfo=UTC)) == date(2026, 8, 21)
    # 17:00 in Los Angeles is 00:00 UTC the next day: Friday's list (settled at 11:00 PDT) is the
    # newest, not Saturday's, which has only just begun.
    la_evening = datetime(2026, 8, 21, 17, 0, tzinfo=ZoneInfo("America/Los_Angeles"))
    assert settled_day(la_evening) == date(2026, 8, 21)


def test_candidate_days_after_a_weekend() -> None:
    monday_morning = datetime(2026, 8, 24, 9, 0, tzinfo=UTC)
    # Last had Thursday's list (posted Friday morning): Friday, Saturday and Sunday are owed.
    assert candidate_days(monday_morning, date(2026, 8, 20)) == [
        date(2026, 8, 23),
        date(2026, 8, 22),
        date(2026, 8, 21),
    ]
    assert candidate_days(monday_morning, date(2026, 8, 23)) == []
    assert len(candidate_days(monday_morning, None)) == 10
