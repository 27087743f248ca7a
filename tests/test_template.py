"""The register template: sheets, headers, drop-downs, formulas, protection, and a committed copy that is current."""

from __future__ import annotations

import hashlib

import csv
import subprocess
import sys
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest
from helpers import setup_folder, valid_deal
from libreoffice import convert, require_soffice
from openpyxl import load_workbook
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from salesreg.config import build_config
from salesreg.errors import ConfigError
from salesreg.fields import COLUMNS, OUTCOMES, TEAM_HEADERS
from salesreg.formulas import FORMULA_FIELDS, formula_cells
from salesreg.money import excel_number_format
from salesreg.template import (
    COMPUTED_COLOR,
    LAST_SHEET_ROW,
    LOST_REASONS,
    MANAGER_COLOR,
    OVERDUE_FILL,
    PROBLEM_FILL,
    build_template,
)

REPOSITORY = Path(__file__).resolve().parent.parent
COMMITTED_TEMPLATE = REPOSITORY / "sheets" / "template.xlsx"
HEADERS = [column.header for column in COLUMNS]
LAST_LETTER = get_column_letter(len(COLUMNS))


@pytest.fixture(scope="module")
def template_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.xlsx"
    build_template(path)
    return path


@pytest.fixture(scope="module")
def workbook(template_path: Path) -> Workbook:
    return load_workbook(template_path)


@pytest.fixture(scope="module")
def deals(workbook: Workbook) -> Worksheet:
    return workbook["Deals"]


def letter_of(field: str) -> str:
    index = next(i for i, column in enumerate(COLUMNS, start=1) if column.field == field)
    return get_column_letter(index)


def validation_at(sheet: Worksheet, coordinate: str) -> DataValidation | None:
    """Return the data validation that covers ``coordinate``, if any."""
    for validation in sheet.data_validations.dataValidation:
        if coordinate in validation.sqref:
            return validation
    return None


def column_values(sheet: Worksheet, letter: str) -> list[object]:
    """Return the values below the header of ``letter`` down to the first empty cell."""
    values = []
    row = 2
    while sheet[f"{letter}{row}"].value is not None:
        values.append(sheet[f"{letter}{row}"].value)
        row += 1
    return values


# The committed file


def test_committed_template_is_current(template_path: Path) -> None:
    with zipfile.ZipFile(COMMITTED_TEMPLATE) as committed, zipfile.ZipFile(template_path) as fresh:
        assert committed.namelist() == fresh.namelist()
        for name in fresh.namelist():
            if name == "docProps/core.xml":
                continue
            # Compare digests: a byte diff of a whole sheet's XML takes pytest minutes to render.
            same = hashlib.sha256(committed.read(name)).digest() == hashlib.sha256(fresh.read(name)).digest()
            assert same, f"{name} in sheets/template.xlsx is stale; run scripts/build_template.py"


def test_builds_are_identical(tmp_path: Path) -> None:
    build_template(tmp_path / "first.xlsx")
    build_template(tmp_path / "second.xlsx")
    first = hashlib.sha256((tmp_path / "first.xlsx").read_bytes()).hexdigest()
    assert first == hashlib.sha256((tmp_path / "second.xlsx").read_bytes()).hexdigest()


def test_document_properties(workbook: Workbook) -> None:
    assert workbook.properties.creator == "salesreg"
    assert workbook.properties.created == datetime(2026, 1, 1)
    assert workbook.properties.modified == datetime(2026, 1, 1)


# Sheets and the Deals layout


def test_sheet_order(workbook: Workbook) -> None:
    assert workbook.sheetnames == ["Deals", "Team", "Lists", "Guide", "Settings"]
    assert workbook.active is not None
    assert workbook.active.title == "Deals"


def test_deals_headers(deals: Worksheet) -> None:
    assert [cell.value for cell in deals[1]] == HEADERS


def test_deals_table_covers_headers(deals: Worksheet) -> None:
    table = deals.tables["Deals"]
    assert table.ref == f"A1:{LAST_LETTER}201"
    assert [column.name for column in table.tableColumns] == HEADERS
    assert table.tableStyleInfo.name.startswith("TableStyleMedium")


def test_deals_freeze_panes(deals: Worksheet) -> None:
    assert deals.freeze_panes == "A2"


def test_deals_column_widths(deals: Worksheet) -> None:
    for column in COLUMNS:
        assert deals.column_dimensions[letter_of(column.field)].width == column.width, column.header


def test_header_input_help(deals: Worksheet) -> None:
    for column in COLUMNS:
        validation = validation_at(deals, f"{letter_of(column.field)}1")
        assert validation is not None, f"{column.header} header has no input help"
        assert validation.showInputMessage, column.header
        assert validation.promptTitle == column.header
        assert validation.prompt == column.help
        assert validation.type is None, f"{column.header} header restricts its value"


# Drop-downs and the Lists sheet


@pytest.mark.parametrize(
    ("field", "cells"),
    [
        pytest.param("rep", "OFFSET(Team!$A$2,0,0,MAX(1,COUNTA(Team!$A:$A)-1),1)", id="rep"),
        pytest.param("stage", "OFFSET(Lists!$A$2,0,0,MAX(1,COUNTA(Lists!$A:$A)-1),1)", id="stage"),
        pytest.param("outcome", "OFFSET(Lists!$B$2,0,0,MAX(1,COUNTA(Lists!$B:$B)-1),1)", id="outcome"),
        pytest.param("expectation", "OFFSET(Lists!$C$2,0,0,MAX(1,COUNTA(Lists!$C:$C)-1),1)", id="expectation"),
    ],
)
def test_drop_down_list(workbook: Workbook, deals: Worksheet, field: str, cells: str) -> None:
    letter = letter_of(field)
    validation = validation_at(deals, f"{letter}2")
    assert validation is not None
    assert validation is validation_at(deals, f"{letter}201")
    assert validation is validation_at(deals, f"{letter}202"), "rows typed below the table"
    assert validation is validation_at(deals, f"{letter}{LAST_SHEET_ROW}")
    assert validation.type == "list"
    assert workbook.defined_names[validation.formula1].attr_text == cells
    assert validation.allowBlank
    assert validation.showErrorMessage
    assert validation.error


def test_stage_error_names_stages(deals: Worksheet) -> None:
    validation = validation_at(deals, f"{letter_of('stage')}2")
    assert validation is not None
    assert "Lead, Qualified, Proposal, Negotiation, Closing" in validation.error


def test_lists_values(workbook: Workbook) -> None:
    config = build_config({}, Path("."))
    lists = workbook["Lists"]
    assert [cell.value for cell in lists[1]] == ["Stages", "Outcomes", "Expectation", "Probability", "Lost reasons"]
    assert column_values(lists, "A") == list(config.stages)
    assert column_values(lists, "B") == list(OUTCOMES)
    assert column_values(lists, "C") == list(config.expectation)
    assert column_values(lists, "D") == [float(p) for p in config.expectation.values()]
    assert column_values(lists, "E") == list(LOST_REASONS)


def test_outcome_reason_suggests_lost_reasons(workbook: Workbook, deals: Worksheet) -> None:
    validation = validation_at(deals, f"{letter_of('outcome_reason')}2")
    assert validation is not None
    assert workbook.defined_names[validation.formula1].attr_text == "OFFSET(Lists!$E$2,0,0,MAX(1,COUNTA(Lists!$E:$E)-1),1)"
    assert not validation.showErrorMessage, "any typed reason must stay allowed"


# Typed columns


def test_date_columns_validated(deals: Worksheet) -> None:
    for column in COLUMNS:
        if column.kind != "date":
            continue
        validation = validation_at(deals, f"{letter_of(column.field)}2")
        assert validation is not None, column.header
        assert validation.type == "date", column.header
        assert validation.allowBlank, column.header
        assert validation.showErrorMessage, column.header
        assert "date" in validation.error, column.header


def test_contract_months_whole_number(deals: Worksheet) -> None:
    validation = validation_at(deals, f"{letter_of('contract_months')}2")
    assert validation is not None
    assert validation.type == "whole"
    assert validation.operator == "greaterThanOrEqual"
    assert validation.formula1 == "1"
    assert validation.allowBlank


@pytest.mark.parametrize("field", ["monthly_price", "one_time_fee"])
def test_money_at_least_zero(deals: Worksheet, field: str) -> None:
    validation = validation_at(deals, f"{letter_of(field)}2")
    assert validation is not None
    assert validation.type == "decimal"
    assert validation.operator == "greaterThanOrEqual"
    assert validation.formula1 == "0"


@pytest.mark.parametrize(
    ("field", "number_format"),
    [
        pytest.param("expected_close", "yyyy-mm-dd", id="date"),
        pytest.param("deadline", "yyyy-mm-dd hh:mm", id="datetime"),
        pytest.param("monthly_price", excel_number_format("JPY"), id="money"),
        pytest.param("weighted_sales", excel_number_format("JPY"), id="computed-money"),
        pytest.param("contract_months", "0", id="count"),
    ],
)
def test_number_format(deals: Worksheet, field: str, number_format: str) -> None:
    letter = letter_of(field)
    assert deals[f"{letter}2"].number_format == number_format
    assert deals[f"{letter}201"].number_format == number_format


def test_currency_from_config(tmp_path: Path) -> None:
    path = tmp_path / "usd.xlsx"
    build_template(path, build_config({"fiscal": {"currency": "USD"}}, Path(".")))
    deals = load_workbook(path)["Deals"]
    assert deals[f"{letter_of('monthly_price')}2"].number_format == excel_number_format("USD")


def test_problems_wrap(deals: Worksheet) -> None:
    assert deals[f"{letter_of('problems')}2"].alignment.wrap_text


# Computed columns and protection


def test_computed_columns_grey_locked(deals: Worksheet) -> None:
    for column in COLUMNS:
        if column.writer != "sync":
            continue
        letter = letter_of(column.field)
        assert deals[f"{letter}1"].fill.fgColor.rgb.endswith(COMPUTED_COLOR), f"{column.header} header"
        assert deals[f"{letter}2"].fill.fgColor.rgb.endswith(COMPUTED_COLOR), f"{column.header} row 2"
        assert deals[f"{letter}201"].fill.fgColor.rgb.endswith(COMPUTED_COLOR), f"{column.header} row 201"
        assert deals[f"{letter}2"].protection.locked, f"{column.header} row 2"
        assert deals[f"{letter}201"].protection.locked, f"{column.header} row 201"


def test_rep_columns_unlocked(deals: Worksheet) -> None:
    for column in COLUMNS:
        if column.writer == "sync":
            continue
        letter = letter_of(column.field)
        assert not deals[f"{letter}2"].protection.locked, f"{column.header} row 2"
        assert not deals[f"{letter}201"].protection.locked, f"{column.header} row 201"
        assert not deals.column_dimensions[letter].protection.locked, f"{column.header} below the table"


def test_manager_headers_distinct(deals: Worksheet) -> None:
    for column in COLUMNS:
        fill = deals[f"{letter_of(column.field)}1"].fill.fgColor.rgb
        assert fill.endswith(MANAGER_COLOR) == (column.writer == "manager"), column.header


def test_deals_sheet_protected(deals: Worksheet) -> None:
    protection = deals.protection
    assert protection.sheet
    assert not protection.password
    # openpyxl stores "blocked" flags, so False means the action is allowed.
    assert protection.sort is False
    assert protection.autoFilter is False
    assert protection.formatColumns is False
    assert protection.formatRows is False
    assert protection.insertRows is False


# Team and Guide


def test_team_sheet(workbook: Workbook) -> None:
    team = workbook["Team"]
    assert [cell.value for cell in team[1]] == list(TEAM_HEADERS)
    assert team.tables["Team"].ref == "A1:D51"
    assert team.freeze_panes == "A2"


def test_team_active_yes_no(workbook: Workbook) -> None:
    validation = validation_at(workbook["Team"], "D2")
    assert validation is not None
    assert validation.type == "list"
    assert validation.formula1 == '"Yes,No"'
    assert validation is validation_at(workbook["Team"], "D51")


def test_guide_length(workbook: Workbook) -> None:
    lines = [row[0] for row in workbook["Guide"].iter_rows(min_row=2, values_only=True) if row[0]]
    assert 8 <= len(lines) <= 15
    assert any("Yes or No" in line for line in lines)
    assert any("proper update" in line for line in lines)


@pytest.mark.parametrize(
    ("step", "words"),
    [
        pytest.param("1. Register", "Deal ID blank", id="register"),
        pytest.param("2. Update", "whenever the deal changes", id="update"),
        pytest.param("3. Rank", "Expectation (A, B, C, D)", id="rank"),
        pytest.param("4. Close", "Won or Lost", id="close"),
        pytest.param("5. Review", "Reviewed on", id="review"),
    ],
)
def test_guide_process_step(workbook: Workbook, step: str, words: str) -> None:
    lines = [str(row[0]) for row in workbook["Guide"].iter_rows(values_only=True) if row[0]]
    line = next((line for line in lines if line.startswith(step)), None)
    assert line is not None, f"no Guide line starts with {step!r}"
    assert words in line


def test_guide_reminder_ladder(workbook: Workbook) -> None:
    lines = [str(row[0]) for row in workbook["Guide"].iter_rows(values_only=True) if row[0]]
    expected = "Reminders: 1 day and 1 hour before the deadline, 2 days after it, then every 24 hours until a proper update."
    assert expected in lines


def test_guide_reminder_ladder_from_config(tmp_path: Path) -> None:
    path = tmp_path / "ladder.xlsx"
    config = build_config({"reminders": {"before": ["2h"], "after": ["1d", "3d"], "repeat_every": ""}}, Path("."))
    build_template(path, config)
    lines = [str(row[0]) for row in load_workbook(path)["Guide"].iter_rows(values_only=True) if row[0]]
    assert "Reminders: 2 hours before the deadline, 1 day and 3 days after it." in lines


# Formulas and conditional formats


@pytest.mark.parametrize("row", [2, 117, 201])
def test_prepared_rows_have_formulas(deals: Worksheet, row: int) -> None:
    for field, formula in formula_cells(row).items():
        assert deals[f"{letter_of(field)}{row}"].value == formula, f"{field} row {row}"


def test_rows_below_table_empty(deals: Worksheet) -> None:
    assert deals.max_row == 201


def test_formulas_have_cached_results(template_path: Path) -> None:
    values = load_workbook(template_path, data_only=True)["Deals"]
    for row in (2, 201):
        assert values[f"{letter_of('fy_sales')}{row}"].value == 0, f"row {row}"
        assert values[f"{letter_of('weighted_sales')}{row}"].value in ("", None), f"row {row}"


def test_table_calculated_columns(deals: Worksheet) -> None:
    table = deals.tables["Deals"]
    for index, column in enumerate(COLUMNS):
        table_column = table.tableColumns[index]
        if column.field in FORMULA_FIELDS:
            assert table_column.calculatedColumnFormula is not None, column.header
            assert "=" + table_column.calculatedColumnFormula.attr_text == formula_cells(2)[column.field]
        else:
            assert table_column.calculatedColumnFormula is None, column.header


def test_settings_names_defined(workbook: Workbook) -> None:
    assert workbook.defined_names["FYStart"].attr_text == "Settings!$B$3"
    assert workbook.defined_names["MoneyDigits"].attr_text == "Settings!$B$6"
    assert workbook.defined_names["ProbabilityList"].attr_text == "OFFSET(Lists!$D$2,0,0,MAX(1,COUNTA(Lists!$C:$C)-1),1)"
    assert workbook["Settings"]["B3"].value == datetime(2025, 4, 1), "fiscal year of the fixed build date"


def test_settings_today(tmp_path: Path) -> None:
    path = tmp_path / "today.xlsx"
    build_template(path, today=datetime(2026, 4, 1).date())
    assert load_workbook(path)["Settings"]["B3"].value == datetime(2026, 4, 1)


def conditional_rules(sheet: Worksheet) -> dict[str, list[object]]:
    """Return the conditional formatting rules by the range they cover."""
    return {str(formatting.sqref): list(formatting.rules) for formatting in sheet.conditional_formatting}


def test_overdue_deadline_format(deals: Worksheet) -> None:
    letter = letter_of("deadline")
    rules = conditional_rules(deals)[f"{letter}2:{letter}{LAST_SHEET_ROW}"]
    assert len(rules) == 1
    assert rules[0].formula == [f"AND(ISNUMBER({letter}2),{letter}2<NOW())"]
    assert rules[0].dxf.fill.bgColor.rgb.endswith(OVERDUE_FILL)
    assert rules[0].priority == 1


def test_problem_row_format(deals: Worksheet) -> None:
    rules = conditional_rules(deals)[f"A2:{LAST_LETTER}{LAST_SHEET_ROW}"]
    assert len(rules) == 1
    assert rules[0].formula == [f"LEN(${letter_of('problems')}2)>0"]
    assert rules[0].dxf.fill.bgColor.rgb.endswith(PROBLEM_FILL)
    assert rules[0].priority == 2


# Configuration


def test_renamed_header(tmp_path: Path) -> None:
    path = tmp_path / "renamed.xlsx"
    build_template(path, build_config({"register": {"headers": {"customer": "Client"}}}, Path(".")))
    workbook = load_workbook(path)
    deals = workbook["Deals"]
    assert deals["B1"].value == "Client"
    assert deals.tables["Deals"].tableColumns[1].name == "Client"
    help_validation = validation_at(deals, "B1")
    assert help_validation is not None
    assert help_validation.promptTitle == "Client"
    assert any("Client" in str(row[0]) for row in workbook["Guide"].iter_rows(values_only=True))


def test_renamed_sheets(tmp_path: Path) -> None:
    path = tmp_path / "renamed.xlsx"
    config = build_config({"register": {"sheet": "Pipeline", "team_sheet": "Sales team"}}, Path("."))
    build_template(path, config)
    workbook = load_workbook(path)
    assert workbook.sheetnames == ["Pipeline", "Sales team", "Lists", "Guide", "Settings"]
    assert workbook.defined_names["TeamNameList"].attr_text == "OFFSET('Sales team'!$A$2,0,0,MAX(1,COUNTA('Sales team'!$A:$A)-1),1)"


def test_clashing_sheet_name(tmp_path: Path) -> None:
    config = build_config({"register": {"sheet": "Lists"}}, Path("."))
    with pytest.raises(ConfigError, match="'Lists' is used twice"):
        build_template(tmp_path / "clash.xlsx", config)


# A real office suite


@pytest.mark.libreoffice
def test_opens_in_libreoffice(template_path: Path, tmp_path: Path) -> None:
    require_soffice()
    # Filter options: comma separator, double quotes, UTF-8 (LibreOffice encoding 76).
    output = convert(template_path, "csv:Text - txt - csv (StarCalc):44,34,76", tmp_path)
    first_line = output.read_text(encoding="utf-8").splitlines()[0]
    assert next(csv.reader([first_line])) == HEADERS


def assert_round_trip_intact(original: Path, saved: Path, formula_row: int = 2) -> None:
    """Check that LibreOffice kept what it would drop from a workbook it had to repair."""
    before = load_workbook(original)
    after = load_workbook(saved)
    assert after.sheetnames == before.sheetnames
    deals_after = after["Deals"]
    assert [cell.value for cell in deals_after[1]] == [cell.value for cell in before["Deals"][1]]
    assert list(deals_after.tables) == ["Deals"]
    assert deals_after.protection.sheet
    for name in ("StageList", "TeamNameList", "ExpectationList", "ProbabilityList", "FYStart", "MoneyDigits"):
        assert name in after.defined_names, f"defined name {name} lost"
    for field in FORMULA_FIELDS:
        assert str(deals_after[f"{letter_of(field)}{formula_row}"].value).startswith("=IF("), f"{field} formula lost"
    assert validation_at(deals_after, f"{letter_of('stage')}2") is not None
    assert len(list(deals_after.conditional_formatting)) >= 2


@pytest.mark.libreoffice
def test_template_round_trip_in_libreoffice(template_path: Path, tmp_path: Path) -> None:
    require_soffice()
    saved = convert(template_path, "xlsx", tmp_path / "lo")
    assert_round_trip_intact(template_path, saved)


@pytest.mark.libreoffice
def test_synced_register_round_trip_in_libreoffice(tmp_path: Path, run_cli) -> None:
    require_soffice()
    setup_folder(tmp_path, [valid_deal(expected_close=date(2026, 12, 25)), valid_deal(customer=None)])
    result = run_cli("sync", "--now", "2026-12-04T10:00")
    assert result.exit_code == 0, result.output
    register = tmp_path / "register.xlsx"
    saved = convert(register, "xlsx", tmp_path / "lo")
    # Row 10 is a prepared row that sync leaves alone.
    assert_round_trip_intact(register, saved, formula_row=10)


def test_sync_keeps_sales_formulas(tmp_path: Path, run_cli) -> None:
    setup_folder(tmp_path, [valid_deal(expected_close=date(2026, 12, 25))])
    result = run_cli("sync", "--now", "2026-12-04T10:00")
    assert result.exit_code == 0, result.output
    register = tmp_path / "register.xlsx"
    deals = load_workbook(register)["Deals"]
    for field, formula in formula_cells(2).items():
        assert deals[f"{letter_of(field)}2"].value == formula, field
    values = load_workbook(register, data_only=True)["Deals"]
    assert values[f"{letter_of('fy_sales')}2"].value == 600000


@pytest.mark.libreoffice
def test_rep_cells_unlocked_after_libreoffice(template_path: Path, tmp_path: Path) -> None:
    """Protection survives LibreOffice: rep cells unlocked in table rows and rows added below it."""
    require_soffice()
    saved = convert(template_path, "xlsx", tmp_path / "lo")
    deals = load_workbook(saved)["Deals"]
    assert deals.protection.sheet
    assert not deals.protection.password
    for column in COLUMNS:
        letter = letter_of(column.field)
        computed = column.writer == "sync"
        assert locked_in(deals, letter, 2) == computed, f"{column.header} row 2"
        assert locked_in(deals, letter, 201) == computed, f"{column.header} row 201"
        assert locked_in(deals, letter, 202) == computed, f"{column.header} row 202, below the table"


def locked_in(sheet: Worksheet, letter: str, row: int) -> bool:
    """Return whether a cell is locked: by its own style, or by its column's when the file omits the cell.

    LibreOffice leaves out empty cells whose style equals their column's style.
    """
    index = column_index_from_string(letter)
    if (row, index) in sheet._cells:
        return bool(sheet.cell(row=row, column=index).protection.locked)
    # LibreOffice writes one <col> element for neighbouring columns of the same width and style.
    for dimension in sheet.column_dimensions.values():
        if dimension.min <= index <= dimension.max:
            return bool(dimension.protection.locked)
    raise AssertionError(f"column {letter} has no <col> element, so its cells take the default style")


@pytest.mark.parametrize("name", ["template.xlsx", "template.ja.xlsx"])
def test_build_script_matches_committed(tmp_path: Path, name: str) -> None:
    result = subprocess.run(
        [sys.executable, str(REPOSITORY / "scripts" / "build_template.py"), str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"Wrote {tmp_path / 'template.xlsx'}", f"Wrote {tmp_path / 'template.ja.xlsx'}"]
    with zipfile.ZipFile(REPOSITORY / "sheets" / name) as committed, zipfile.ZipFile(tmp_path / name) as fresh:
        assert committed.namelist() == fresh.namelist()
        for part in fresh.namelist():
            same = hashlib.sha256(committed.read(part)).digest() == hashlib.sha256(fresh.read(part)).digest()
            assert same, f"{part} of sheets/{name} differs; run scripts/build_template.py"
