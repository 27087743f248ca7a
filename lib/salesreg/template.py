"""Build the register template: the Deals, Team, Lists, Guide and Settings sheets of a new workbook.

The template carries everything a rep needs while typing: drop-downs, input help on the
headers, number formats, live formulas for the sales columns, conditional formatting for
overdue deadlines and rows with problems, and locked computed columns. ``salesreg init`` starts
every register from it, and ``scripts/build_template.py`` rebuilds the committed
``sheets/template.xlsx`` and ``sheets/template.ja.xlsx``.

Every text of the template is written in the configuration's ``[mail] locale``: the texts of
this module, ``fields`` and ``formulas`` through the message catalogue, and the outcome and
Team words from the tables in ``fields``. Header texts, sheet names of the Deals and Team
sheets, and stages come from the configuration, which ``salesreg init --locale ja`` writes in
Japanese.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import tempfile
import tomllib
import zipfile
from collections.abc import Sequence
from datetime import date, datetime
from importlib.resources import files
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.table import Table, TableColumn, TableFormula, TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from babel.lists import format_list

from .config import Config, Offset, build_config
from .errors import ConfigError
from .fields import COLUMNS, OUTCOME_WORDS, TEAM_HEADER_WORDS, TEAM_HEADERS, Column
from .formulas import (
    EXPECTATION_LIST,
    FORMULA_FIELDS,
    PROBABILITY_LIST,
    SETTINGS,
    SETTINGS_FIRST_ROW,
    SETTINGS_SHEET,
    SETTINGS_VALUE_COLUMN,
    TEMPLATE_COLUMNS,
    formula_cells,
    settings_values,
)
from .i18n import DEFAULT, N_, _, get_locale, ngettext, using
from .money import excel_number_format

# Sheet names in English; the template writes their translations.
LISTS_SHEET = N_("Lists")
GUIDE_SHEET = N_("Guide")
DEALS_TABLE = "Deals"
TEAM_TABLE = "Team"
TABLE_STYLE = "TableStyleMedium2"

# Empty table rows that already carry drop-downs, formats and unlocked cells, so reps can type
# deals without extending the table.
DEAL_ROWS = 200
FIRST_DATA_ROW = 2
LAST_DEAL_ROW = FIRST_DATA_ROW + DEAL_ROWS - 1
TEAM_ROWS = 50
# Drop-downs, input checks and conditional formats reach the sheet's last row, so that rows
# typed below the table get them too. Excel does not grow a table on a protected sheet.
LAST_SHEET_ROW = 1048576

LOST_REASONS: tuple[str, ...] = (
    N_("Price"),
    N_("Competitor chosen"),
    N_("No budget"),
    N_("No decision"),
    N_("Timing"),
    N_("Requirements not met"),
    N_("Other"),
)

# Workbook-level names behind the drop-downs, each an OFFSET over the filled cells of its column,
# so that a value added below the last one joins the drop-down. Excel saves a list validation that refers to
# another sheet directly in an x14 extension, and openpyxl 3.1 drops that extension on load, so
# such drop-downs would vanish on the first sync after someone saves the register in Excel.
# A defined name is no reference to another sheet, so the validation stays in the standard part.
# NOTE: not yet checked with a file saved by Excel; LibreOffice 7.4 keeps both forms standard.
STAGE_LIST = "StageList"
OUTCOME_LIST = "OutcomeList"
LOST_REASON_LIST = "LostReasonList"
TEAM_NAME_LIST = "TeamNameList"

# Lists sheet columns: English header and the defined name of its values, if any.
LISTS_COLUMNS: tuple[tuple[str, str | None], ...] = (
    (N_("Stages"), STAGE_LIST),
    (N_("Outcomes"), OUTCOME_LIST),
    (N_("Expectation"), EXPECTATION_LIST),
    (N_("Probability"), PROBABILITY_LIST),
    (N_("Lost reasons"), LOST_REASON_LIST),
)

COMPUTED_COLOR = "D9D9D9"  # grey: written by sync, locked
MANAGER_COLOR = "DDEBF7"  # pale blue: the manager's columns
REP_COLOR = "E2EFDA"  # pale green: the rep's columns
OVERDUE_FILL = "FFC7CE"  # red: a deadline that has passed
OVERDUE_FONT = "9C0006"
PROBLEM_FILL = "FCE4D6"  # pale orange: a row whose Problems cell is not empty
WRITER_COLORS = {"sync": COMPUTED_COLOR, "manager": MANAGER_COLOR, "rep": REP_COLOR}

NUMBER_FORMATS = {"date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm", "count": "0"}

# Excel rejects longer input-help and error texts in a data validation.
MAX_TITLE_CHARS = 32
MAX_MESSAGE_CHARS = 255

# Fixed document dates and zip entry times, so that two builds give the same bytes.
BUILD_TIME = datetime(2026, 1, 1, 0, 0, 0)
ZIP_ENTRY_TIME = (2026, 1, 1, 0, 0, 0)

# The config file that ``salesreg init --locale`` copies, by locale, inside the salesreg package.
# The Japanese one names Japanese sheets, headers and stages, and sets [mail] locale = "ja".
CONFIG_RESOURCES: dict[str, str] = {"en": "resources/config.toml", "ja": "resources/config.ja.toml"}

TEAM_HELP = {
    "Name": N_("The person's name as reps pick it in the Rep column."),
    "Email": N_("Where this person's reminder e-mails go."),
    "Manager": N_("The manager's Name from this sheet, or an e-mail address."),
    "Active": N_("Yes while the person works on deals, No after they leave."),
}
TEAM_WIDTHS = {"Name": 22, "Email": 32, "Manager": 22, "Active": 10}

# The Team sheet's Active drop-down in each locale's template: active, then not active.
# register.py reads these words, and more, in a register of any locale.
ACTIVE_WORDS: dict[str, tuple[str, str]] = {"en": ("Yes", "No"), "ja": ("はい", "いいえ")}

SETTINGS_HEADERS: tuple[str, ...] = (N_("Setting"), N_("Value"), N_("Meaning"))


def build_template(path: Path, config: Config | None = None, today: date | None = None) -> None:
    """Write the register template to ``path``, replacing any file there atomically.

    Header texts, sheet names, stages, expectation ranks and the currency come from ``config``
    (the defaults when it is None), and every other text is in its ``[mail] locale``. The
    Settings sheet counts the fiscal year that contains the local date ``today``, by default
    the fixed build date, so that the committed file does not depend on the day it was built.
    Raise ConfigError when two sheet names collide, for example register.sheet = "Lists".
    """
    if config is None:
        config = build_config({}, Path("."))
    if today is None:
        today = BUILD_TIME.date()
    with using(config.mail.locale):
        workbook = _build_workbook(config, today)
    _save_reproducibly(workbook, path)


def config_text(locale: str) -> str:
    """Return the text of the config file that ``salesreg init --locale`` writes for ``locale``."""
    return files("salesreg").joinpath(CONFIG_RESOURCES[locale]).read_text("utf-8")


def locale_config(locale: str) -> Config:
    """Return the configuration of ``config_text(locale)``, which the committed templates are built from."""
    return build_config(tomllib.loads(config_text(locale)), Path("."))


def _build_workbook(config: Config, today: date) -> Workbook:
    _check_sheet_names(config)

    workbook = Workbook()
    deals = workbook.active
    assert deals is not None  # a new Workbook always has one sheet
    deals.title = config.register.sheet
    team = workbook.create_sheet(config.register.team_sheet)
    lists = workbook.create_sheet(_(LISTS_SHEET))
    guide = workbook.create_sheet(_(GUIDE_SHEET))
    settings = workbook.create_sheet(_(SETTINGS_SHEET))

    _fill_lists(workbook, lists, config)
    _fill_team(workbook, team)
    _fill_settings(workbook, settings, config, today)
    _fill_deals(deals, config)
    _fill_guide(guide, config)

    workbook.active = 0
    workbook.properties.creator = "salesreg"
    workbook.properties.created = BUILD_TIME
    workbook.properties.modified = BUILD_TIME
    return workbook


def _check_sheet_names(config: Config) -> None:
    lists, guide, settings = _(LISTS_SHEET), _(GUIDE_SHEET), _(SETTINGS_SHEET)
    names = [config.register.sheet, config.register.team_sheet, lists, guide, settings]
    lowered = [name.lower() for name in names]
    for name in names:
        if lowered.count(name.lower()) > 1:
            raise ConfigError(
                _(
                    "Sheet name {name} is used twice in the template (register.sheet, "
                    "register.team_sheet, {lists}, {guide}, {settings}); "
                    "give register.sheet and register.team_sheet distinct names."
                ).format(name=repr(name), lists=lists, guide=guide, settings=settings)
            )


def _fill_deals(sheet: Worksheet, config: Config) -> None:
    headers = config.register.headers
    for index, column in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        _style_deal_header(sheet.cell(row=1, column=index, value=headers[column.field]), column)
        _style_deal_column(sheet, letter, column, config)
        sheet.add_data_validation(_input_help(headers[column.field], _(column.help), f"{letter}1"))

    _write_formulas(sheet)
    sheet.add_table(_deals_table(config))
    sheet.freeze_panes = "A2"
    sheet.row_dimensions[1].height = 30
    _add_deal_validations(sheet, config)
    _add_conditional_formats(sheet)
    _protect_deals(sheet)


def _write_formulas(sheet: Worksheet) -> None:
    """Write the sales formulas into the prepared rows; cached results are added on save."""
    for row in range(FIRST_DATA_ROW, LAST_DEAL_ROW + 1):
        for field, formula in formula_cells(row, locale=get_locale()).items():
            sheet.cell(row=row, column=TEMPLATE_COLUMNS[field], value=formula)


def _deals_table(config: Config) -> Table:
    """Return the Deals table, whose formula columns fill rows that Excel adds to the table."""
    headers = config.register.headers
    columns = []
    first_row_formulas = formula_cells(FIRST_DATA_ROW, locale=get_locale())
    for index, column in enumerate(COLUMNS, start=1):
        table_column = TableColumn(id=index, name=headers[column.field])
        if column.field in FORMULA_FIELDS:
            # Excel keeps a calculated column's formula as written for the table's first data
            # row and shifts its relative references for each new row.
            # NOTE: checked against the file format only; no Excel was at hand to add a row with.
            formula = first_row_formulas[column.field].removeprefix("=")
            table_column.calculatedColumnFormula = TableFormula(attr_text=formula)
        columns.append(table_column)
    last_letter = get_column_letter(len(COLUMNS))
    table = Table(
        displayName=DEALS_TABLE,
        ref=f"A1:{last_letter}{LAST_DEAL_ROW}",
        tableStyleInfo=TableStyleInfo(name=TABLE_STYLE, showRowStripes=True),
        tableColumns=columns,
    )
    table.autoFilter = AutoFilter(ref=table.ref)
    return table


def _add_conditional_formats(sheet: Worksheet) -> None:
    """Mark a passed deadline red and a row with problems pale orange, down to the sheet's end."""
    deadline = get_column_letter(TEMPLATE_COLUMNS["deadline"])
    problems = get_column_letter(TEMPLATE_COLUMNS["problems"])
    last_letter = get_column_letter(len(COLUMNS))
    # The overdue rule comes first, so it wins on the deadline cell of a row with problems.
    sheet.conditional_formatting.add(
        f"{deadline}{FIRST_DATA_ROW}:{deadline}{LAST_SHEET_ROW}",
        FormulaRule(
            formula=[f"AND(ISNUMBER({deadline}{FIRST_DATA_ROW}),{deadline}{FIRST_DATA_ROW}<NOW())"],
            fill=PatternFill(fill_type="solid", bgColor=OVERDUE_FILL),
            font=Font(color=OVERDUE_FONT, bold=True),
        ),
    )
    sheet.conditional_formatting.add(
        f"A{FIRST_DATA_ROW}:{last_letter}{LAST_SHEET_ROW}",
        FormulaRule(
            formula=[f'LEN(${problems}{FIRST_DATA_ROW})>0'],
            fill=PatternFill(fill_type="solid", bgColor=PROBLEM_FILL),
        ),
    )


def _style_deal_header(cell: Cell, column: Column) -> None:
    # Explicit colours on every header, because the table style's white header text would
    # otherwise sit on our pale fills in Excel (LibreOffice does not draw table styles at all).
    cell.font = Font(bold=True, color="000000")
    cell.fill = PatternFill(fill_type="solid", fgColor=WRITER_COLORS[column.writer])
    cell.alignment = Alignment(wrap_text=True, vertical="center")
    cell.protection = Protection(locked=True)


def _style_deal_column(sheet: Worksheet, letter: str, column: Column, config: Config) -> None:
    """Format, colour and lock or unlock the data cells of one column.

    The column style covers rows that reps type below the table. Rows 2 to LAST_DEAL_ROW also get
    cell styles, because openpyxl ignores column styles and sync writes into those cells.
    """
    computed = column.writer == "sync"
    number_format = _number_format(column, config)
    dimension = sheet.column_dimensions[letter]
    dimension.width = column.width
    dimension.protection = Protection(locked=computed)
    if number_format:
        dimension.number_format = number_format
    if computed:
        dimension.fill = PatternFill(fill_type="solid", fgColor=COMPUTED_COLOR)

    for row in range(FIRST_DATA_ROW, LAST_DEAL_ROW + 1):
        cell = sheet[f"{letter}{row}"]
        cell.protection = Protection(locked=computed)
        if number_format:
            cell.number_format = number_format
        if computed:
            cell.fill = PatternFill(fill_type="solid", fgColor=COMPUTED_COLOR)
        if column.field == "problems":
            cell.alignment = Alignment(wrap_text=True, vertical="top")


def _number_format(column: Column, config: Config) -> str | None:
    if column.kind == "money":
        return excel_number_format(config.fiscal.currency)
    return NUMBER_FORMATS.get(column.kind)


def _protect_deals(sheet: Worksheet) -> None:
    # In openpyxl's SheetProtection a True flag blocks the action, so False allows it.
    # NOTE: Excel refuses to sort a range that contains locked cells even when sort is allowed.
    # Sorting the whole table, which includes the locked computed columns, therefore stays blocked.
    protection = sheet.protection
    protection.sheet = True
    protection.sort = False
    protection.autoFilter = False
    protection.formatColumns = False
    protection.formatRows = False
    protection.insertRows = False


def _add_deal_validations(sheet: Worksheet, config: Config) -> None:
    headers = config.register.headers
    ranks = list(config.expectation)

    sheet.add_data_validation(
        _list_validation(
            TEAM_NAME_LIST,
            _data_range("rep"),
            title=_invalid(headers["rep"]),
            message=_(
                "{rep} should be a {name} from the {team} sheet. "
                "To keep an e-mail address from that sheet instead, choose Yes."
            ).format(rep=headers["rep"], name=_team_header("Name"), team=config.register.team_sheet),
            # A warning lets a rep keep an e-mail address, which the reader accepts as well.
            style="warning",
        )
    )
    sheet.add_data_validation(
        _list_validation(
            STAGE_LIST,
            _data_range("stage"),
            title=_invalid(headers["stage"]),
            message=_choice_message(
                list(config.stages),
                _("Choose a stage from the list: {values}."),
                _("Choose a stage from the drop-down list. The {sheet} sheet shows them all."),
            ),
        )
    )
    sheet.add_data_validation(
        _list_validation(
            OUTCOME_LIST,
            _data_range("outcome"),
            title=_invalid(headers["outcome"]),
            message=_choice_message(
                _outcome_words(),
                _("Choose an outcome from the list: {values}. Leave blank while the deal is open."),
                _("Choose an outcome from the drop-down list. The {sheet} sheet shows them all."),
            ),
        )
    )
    sheet.add_data_validation(
        _list_validation(
            EXPECTATION_LIST,
            _data_range("expectation"),
            title=_invalid(headers["expectation"]),
            message=_choice_message(
                ranks,
                _("Choose a rank from the list: {values}. Leave blank until the manager ranks the deal."),
                _("Choose a rank from the drop-down list. The {sheet} sheet shows them all."),
            ),
        )
    )
    # Suggestions only: without an error alert, Excel and LibreOffice accept any reason typed.
    suggestions = DataValidation(type="list", formula1=LOST_REASON_LIST, allow_blank=True)
    suggestions.add(_data_range("outcome_reason"))
    sheet.add_data_validation(suggestions)

    for column in COLUMNS:
        if column.kind == "date" and column.writer != "sync":
            sheet.add_data_validation(_date_validation(headers[column.field], _data_range(column.field)))

    sheet.add_data_validation(
        _number_validation(
            "whole",
            "1",
            _data_range("contract_months"),
            title=_invalid(headers["contract_months"]),
            message=_("Enter a whole number of months, 1 or more. Leave blank for a contract that runs on."),
        )
    )
    for field in ("monthly_price", "one_time_fee"):
        sheet.add_data_validation(
            _number_validation(
                "decimal",
                "0",
                _data_range(field),
                title=_invalid(headers[field]),
                message=_("Enter an amount of 0 or more, as a number."),
            )
        )


def _data_range(field: str) -> str:
    """Return the range of the field's column below the header, such as "E2:E1048576"."""
    letter = get_column_letter(TEMPLATE_COLUMNS[field])
    return f"{letter}{FIRST_DATA_ROW}:{letter}{LAST_SHEET_ROW}"


def _choice_message(values: Sequence[str], message: str, short_message: str) -> str:
    """Fill ``message`` with the values, or return ``short_message`` when that would be too long for Excel."""
    filled = message.format(values=_join_values(values))
    if len(filled) > MAX_MESSAGE_CHARS:
        return short_message.format(sheet=_(LISTS_SHEET))
    return filled


def _invalid(header: str) -> str:
    """Return the title of a rejected-input message for the column ``header``."""
    return _("Invalid {header}").format(header=header)


def _outcome_words() -> list[str]:
    """Return the Outcome drop-down's words in the template's locale, Won first."""
    return list(OUTCOME_WORDS[get_locale()].values())


def _team_header(header: str) -> str:
    """Return the Team sheet's header text for the English ``header`` in the template's locale."""
    return TEAM_HEADER_WORDS[get_locale()][header]


def _join_values(values: Sequence[str]) -> str:
    """Join ``values`` as a list inside a sentence: "A, B, C" in English, "A、B、C" in Japanese."""
    if get_locale() == DEFAULT:
        return ", ".join(values)
    return format_list(list(values), style="standard", locale=get_locale())


def _input_help(title: str, prompt: str, cell_range: str) -> DataValidation:
    """Return a validation that only shows ``prompt`` when the cell is selected."""
    validation = DataValidation(
        showInputMessage=True,
        promptTitle=_shorten(title, MAX_TITLE_CHARS),
        prompt=_shorten(prompt, MAX_MESSAGE_CHARS),
        allow_blank=True,
    )
    validation.add(cell_range)
    return validation


def _list_validation(
    name: str, cell_range: str, title: str, message: str, style: str = "stop"
) -> DataValidation:
    validation = DataValidation(
        type="list",
        formula1=name,
        allow_blank=True,
        showErrorMessage=True,
        errorStyle=style,
        errorTitle=_shorten(title, MAX_TITLE_CHARS),
        error=_shorten(message, MAX_MESSAGE_CHARS),
    )
    validation.add(cell_range)
    return validation


def _date_validation(header: str, cell_range: str) -> DataValidation:
    # Serial 1 is 1900-01-01, the first date Excel stores, so any date passes.
    validation = DataValidation(
        type="date",
        operator="greaterThanOrEqual",
        formula1="1",
        allow_blank=True,
        showErrorMessage=True,
        errorStyle="stop",
        errorTitle=_shorten(_invalid(header), MAX_TITLE_CHARS),
        error=_("Enter a date, for example 2026-06-30."),
    )
    validation.add(cell_range)
    return validation


def _number_validation(kind: str, minimum: str, cell_range: str, title: str, message: str) -> DataValidation:
    validation = DataValidation(
        type=kind,
        operator="greaterThanOrEqual",
        formula1=minimum,
        allow_blank=True,
        showErrorMessage=True,
        errorStyle="stop",
        errorTitle=_shorten(title, MAX_TITLE_CHARS),
        error=_shorten(message, MAX_MESSAGE_CHARS),
    )
    validation.add(cell_range)
    return validation


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fill_team(workbook: Workbook, sheet: Worksheet) -> None:
    for index, header in enumerate(TEAM_HEADERS, start=1):
        letter = get_column_letter(index)
        cell = sheet.cell(row=1, column=index, value=_team_header(header))
        cell.font = Font(bold=True, color="000000")
        cell.fill = PatternFill(fill_type="solid", fgColor=REP_COLOR)
        sheet.column_dimensions[letter].width = TEAM_WIDTHS[header]
        sheet.add_data_validation(_input_help(_team_header(header), _(TEAM_HELP[header]), f"{letter}1"))

    last_row = FIRST_DATA_ROW + TEAM_ROWS - 1
    last_letter = get_column_letter(len(TEAM_HEADERS))
    sheet.add_table(
        Table(
            displayName=TEAM_TABLE,
            ref=f"A1:{last_letter}{last_row}",
            tableStyleInfo=TableStyleInfo(name=TABLE_STYLE, showRowStripes=True),
        )
    )
    sheet.freeze_panes = "A2"

    active_letter = get_column_letter(TEAM_HEADERS.index("Active") + 1)
    yes, no = ACTIVE_WORDS[get_locale()]
    active = DataValidation(
        type="list",
        formula1=f'"{yes},{no}"',
        allow_blank=True,
        showErrorMessage=True,
        errorStyle="stop",
        errorTitle=_shorten(_invalid(_team_header("Active")), MAX_TITLE_CHARS),
        error=_("Choose Yes or No."),
    )
    active.add(f"{active_letter}{FIRST_DATA_ROW}:{active_letter}{last_row}")
    sheet.add_data_validation(active)

    _define_name(workbook, TEAM_NAME_LIST, _growing_list(sheet.title, "A", "A"))


def _fill_lists(workbook: Workbook, sheet: Worksheet, config: Config) -> None:
    ranks = list(config.expectation)
    values: dict[str, list[str | float]] = {
        "Stages": list(config.stages),
        "Outcomes": _outcome_words(),
        "Expectation": list(ranks),
        "Probability": [float(config.expectation[rank]) for rank in ranks],
        "Lost reasons": [_(reason) for reason in LOST_REASONS],
    }
    rank_letter = get_column_letter(LISTS_COLUMNS.index(("Expectation", EXPECTATION_LIST)) + 1)
    for index, (header, name) in enumerate(LISTS_COLUMNS, start=1):
        letter = get_column_letter(index)
        text = _(header)
        sheet.cell(row=1, column=index, value=text).font = Font(bold=True)
        sheet.column_dimensions[letter].width = max(14, len(text) + 2)
        for row, value in enumerate(values[header], start=FIRST_DATA_ROW):
            cell = sheet.cell(row=row, column=index, value=value)
            if header == "Probability":
                cell.number_format = "0%"
        if name is not None:
            # Probabilities are as many as the ranks beside them, so the rank column sets the length.
            counted = rank_letter if name == PROBABILITY_LIST else letter
            _define_name(workbook, name, _growing_list(sheet.title, letter, counted))
    sheet.column_dimensions[get_column_letter(len(LISTS_COLUMNS))].width = 24
    sheet.freeze_panes = "A2"


def _growing_list(sheet: str, letter: str, counted: str) -> str:
    """Return an OFFSET over column ``letter`` from row 2, as many rows as column ``counted`` fills.

    COUNTA counts the header too, so the list has COUNTA − 1 rows, and at least one, because
    OFFSET with height 0 is an error. A gap in the column cuts off its last values.
    """
    first = _sheet_reference(sheet, f"${letter}${FIRST_DATA_ROW}")
    whole_column = _sheet_reference(sheet, f"${counted}:${counted}")
    return f"OFFSET({first},0,0,MAX(1,COUNTA({whole_column})-1),1)"


def _fill_settings(workbook: Workbook, sheet: Worksheet, config: Config, today: date) -> None:
    """Write the fiscal-year values that the sales formulas read, locked against edits."""
    values = settings_values(config, today)
    for index, header in enumerate(SETTINGS_HEADERS, start=1):
        sheet.cell(row=1, column=index, value=_(header)).font = Font(bold=True)
    for row, setting in enumerate(SETTINGS, start=SETTINGS_FIRST_ROW):
        sheet.cell(row=row, column=1, value=_(setting.label))
        value = sheet[f"{SETTINGS_VALUE_COLUMN}{row}"]
        value.value = values[setting.label]
        if isinstance(value.value, date):
            value.number_format = NUMBER_FORMATS["date"]
        value.fill = PatternFill(fill_type="solid", fgColor=COMPUTED_COLOR)
        sheet.cell(row=row, column=3, value=_(setting.help))
        if setting.name is not None:
            cell = f"${SETTINGS_VALUE_COLUMN}${row}"
            _define_name(workbook, setting.name, _sheet_reference(sheet.title, cell))
    sheet.column_dimensions["A"].width = 18
    sheet.column_dimensions["B"].width = 14
    sheet.column_dimensions["C"].width = 70
    sheet.protection.sheet = True


def _define_name(workbook: Workbook, name: str, reference: str) -> None:
    workbook.defined_names[name] = DefinedName(name, attr_text=reference)


def _sheet_reference(sheet: str, cells: str) -> str:
    """Return ``Sheet!cells``, quoting the sheet name when Excel needs quotes around it."""
    if re.fullmatch(r"[A-Za-z_]+", sheet):
        return f"{sheet}!{cells}"
    return "'" + sheet.replace("'", "''") + f"'!{cells}"


def _fill_guide(sheet: Worksheet, config: Config) -> None:
    sheet.column_dimensions["A"].width = 110
    sheet["A1"] = _("How to use this deal register")
    sheet["A1"].font = Font(bold=True, size=14)
    for row, line in enumerate(_guide_lines(config), start=3):
        sheet.cell(row=row, column=1, value=line).alignment = Alignment(wrap_text=True, vertical="top")


def _guide_lines(config: Config) -> list[str]:
    headers = config.register.headers
    deals = config.register.sheet
    team = config.register.team_sheet
    computed = [headers[column.field] for column in COLUMNS if column.writer == "sync" and column.field != "deal_id"]
    ranks = _join_values(list(config.expectation))
    return [
        _(
            "This workbook is the team's register of deals (sales opportunities): one row per deal on the {deals} sheet."
        ).format(deals=deals),
        _(
            "1. Register: the rep adds a new deal on the first empty row and leaves {deal_id} blank, "
            "because sync assigns it. {customer}, {title}, {rep} and, while the "
            "deal is open, {expected_close} are required."
        ).format(
            deal_id=headers["deal_id"],
            customer=headers["customer"],
            title=headers["title"],
            rep=headers["rep"],
            expected_close=headers["expected_close"],
        ),
        _(
            "2. Update: the rep updates the row whenever the deal changes. A stage can require some of the "
            "information columns ({first} to {last})."
        ).format(first=headers["customer_business"], last=headers["competitors"]),
        _("3. Rank: the manager sets {expectation} ({ranks}) on open deals, which sets {weighted_sales}.").format(
            expectation=headers["expectation"], ranks=ranks, weighted_sales=headers["weighted_sales"]
        ),
        _("4. Close: the rep sets {outcome} to Won or Lost and writes the {outcome_reason}.").format(
            outcome=headers["outcome"], outcome_reason=headers["outcome_reason"]
        ),
        _("5. Review: the manager examines the reason and enters the date in {reviewed_on}.").format(
            reviewed_on=headers["reviewed_on"]
        ),
        _(
            "Pick {rep}, {stage}, {outcome} and {expectation} from the "
            "drop-downs. {rep} is your {name} or {email} from the {team} sheet."
        ).format(
            rep=headers["rep"],
            stage=headers["stage"],
            outcome=headers["outcome"],
            expectation=headers["expectation"],
            name=_team_header("Name"),
            email=_team_header("Email"),
            team=team,
        ),
        _(
            "Grey columns ({deal_id}, {computed}) are salesreg's and locked. "
            "{fy_sales} and {weighted_sales} are formulas that recompute as you type; "
            "sync writes the others."
        ).format(
            deal_id=headers["deal_id"],
            computed=_join_values(computed),
            fy_sales=headers["fy_sales"],
            weighted_sales=headers["weighted_sales"],
        ),
        _(
            "Every open deal has a deadline ({deadline}), shown red once it has passed. "
            "A row with something in {problems} is shown orange."
        ).format(deadline=headers["deadline"], problems=headers["problems"]),
        _("Reminders: {steps}.").format(steps=_reminder_ladder(config)),
        _(
            "A proper update leaves the row valid (nothing for {problems} to list) and, for an open deal, "
            "{expected_close} today or later. It starts a new deadline and stops the reminders."
        ).format(problems=headers["problems"], expected_close=headers["expected_close"]),
        _(
            "{team} sheet: one row per person. {manager} is a {name} from that sheet or an e-mail address, "
            "and {active} is Yes or No."
        ).format(
            team=team,
            manager=_team_header("Manager"),
            name=_team_header("Name"),
            active=_team_header("Active"),
        ),
        _(
            "The {lists} sheet contains the values behind the drop-downs, and the {settings} sheet "
            "the fiscal year that the sales columns count. Stages and expectation ranks come from the configuration file."
        ).format(lists=_(LISTS_SHEET), settings=_(SETTINGS_SHEET)),
    ]


def _reminder_ladder(config: Config) -> str:
    """Describe the reminder steps in words, such as "1 day and 1 hour before the deadline".

    The description is a list of phrases, each translated whole, joined as the locale joins a list.
    """
    reminders = config.reminders
    parts = []
    if reminders.before:
        parts.append(
            _("{durations} before the deadline").format(durations=_join_words([_duration(step) for step in reminders.before]))
        )
    if reminders.after:
        parts.append(_("{durations} after it").format(durations=_join_words([_duration(step) for step in reminders.after])))
    if reminders.repeat_every is not None:
        parts.append(_("then every {duration} until a proper update").format(duration=_duration(reminders.repeat_every)))
    if not parts:
        return _("none are configured")
    return _join_values(parts)


def _duration(offset: Offset) -> str:
    if offset.unit == "d":
        text = ngettext("{count} day", "{count} days", offset.amount)
    elif offset.unit == "h":
        text = ngettext("{count} hour", "{count} hours", offset.amount)
    else:
        text = ngettext("{count} minute", "{count} minutes", offset.amount)
    return text.format(count=offset.amount)


def _join_words(words: Sequence[str]) -> str:
    """Join ``words`` as "a, b and c" in English and as the locale joins a list otherwise."""
    if get_locale() != DEFAULT:
        return format_list(list(words), style="standard", locale=get_locale())
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


# openpyxl numbers the sheet parts in workbook order, and the Deals sheet comes first.
DEALS_PART = "xl/worksheets/sheet1.xml"

# A formula cell as openpyxl writes it: no type, an empty cached value.
_UNCACHED_FORMULA = re.compile(rb'<c r="([A-Z]+)(\d+)"( s="\d+")?><f>([^<]*)</f><v\s*(?:/>|></v>)</c>')


def _cache_empty_results(sheet_xml: bytes) -> bytes:
    """Give the sales formulas of the empty prepared rows their results, 0 and "" (empty text).

    With a cached result, programs that read without calculating see the right value and
    salesreg's reader does not report a formula without a saved result.
    """
    fy_letter = get_column_letter(TEMPLATE_COLUMNS["fy_sales"]).encode()
    weighted_letter = get_column_letter(TEMPLATE_COLUMNS["weighted_sales"]).encode()

    def cached(match: re.Match[bytes]) -> bytes:
        letter, row, style, formula = match.group(1), match.group(2), match.group(3) or b"", match.group(4)
        if letter == fy_letter:
            return b'<c r="' + letter + row + b'"' + style + b"><f>" + formula + b"</f><v>0</v></c>"
        if letter == weighted_letter:
            return b'<c r="' + letter + row + b'"' + style + b' t="str"><f>' + formula + b"</f><v></v></c>"
        return match.group(0)

    return _UNCACHED_FORMULA.sub(cached, sheet_xml)


def _save_reproducibly(workbook: Workbook, path: Path) -> None:
    """Write ``workbook`` to ``path`` with fixed zip entry times, through a temporary file beside it.

    ``Workbook.save`` stamps the current time into the document properties, so this writes
    through openpyxl's ExcelWriter, which keeps the properties as set.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(workbook, archive).save()

    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as output, zipfile.ZipFile(buffer) as source:
            with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as target:
                for entry in source.infolist():
                    fixed = zipfile.ZipInfo(entry.filename, date_time=ZIP_ENTRY_TIME)
                    fixed.compress_type = zipfile.ZIP_DEFLATED
                    fixed.external_attr = 0o644 << 16
                    content = source.read(entry.filename)
                    if entry.filename == DEALS_PART:
                        content = _cache_empty_results(content)
                    target.writestr(fixed, content)
        # mkstemp makes the file readable by its owner only, but a register is a shared document.
        os.chmod(temporary_name, 0o644)
        os.replace(temporary_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary_name)
        raise
