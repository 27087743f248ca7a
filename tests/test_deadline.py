"""Update deadlines and the reminder ladder, in a zone without and a zone with DST."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from salesreg.config import build_config
from salesreg.deadline import compute_deadline, latest_reminder_step, previous_business_day, reminder_steps

TOKYO = ZoneInfo("Asia/Tokyo")
NEW_YORK = ZoneInfo("America/New_York")


def config(**sections):
    return build_config(sections, Path("."))


def tokyo(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TOKYO)


def new_york(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=NEW_YORK)


def test_spec_example_deadline() -> None:
    # The last update is long enough ago to need no reminder sooner, and recent enough that
    # its 14-day bound (2026-07-04) falls after the expected close.
    settings = config()
    deadline = compute_deadline(tokyo("2026-06-20T09:00"), date(2026, 6, 30), settings.deadline, TOKYO)
    assert deadline == tokyo("2026-06-30T18:00")


def test_spec_example_ladder() -> None:
    settings = config()
    steps = reminder_steps(tokyo("2026-06-30T18:00"), settings.reminders, TOKYO, until=tokyo("2026-07-03T18:00"))
    assert [step.due for step in steps] == [
        tokyo("2026-06-29T18:00"),
        tokyo("2026-06-30T17:00"),
        tokyo("2026-07-02T18:00"),
        tokyo("2026-07-03T18:00"),
    ]
    assert [step.key for step in steps] == ["before-1d", "before-1h", "after-2d", "repeat-1"]
    assert [step.overdue_number for step in steps] == [0, 0, 1, 2]


def test_ladder_stops_at_until() -> None:
    steps = reminder_steps(tokyo("2026-06-30T18:00"), config().reminders, TOKYO, until=tokyo("2026-06-30T17:05"))
    assert steps[-1].key == "before-1h"


def test_interval_earlier_than_close() -> None:
    deadline = compute_deadline(tokyo("2026-06-01T10:00"), date(2026, 12, 1), config().deadline, TOKYO)
    assert deadline == tokyo("2026-06-15T18:00")


def test_no_expected_close_uses_interval() -> None:
    deadline = compute_deadline(tokyo("2026-06-01T10:00"), None, config().deadline, TOKYO)
    assert deadline == tokyo("2026-06-15T18:00")


def test_last_update_counted_in_local_date() -> None:
    # 23:30 UTC on 2026-06-01 is already 2026-06-02 in Tokyo.
    last_update = datetime(2026, 6, 1, 23, 30, tzinfo=ZoneInfo("UTC"))
    deadline = compute_deadline(last_update, None, config().deadline, TOKYO)
    assert deadline == tokyo("2026-06-16T18:00")


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        pytest.param(date(2026, 7, 4), date(2026, 7, 3), id="saturday-to-friday"),
        pytest.param(date(2026, 7, 5), date(2026, 7, 3), id="sunday-to-friday"),
        pytest.param(date(2026, 5, 6), date(2026, 5, 1), id="golden-week-to-friday"),
        pytest.param(date(2026, 4, 29), date(2026, 4, 28), id="showa-day"),
        pytest.param(date(2026, 6, 30), date(2026, 6, 30), id="tuesday-stays"),
    ],
)
def test_previous_business_day_japan(day: date, expected: date) -> None:
    assert previous_business_day(day, "JP") == expected


def test_weekends_only_without_holidays() -> None:
    assert previous_business_day(date(2026, 5, 6), "") == date(2026, 5, 6)


def test_business_days_off_keeps_weekend() -> None:
    settings = config(deadline={"business_days_only": False})
    deadline = compute_deadline(tokyo("2026-06-25T09:00"), date(2026, 7, 4), settings.deadline, TOKYO)
    assert deadline == tokyo("2026-07-04T18:00")


def test_holiday_moves_deadline_back() -> None:
    deadline = compute_deadline(tokyo("2026-04-30T09:00"), date(2026, 5, 6), config().deadline, TOKYO)
    assert deadline == tokyo("2026-05-01T18:00")


def test_day_offset_keeps_clock_across_fall_back() -> None:
    # DST ends in New York on 2026-11-01; the day before the deadline is still 18:00 local.
    deadline = new_york("2026-11-02T18:00")
    steps = reminder_steps(deadline, config().reminders, NEW_YORK, until=deadline)
    before_day = steps[0]
    assert before_day.due.astimezone(NEW_YORK).replace(tzinfo=None) == datetime(2026, 11, 1, 18, 0)
    assert deadline - before_day.due == timedelta(hours=24)


def test_day_offset_keeps_clock_across_spring_forward() -> None:
    # DST starts in New York on 2026-03-08: a local day before is only 23 elapsed hours.
    deadline = new_york("2026-03-08T18:00")
    before_day = reminder_steps(deadline, config().reminders, NEW_YORK, until=deadline)[0]
    assert before_day.due.astimezone(NEW_YORK).replace(tzinfo=None) == datetime(2026, 3, 7, 18, 0)
    assert deadline.astimezone(ZoneInfo("UTC")) - before_day.due.astimezone(ZoneInfo("UTC")) == timedelta(hours=23)


def test_hour_offset_is_elapsed_time() -> None:
    # The hour before 03:30 EDT on 2026-03-08 is 01:30 EST: the clock skipped 02:00-03:00.
    deadline = new_york("2026-03-08T03:30")
    steps = reminder_steps(deadline, config().reminders, NEW_YORK, until=deadline)
    before_hour = steps[1]
    assert before_hour.key == "before-1h"
    assert before_hour.due.astimezone(NEW_YORK).replace(tzinfo=None) == datetime(2026, 3, 8, 1, 30)


def test_repeat_is_elapsed_across_fall_back() -> None:
    deadline = new_york("2026-10-30T18:00")
    steps = reminder_steps(deadline, config().reminders, NEW_YORK, until=new_york("2026-11-02T20:00"))
    after, repeat = steps[2], steps[3]
    assert after.due.astimezone(NEW_YORK).replace(tzinfo=None) == datetime(2026, 11, 1, 18, 0)
    assert repeat.due - after.due == timedelta(hours=24)


def test_deadline_in_dst_gap_moves_forward() -> None:
    settings = config(time={"timezone": "America/New_York"}, deadline={"time_of_day": "02:30", "business_days_only": False})
    deadline = compute_deadline(new_york("2026-03-01T09:00"), date(2026, 3, 8), settings.deadline, NEW_YORK)
    assert deadline.replace(tzinfo=None) == datetime(2026, 3, 8, 3, 30)


def test_no_repeats_when_disabled() -> None:
    settings = config(reminders={"repeat_every": ""})
    steps = reminder_steps(tokyo("2026-06-30T18:00"), settings.reminders, TOKYO, until=tokyo("2026-08-30T18:00"))
    assert [step.key for step in steps] == ["before-1d", "before-1h", "after-2d"]


LADDERS = [
    {},  # the default: 1d and 1h before, 2d after, every 24h
    {"before": ["2d"], "after": ["1h", "3d"], "repeat_every": "6h"},
    {"before": [], "after": [], "repeat_every": "90m"},
    {"before": ["1d"], "after": ["1d"], "repeat_every": "1d"},  # day repeats keep the clock time
    {"before": ["1d"], "after": ["2d"], "repeat_every": ""},
]


@hypothesis_settings(max_examples=300, deadline=None)
@given(
    ladder=st.sampled_from(LADDERS),
    zone=st.sampled_from([TOKYO, NEW_YORK]),
    deadline_minutes=st.integers(min_value=0, max_value=400 * 24 * 60),
    later_minutes=st.integers(min_value=-5 * 24 * 60, max_value=200 * 24 * 60),
)
def test_latest_step_is_last_of_ladder(ladder, zone, deadline_minutes, later_minutes) -> None:
    reminders = config(reminders=ladder).reminders
    deadline = (datetime(2026, 1, 1, 9, 0, tzinfo=timezone.utc) + timedelta(minutes=deadline_minutes)).astimezone(zone)
    until = deadline + timedelta(minutes=later_minutes)
    steps = reminder_steps(deadline, reminders, zone, until=until)
    latest = latest_reminder_step(deadline, reminders, zone, until=until)
    assert latest == (steps[-1] if steps else None)
