"""The register template: sheets, headers, drop-downs, protection, and a committed copy that is current."""

from __future__ import annotations

import csv
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from libreoffice import convert, require_soffice
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from salesreg.config import build_config
from salesreg.errors import ConfigError
from salesreg.fields import COLUMNS, OUTCOMES, TEAM_HEADERS
from salesreg.money import excel_number_format
from salesreg.template import (
    COMPUTED_COLOR,
    LOST_REASONS,
    MANAGER_COLOR,
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
            assert committed.read(name) == fresh.read(name), (
                f"{name} in sheets/template.xlsx is stale; run scripts/build_template.py"
            )


def test_builds_are_identical(tmp_path: Path) -> None:
    build_template(tmp_path / "first.xlsx")
    build_template(tmp_path / "second.xlsx")
    assert (tmp_path / "first.xlsx").read_bytes() == (tmp_path / "second.xlsx").read_bytes()


def test_document_properties(workbook: Workbook) -> None:
    assert workbook.properties.creator == "salesreg"
    assert workbook.properties.created == datetime(2026, 1, 1)
    assert workbook.properties.modified == datetime(2026, 1, 1)


# Sheets and the Deals layout


def test_sheet_order(workbook: Workbook) -> None:
    assert workbook.sheetnames == ["Deals", "Team", "Lists", "Guide"]
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
        pytest.param("rep", "Team!$A$2:$A$500", id="rep"),
        pytest.param("stage", "Lists!$A$2:$A$6", id="stage"),
        pytest.param("outcome", "Lists!$B$2:$B$3", id="outcome"),
        pytest.param("expectation", "Lists!$C$2:$C$5", id="expectation"),
    ],
)
def test_drop_down_list(workbook: Workbook, deals: Worksheet, field: str, cells: str) -> None:
    letter = letter_of(field)
    validation = validation_at(deals, f"{letter}2")
    assert validation is not None
    assert validation is validation_at(deals, f"{letter}201")
    assert validation_at(deals, f"{letter}202") is None
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
    assert workbook.defined_names[validation.formula1].attr_text == "Lists!$E$2:$E$8"
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
    assert workbook.sheetnames == ["Pipeline", "Sales team", "Lists", "Guide"]
    assert workbook.defined_names["TeamNameList"].attr_text == "'Sales team'!$A$2:$A$500"


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
