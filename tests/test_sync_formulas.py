"""Sync keeps the live sales formulas, stores the engine's amounts as their cached results,
restores a formula that a rep typed over, and moves the Settings sheet to the current fiscal year."""

from __future__ import annotations

import re
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from helpers import POSITIONS, at, save_rep_edit, setup_folder, valid_deal, zip_parts
from libreoffice import convert, require_soffice

from salesreg.config import Config
from salesreg.formulas import FORMULA_FIELDS, SETTINGS_SHEET, cached_results, formula_cells, overwritten_message, settings_values
from salesreg.jobs import SyncResult, run_sync
from salesreg.xlsx_patch import locate_sheet, read_cells

SHEET = "xl/worksheets/sheet1.xml"
NOW = "2026-12-04T10:00"

DEALS = [
    valid_deal(expected_close=date(2026, 12, 25)),  # row 2: open, no rank, Oct 2026 on: 600,000 in FY2026
    valid_deal(customer="Kitano Foods", expectation="B", expected_close=date(2026, 12, 25)),  # row 3: ranked
    valid_deal(
        customer="Minato Clinic",
        outcome="Won",
        outcome_reason="Best fit",
        expected_close=date(2026, 6, 1),
        service_start=date(2026, 5, 1),
        contract_months=6,
        one_time_fee=50_000,
    ),  # row 4: won, six months and a fee inside the year
    valid_deal(customer="Aoba Travel", service_start=date(2027, 5, 1), expected_close=date(2026, 12, 25)),  # row 5: next year
]


def sync(config: Config, now: str = NOW) -> SyncResult:
    return run_sync(config, at(now))


def formula_texts(path: Path) -> dict[tuple[int, str], str | None]:
    sheet = openpyxl.load_workbook(path)["Deals"]
    return {
        (row, field): sheet.cell(row=row, column=POSITIONS[field]).value
        for row in range(2, len(DEALS) + 2)
        for field in FORMULA_FIELDS
    }


def cached_values(path: Path) -> dict[tuple[int, str], object]:
    sheet = openpyxl.load_workbook(path, data_only=True)["Deals"]
    return {
        (row, field): sheet.cell(row=row, column=POSITIONS[field]).value
        for row in range(2, len(DEALS) + 2)
        for field in FORMULA_FIELDS
    }


def engine_results(config: Config, result: SyncResult) -> dict[tuple[int, str], object]:
    expected: dict[tuple[int, str], object] = {}
    for scanned in result.scan.deals:
        for field, value in cached_results(scanned.fy_sales, scanned.weighted_sales, config.fiscal.currency).items():
            expected[(scanned.deal.row, field)] = value
    return expected


def cell_xml(path: Path, row: int, field: str) -> bytes:
    return read_cells(path.read_bytes(), "Deals", {row: {POSITIONS[field]}})[(row, POSITIONS[field])]


def problems_of(path: Path, row: int) -> str:
    sheet = openpyxl.load_workbook(path, data_only=True)["Deals"]
    return sheet.cell(row=row, column=POSITIONS["problems"]).value or ""


# formulas and cached results


def test_sync_writes_formulas_with_cached_results(tmp_path: Path) -> None:
    config = setup_folder(tmp_path, DEALS)
    result = sync(config)
    path = config.register.path

    texts = formula_texts(path)
    for row in range(2, len(DEALS) + 2):
        for field, formula in formula_cells(row).items():
            assert texts[(row, field)] == formula, f"{field} row {row}"

    cached = cached_values(path)
    for key, expected in engine_results(config, result).items():
        # openpyxl reads an empty text result as None.
        assert (cached[key] if cached[key] is not None else "") == expected, key
    assert cached[(2, "fy_sales")] == 600_000
    assert cached[(4, "fy_sales")] == 650_000
    assert cached[(4, "weighted_sales")] == 650_000
    assert cached[(5, "fy_sales")] == 0


def test_empty_weighted_result_is_text(tmp_path: Path) -> None:
    config = setup_folder(tmp_path, DEALS)
    sync(config)
    xml = cell_xml(config.register.path, 2, "weighted_sales")
    assert b't="str"' in xml
    assert re.search(rb"<v>\s*</v>|<v/>", xml)


def test_synced_register_reads_without_problems(tmp_path: Path) -> None:
    """The reader sees the cached results, so no formula cell is reported as lacking one."""
    config = setup_folder(tmp_path, DEALS)
    sync(config)
    for row in range(2, len(DEALS) + 2):
        assert "formula" not in problems_of(config.register.path, row).lower(), f"row {row}"


def test_second_sync_keeps_file(tmp_path: Path) -> None:
    config = setup_folder(tmp_path, DEALS)
    sync(config)
    before = config.register.path.read_bytes()
    result = sync(config, "2026-12-04T10:30")
    assert result.changes == {}
    assert result.settings == {}
    assert not result.written
    assert config.register.path.read_bytes() == before


# a value typed over a formula


def test_amount_typed_as_text_gets_notice(tmp_path: Path) -> None:
    deals = [valid_deal(monthly_price="10万", service_start="2026/10/01", expected_close=date(2026, 12, 25))]
    config = setup_folder(tmp_path, deals)

    result = sync(config)

    # salesreg reads both texts, so the deal is valid and its cached result is the engine's amount.
    assert result.scan.deals[0].deal.problems == []
    assert cached_values(config.register.path)[(2, "fy_sales")] == 600_000
    lines = problems_of(config.register.path, 2).split("\n")
    assert lines == [
        'Monthly price: "10万" is typed as text, which the sheet\'s formulas count as 0 or as no end; '
        "type it as a number or a date, so that the spreadsheet shows the sales that salesreg computes.",
        'Service start: "2026/10/01" is typed as text, which the sheet\'s formulas count as 0 or as no end; '
        "type it as a number or a date, so that the spreadsheet shows the sales that salesreg computes.",
    ]

    save_rep_edit(config.register.path, 2, monthly_price=100_000, service_start=datetime(2026, 10, 1))
    sync(config, "2026-12-04T11:00")
    assert problems_of(config.register.path, 2) == ""


def test_typed_number_restored_with_notice(tmp_path: Path) -> None:
    config = setup_folder(tmp_path, DEALS)
    path = config.register.path
    sync(config)
    save_rep_edit(path, 2, fy_sales=123)
    rep_cells = openpyxl.load_workbook(path)["Deals"]
    customer_before = rep_cells.cell(row=2, column=POSITIONS["customer"]).value

    result = sync(config, "2026-12-04T11:00")

    assert formula_texts(path)[(2, "fy_sales")] == formula_cells(2)["fy_sales"]
    assert cached_values(path)[(2, "fy_sales")] == 600_000
    header = config.register.headers["fy_sales"]
    assert overwritten_message(header, 123) in problems_of(path, 2).split("\n")
    assert result.counts["improper"] == 0
    sheet = openpyxl.load_workbook(path)["Deals"]
    assert sheet.cell(row=2, column=POSITIONS["customer"]).value == customer_before
    assert problems_of(path, 3) == ""


def test_notice_stays_until_rep_edits_row(tmp_path: Path) -> None:
    config = setup_folder(tmp_path, DEALS)
    path = config.register.path
    sync(config)
    save_rep_edit(path, 2, weighted_sales=5)
    sync(config, "2026-12-04T11:00")
    header = config.register.headers["weighted_sales"]
    notice = overwritten_message(header, 5)
    assert notice in problems_of(path, 2)

    before = path.read_bytes()
    again = sync(config, "2026-12-04T11:30")
    assert not again.written
    assert path.read_bytes() == before

    save_rep_edit(path, 2, title="Fleet tracking, phase 2")
    sync(config, "2026-12-04T12:00")
    assert notice not in problems_of(path, 2)


def test_typed_text_restored_with_notice(tmp_path: Path) -> None:
    config = setup_folder(tmp_path, DEALS)
    path = config.register.path
    sync(config)
    save_rep_edit(path, 3, fy_sales="about 1M")
    sync(config, "2026-12-04T11:00")
    assert formula_texts(path)[(3, "fy_sales")] == formula_cells(3)["fy_sales"]
    header = config.register.headers["fy_sales"]
    assert overwritten_message(header, "about 1M") in problems_of(path, 3)


def test_cleared_formula_restored_quietly(tmp_path: Path) -> None:
    config = setup_folder(tmp_path, DEALS)
    path = config.register.path
    sync(config)
    save_rep_edit(path, 2, fy_sales=None)
    sync(config, "2026-12-04T11:00")
    assert formula_texts(path)[(2, "fy_sales")] == formula_cells(2)["fy_sales"]
    assert cached_values(path)[(2, "fy_sales")] == 600_000
    assert problems_of(path, 2) == ""


# the Settings sheet


def settings_cells(path: Path) -> dict[str, object]:
    sheet = openpyxl.load_workbook(path, data_only=True)[SETTINGS_SHEET]
    return {sheet.cell(row=row, column=1).value: sheet.cell(row=row, column=2).value for row in range(2, sheet.max_row + 1)}


def as_cell(value: object) -> object:
    return datetime(value.year, value.month, value.day) if isinstance(value, date) else value


def test_settings_follow_fiscal_year(tmp_path: Path) -> None:
    config = setup_folder(tmp_path, DEALS)
    path = config.register.path
    expected = {label: as_cell(value) for label, value in settings_values(config, date(2026, 12, 4)).items()}
    assert settings_cells(path) != expected  # the template counts the fiscal year of its build date

    result = sync(config)
    assert result.settings
    assert settings_cells(path) == expected

    next_year = {label: as_cell(value) for label, value in settings_values(config, date(2027, 4, 2)).items()}
    sync(config, "2027-04-02T09:00")
    assert settings_cells(path) == next_year
    # An open-ended contract from October 2026 bills all twelve months of FY2027.
    assert cached_values(path)[(2, "fy_sales")] == 1_200_000
    assert formula_texts(path)[(2, "fy_sales")] == formula_cells(2)["fy_sales"]


def test_settings_keep_other_parts(tmp_path: Path) -> None:
    config = setup_folder(tmp_path, DEALS)
    path = config.register.path
    before = zip_parts(path)
    sync(config)
    after = zip_parts(path)
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {SHEET, settings_part(path)}


def settings_part(path: Path) -> str:
    with zipfile.ZipFile(path) as archive:
        return locate_sheet(archive, SETTINGS_SHEET).sheet_part


# registers made before the template had formulas


def test_register_without_settings_gets_values(tmp_path: Path) -> None:
    config = setup_folder(tmp_path, DEALS)
    path = config.register.path
    workbook = openpyxl.load_workbook(path)
    del workbook[SETTINGS_SHEET]
    for name in ("FYStart", "MoneyDigits"):
        del workbook.defined_names[name]
    sheet = workbook["Deals"]
    for row in range(2, 202):
        for field in FORMULA_FIELDS:
            sheet.cell(row=row, column=POSITIONS[field]).value = None
    workbook.save(path)

    result = sync(config)

    texts = formula_texts(path)
    for (row, field), expected in engine_results(config, result).items():
        assert texts[(row, field)] == (None if expected == "" else expected), f"{field} row {row}"
    assert not result.settings


# LibreOffice computes what the cached results say


@pytest.mark.libreoffice
def test_libreoffice_recalculates_cached_values(tmp_path: Path) -> None:
    require_soffice()
    config = setup_folder(tmp_path, DEALS)
    sync(config)
    synced = cached_values(config.register.path)

    # Without the cached results LibreOffice has to calculate every formula on load.
    stripped = tmp_path / "stripped" / "register.xlsx"
    stripped.parent.mkdir()
    with zipfile.ZipFile(config.register.path) as source, zipfile.ZipFile(stripped, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == SHEET:
                data = re.sub(rb"(</f>)<v>[^<]*</v>", rb"\1", data)
                data = data.replace(b' t="str"><f>', b"><f>")
            target.writestr(info, data)
    assert b"</f><v>" not in zip_parts(stripped)[SHEET]

    calculated = openpyxl.load_workbook(convert(stripped, "xlsx", tmp_path / "lo"), data_only=True)["Deals"]
    for (row, field), value in synced.items():
        recalculated = calculated.cell(row=row, column=POSITIONS[field]).value
        if value is None or recalculated is None:
            assert recalculated in (None, "") and value in (None, ""), f"{field} row {row}"
        else:
            assert Decimal(str(recalculated)) == Decimal(str(value)), f"{field} row {row}"
