"""Sheet shape: blank rows, a used range stretched to row 1,048,576, merged cells, hidden rows."""

from __future__ import annotations

import re
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest

from helpers import (
    DEALS_SHEET_PART,
    CaseRun,
    make_register,
    put_cell_xml,
    rewrite_zip_part,
    valid_deal,
    workbook_cells,
    write_config,
)
from salesreg.register import _parse_sheet, _scan_sheet, _sheet_parts

EXCEL_LAST_ROW = 1_048_576


def test_blank_rows_inside_data_skipped(tmp_path: Path) -> None:
    write_config(tmp_path)
    blank_with_spaces = {"customer": "\u3000 ", "title": "\u00a0"}
    deals = [valid_deal(), {}, blank_with_spaces, valid_deal(customer="Kitano Foods"), {}, {}, {}, valid_deal(customer="Minato Clinic")]
    make_register(tmp_path / "register.xlsx", deals)

    run = CaseRun(tmp_path)

    assert run.result.exit_code == 0, run.result.output
    assert "3 deals, 3 new" in run.result.output
    assert sorted(run.deals) == [2, 5, 9]
    assert [run.rows[row]["Deal ID"] for row in (2, 5, 9)] == ["D-000001", "D-000002", "D-000003"]
    assert run.rows[4]["Deal ID"] is None
    assert run.rows[4]["Problems"] is None
    assert run.changes == []


def stretch_used_range(path: Path, every_row: bool) -> None:
    """Make the Deals sheet's formatting reach row 1,048,576, as a fill applied to whole rows does.

    With ``every_row``, each row up to the last one is a styled but empty row element.
    Without it, only the last row has a styled cell, and the declared dimension covers the rest.
    """

    def change(xml: bytes) -> bytes:
        xml = re.sub(rb'<dimension ref="[^"]+"', f'<dimension ref="A1:AB{EXCEL_LAST_ROW}"'.encode(), xml)
        last_written = max(int(number) for number in re.findall(rb'<row r="(\d+)"', xml))
        if every_row:
            rows = b"".join(b'<row r="%d" s="2" customFormat="1"/>' % number for number in range(last_written + 1, EXCEL_LAST_ROW + 1))
        else:
            rows = b'<row r="%d"><c r="AB%d" s="2"/></row>' % (EXCEL_LAST_ROW, EXCEL_LAST_ROW)
        return xml.replace(b"</sheetData>", rows + b"</sheetData>")

    rewrite_zip_part(path, DEALS_SHEET_PART, change)


@pytest.mark.parametrize("every_row", [pytest.param(False, id="one-far-cell"), pytest.param(True, id="every-row-styled")])
def test_used_range_to_last_row_read_fast(tmp_path: Path, run_cli, every_row: bool) -> None:
    write_config(tmp_path)
    path = make_register(tmp_path / "register.xlsx", [valid_deal(), valid_deal(customer="Kitano Foods")])
    stretch_used_range(path, every_row)

    started = time.perf_counter()
    result = run_cli("validate", "--now", "2026-06-20T09:00")
    elapsed = time.perf_counter() - started

    assert result.exit_code == 0, result.output
    assert "2 rows checked, 0 with problems" in result.output
    # Reading takes 0.4 s on a 2-core test machine, and a read through every row element 12 s.
    assert elapsed < 5, f"validate took {elapsed:.1f} s"


@pytest.mark.parametrize("every_row", [pytest.param(False, id="one-far-cell"), pytest.param(True, id="every-row-styled")])
def test_used_range_to_last_row_syncs(tmp_path: Path, run_cli, every_row: bool) -> None:
    write_config(tmp_path)
    path = make_register(tmp_path / "register.xlsx", [valid_deal(), valid_deal(customer="Kitano Foods")])
    stretch_used_range(path, every_row)

    started = time.perf_counter()
    result = run_cli("sync", "--now", "2026-06-20T09:00")
    elapsed = time.perf_counter() - started

    assert result.exit_code == 0, result.output
    sheet = openpyxl.load_workbook(path, read_only=True)["Deals"]
    assert [row[0] for row in sheet.iter_rows(min_row=2, max_row=4, max_col=1, values_only=True)] == ["D-000001", "D-000002", None]
    # NOTE: With every row styled, most of this time goes to the writer, which patches each row
    # element (about 10 s on a 2-core test machine). Reading takes 0.4 s.
    assert elapsed < (40 if every_row else 10), f"sync took {elapsed:.1f} s"


def test_declared_dimension_too_small(tmp_path: Path) -> None:
    write_config(tmp_path)
    path = make_register(tmp_path / "register.xlsx", [valid_deal(), valid_deal(customer="Kitano Foods"), valid_deal(customer="Minato Clinic")])
    rewrite_zip_part(path, DEALS_SHEET_PART, lambda xml: re.sub(rb'<dimension ref="[^"]+"', b'<dimension ref="A1"', xml))

    run = CaseRun(tmp_path)

    assert run.result.exit_code == 0, run.result.output
    assert sorted(run.deals) == [2, 3, 4]
    assert run.rows[4]["Deal ID"] == "D-000003"


MERGED = (
    "cells B3:B4 are merged; unmerge them (Home > Merge & Center > Unmerge Cells) and type the value into each row."
)


def test_merged_cells_are_a_problem(tmp_path: Path) -> None:
    write_config(tmp_path)
    deals = [valid_deal(), valid_deal(customer="Kitano Foods"), valid_deal(customer=None, title="Second deal")]
    path = make_register(tmp_path / "register.xlsx", deals)
    workbook = openpyxl.load_workbook(path)
    workbook["Deals"].merge_cells("B3:B4")
    workbook["Deals"].merge_cells("C30:C31")  # below the data: no deal, no problem
    workbook.save(path)

    run = CaseRun(tmp_path)

    assert run.result.exit_code == 0, run.result.output
    assert run.problems(2) is None
    assert run.problems(3) == f"Customer: {MERGED}"
    assert run.problems(4) == f"Customer: {MERGED}"
    assert f'Row 4, "Customer": {MERGED}' in run.result.output
    assert sorted(run.deals) == [2, 3, 4]
    assert run.changes == []
    assert sorted(str(cells) for cells in openpyxl.load_workbook(path)["Deals"].merged_cells.ranges) == ["B3:B4", "C30:C31"]


def test_hidden_and_filtered_rows_read(tmp_path: Path) -> None:
    write_config(tmp_path)
    deals = [valid_deal(), valid_deal(customer="Kitano Foods", stage="Qualified", customer_business="Food", challenges="Waste"), valid_deal(customer="Minato Clinic")]
    path = make_register(tmp_path / "register.xlsx", deals)
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Deals"]
    sheet.row_dimensions[2].hidden = True
    # The table's filter shows only Qualified deals, so Excel hides rows 2 and 4.
    sheet.tables["Deals"].autoFilter.add_filter_column(4, ["Qualified"])
    sheet.row_dimensions[4].hidden = True
    workbook.save(path)

    run = CaseRun(tmp_path)

    assert run.result.exit_code == 0, run.result.output
    assert [run.rows[row]["Deal ID"] for row in (2, 3, 4)] == ["D-000001", "D-000002", "D-000003"]
    assert run.rows[2]["Fiscal-period sales"] == 600_000
    saved = openpyxl.load_workbook(path)["Deals"]
    assert saved.row_dimensions[2].hidden
    assert saved.row_dimensions[4].hidden
    assert run.changes == []


def prefixed(xml: bytes) -> bytes:
    """Return sheet XML with the main namespace bound to the prefix x:, as some programs write it."""
    xml = xml.replace(b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"', b'xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"')
    return re.sub(rb"<(/?)(?=[a-zA-Z])(?![a-zA-Z]+:)", rb"<\1x:", xml)


def test_prefixed_sheet_xml_read(tmp_path: Path) -> None:
    write_config(tmp_path)
    path = make_register(tmp_path / "register.xlsx", [valid_deal(), valid_deal(monthly_price="=50000*2")])
    workbook = openpyxl.load_workbook(path)
    workbook["Deals"].merge_cells("B2:B3")
    workbook.save(path)
    rewrite_zip_part(path, DEALS_SHEET_PART, prefixed)

    run = CaseRun(tmp_path)

    assert run.result.exit_code == 0, run.result.output
    assert run.problems(2) == "Customer: cells B2:B3 are merged; unmerge them (Home > Merge & Center > Unmerge Cells) and type the value into each row."
    assert run.problems(3).startswith('Customer: cells B2:B3 are merged;')
    assert 'Monthly price: the formula "=50000*2" has no saved result' in run.problems(3)


@pytest.mark.parametrize("prefix", [pytest.param(False, id="default-namespace"), pytest.param(True, id="prefixed")])
def test_byte_scan_matches_full_parse(tmp_path: Path, prefix: bool) -> None:
    """The fast byte scan of a sheet finds what a full XML parse finds."""
    deals = [valid_deal(), valid_deal(monthly_price="=50000*2"), {}, valid_deal(customer="=B2"), {}, {}]
    path = make_register(tmp_path / "register.xlsx", deals)
    workbook = openpyxl.load_workbook(path)
    workbook["Deals"].merge_cells("C2:C3")
    workbook["Deals"].merge_cells("P40:Q41")
    workbook.save(path)
    put_cell_xml(path, "G4", '<c r="G4" s="4"><f t="shared" ref="G4:G7" si="0">J4*2</f><v>0</v></c>')
    put_cell_xml(path, "G6", '<c r="G6" s="4"><f t="shared" si="0"/></c>')
    put_cell_xml(path, "K7", '<c r="K7" s="2" t="str"><f>""</f><v></v></c>')
    if prefix:
        rewrite_zip_part(path, DEALS_SHEET_PART, prefixed)

    with zipfile.ZipFile(path) as archive:
        part = _sheet_parts(archive)["Deals"]
        fast = _scan_sheet(archive, part)
        full = _parse_sheet(archive, part)

    assert fast.last_row == full.last_row
    assert fast.last_row >= 7
    assert fast.formulas == full.formulas
    assert fast.formulas[(3, 7)] == "=50000*2"
    assert fast.formulas[(5, 2)] == "=B2"
    assert fast.formulas[(6, 7)] == "=J6*2"
    assert (4, 7) not in fast.formulas
    assert (7, 11) not in fast.formulas
    assert sorted(cell_range.coord for cell_range in fast.merged) == sorted(cell_range.coord for cell_range in full.merged)
    assert sorted(cell_range.coord for cell_range in fast.merged) == ["C2:C3", "P40:Q41"]


def test_reading_leaves_file_alone(tmp_path: Path, run_cli) -> None:
    write_config(tmp_path)
    path = make_register(tmp_path / "register.xlsx", [valid_deal()])
    before = path.read_bytes()
    cells = workbook_cells(path)
    result = run_cli("validate", "--now", "2026-06-20T09:00")
    assert result.exit_code == 0
    assert path.read_bytes() == before
    assert workbook_cells(path) == cells
