"""sync changes only its own cells: every other part of a shared workbook survives 20 syncs.

The workbooks contain what openpyxl's load and save would drop or alter. That is charts, an
image, a text box, a comment, formulas with cached results, a drop-down in Excel's x14
extension list, a slicer, a SHA-512 sheet protection and a VBA project. One is saved by
LibreOffice, a real spreadsheet application, the way a rep would save it.
"""

from __future__ import annotations

import csv
import re
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from openpyxl.chart import BarChart, Reference

from helpers import (
    DEALS_SHEET_PART,
    POSITIONS,
    at,
    make_register,
    make_rich_register,
    save_rep_edit,
    valid_deal,
    write_config,
    zip_parts,
)
from libreoffice import convert
from salesreg.config import load_config
from salesreg.errors import WorkbookError
from salesreg.fields import COLUMNS
from salesreg.formulas import FY_START, SETTINGS_SHEET, settings_cell
from salesreg.jobs import run_sync
from salesreg.xlsx_patch import locate_sheet

SYNCS = 20
OWNED_COLUMNS = {POSITIONS[column.field] for column in COLUMNS if column.writer == "sync"}
EDITED_COLUMNS = {POSITIONS["next_step"]}  # the column the test's rep edits between syncs

_ROW = re.compile(rb"(<(?:\w+:)?row\b[^>]*?)(?:/>|>(.*?)</(?:\w+:)?row>)", re.S)
_CELL = re.compile(rb"<(?:\w+:)?c\b[^>]*?(?:/>|>.*?</(?:\w+:)?c>)", re.S)
_REFERENCE = re.compile(rb'\br="([A-Z]+)(\d+)"')


def deals() -> list[dict]:
    return [
        valid_deal(),
        valid_deal(customer="Kitano Foods", rep="Ben Carter", expected_close=valid_deal()["expected_close"] + timedelta(days=60), expectation="B"),
        valid_deal(customer="Minato Clinic", outcome="Won", outcome_reason="Best fit"),
        valid_deal(customer=None),
        valid_deal(customer="Umi Shipping", monthly_price=250_000, contract_months=12),
    ]


def column_number(letters: bytes) -> int:
    number = 0
    for letter in letters.decode():
        number = number * 26 + ord(letter) - 64
    return number


def split_sheet(xml: bytes) -> tuple[bytes, dict[int, tuple[bytes, dict[int, bytes]]], bytes]:
    """Split worksheet XML into what precedes the rows, each row (start tag, cells by column) and what follows."""
    start = re.search(rb"<(?:\w+:)?sheetData\b[^>]*>", xml)
    end = re.search(rb"</(?:\w+:)?sheetData>", xml)
    assert start and end, "the sheet has no sheetData element"
    rows: dict[int, tuple[bytes, dict[int, bytes]]] = {}
    for row in _ROW.finditer(xml, start.end(), end.start()):
        number = int(re.search(rb'\br="(\d+)"', row.group(1)).group(1))
        cells = {}
        for cell in _CELL.finditer(row.group(2) or b""):
            reference = _REFERENCE.search(cell.group(0))
            cells[column_number(reference.group(1))] = cell.group(0)
        rows[number] = (row.group(1), cells)
    return xml[: start.end()], rows, xml[end.start() :]


def assert_only_owned_cells_differ(before: bytes, after: bytes) -> None:
    head_before, rows_before, tail_before = split_sheet(before)
    head_after, rows_after, tail_after = split_sheet(after)
    assert head_after == head_before
    assert tail_after == tail_before
    assert sorted(rows_after) == sorted(rows_before)
    for number, (start_tag, cells) in rows_before.items():
        new_start_tag, new_cells = rows_after[number]
        assert new_start_tag == start_tag, f"row {number}"
        for column, cell in cells.items():
            if column not in OWNED_COLUMNS | EDITED_COLUMNS:
                assert new_cells.get(column) == cell, f"row {number}, column {column}"
        for column in set(new_cells) - set(cells):
            assert column in OWNED_COLUMNS | EDITED_COLUMNS, f"row {number}, column {column} is new"


def settings_sheet_part(path: Path) -> str | None:
    """Return the zip part of the Settings sheet, or None when the workbook has none."""
    with zipfile.ZipFile(path) as archive:
        try:
            return locate_sheet(archive, SETTINGS_SHEET).sheet_part
        except WorkbookError:
            return None


def openpyxl_register(folder: Path) -> Path:
    """The salesreg template, saved by openpyxl, with a chart on a sheet of its own."""
    path = make_register(folder / "register.xlsx", deals())
    workbook = openpyxl.load_workbook(path)
    chart_sheet = workbook.create_sheet("Chart")
    chart = BarChart()
    chart.add_data(Reference(workbook["Deals"], min_col=POSITIONS["monthly_price"], min_row=1, max_row=6), titles_from_data=True)
    chart_sheet.add_chart(chart, "B2")
    workbook.save(path)
    return path


def libreoffice_register(folder: Path) -> Path:
    source = make_rich_register(folder / "source" / "register.xlsx", deals())
    return convert(source, "xlsx", folder)


def rich_register(folder: Path) -> Path:
    return make_rich_register(folder / "register.xlsx", deals())


def macro_register(folder: Path) -> Path:
    return make_rich_register(folder / "register.xlsm", deals())


BUILDERS = {
    "openpyxl": openpyxl_register,
    "xlsxwriter": rich_register,
    "xlsxwriter-xlsm": macro_register,
    "libreoffice": libreoffice_register,
}


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_twenty_syncs_keep_unowned_parts(tmp_path: Path, kind: str) -> None:
    if kind == "libreoffice":
        (tmp_path / "source").mkdir()
    path = BUILDERS[kind](tmp_path)
    config = load_config(write_config(tmp_path, f'[register]\npath = "{path.name}"\n'))
    before = zip_parts(path)
    now = at("2026-06-20T09:00")

    for number in range(SYNCS):
        result = run_sync(config, now + timedelta(days=number))
        assert result.written, f"sync {number + 1} wrote nothing"
        row = 2 + number % len(deals())
        save_rep_edit(path, row, next_step=f"Call on day {number}")

    after = zip_parts(path)
    assert list(after) == list(before)
    # The template's Settings sheet moves to the fiscal year of the syncs, which differs from
    # the fiscal year of the template's build date.
    settings_part = settings_sheet_part(path)
    for name, data in before.items():
        if name not in (DEALS_SHEET_PART, settings_part):
            assert after[name] == data, f"{name} changed"
    assert_only_owned_cells_differ(before[DEALS_SHEET_PART], after[DEALS_SHEET_PART])
    if settings_part is not None:
        settings = openpyxl.load_workbook(path, data_only=True)[SETTINGS_SHEET]
        assert settings[settings_cell(FY_START)].value == datetime(2026, 4, 1)

    sheet = openpyxl.load_workbook(path, data_only=True)["Deals"]
    assert [sheet.cell(row=row, column=1).value for row in range(2, 7)] == [f"D-{n:06d}" for n in range(1, 6)]
    assert sheet.cell(row=2 + (SYNCS - 1) % 5, column=POSITIONS["next_step"]).value == f"Call on day {SYNCS - 1}"


@pytest.mark.libreoffice
def test_libreoffice_reads_synced_own_file(tmp_path: Path) -> None:
    (tmp_path / "source").mkdir()
    path = libreoffice_register(tmp_path)
    config = load_config(write_config(tmp_path))
    run_sync(config, at("2026-06-20T09:00"))
    run_sync(config, at("2026-06-22T09:00"))

    # CSV filter options: comma separator, UTF-8 (76), first sheet.
    exported = convert(path, "csv:Text - txt - csv (StarCalc):44,34,76,1", tmp_path / "csv")
    rows = list(csv.DictReader(exported.open(encoding="utf-8")))
    assert [row["Deal ID"] for row in rows[:5]] == [f"D-{n:06d}" for n in range(1, 6)]
    assert rows[0]["Update deadline"].startswith("2026-06-30")
    assert "Customer is empty" in rows[3]["Problems"]
    assert rows[0]["Annual price"].replace(",", "") == "1200000"
