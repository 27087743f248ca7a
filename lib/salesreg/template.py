"""Build the register template: the Deals, Team, Lists and Guide sheets of a new workbook.

The template carries everything a rep needs while typing: drop-downs, input help on the
headers, number formats, and locked computed columns. ``salesreg init`` starts every register
from it, and ``scripts/build_template.py`` rebuilds the committed ``sheets/template.xlsx``.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import tempfile
import zipfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.table import Table, TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from .config import Config, build_config
from .errors import ConfigError
from .fields import COLUMNS, OUTCOMES, TEAM_HEADERS, Column
from .money import excel_number_format

LISTS_SHEET = "Lists"
GUIDE_SHEET = "Guide"
DEALS_TABLE = "Deals"
TEAM_TABLE = "Team"
TABLE_STYLE = "TableStyleMedium2"

# Empty table rows that already carry drop-downs, formats and unlocked cells, so reps can type
# deals without extending the table.
DEAL_ROWS = 200
FIRST_DATA_ROW = 2
LAST_DEAL_ROW = FIRST_DATA_ROW + DEAL_ROWS - 1
TEAM_ROWS = 50
LAST_TEAM_NAME_ROW = 500  # the Rep drop-down reads Team names down to this row

LOST_REASONS: tuple[str, ...] = (
    "Price",
    "Competitor chosen",
    "No budget",
    "No decision",
    "Timing",
    "Requirements not met",
    "Other",
)

# Workbook-level names behind the drop-downs. Excel saves a list validation that refers to
# another sheet directly in an x14 extension, and openpyxl 3.1 drops that extension on load, so
# such drop-downs would vanish on the first sync after someone saves the register in Excel.
# A defined name is no reference to another sheet, so the validation stays in the standard part.
# NOTE: not yet checked with a file saved by Excel; LibreOffice 7.4 keeps both forms standard.
STAGE_LIST = "StageList"
OUTCOME_LIST = "OutcomeList"
EXPECTATION_LIST = "ExpectationList"
LOST_REASON_LIST = "LostReasonList"
TEAM_NAME_LIST = "TeamNameList"

# Lists sheet columns: header and the defined name of its values, if any.
LISTS_COLUMNS: tuple[tuple[str, str | None], ...] = (
    ("Stages", STAGE_LIST),
    ("Outcomes", OUTCOME_LIST),
    ("Expectation", EXPECTATION_LIST),
    ("Probability", None),
    ("Lost reasons", LOST_REASON_LIST),
)

COMPUTED_COLOR = "D9D9D9"  # grey: written by sync, locked
MANAGER_COLOR = "DDEBF7"  # pale blue: the manager's columns
REP_COLOR = "E2EFDA"  # pale green: the rep's columns
WRITER_COLORS = {"sync": COMPUTED_COLOR, "manager": MANAGER_COLOR, "rep": REP_COLOR}

NUMBER_FORMATS = {"date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm", "count": "0"}

# Excel rejects longer input-help and error texts in a data validation.
MAX_TITLE_CHARS = 32
MAX_MESSAGE_CHARS = 255

# Fixed document dates and zip entry times, so that two builds give the same bytes.
BUILD_TIME = datetime(2026, 1, 1, 0, 0, 0)
ZIP_ENTRY_TIME = (2026, 1, 1, 0, 0, 0)

TEAM_HELP = {
    "Name": "The person's name as reps pick it in the Rep column.",
    "Email": "Where this person's reminder e-mails go.",
    "Manager": "The manager's Name from this sheet, or an e-mail address.",
    "Active": "Yes while the person works on deals, No after they leave.",
}
TEAM_WIDTHS = {"Name": 22, "Email": 32, "Manager": 22, "Active": 10}


def build_template(path: Path, config: Config | None = None) -> None:
    """Write the register template to ``path``, replacing any file there atomically.

    Header texts, sheet names, stages, expectation ranks and the currency come from ``config``
    (the defaults when it is None). Raise ConfigError when two sheet names collide, for example
    register.sheet = "Lists".
    """
    if config is None:
        config = build_config({}, Path("."))
    _check_sheet_names(config)

    workbook = Workbook()
    deals = workbook.active
    assert deals is not None  # a new Workbook always has one sheet
    deals.title = config.register.sheet
    team = workbook.create_sheet(config.register.team_sheet)
    lists = workbook.create_sheet(LISTS_SHEET)
    guide = workbook.create_sheet(GUIDE_SHEET)

    _fill_lists(workbook, lists, config)
    _fill_team(workbook, team)
    _fill_deals(deals, config)
    _fill_guide(guide, config)

    workbook.active = 0
    workbook.properties.creator = "salesreg"
    workbook.properties.created = BUILD_TIME
    workbook.properties.modified = BUILD_TIME
    _save_reproducibly(workbook, path)


def _check_sheet_names(config: Config) -> None:
    names = [config.register.sheet, config.register.team_sheet, LISTS_SHEET, GUIDE_SHEET]
    lowered = [name.lower() for name in names]
    for name in names:
        if lowered.count(name.lower()) > 1:
            raise ConfigError(
                f"Sheet name {name!r} is used twice in the template (register.sheet, "
                f"register.team_sheet, {LISTS_SHEET}, {GUIDE_SHEET}); "
                f"give register.sheet and register.team_sheet distinct names."
            )


def _fill_deals(sheet: Worksheet, config: Config) -> None:
    headers = config.register.headers
    for index, column in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        _style_deal_header(sheet.cell(row=1, column=index, value=headers[column.field]), column)
        _style_deal_column(sheet, letter, column, config)
        sheet.add_data_validation(_input_help(headers[column.field], column.help, f"{letter}1"))

    last_letter = get_column_letter(len(COLUMNS))
    sheet.add_table(
        Table(
            displayName=DEALS_TABLE,
            ref=f"A1:{last_letter}{LAST_DEAL_ROW}",
            tableStyleInfo=TableStyleInfo(name=TABLE_STYLE, showRowStripes=True),
        )
    )
    sheet.freeze_panes = "A2"
    sheet.row_dimensions[1].height = 30
    _add_deal_validations(sheet, config)
    _protect_deals(sheet)


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
            title=f"Invalid {headers['rep']}",
            message=(
                f"{headers['rep']} should be a Name from the {config.register.team_sheet} sheet. "
                f"To keep an e-mail address from that sheet instead, choose Yes."
            ),
            # A warning lets a rep keep an e-mail address, which the reader accepts as well.
            style="warning",
        )
    )
    sheet.add_data_validation(
        _list_validation(
            STAGE_LIST,
            _data_range("stage"),
            title=f"Invalid {headers['stage']}",
            message=_choice_message(list(config.stages), "a stage"),
        )
    )
    sheet.add_data_validation(
        _list_validation(
            OUTCOME_LIST,
            _data_range("outcome"),
            title=f"Invalid {headers['outcome']}",
            message=_choice_message(list(OUTCOMES), "an outcome", blank="while the deal is open"),
        )
    )
    sheet.add_data_validation(
        _list_validation(
            EXPECTATION_LIST,
            _data_range("expectation"),
            title=f"Invalid {headers['expectation']}",
            message=_choice_message(ranks, "a rank", blank="until the manager ranks the deal"),
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
            title=f"Invalid {headers['contract_months']}",
            message="Enter a whole number of months, 1 or more. Leave blank for a contract that runs on.",
        )
    )
    for field in ("monthly_price", "one_time_fee"):
        sheet.add_data_validation(
            _number_validation(
                "decimal",
                "0",
                _data_range(field),
                title=f"Invalid {headers[field]}",
                message="Enter an amount of 0 or more, as a number.",
            )
        )


def _data_range(field: str) -> str:
    """Return the range of the field's column in the prepared table rows, such as "E2:E201"."""
    index = next(i for i, column in enumerate(COLUMNS, start=1) if column.field == field)
    letter = get_column_letter(index)
    return f"{letter}{FIRST_DATA_ROW}:{letter}{LAST_DEAL_ROW}"


def _choice_message(values: Sequence[str], what: str, blank: str | None = None) -> str:
    message = f"Choose {what} from the list: {', '.join(values)}."
    if blank:
        message += f" Leave blank {blank}."
    if len(message) > MAX_MESSAGE_CHARS:
        message = f"Choose {what} from the drop-down list. The {LISTS_SHEET} sheet shows them all."
    return message


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
        errorTitle=_shorten(f"Invalid {header}", MAX_TITLE_CHARS),
        error="Enter a date, for example 2026-06-30.",
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
        cell = sheet.cell(row=1, column=index, value=header)
        cell.font = Font(bold=True, color="000000")
        cell.fill = PatternFill(fill_type="solid", fgColor=REP_COLOR)
        sheet.column_dimensions[letter].width = TEAM_WIDTHS[header]
        sheet.add_data_validation(_input_help(header, TEAM_HELP[header], f"{letter}1"))

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
    active = DataValidation(
        type="list",
        formula1='"Yes,No"',
        allow_blank=True,
        showErrorMessage=True,
        errorStyle="stop",
        errorTitle="Invalid Active",
        error="Choose Yes or No.",
    )
    active.add(f"{active_letter}{FIRST_DATA_ROW}:{active_letter}{last_row}")
    sheet.add_data_validation(active)

    names = f"$A${FIRST_DATA_ROW}:$A${LAST_TEAM_NAME_ROW}"
    _define_name(workbook, TEAM_NAME_LIST, _sheet_reference(sheet.title, names))


def _fill_lists(workbook: Workbook, sheet: Worksheet, config: Config) -> None:
    ranks = list(config.expectation)
    values: dict[str, list[str | float]] = {
        "Stages": list(config.stages),
        "Outcomes": list(OUTCOMES),
        "Expectation": list(ranks),
        "Probability": [float(config.expectation[rank]) for rank in ranks],
        "Lost reasons": list(LOST_REASONS),
    }
    for index, (header, name) in enumerate(LISTS_COLUMNS, start=1):
        letter = get_column_letter(index)
        sheet.cell(row=1, column=index, value=header).font = Font(bold=True)
        sheet.column_dimensions[letter].width = max(14, len(header) + 2)
        for row, value in enumerate(values[header], start=FIRST_DATA_ROW):
            cell = sheet.cell(row=row, column=index, value=value)
            if header == "Probability":
                cell.number_format = "0%"
        if name is not None:
            last_row = FIRST_DATA_ROW + len(values[header]) - 1
            cells = f"${letter}${FIRST_DATA_ROW}:${letter}${last_row}"
            _define_name(workbook, name, _sheet_reference(sheet.title, cells))
    sheet.column_dimensions[get_column_letter(len(LISTS_COLUMNS))].width = 24
    sheet.freeze_panes = "A2"


def _define_name(workbook: Workbook, name: str, reference: str) -> None:
    workbook.defined_names[name] = DefinedName(name, attr_text=reference)


def _sheet_reference(sheet: str, cells: str) -> str:
    """Return ``Sheet!cells``, quoting the sheet name when Excel needs quotes around it."""
    if re.fullmatch(r"[A-Za-z_]+", sheet):
        return f"{sheet}!{cells}"
    return "'" + sheet.replace("'", "''") + f"'!{cells}"


def _fill_guide(sheet: Worksheet, config: Config) -> None:
    sheet.column_dimensions["A"].width = 110
    sheet["A1"] = "How to use this deal register"
    sheet["A1"].font = Font(bold=True, size=14)
    for row, line in enumerate(_guide_lines(config), start=3):
        sheet.cell(row=row, column=1, value=line).alignment = Alignment(wrap_text=True, vertical="top")


def _guide_lines(config: Config) -> list[str]:
    headers = config.register.headers
    deals = config.register.sheet
    team = config.register.team_sheet
    computed = [headers[column.field] for column in COLUMNS if column.writer == "sync" and column.field != "deal_id"]
    ranks = ", ".join(config.expectation)
    return [
        f"This workbook is the team's register of deals (sales opportunities): one row per deal on the {deals} sheet.",
        f"Add a new deal on the first empty row of the table and leave {headers['deal_id']} blank: sync assigns it.",
        f"Grey columns ({headers['deal_id']}, {', '.join(computed)}) are filled by sync and locked, so do not type in them.",
        f"Green headers are the rep's columns. {headers['customer']}, {headers['title']}, {headers['rep']} and, "
        f"while the deal is open, {headers['expected_close']} are required.",
        f"Pick {headers['rep']}, {headers['stage']} and {headers['outcome']} from the drop-downs. "
        f"{headers['rep']} is your Name or Email from the {team} sheet.",
        f"A stage can require some of the information columns ({headers['customer_business']} to "
        f"{headers['competitors']}). {headers['problems']} lists what is still missing or invalid.",
        f"When a deal closes, set {headers['outcome']} to Won or Lost and write the {headers['outcome_reason']}.",
        f"Blue headers are the manager's: {headers['expectation']} is the manager's rank ({ranks}) and sets "
        f"{headers['weighted_sales']}; {headers['reviewed_on']} records the review of a closed deal.",
        f"Every open deal has a deadline ({headers['deadline']}). When it passes without a proper update, "
        f"the rep gets reminder e-mails until the row is updated properly.",
        f"A proper update leaves the row valid (nothing for {headers['problems']} to list) and, for an open deal, "
        f"{headers['expected_close']} today or later.",
        f"{team} sheet: one row per person. Manager is a Name from that sheet or an e-mail address, "
        f"and Active is Yes or No.",
        f"The {LISTS_SHEET} sheet contains the values behind the drop-downs. "
        f"Stages and expectation ranks come from the configuration file.",
    ]


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
                    target.writestr(fixed, source.read(entry.filename))
        # mkstemp makes the file readable by its owner only, but a register is a shared document.
        os.chmod(temporary_name, 0o644)
        os.replace(temporary_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary_name)
        raise
