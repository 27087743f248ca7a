"""One sheet of the summary workbook: formats, tables side by side under a frozen header row."""

from __future__ import annotations

import math
import numbers
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pandas as pd
from xlsxwriter.chart import Chart
from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from ..i18n import _, get_locale
from ..money import excel_number_format, to_cell
from .frame import TOTAL

# Excel number formats of date and date-time cells per locale. Japanese reads 2026年6月30日.
DATE_FORMATS = {
    "en": ("yyyy-mm-dd", "yyyy-mm-dd hh:mm"),
    "ja": ('yyyy"年"m"月"d"日"', 'yyyy"年"m"月"d"日" hh:mm'),
}
# Characters that those formats show, for the column width.
DATE_WIDTHS = {"en": (10, 16), "ja": (14, 20)}


@dataclass(frozen=True)
class Placement:
    """Position of one table on its sheet, in zero-based rows and columns."""

    sheet: str
    header_row: int
    first_row: int  # first data row
    last_row: int  # last data row without the Total row, or first_row - 1 when the table is empty
    first_col: int
    headers: tuple[str, ...]

    @property
    def has_rows(self) -> bool:
        return self.last_row >= self.first_row

    def col(self, header: str) -> int:
        return self.first_col + self.headers.index(header)

    def cells(self, header: str) -> list[Any]:
        """Return the data cells of column ``header`` as an XlsxWriter range list."""
        col = self.col(header)
        return [self.sheet, self.first_row, col, self.last_row, col]

    def header_cell(self, header: str) -> list[Any]:
        return [self.sheet, self.header_row, self.col(header)]


class Formats:
    """The cell formats of one workbook, made once and shared by every sheet."""

    def __init__(self, book: Workbook, currency: str) -> None:
        self._book = book
        self.currency = currency
        date_format, datetime_format = DATE_FORMATS[get_locale()]
        self.date_widths = DATE_WIDTHS[get_locale()]
        self._number_formats = {
            "money": excel_number_format(currency),
            "count": "#,##0",
            "ratio": "0.0%",
            "date": date_format,
            "datetime": datetime_format,
            "text": "@",
        }
        self._cache: dict[tuple[str, bool], Format] = {}
        self.heading = book.add_format({"bold": True, "font_size": 14})
        self.title = book.add_format({"bold": True, "font_size": 11})
        # Explicit header cells, because LibreOffice (7.4) does not draw Excel's table styles.
        self.header = book.add_format({"bold": True, "bottom": 1, "bg_color": "#DDEBF7"})
        self.note = book.add_format({"italic": True, "font_color": "#595959"})
        # Excel's preset "light red fill with dark red text".
        self.warning = book.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"})
        self.money_format = self._number_formats["money"]

    def cell(self, kind: str, bold: bool = False) -> Format:
        key = (kind, bold)
        if key not in self._cache:
            properties: dict[str, Any] = {"num_format": self._number_formats[kind], "valign": "top"}
            if bold:
                properties["bold"] = True
                properties["top"] = 1
            self._cache[key] = self._book.add_format(properties)
        return self._cache[key]


def _is_blank(value: Any) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def _cell_kind(value: Any) -> str:
    """Return the cell kind of a table value, chosen by its Python type as ``summary_tables`` describes."""
    if isinstance(value, str):
        return "text"
    if isinstance(value, Decimal):
        return "money"
    if isinstance(value, datetime):
        return "datetime"
    if isinstance(value, date):
        return "date"
    if isinstance(value, numbers.Integral):
        return "count"
    if isinstance(value, numbers.Real):
        return "ratio"
    return "text"


def _text_width(text: str) -> int:
    """Return the widest line of ``text`` in character widths, East Asian wide characters counting two."""
    widths = [sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in line) for line in str(text).splitlines()]
    return max(widths, default=0)


def _display_width(value: Any, kind: str, date_widths: tuple[int, int]) -> int:
    """Estimate the characters that ``value`` takes on screen, for the column width."""
    if kind == "text":
        return _text_width(value)
    if kind == "money":
        return len(f"{value:,}") + 3
    if kind == "count":
        return len(f"{int(value):,}")
    date_width, datetime_width = date_widths
    return {"datetime": datetime_width, "date": date_width, "ratio": 6}[kind]


class SheetWriter:
    """One summary sheet: a heading, then tables side by side under one frozen header row.

    Row 0 is the heading, row 1 the "as of" time, row 2 the table titles and row 3 the header
    of every table, so freezing rows 0-3 keeps each table's header in view.
    """

    TITLE_ROW = 2
    HEADER_ROW = 3
    MIN_WIDTH = 6
    MAX_WIDTH = 60

    def __init__(self, book: Workbook, formats: Formats, name: str, heading: str, now: datetime) -> None:
        self.book = book
        self.formats = formats
        self.name = name
        self.sheet: Worksheet = book.add_worksheet(name)
        self.next_col = 0
        self.bottom_row = self.HEADER_ROW  # the last row that a table uses
        self._widths: dict[int, int] = {}
        self.sheet.write_string(0, 0, heading, formats.heading)
        self.sheet.write_string(1, 0, _("As of"), formats.title)
        self.sheet.write_datetime(1, 1, now.replace(tzinfo=None), formats.cell("datetime"))
        self.sheet.write_string(1, 2, str(now.tzinfo or ""))
        self._widen(1, formats.date_widths[1])
        self.sheet.freeze_panes(self.HEADER_ROW + 1, 0)
        self.sheet.set_landscape()
        self.sheet.fit_to_pages(1, 0)

    def table(self, name: str, title: str, frame: pd.DataFrame) -> Placement:
        """Write ``frame`` as an Excel table with a filter, right of the tables already written.

        A pivot's "Total" row goes just below the table, outside its range, so that sorting
        or filtering the table never moves it.
        """
        frame, total = self._split_total(frame)
        headers = _unique_headers(str(header) for header in frame.columns)
        first_col = self.next_col
        last_col = first_col + len(headers) - 1
        first_row = self.HEADER_ROW + 1
        last_row = first_row + len(frame) - 1

        self.sheet.write_string(self.TITLE_ROW, first_col, title, self.formats.title)
        if len(frame):
            self.sheet.add_table(
                self.HEADER_ROW,
                first_col,
                last_row,
                last_col,
                {
                    "name": name,
                    "columns": [{"header": header, "header_format": self.formats.header} for header in headers],
                    "style": "Table Style Light 9",
                    "autofilter": True,
                },
            )
        else:
            # Excel tables need at least one data row, so an empty table is a header and a note.
            for offset, header in enumerate(headers):
                self.sheet.write_string(self.HEADER_ROW, first_col + offset, header, self.formats.header)
            self.sheet.write_string(first_row, first_col, _("(none)"), self.formats.note)
        for offset, header in enumerate(headers):
            self._widen(first_col + offset, _text_width(header) + 3)

        for row_offset, values in enumerate(frame.itertuples(index=False, name=None)):
            self._write_row(first_row + row_offset, first_col, values, bold=False)
        bottom_row = max(last_row, first_row)  # an empty table still has its "(none)" row
        if total is not None:
            bottom_row += 1
            self._write_row(bottom_row, first_col, total, bold=True)

        self.next_col = last_col + 2
        self.bottom_row = max(self.bottom_row, bottom_row)
        return Placement(self.name, self.HEADER_ROW, first_row, last_row, first_col, tuple(headers))

    def insert_chart(self, chart: Chart | None) -> None:
        """Insert ``chart`` below every table written so far; do nothing for None."""
        if chart is None:
            return
        self.sheet.insert_chart(self.bottom_row + 2, 0, chart)

    def highlight(self, placement: Placement, text: str) -> None:
        """Colour the data cells of ``placement`` whose value is ``text`` with a conditional format."""
        if not placement.has_rows:
            return
        last_col = placement.first_col + len(placement.headers) - 1
        criteria = {"type": "cell", "criteria": "==", "value": _formula_string(text), "format": self.formats.warning}
        self.sheet.conditional_format(placement.first_row, placement.first_col, placement.last_row, last_col, criteria)

    def finish(self) -> None:
        for col, width in self._widths.items():
            self.sheet.set_column(col, col, min(max(width, self.MIN_WIDTH), self.MAX_WIDTH) + 1)

    def _split_total(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, tuple[Any, ...] | None]:
        """Turn the index into the first column and separate the Total row, if any."""
        if frame.index.name is None:
            return frame, None
        flat = frame.reset_index()
        if len(frame) and frame.index[-1] == _(TOTAL):
            total = tuple(flat.iloc[-1])
            return flat.iloc[:-1], total
        return flat, None

    def _write_row(self, row: int, first_col: int, values: Iterable[Any], bold: bool) -> None:
        for offset, value in enumerate(values):
            col = first_col + offset
            if _is_blank(value):
                self.sheet.write_blank(row, col, None, self.formats.cell("count", bold))
                continue
            kind = _cell_kind(value)
            cell_format = self.formats.cell(kind, bold)
            self._widen(col, _display_width(value, kind, self.formats.date_widths))
            self._write_value(row, col, value, kind, cell_format)

    def _write_value(self, row: int, col: int, value: Any, kind: str, cell_format: Format) -> None:
        if kind == "text":
            # write_string stores register text as text, so "=1+1" never becomes a formula.
            self.sheet.write_string(row, col, str(value), cell_format)
        elif kind == "money":
            self.sheet.write_number(row, col, to_cell(value, self.formats.currency), cell_format)
        elif kind == "datetime":
            self.sheet.write_datetime(row, col, value.replace(tzinfo=None), cell_format)
        elif kind == "date":
            self.sheet.write_datetime(row, col, value, cell_format)
        else:
            self.sheet.write_number(row, col, value, cell_format)

    def _widen(self, col: int, width: int) -> None:
        self._widths[col] = max(self._widths.get(col, 0), width)


def _unique_headers(headers: Iterable[str]) -> list[str]:
    """Return ``headers`` with case-insensitive repeats numbered, as Excel tables require."""
    seen: set[str] = set()
    unique = []
    for header in headers:
        candidate = header
        number = 2
        while candidate.casefold() in seen:
            candidate = f"{header} ({number})"
            number += 1
        seen.add(candidate.casefold())
        unique.append(candidate)
    return unique


def _formula_string(text: str) -> str:
    """Return ``text`` as a string literal of an Excel formula."""
    return '"' + text.replace('"', '""') + '"'
