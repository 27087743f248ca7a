"""Formula cells and Excel error values, read through `salesreg sync` on real workbooks.

A formula counts by the result its file saved. A file saved by a program that does not
calculate (openpyxl, many exporters) has formulas without results: those are problems, never
blanks. Error values are problems, never zero or blank.
"""

from __future__ import annotations

import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl.utils import get_column_letter

from helpers import POSITIONS, CaseRun, make_register, put_cell_xml, valid_deal, write_config
from libreoffice import convert


def column(field: str) -> str:
    return get_column_letter(POSITIONS[field])


NO_RESULT = (
    "has no saved result, because the file was last saved by a program that does not calculate formulas; "
    "open the register in Excel and save it, or type the value."
)

# id, field, the cell's XML (None: the row's value as openpyxl writes it), the row's values
CASES = [
    ("cached-number", "monthly_price", '<f>50000*2</f><v>100000</v>|4', {}),
    ("cached-text", "customer", '<f>"Sakura"&amp;" Logistics"</f><v>Sakura Logistics</v>|2|str', {}),
    ("cached-date", "service_start", "<f>DATE(2026,10,1)</f><v>46296</v>|3", {}),
    ("cached-empty-text", "next_step", '<f>IF(1=0,"call","")</f><v></v>|2|str', {}),
    ("saved-by-openpyxl", "monthly_price", None, {"monthly_price": "=50000*2"}),
    ("no-value-element", "expected_close", "<f>TODAY()+30</f>|3", {}),
    ("shared-formula-first-cell", "monthly_price", '<f t="shared" ref="G8:G9" si="0">J8*2</f>|4', {"one_time_fee": 50000}),
    ("shared-formula-copy", "monthly_price", '<f t="shared" si="0"/>|4', {"one_time_fee": 50000}),
    ("error-na", "expected_close", None, {"expected_close": "#N/A"}),
    ("error-div0", "monthly_price", None, {"monthly_price": "#DIV/0!"}),
    ("error-ref-in-rep", "rep", None, {"rep": "#REF!"}),
    ("formula-cached-error", "monthly_price", "<f>1/0</f><v>#DIV/0!</v>|4|e", {}),
]
ROW = {case_id: row for row, (case_id, *_) in enumerate(CASES, start=2)}

# id, the Problems line sync writes
PROBLEMS = [
    ("saved-by-openpyxl", f'Monthly price: the formula "=50000*2" {NO_RESULT}'),
    ("no-value-element", f'Expected close: the formula "=TODAY()+30" {NO_RESULT}'),
    ("shared-formula-first-cell", f'Monthly price: the formula "=J8*2" {NO_RESULT}'),
    ("shared-formula-copy", f'Monthly price: the formula "=J9*2" {NO_RESULT}'),
    ("error-na", 'Expected close: "#N/A" is an Excel error value; fix the formula or type the value.'),
    ("error-div0", 'Monthly price: "#DIV/0!" is an Excel error value; fix the formula or type the value.'),
    ("error-ref-in-rep", 'Rep: "#REF!" is an Excel error value; fix the formula or type the value.'),
    ("formula-cached-error", 'Monthly price: "#DIV/0!" is an Excel error value; fix the formula or type the value.'),
]


def cell_xml(coordinate: str, spec: str) -> str:
    """Return a cell from "children|style|type", such as "<f>1+1</f><v>2</v>|4"."""
    children, style, *cell_type = spec.split("|")
    type_attribute = f' t="{cell_type[0]}"' if cell_type else ""
    return f'<c r="{coordinate}" s="{style}"{type_attribute}>{children}</c>'


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> CaseRun:
    folder = tmp_path_factory.mktemp("formulas")
    write_config(folder)
    deals = []
    for _, field, spec, values in CASES:
        deal = valid_deal(**values)
        if spec is not None:
            deal[field] = None
        deals.append(deal)
    path = make_register(folder / "register.xlsx", deals)
    for case_id, field, spec, _ in CASES:
        if spec is not None:
            coordinate = f"{column(field)}{ROW[case_id]}"
            put_cell_xml(path, coordinate, cell_xml(coordinate, spec))
    return CaseRun(folder)


def test_sync_exit_status(run: CaseRun) -> None:
    assert run.result.exit_code == 0, run.result.output


def test_sync_changes_only_its_columns(run: CaseRun) -> None:
    assert run.changes == []


def test_cached_number_counts(run: CaseRun) -> None:
    row = ROW["cached-number"]
    assert run.deals[row].billing.monthly_price == Decimal(100_000)
    assert run.rows[row]["Fiscal-period sales"] == 600_000
    assert run.problems(row) is None


def test_cached_text_counts(run: CaseRun) -> None:
    row = ROW["cached-text"]
    assert run.deals[row].customer == "Sakura Logistics"
    assert run.problems(row) is None


def test_cached_date_counts(run: CaseRun) -> None:
    row = ROW["cached-date"]
    assert run.deals[row].billing.service_start == date(2026, 10, 1)
    assert run.problems(row) is None


def test_cached_empty_text_is_blank(run: CaseRun) -> None:
    row = ROW["cached-empty-text"]
    assert run.deals[row].next_step is None
    assert run.problems(row) is None


@pytest.mark.parametrize(("case_id", "expected"), [pytest.param(c, e, id=c) for c, e in PROBLEMS])
def test_formula_or_error_problem(run: CaseRun, case_id: str, expected: str) -> None:
    row = ROW[case_id]
    header, _, message = expected.partition(": ")
    assert run.problems(row) == expected
    assert f'Row {row}, "{header}": {message}' in run.result.output


def test_unusable_amount_counts_nothing(run: CaseRun) -> None:
    for case_id in ("saved-by-openpyxl", "error-div0", "formula-cached-error"):
        row = ROW[case_id]
        assert run.deals[row].billing.monthly_price is None
        assert run.rows[row]["Fiscal-period sales"] == 0


@pytest.mark.libreoffice
def test_results_saved_by_libreoffice_count(tmp_path: Path, run_cli) -> None:
    """A register written without results counts once a calculating program has saved it."""
    write_config(tmp_path)
    written = make_register(tmp_path / "written" / "register.xlsx", [valid_deal(monthly_price="=50000*2", service_start="=DATE(2026,10,1)")])
    shutil.copy(convert(written, "xlsx", tmp_path / "saved"), tmp_path / "register.xlsx")

    run = CaseRun(tmp_path)

    assert run.result.exit_code == 0, run.result.output
    assert run.deals[2].billing.monthly_price == Decimal(100_000)
    assert run.deals[2].billing.service_start == date(2026, 10, 1)
    assert run.rows[2]["Fiscal-period sales"] == 600_000
    assert run.problems(2) is None
    assert run.changes == []
