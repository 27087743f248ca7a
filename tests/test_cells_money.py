"""Amounts as reps type and paste them, read through `salesreg sync` on real workbooks.

Every case is one row whose Monthly price contains the amount under test and whose service starts
on 2026-10-01, so the fiscal-period sales of FY2026 are six times the amount.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl.utils import get_column_letter

from helpers import POSITIONS, CaseRun, make_register, notice_for, put_cell_xml, valid_deal, write_config

PRICE = get_column_letter(POSITIONS["monthly_price"])
MONEY_STYLE = 4  # the template's money cell style, as make_register saves it

# id, how the cell is written (a Python value, or "<v>...</v>|style" as raw sheet XML), amount
TYPED_JPY = [
    ("number", 100_000, Decimal(100_000)),
    # A formula such as =0.1*1000000 saves 100000.00000000001; Excel shows 100,000.
    ("float-noise", f"<v>100000.00000000001</v>|{MONEY_STYLE}", Decimal(100_000)),
    ("thousands-commas", "100,000", Decimal(100_000)),
    ("yen-sign", "¥100,000", Decimal(100_000)),
    ("full-width-yen-sign", "￥１００，０００", Decimal(100_000)),
    ("yen-suffix", "100,000円", Decimal(100_000)),
    ("full-width-digits", "１００，０００", Decimal(100_000)),
    ("no-break-spaces-around", "\u00a0100,000\u00a0", Decimal(100_000)),
    ("no-break-space-thousands", "100\u00a0000", Decimal(100_000)),
    ("narrow-no-break-space-after-sign", "¥\u202f100,000", Decimal(100_000)),
    ("backslash-as-yen-sign", "\\100,000", Decimal(100_000)),
    ("currency-code", "JPY 100,000", Decimal(100_000)),
    ("man-unit", "10万円", Decimal(100_000)),
    ("man-unit-with-fraction", "1.5万", Decimal(15_000)),
    ("oku-and-man-units", "1億2,000万円", Decimal(120_000_000)),
    ("fifteen-digits", "999,999,999,999,999", Decimal(999_999_999_999_999)),
]

# id, cell, the Problems line sync writes
PROBLEMS_JPY = [
    ("negative-number", -100_000, 'Monthly price: "-100000" is negative; type an amount of 0 or more.'),
    ("negative-triangle", "▲100,000", 'Monthly price: "▲100,000" is negative; type an amount of 0 or more.'),
    ("negative-brackets", "(100,000)", 'Monthly price: "(100,000)" is negative; type an amount of 0 or more.'),
    (
        "fraction-of-yen",
        100.5,
        'Monthly price: "100.5" has more decimals than JPY allows; type a whole number, such as 100000.',
    ),
    (
        "sixteen-digits-text",
        "1234567890123456789",
        'Monthly price: "1234567890123456789" has more than 15 digits, more than Excel can store exactly; '
        "check the amount.",
    ),
    (
        "sixteen-digits-number",
        f"<v>1.2345678901234568E+17</v>|{MONEY_STYLE}",
        'Monthly price: "123456789012345680" has more than 15 digits, more than Excel can store exactly; '
        "check the amount.",
    ),
    (
        "decimal-comma",
        "100,50",
        'Monthly price: "100,50" is not an amount: commas may only separate thousands (100,000) and a point '
        "marks decimals; type a number such as 100000.",
    ),
    (
        "other-currency",
        "$1,000",
        'Monthly price: "$1,000" has the currency sign "$", but this register\'s amounts are in JPY; '
        "type the amount in JPY.",
    ),
    (
        "man-part-too-large",
        "1億12000万",
        'Monthly price: "1億12000万" is not an amount; type a number such as 100000, or 10万.',
    ),
    ("kanji-numerals", "十万円", 'Monthly price: "十万円" is not an amount; type a number such as 100000.'),
    ("sen-unit", "1千万", 'Monthly price: "1千万" is not an amount; type a number such as 100000.'),
]

TYPED_USD = [
    ("cents", "1,250.50", Decimal("1250.50")),
    ("dollar-sign", "$1,250.50", Decimal("1250.50")),
    # 0.1 + 0.2 saves as 0.30000000000000004; Excel shows 0.3.
    ("float-noise", f"<v>0.30000000000000004</v>|{MONEY_STYLE}", Decimal("0.3")),
]
PROBLEMS_USD = [
    (
        "fraction-of-cent",
        "1250.505",
        'Monthly price: "1250.505" has more decimals than USD allows; type at most 2 decimals.',
    ),
    (
        "yen-sign",
        "¥1,000",
        'Monthly price: "¥1,000" has the currency sign "¥", but this register\'s amounts are in USD; '
        "type the amount in USD.",
    ),
]


def prepare(folder: Path, cases: list[tuple[str, object]], config_text: str = "") -> dict[str, int]:
    """Write one row per case into a new register in ``folder``; return case id -> Excel row."""
    write_config(folder, config_text)
    deals = [valid_deal(monthly_price=None if str(raw).startswith("<v>") else raw) for _, raw in cases]
    path = make_register(folder / "register.xlsx", deals)
    rows = {}
    for row, (case_id, raw) in enumerate(cases, start=2):
        rows[case_id] = row
        if isinstance(raw, str) and raw.startswith("<v>"):
            value_xml, style = raw.split("|")
            put_cell_xml(path, f"{PRICE}{row}", f'<c r="{PRICE}{row}" s="{style}">{value_xml}</c>')
    return rows


JPY_CASES = [(case_id, raw) for case_id, raw, _ in TYPED_JPY + PROBLEMS_JPY]
USD_CASES = [(case_id, raw) for case_id, raw, _ in TYPED_USD + PROBLEMS_USD]


@pytest.fixture(scope="module")
def jpy(tmp_path_factory: pytest.TempPathFactory) -> tuple[CaseRun, dict[str, int]]:
    folder = tmp_path_factory.mktemp("jpy")
    rows = prepare(folder, JPY_CASES)
    return CaseRun(folder), rows


@pytest.fixture(scope="module")
def usd(tmp_path_factory: pytest.TempPathFactory) -> tuple[CaseRun, dict[str, int]]:
    folder = tmp_path_factory.mktemp("usd")
    rows = prepare(folder, USD_CASES, '[fiscal]\ncurrency = "USD"\n')
    return CaseRun(folder), rows


@pytest.mark.parametrize("currency", ["jpy", "usd"])
def test_sync_exit_status_and_untouched_cells(request: pytest.FixtureRequest, currency: str) -> None:
    run, _ = request.getfixturevalue(currency)
    assert run.result.exit_code == 0, run.result.output
    assert run.changes == []


@pytest.mark.parametrize(("case_id", "raw", "expected"), [pytest.param(c, r, e, id=c) for c, r, e in TYPED_JPY])
def test_jpy_amount_read(jpy: tuple[CaseRun, dict[str, int]], case_id: str, raw: object, expected: Decimal) -> None:
    run, rows = jpy
    row = rows[case_id]
    assert run.deals[row].billing.monthly_price == expected
    assert run.problems(row) == notice_for("Monthly price", raw)
    assert run.rows[row]["Fiscal-period sales"] == expected * 6


@pytest.mark.parametrize(("case_id", "expected"), [pytest.param(c, e, id=c) for c, _, e in PROBLEMS_JPY])
def test_jpy_amount_problem(jpy: tuple[CaseRun, dict[str, int]], case_id: str, expected: str) -> None:
    run, rows = jpy
    row = rows[case_id]
    assert run.problems(row) == expected
    assert f'Row {row}, "Monthly price": {expected.removeprefix("Monthly price: ")}' in run.result.output
    assert run.deals[row].billing.monthly_price is None
    assert run.rows[row]["Fiscal-period sales"] == 0


@pytest.mark.parametrize(("case_id", "raw", "expected"), [pytest.param(c, r, e, id=c) for c, r, e in TYPED_USD])
def test_usd_amount_read(usd: tuple[CaseRun, dict[str, int]], case_id: str, raw: object, expected: Decimal) -> None:
    run, rows = usd
    row = rows[case_id]
    assert run.deals[row].billing.monthly_price == expected
    assert run.problems(row) == notice_for("Monthly price", raw)
    assert Decimal(str(run.rows[row]["Fiscal-period sales"])) == expected * 6


@pytest.mark.parametrize(("case_id", "expected"), [pytest.param(c, e, id=c) for c, _, e in PROBLEMS_USD])
def test_usd_amount_problem(usd: tuple[CaseRun, dict[str, int]], case_id: str, expected: str) -> None:
    run, rows = usd
    row = rows[case_id]
    assert run.problems(row) == expected
    assert f'Row {row}, "Monthly price": {expected.removeprefix("Monthly price: ")}' in run.result.output


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(3, 3, id="number"),
        pytest.param("３", 3, id="full-width"),
        pytest.param("3ヶ月", 3, id="kagetsu"),
        pytest.param("3か月", 3, id="kagetsu-hiragana"),
        pytest.param("3 months", 3, id="english-months"),
    ],
)
def test_contract_months_read(tmp_path: Path, raw: object, expected: int) -> None:
    write_config(tmp_path)
    make_register(tmp_path / "register.xlsx", [valid_deal(contract_months=raw)])
    run = CaseRun(tmp_path)
    assert run.result.exit_code == 0, run.result.output
    assert run.deals[2].billing.contract_months == expected
    assert run.rows[2]["Fiscal-period sales"] == 300_000  # October to December
    assert run.problems(2) == notice_for("Contract months", raw)
