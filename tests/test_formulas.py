"""The sales formulas of the Deals sheet: their text, and their results in LibreOffice against the engine."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from libreoffice import convert, require_soffice
from openpyxl import load_workbook

from salesreg.config import Config, build_config
from salesreg.fiscal import Billing, FiscalYear, fiscal_sales, weighted_sales
from salesreg.formulas import (
    FORMULA_FIELDS,
    SETTINGS_SHEET,
    TEMPLATE_COLUMNS,
    cached_results,
    current_fiscal_year,
    formula_cells,
    overwritten_message,
    settings_cell,
    settings_values,
)
from salesreg.money import CURRENCY_UNITS
from salesreg.template import build_template

# The fiscal year of the worked cases of the fiscal-period sales rule: April 2026 to March 2027.
TODAY = date(2026, 6, 1)
DEAL_COUNT = 300


@dataclass(frozen=True)
class DealInput:
    """The cells that the sales formulas read, as a rep would type them."""

    price: int | float | None
    start: date | datetime | None
    months: int | None
    fee: int | float | None
    outcome: str | None
    rank: str | None


def engine_values(deal: DealInput, year: FiscalYear, config: Config) -> tuple[int | float, int | float | str]:
    """Return the engine's fiscal-period and weighted sales as cell values, "" for no rank."""
    currency = config.fiscal.currency
    billing = Billing(
        monthly_price=None if deal.price is None else Decimal(str(deal.price)),
        service_start=deal.start.date() if isinstance(deal.start, datetime) else deal.start,
        contract_months=deal.months,
        one_time_fee=None if deal.fee is None else Decimal(str(deal.fee)),
    )
    amount = fiscal_sales(billing, year)
    weighted: Decimal | None
    if deal.outcome == "Won":
        weighted = amount
    elif deal.outcome == "Lost":
        weighted = Decimal(0)
    elif deal.rank is None:
        weighted = None
    else:
        weighted = weighted_sales(amount, config.expectation[deal.rank], currency)
    cells = cached_results(amount, weighted, currency)
    return cells["fy_sales"], cells["weighted_sales"]


# The worked cases of the fiscal-period sales rule, April 2026 to March 2027, and the
# outcome and rank cases of weighted sales.
SPEC_CASES = [
    DealInput(100000, date(2026, 10, 1), None, None, None, None),
    DealInput(100000, datetime(2026, 10, 20, 15, 30), None, None, None, "A"),
    DealInput(100000, date(2025, 12, 1), None, None, None, "B"),
    DealInput(100000, date(2027, 4, 1), None, None, None, "C"),
    DealInput(100000, date(2026, 10, 1), 3, None, "Won", "D"),
    DealInput(50000, date(2027, 3, 15), 12, 200000, "Lost", "A"),
    DealInput(None, date(2026, 5, 1), 2, 30000, None, "D"),
    DealInput(100000, None, 6, 50000, None, "A"),
    DealInput(10, date(2026, 4, 1), 1, None, None, "D"),  # 0.5 rounds up to 1
    DealInput(None, None, None, None, None, None),
]
SPEC_EXPECTED_FY = [600000, 600000, 1200000, 0, 300000, 250000, 30000, 0, 10, 0]


def random_deals(rng: random.Random, currency: str) -> list[DealInput]:
    """Return deals with prices, dates and ranks spread over the cases the formulas distinguish."""
    digits = CURRENCY_UNITS[currency]
    deals = []
    for _ in range(DEAL_COUNT):
        # Prices in steps of 10 units (or cents) make exact halves after a 5 % or 50 % weighting.
        price = rng.choice([None, 0, rng.randrange(0, 500_000, 10), rng.randrange(0, 500_000, 10), rng.randrange(1, 2_000_000)])
        fee = rng.choice([None, None, 0, rng.randrange(0, 300_000, 5)])
        if digits and price is not None:
            price = price / 10**digits
        if digits and fee is not None:
            fee = fee / 10**digits
        start: date | datetime | None = None
        if rng.random() > 0.1:
            # Most starts fall in or just before the year, the rest in the years around it.
            start_year = rng.choice([2024, 2025, 2026, 2026, 2026, 2027, 2027, 2028])
            start = date(start_year, rng.randint(1, 12), rng.randint(1, 28))
            if rng.random() < 0.2:
                start = datetime(start.year, start.month, start.day, rng.randint(0, 23), rng.randint(0, 59))
        months = rng.choice([None, None, 1, 2, 3, 6, 11, 12, 13, 24, rng.randint(1, 60)])
        outcome = rng.choice([None, None, None, "Won", "Lost"])
        rank = rng.choice([None, "A", "B", "C", "D"])
        deals.append(DealInput(price, start, months, fee, outcome, rank))
    return deals


def fill_register(path: Path, deals: list[DealInput]) -> None:
    """Type ``deals`` into the template at ``path`` from row 2, with formulas in every row."""
    workbook = load_workbook(path)
    sheet = workbook["Deals"]
    for row, deal in enumerate(deals, start=2):
        values = {
            "monthly_price": deal.price,
            "service_start": deal.start,
            "contract_months": deal.months,
            "one_time_fee": deal.fee,
            "outcome": deal.outcome,
            "expectation": deal.rank,
        }
        for field, value in values.items():
            sheet.cell(row=row, column=TEMPLATE_COLUMNS[field], value=value)
        # Rows below the prepared ones get their formulas the way sync writes them.
        for field, formula in formula_cells(row).items():
            sheet.cell(row=row, column=TEMPLATE_COLUMNS[field], value=formula)
    workbook.save(path)


# Formula text


def test_formula_cells_fields() -> None:
    assert tuple(formula_cells(2)) == FORMULA_FIELDS


def test_formula_cells_row_references() -> None:
    cells = formula_cells(57)
    assert cells["fy_sales"].startswith("=IF(ISNUMBER(H57),")
    assert "N(G57)" in cells["fy_sales"]
    assert "ISNUMBER(I57)" in cells["fy_sales"]
    assert "N(J57)" in cells["fy_sales"]
    assert 'TRIM(R57)="Won",W57' in cells["weighted_sales"]
    assert "MATCH(TRIM(T57),ExpectationList,0)" in cells["weighted_sales"]


def test_formula_cells_custom_columns() -> None:
    columns = dict(TEMPLATE_COLUMNS)
    columns["monthly_price"] = 40  # AN
    columns["fy_sales"] = 3  # C
    cells = formula_cells(9, columns)
    assert "N(AN9)" in cells["fy_sales"]
    assert cells["weighted_sales"].startswith('=IF(TRIM(R9)="Won",C9,')


def test_formula_cells_missing_column() -> None:
    columns = dict(TEMPLATE_COLUMNS)
    del columns["service_start"]
    with pytest.raises(KeyError, match="service_start"):
        formula_cells(2, columns)


@pytest.mark.parametrize("function", ["LET(", "LAMBDA(", "XLOOKUP(", "IFS(", "_xlfn"])
def test_formula_cells_portable_functions(function: str) -> None:
    for formula in formula_cells(2).values():
        assert function not in formula


# Settings and cached results


def test_settings_values() -> None:
    config = build_config({"fiscal": {"currency": "USD"}}, Path("."))
    values = settings_values(config, date(2027, 3, 31))
    assert values["Fiscal year"] == "FY2026"
    assert values["First month"] == date(2026, 4, 1)
    assert values["Last month"] == date(2027, 3, 1)
    assert values["Currency"] == "USD"
    assert values["Money decimals"] == 2


def test_settings_turn_of_year() -> None:
    config = build_config({"fiscal": {"start_month": 1, "label": "end"}}, Path("."))
    assert settings_values(config, date(2027, 1, 1))["First month"] == date(2027, 1, 1)
    assert current_fiscal_year(config, date(2026, 12, 31)).name == "FY2026"


def test_settings_cell_unknown_name() -> None:
    assert settings_cell("FYStart") == "$B$3"
    assert settings_cell("MoneyDigits") == "$B$6"
    with pytest.raises(KeyError, match="FYEnd"):
        settings_cell("FYEnd")


@pytest.mark.parametrize(
    ("fy", "weighted", "currency", "expected"),
    [
        pytest.param(Decimal(600000), Decimal(480000), "JPY", {"fy_sales": 600000, "weighted_sales": 480000}, id="jpy"),
        pytest.param(Decimal("1250.5"), None, "USD", {"fy_sales": 1250.5, "weighted_sales": ""}, id="usd-no-rank"),
        pytest.param(Decimal(0), Decimal(0), "JPY", {"fy_sales": 0, "weighted_sales": 0}, id="lost"),
    ],
)
def test_cached_results(fy: Decimal, weighted: Decimal | None, currency: str, expected: dict[str, object]) -> None:
    assert cached_results(fy, weighted, currency) == expected


def test_overwritten_message_names_column_and_value() -> None:
    message = overwritten_message("Fiscal-period sales", 123)
    assert message.startswith('"Fiscal-period sales" held the typed value 123')
    assert "restored the formula" in message


# The template's Settings sheet


def test_template_settings_sheet(tmp_path: Path) -> None:
    path = tmp_path / "register.xlsx"
    build_template(path, today=TODAY)
    workbook = load_workbook(path)
    settings = workbook[SETTINGS_SHEET]
    assert settings["B3"].value == datetime(2026, 4, 1)
    assert settings["B6"].value == 0
    assert workbook.defined_names["FYStart"].attr_text == "Settings!$B$3"
    assert workbook.defined_names["MoneyDigits"].attr_text == "Settings!$B$6"
    assert settings.protection.sheet


# LibreOffice recalculates the formulas


@pytest.mark.libreoffice
def test_spec_cases_in_libreoffice(tmp_path: Path) -> None:
    require_soffice()
    config = build_config({}, Path("."))
    path = tmp_path / "register.xlsx"
    build_template(path, config, today=TODAY)
    fill_register(path, SPEC_CASES)

    calculated = load_workbook(convert(path, "xlsx", tmp_path / "lo"), data_only=True)["Deals"]
    fy_letter = "W"
    for row, expected in enumerate(SPEC_EXPECTED_FY, start=2):
        assert calculated[f"{fy_letter}{row}"].value == expected, f"row {row}: {SPEC_CASES[row - 2]}"


@pytest.mark.libreoffice
@pytest.mark.parametrize("currency", ["JPY", "USD"])
def test_random_deals_match_engine(tmp_path: Path, currency: str) -> None:
    require_soffice()
    config = build_config({"fiscal": {"currency": currency}}, Path("."))
    year = current_fiscal_year(config, TODAY)
    deals = SPEC_CASES + random_deals(random.Random(20260601), currency)
    path = tmp_path / "register.xlsx"
    build_template(path, config, today=TODAY)
    fill_register(path, deals)

    calculated = load_workbook(convert(path, "xlsx", tmp_path / "lo"), data_only=True)["Deals"]
    fy_column = TEMPLATE_COLUMNS["fy_sales"]
    weighted_column = TEMPLATE_COLUMNS["weighted_sales"]
    mismatches = []
    for row, deal in enumerate(deals, start=2):
        expected_fy, expected_weighted = engine_values(deal, year, config)
        fy = calculated.cell(row=row, column=fy_column).value
        weighted = calculated.cell(row=row, column=weighted_column).value
        if weighted is None:
            weighted = ""  # openpyxl reads an empty text result as None
        if fy != pytest.approx(expected_fy, abs=1e-9):
            mismatches.append(f"row {row} fy_sales: LibreOffice {fy!r}, engine {expected_fy!r}, {deal}")
        if expected_weighted == "" or weighted == "":
            same = weighted == expected_weighted
        else:
            same = weighted == pytest.approx(expected_weighted, abs=1e-9)
        if not same:
            mismatches.append(f"row {row} weighted_sales: LibreOffice {weighted!r}, engine {expected_weighted!r}, {deal}")
    assert not mismatches, "\n".join(mismatches[:20])
    nonzero = [row for row in range(2, len(deals) + 2) if calculated.cell(row=row, column=fy_column).value]
    assert len(nonzero) > DEAL_COUNT // 4, "too few deals with sales inside the year to compare"


@pytest.mark.libreoffice
def test_exact_halves_round_up(tmp_path: Path) -> None:
    """5 % of 10 yen, 50 % of 1 yen and 5 % of 30 yen end in .5 and round up in both."""
    require_soffice()
    config = build_config({}, Path("."))
    year = current_fiscal_year(config, TODAY)
    deals = [DealInput(price, date(2026, 4, 1), 1, None, None, rank) for price, rank in [(10, "D"), (1, "B"), (30, "D")]]
    path = tmp_path / "register.xlsx"
    build_template(path, config, today=TODAY)
    fill_register(path, deals)

    calculated = load_workbook(convert(path, "xlsx", tmp_path / "lo"), data_only=True)["Deals"]
    for row, deal in enumerate(deals, start=2):
        weighted = calculated.cell(row=row, column=TEMPLATE_COLUMNS["weighted_sales"]).value
        assert weighted == engine_values(deal, year, config)[1], f"row {row}: {deal}"
    assert [engine_values(deal, year, config)[1] for deal in deals] == [1, 1, 2]
