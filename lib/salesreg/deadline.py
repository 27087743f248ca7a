"""Update deadlines and the reminder ladder around them.

All datetimes are zone-aware. Day offsets keep the local clock time across a daylight saving
change; hour and minute offsets are elapsed time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

import holidays as holidays_lib

from .config import DeadlineConfig, Offset, RemindersConfig

StepKind = Literal["before", "after", "repeat"]


def normalize(moment: datetime, zone: ZoneInfo) -> datetime:
    """Return ``moment`` as a real instant in ``zone``; a wall time inside a DST gap moves forward."""
    return moment.astimezone(timezone.utc).astimezone(zone)


@lru_cache(maxsize=64)
def _holiday_calendar(country: str, year: int) -> frozenset[date]:
    return frozenset(holidays_lib.country_holidays(country, years=year).keys())


def is_business_day(day: date, country: str) -> bool:
    """Return True for Monday to Friday that are not public holidays of ``country`` ("" = none)."""
    if day.weekday() >= 5:
        return False
    return not country or day not in _holiday_calendar(country, day.year)


def previous_business_day(day: date, country: str) -> date:
    """Return ``day`` itself when it is a business day, else the closest business day before it."""
    while not is_business_day(day, country):
        day -= timedelta(days=1)
    return day


def compute_deadline(
    last_update: datetime,
    expected_close: date | None,
    settings: DeadlineConfig,
    zone: ZoneInfo,
) -> datetime:
    """Return the earlier of last update + interval and expected close, at the local time of day."""
    day = last_update.astimezone(zone).date() + timedelta(days=settings.review_interval_days)
    if expected_close is not None and expected_close < day:
        day = expected_close
    if settings.business_days_only:
        day = previous_business_day(day, settings.holidays)
    return normalize(datetime.combine(day, settings.time_of_day, tzinfo=zone), zone)


def shift(moment: datetime, offset: Offset, sign: int, zone: ZoneInfo) -> datetime:
    """Move ``moment`` by ``offset``: whole local days for "d", elapsed time for "h" and "m"."""
    if offset.unit == "d":
        wall = moment.astimezone(zone).replace(tzinfo=None) + sign * timedelta(days=offset.amount)
        return normalize(wall.replace(tzinfo=zone), zone)
    delta = timedelta(hours=offset.amount) if offset.unit == "h" else timedelta(minutes=offset.amount)
    return (moment.astimezone(timezone.utc) + sign * delta).astimezone(zone)


@dataclass(frozen=True)
class ReminderStep:
    """One rung of the ladder: its ledger key, its kind and when it becomes due."""

    key: str  # "before-1d", "after-2d", "repeat-3": unique per deadline
    kind: StepKind
    due: datetime
    overdue_number: int  # 0 before the deadline, then 1, 2, 3 … for each overdue reminder


def reminder_steps(deadline: datetime, ladder: RemindersConfig, zone: ZoneInfo, until: datetime) -> list[ReminderStep]:
    """Return every step of ``deadline``'s ladder due at or before ``until``, oldest first.

    Repeats follow the last "after" step (or the deadline when there is none) for as long as
    they are due; they are generated lazily up to ``until`` because they never end.
    """
    steps: list[ReminderStep] = []
    for offset in ladder.before:
        steps.append(ReminderStep(f"before-{offset}", "before", shift(deadline, offset, -1, zone), 0))

    after = sorted(((shift(deadline, o, +1, zone), o) for o in ladder.after), key=lambda pair: pair[0])
    for number, (due, offset) in enumerate(after, start=1):
        steps.append(ReminderStep(f"after-{offset}", "after", due, number))

    if ladder.repeat_every is not None:
        last = after[-1][0] if after else deadline
        number = len(after)
        repeat = 0
        while True:
            repeat += 1
            last = shift(last, ladder.repeat_every, +1, zone)
            if last > until:
                break
            steps.append(ReminderStep(f"repeat-{repeat}", "repeat", last, number + repeat))

    due_steps = [step for step in steps if step.due <= until]
    due_steps.sort(key=lambda step: (step.due, step.overdue_number))
    return due_steps


def latest_reminder_step(deadline: datetime, ladder: RemindersConfig, zone: ZoneInfo, until: datetime) -> ReminderStep | None:
    """Return the last step of ``reminder_steps(deadline, ladder, zone, until)``, or None.

    When the repeats are elapsed time ("h" or "m") and one is due, the last one is counted
    directly instead of listing every repeat, because a deadline months overdue has hundreds.
    Day repeats keep the local clock time across daylight saving changes, so they are listed.
    """
    every = ladder.repeat_every
    if every is not None and every.unit != "d":
        after = [shift(deadline, offset, +1, zone) for offset in ladder.after]
        start = max(after, default=deadline)
        interval = timedelta(hours=every.amount) if every.unit == "h" else timedelta(minutes=every.amount)
        # In UTC, because Python subtracts two times of the same zone by their wall clocks.
        start_utc = start.astimezone(timezone.utc)
        count = (until.astimezone(timezone.utc) - start_utc) // interval
        if count >= 1:
            due = (start_utc + count * interval).astimezone(zone)
            return ReminderStep(f"repeat-{count}", "repeat", due, len(after) + count)
    steps = reminder_steps(deadline, ladder, zone, until)
    return steps[-1] if steps else None
