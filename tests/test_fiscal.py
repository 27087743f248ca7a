"""Fiscal-period sales: the worked cases of the product spec, then properties."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesreg.fiscal import Billing, Month, fiscal_sales, fiscal_year_of, monthly_sales, weighted_sales

FY2026 = fiscal_year_of(date(2026, 12, 4), start_month=4)


@pytest.mark.parametrize(
    ("price", "start", "months", "fee", "expected"),
    [
        pytest.param(100_000, date(2026, 10, 1), None, None, 600_000, id="october-to-march"),
        pytest.param(100_000, date(2026, 10, 20), None, None, 600_000, id="start-month-counts-in-full"),
        pytest.param(100_000, date(2025, 12, 1), None, None, 1_200_000, id="started-before-the-year"),
        pytest.param(100_000, date(2027, 4, 1), None, None, 0, id="starts-next-year"),
        pytest.param(100_000, date(2026, 10, 1), 3, None, 300_000, id="october-to-december"),
        pytest.param(50_000, date(2027, 3, 15), 12, 200_000, 250_000, id="one-month-plus-fee"),
    ],
)
def test_spec_worked_cases(price: int, start: date, months: int | None, fee: int | None, expected: int) -> None:
    billing = Billing(Decimal(price), start, months, Decimal(fee) if fee is not None else None)
    assert fiscal_sales(billing, FY2026) == Decimal(expected)


def test_fiscal_year_april_to_march() -> None:
    assert FY2026.start == Month(2026, 4)
    assert FY2026.end == Month(2027, 3)
    assert FY2026.name == "FY2026"


@pytest.mark.parametrize(
    ("day", "label", "name"),
    [
        pytest.param(date(2026, 4, 1), "start", "FY2026", id="first-day"),
        pytest.param(date(2027, 3, 31), "start", "FY2026", id="last-day"),
        pytest.param(date(2027, 3, 31), "end", "FY2027", id="labelled-by-end-year"),
        pytest.param(date(2026, 3, 31), "start", "FY2025", id="day-before"),
    ],
)
def test_fiscal_year_labels(day: date, label: str, name: str) -> None:
    assert fiscal_year_of(day, 4, label).name == name  # type: ignore[arg-type]


def test_calendar_fiscal_year() -> None:
    year = fiscal_year_of(date(2026, 12, 4), start_month=1)
    assert year.months[0] == Month(2026, 1)
    assert year.months[-1] == Month(2026, 12)


def test_no_service_start_sells_nothing() -> None:
    assert fiscal_sales(Billing(Decimal(100_000), None, None, Decimal(5)), FY2026) == 0


def test_fee_outside_year_not_counted() -> None:
    billing = Billing(Decimal(0), date(2026, 3, 31), None, Decimal(200_000))
    assert fiscal_sales(billing, FY2026) == 0


@pytest.mark.parametrize(
    ("amount", "probability", "currency", "expected"),
    [
        pytest.param("600000", "0.8", "JPY", "480000", id="jpy-exact"),
        pytest.param("250001", "0.5", "JPY", "125001", id="jpy-half-rounds-up"),
        pytest.param("10.01", "0.05", "USD", "0.50", id="usd-cents-half-up"),
        pytest.param("999", "0.05", "JPY", "50", id="jpy-49.95-rounds-to-50"),
    ],
)
def test_weighted_sales_rounding(amount: str, probability: str, currency: str, expected: str) -> None:
    assert weighted_sales(Decimal(amount), Decimal(probability), currency) == Decimal(expected)


prices = st.integers(min_value=0, max_value=10**9).map(Decimal)
starts = st.dates(min_value=date(2020, 1, 1), max_value=date(2032, 12, 31))
contract = st.one_of(st.none(), st.integers(min_value=1, max_value=120))
fees = st.one_of(st.none(), st.integers(min_value=0, max_value=10**9).map(Decimal))
start_months = st.integers(min_value=1, max_value=12)
today = st.dates(min_value=date(2022, 1, 1), max_value=date(2030, 12, 31))


@given(prices, starts, contract, fees, start_months, today)
def test_months_add_up_to_fiscal_sales(price, start, months, fee, start_month, day) -> None:
    year = fiscal_year_of(day, start_month)
    billing = Billing(price, start, months, fee)
    assert sum(monthly_sales(billing, year).values()) == fiscal_sales(billing, year)


@given(prices, starts, contract, fees, start_months, today)
def test_only_fiscal_year_months_count(price, start, months, fee, start_month, day) -> None:
    year = fiscal_year_of(day, start_month)
    amounts = monthly_sales(Billing(price, start, months, fee), year)
    assert list(amounts) == list(year.months)


@given(prices, starts, contract, start_months, today)
def test_sales_bounded_by_twelve_months(price, start, months, start_month, day) -> None:
    year = fiscal_year_of(day, start_month)
    total = fiscal_sales(Billing(price, start, months, None), year)
    assert 0 <= total <= price * 12


@given(prices, starts, st.integers(min_value=1, max_value=120), start_months, today)
def test_contract_caps_billed_months(price, start, months, start_month, day) -> None:
    year = fiscal_year_of(day, start_month)
    assert fiscal_sales(Billing(price, start, months, None), year) <= price * months


@given(prices, starts, st.integers(min_value=1, max_value=119), start_months, today)
def test_longer_contract_never_sells_less(price, start, months, start_month, day) -> None:
    year = fiscal_year_of(day, start_month)
    shorter = fiscal_sales(Billing(price, start, months, None), year)
    longer = fiscal_sales(Billing(price, start, months + 1, None), year)
    assert shorter <= longer


@given(st.integers(min_value=0, max_value=10**12), st.sampled_from(["0.8", "0.5", "0.2", "0.05", "1", "0"]))
def test_weighted_within_one_unit_of_exact(amount, probability) -> None:
    exact = Decimal(amount) * Decimal(probability)
    assert abs(weighted_sales(Decimal(amount), Decimal(probability), "JPY") - exact) <= Decimal("0.5")
