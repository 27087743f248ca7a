"""Fiscal years and fiscal-period sales.

A deal bills its monthly price from the month of its service start (the whole month counts,
whatever the day) for ``contract_months`` months, or without end when that is blank, and bills
its one-time fee in the service start month. Fiscal-period sales are the part of that billing
that falls inside the current fiscal year.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from .money import round_money


@dataclass(frozen=True)
class Month:
    """A calendar month, ordered and countable."""

    year: int
    month: int

    @property
    def index(self) -> int:
        return self.year * 12 + self.month - 1

    @classmethod
    def from_index(cls, index: int) -> Month:
        return cls(index // 12, index % 12 + 1)

    @classmethod
    def of(cls, day: date) -> Month:
        return cls(day.year, day.month)

    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def __lt__(self, other: Month) -> bool:
        return self.index < other.index

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True)
class FiscalYear:
    """Twelve months starting in ``start``; ``label`` is the year the name uses (FY2026)."""

    start: Month
    label_year: int

    # Cached because every deal's sales walk the months. cached_property stores into the
    # instance __dict__ directly, which a frozen dataclass allows.
    @cached_property
    def months(self) -> tuple[Month, ...]:
        return tuple(Month.from_index(self.start.index + i) for i in range(12))

    @cached_property
    def end(self) -> Month:
        return Month.from_index(self.start.index + 11)

    @property
    def name(self) -> str:
        return f"FY{self.label_year}"

    def contains(self, month: Month) -> bool:
        return self.start.index <= month.index <= self.start.index + 11


def fiscal_year_of(day: date | datetime, start_month: int, label: Literal["start", "end"] = "start") -> FiscalYear:
    """Return the fiscal year that contains ``day`` (a local date, not UTC)."""
    start_year = day.year if day.month >= start_month else day.year - 1
    start = Month(start_year, start_month)
    end = Month.from_index(start.index + 11)
    return FiscalYear(start=start, label_year=start.year if label == "start" else end.year)


@dataclass(frozen=True)
class Billing:
    """The billing terms of a deal: the rep's price fields, already parsed."""

    monthly_price: Decimal | None = None
    service_start: date | None = None
    contract_months: int | None = None  # None: runs on without end
    one_time_fee: Decimal | None = None


def monthly_sales(billing: Billing, year: FiscalYear) -> dict[Month, Decimal]:
    """Return the amount billed in each month of ``year``, every month present."""
    zero = Decimal(0)
    amounts = dict.fromkeys(year.months, zero)
    if billing.service_start is None:
        return amounts
    first = Month.of(billing.service_start)
    first_index = first.index
    price = billing.monthly_price or zero
    for offset, month in enumerate(year.months):
        index = year.start.index + offset
        if index < first_index:
            continue
        if billing.contract_months is not None and index >= first_index + billing.contract_months:
            continue
        amounts[month] += price
    if billing.one_time_fee and year.contains(first):
        amounts[first] += billing.one_time_fee
    return amounts


def billed_months(billing: Billing, year: FiscalYear) -> int:
    """Count the billed months of ``billing`` inside ``year``."""
    if billing.service_start is None:
        return 0
    first = Month.of(billing.service_start).index
    last = year.end.index
    if billing.contract_months is not None:
        last = min(last, first + billing.contract_months - 1)
    return max(0, last - max(first, year.start.index) + 1)


def fiscal_sales(billing: Billing, year: FiscalYear) -> Decimal:
    """Return P × billed months inside ``year`` + F when the service start month is inside it."""
    price = billing.monthly_price or Decimal(0)
    total = price * billed_months(billing, year)
    if billing.one_time_fee and billing.service_start and year.contains(Month.of(billing.service_start)):
        total += billing.one_time_fee
    return total


def weighted_sales(amount: Decimal, probability: Decimal, currency: str) -> Decimal:
    """Return ``amount`` × ``probability`` rounded half up to the currency's unit."""
    return round_money(amount * probability, currency)
