"""Row validation: every problem of every row, with its row, column and value."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from salesreg.config import build_config
from salesreg.model import TeamMember
from salesreg.validate import TeamIndex, check_deal

from helpers import setup_folder, valid_deal

CONFIG = build_config({}, Path("."))
TEAM = TeamIndex(
    (
        TeamMember(2, "Aiko Tanaka", "aiko@example.com", "Kenji Mori", True),
        TeamMember(3, "Old Rep", "old@example.com", "", False),
    )
)
TODAY = date(2026, 6, 1)


def problems(**overrides) -> list[str]:
    deal = check_deal(5, valid_deal(**overrides), CONFIG, TEAM, TODAY)
    return [problem.report_text() for problem in deal.problems]


def test_valid_deal_has_no_problems() -> None:
    assert problems() == []


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        pytest.param({"customer": None}, 'Row 5, "Customer" is empty', id="customer-required"),
        pytest.param({"title": "  "}, 'Row 5, "Deal" is empty', id="title-blank-spaces"),
        pytest.param({"rep": None}, 'Row 5, "Rep" is empty', id="rep-required"),
        pytest.param({"rep": "Nobody"}, 'Row 5, "Rep": "Nobody" is not on the Team sheet', id="rep-unknown"),
        pytest.param({"rep": "Old Rep"}, 'Row 5, "Rep": "Old Rep" is inactive', id="rep-inactive"),
        pytest.param({"stage": "Won"}, 'Row 5, "Stage": "Won" is not a stage; pick one of: Lead', id="stage-unknown"),
        pytest.param({"expected_close": None}, 'Row 5, "Expected close" is empty', id="close-required-open"),
        pytest.param({"expected_close": "31/02/2026"}, 'Row 5, "Expected close": "31/02/2026" is not a date; use YYYY-MM-DD', id="close-not-date"),
        pytest.param({"expected_close": "2026-02-31"}, '"2026-02-31" is not a real date', id="close-impossible-day"),
        pytest.param({"expected_close": date(2026, 5, 31)}, '"2026-05-31" is in the past', id="close-in-past"),
        pytest.param({"monthly_price": "abc"}, 'Row 5, "Monthly price": "abc" is not an amount', id="price-text"),
        pytest.param({"monthly_price": -5}, '"Monthly price": "-5" is negative', id="price-negative"),
        pytest.param({"monthly_price": 100.5}, '"100.5" has more decimals than JPY allows', id="price-fraction-of-yen"),
        pytest.param({"contract_months": 0}, '"Contract months": "0" is not a whole number of 1 or more', id="months-zero"),
        pytest.param({"contract_months": 2.5}, '"Contract months": "2.5" is not a whole number', id="months-fraction"),
        pytest.param({"service_start": None}, '"Service start" is empty; type the date billing starts', id="start-needed-for-price"),
        pytest.param({"outcome": "Maybe"}, '"Outcome": "Maybe" is not an outcome', id="outcome-unknown"),
        pytest.param({"outcome": "Lost"}, '"Outcome reason" is empty, but the deal is Lost', id="reason-required"),
        pytest.param({"expectation": "E"}, '"Expectation": "E" is not a rank; pick one of: A, B, C, D', id="rank-unknown"),
        pytest.param({"reviewed_on": "soon"}, '"Reviewed on": "soon" is not a date', id="reviewed-not-date"),
        pytest.param({"stage": "Qualified"}, '"Customer business" is empty, but stage "Qualified" needs it', id="stage-needs-information"),
        pytest.param({"expected_close": "#N/A"}, '"#N/A" is an Excel error value', id="error-value"),
    ],
)
def test_row_problem(overrides: dict, expected: str) -> None:
    found = problems(**overrides)
    assert any(expected in line for line in found), found


def test_all_problems_of_a_row_collected() -> None:
    found = problems(customer=None, rep="Nobody", monthly_price="abc", outcome="Lost")
    assert len(found) == 4


@pytest.mark.parametrize(
    ("overrides", "field", "expected"),
    [
        pytest.param({"rep": "AIKO TANAKA"}, "rep", "Aiko Tanaka", id="rep-any-case"),
        pytest.param({"rep": "ａｉｋｏ＠example.com"}, "rep", "Aiko Tanaka", id="rep-full-width-email"),
        pytest.param({"stage": " lead "}, "stage", "Lead", id="stage-any-case"),
        pytest.param({"outcome": "won", "outcome_reason": "Price"}, "outcome", "Won", id="outcome-any-case"),
        pytest.param({"expectation": "b"}, "expectation", "B", id="rank-any-case"),
    ],
)
def test_lenient_matching(overrides: dict, field: str, expected: str) -> None:
    deal = check_deal(5, valid_deal(**overrides), CONFIG, TEAM, TODAY)
    value = deal.rep.name if field == "rep" and deal.rep else getattr(deal, field)
    assert value == expected
    assert deal.problems == []


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(datetime(2026, 6, 30, 23, 59, 59, 999800), date(2026, 7, 1), id="float-noise-next-day"),
        pytest.param("2026/6/30", date(2026, 6, 30), id="slashes"),
        pytest.param("2026年6月30日", date(2026, 6, 30), id="kanji"),
        pytest.param(46203, date(2026, 6, 30), id="serial-number"),
    ],
)
def test_date_forms(raw, expected: date) -> None:
    deal = check_deal(5, valid_deal(expected_close=raw), CONFIG, TEAM, TODAY)
    assert deal.expected_close == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("100,000", Decimal(100000), id="commas"),
        pytest.param("¥100,000", Decimal(100000), id="yen-sign"),
        pytest.param("100,000円", Decimal(100000), id="yen-suffix"),
        pytest.param("１００，０００", Decimal(100000), id="full-width"),
        pytest.param(100000.0, Decimal(100000), id="float-cell"),
    ],
)
def test_money_forms(raw, expected: Decimal) -> None:
    deal = check_deal(5, valid_deal(monthly_price=raw), CONFIG, TEAM, TODAY)
    assert deal.billing.monthly_price == expected


def test_usd_cents_accepted() -> None:
    config = build_config({"fiscal": {"currency": "USD"}}, Path("."))
    deal = check_deal(5, valid_deal(monthly_price="1,250.50"), config, TEAM, TODAY)
    assert deal.billing.monthly_price == Decimal("1250.50")


def test_cli_lists_every_bad_row(tmp_path: Path, run_cli) -> None:
    setup_folder(
        tmp_path,
        [
            valid_deal(expected_close=date(2027, 1, 15)),
            valid_deal(customer=None, expected_close=date(2027, 1, 15)),
            valid_deal(expected_close="31/02/2026"),
            valid_deal(expected_close=date(2027, 1, 15)),
        ],
    )
    result = run_cli("validate", "--now", "2026-12-04T10:00")
    assert result.exit_code == 1
    assert "4 rows checked, 2 with problems" in result.output
    assert 'Row 3, "Customer" is empty' in result.output
    assert 'Row 4, "Expected close": "31/02/2026" is not a date' in result.output


def test_cli_valid_register_exits_zero(tmp_path: Path, run_cli) -> None:
    setup_folder(tmp_path, [valid_deal(expected_close=date(2027, 1, 15))])
    result = run_cli("validate", "--now", "2026-12-04T10:00")
    assert result.exit_code == 0
