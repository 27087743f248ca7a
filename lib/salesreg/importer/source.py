"""Read the rows of a CSV or .xlsx file: a CRM export, a lookup file or a team file.

CSV files are decoded as UTF-8, UTF-8 with a byte order mark, or CP932 (the encoding in which
Japanese Excel saves "CSV"), detected per file unless the mapping names one. Every row keeps
the number by which a user finds it: the physical line of a CSV file, the row of an .xlsx sheet.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from ..errors import SalesregError
from ..i18n import _
from ..parse import clean_text
from .mapping import FileOptions
from .problems import SourceProblem

_OLE_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")  # encrypted xlsx and legacy .xls files
_XLSX_SUFFIXES = (".xlsx", ".xlsm")


class SourceFileError(SalesregError):
    """A source file cannot be used at all: missing, unreadable, undecodable or without a header."""


@dataclass(frozen=True)
class SourceRow:
    line: int  # the CSV line where the row starts, or the .xlsx row number
    values: dict[str, Any]  # column header -> raw value; "" or None when blank


@dataclass
class SourceTable:
    path: Path
    kind: str  # "CSV" or "xlsx"
    encoding: str  # as detected, e.g. "UTF-8 with BOM"; "" for .xlsx
    columns: tuple[str, ...]
    rows: list[SourceRow] = field(default_factory=list)
    problems: list[SourceProblem] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def line_word(self) -> str:
        return "line" if self.kind == "CSV" else "row"

    def problem(self, line: int, column: str, value: Any, group: str, message: str) -> SourceProblem:
        """Return a problem of row ``line`` of this file."""
        return SourceProblem(self.name, self.line_word, line, column, clean_text(value), group, message)

    def require_columns(self, columns: Iterable[str], purpose: str) -> None:
        """Raise SourceFileError when the header lacks any of ``columns``."""
        missing = [column for column in columns if column not in self.columns]
        if missing:
            raise SourceFileError(
                _("{path}: the header has no column {missing}, which {purpose} names. Columns found: {found}. "
                  "Fix the mapping or the file.").format(
                    path=self.path,
                    missing=", ".join(repr(c) for c in missing),
                    purpose=purpose,
                    found=", ".join(repr(c) for c in self.columns),
                )
            )


def read_table(path: Path, options: FileOptions) -> SourceTable:
    """Read every row of ``path`` (CSV, or .xlsx by its suffix); raise SourceFileError when it cannot be read."""
    if path.suffix.lower() in _XLSX_SUFFIXES:
        return _read_xlsx(path, options)
    return _read_csv(path, options)


def decode(data: bytes, encoding: str, path: Path) -> tuple[str, str]:
    """Return the text of ``data`` and the name of the encoding used.

    "auto" takes UTF-8 after a byte order mark, then UTF-8 when every byte sequence is valid
    UTF-8, else CP932. Japanese text in CP932 is almost never valid UTF-8 as well, so the guess
    suits Japanese and English exports. Name the encoding in the mapping to be sure.
    """
    if encoding != "auto":
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError as exc:
            raise _decode_error(path, data, exc, encoding) from None
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8) :].decode("utf-8"), "UTF-8 with BOM"
        except UnicodeDecodeError as exc:
            raise _decode_error(path, data, exc, "UTF-8 with BOM") from None
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp932"), "CP932"
    except UnicodeDecodeError as exc:
        raise _decode_error(path, data, exc, "UTF-8 or CP932") from None


def _decode_error(path: Path, data: bytes, exc: UnicodeDecodeError, tried: str) -> SourceFileError:
    line = data.count(b"\n", 0, exc.start) + 1
    return SourceFileError(
        _("{path}, line {line}: the bytes are not valid {encoding} ({reason}); save the export as "
          "UTF-8 or CP932, or set encoding in the mapping.").format(path=path, line=line, encoding=tried, reason=exc.reason)
    )


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise SourceFileError(_("{path} not found; check the file name or the path in the mapping.").format(path=path)) from None
    except OSError as exc:
        raise SourceFileError(_("{path} cannot be read: {reason}.").format(path=path, reason=exc.strerror)) from None


def _read_csv(path: Path, options: FileOptions) -> SourceTable:
    text, encoding = decode(_read_bytes(path), options.encoding, path)
    # strict: an unclosed quote stops the file instead of swallowing every later line into one value.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=options.delimiter, strict=True)
    records = _numbered_records(reader, path)
    header_line, header = _skip_to_header(records, options.header_row, path)
    columns = _columns(header, path, _("line {line}").format(line=header_line))
    table = SourceTable(path, "CSV", encoding, columns)
    for line, cells in records:
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(columns) and not any(cell.strip() for cell in cells[len(columns):]):
            cells = cells[: len(columns)]  # empty cells right of the header, as Excel writes for a formatted column
        if len(cells) != len(columns):
            table.problems.append(
                table.problem(
                    line, "", "", _("lines with the wrong number of values"),
                    _("has {count} values, but the header has {columns} columns; the line is skipped. "
                      "Look for a delimiter or a quote that is not closed.").format(count=len(cells), columns=len(columns)),
                )
            )
            continue
        table.rows.append(SourceRow(line, dict(zip(columns, cells))))
    return table


def _numbered_records(reader: Any, path: Path) -> Iterator[tuple[int, list[str]]]:
    """Yield each CSV record with the line it starts on; a quoted value may span several lines."""
    start = 1
    try:
        for cells in reader:
            yield start, cells
            start = reader.line_num + 1
    except csv.Error as exc:
        raise SourceFileError(
            _("{path}, line {line}: the quotes of this record are not valid CSV ({error}); close the quote, "
              "or double a quote that is part of the value.").format(path=path, line=start, error=exc)
        ) from None


def _skip_to_header(records: Iterator[tuple[int, Any]], header_row: int, path: Path) -> tuple[int, Any]:
    try:
        for _skipped in range(header_row - 1):
            next(records)
        return next(records)
    except StopIteration:
        raise SourceFileError(
            _("{path} has no header in row {row}; the file is empty or header_row is wrong.").format(path=path, row=header_row)
        ) from None


def _columns(header: Iterable[Any], path: Path, where: str) -> tuple[str, ...]:
    columns = tuple(clean_text(value) for value in header)
    while columns and columns[-1] == "":
        columns = columns[:-1]
    if not columns:
        raise SourceFileError(_("{path}, {where}: the header is empty; the first row must name the columns.").format(path=path, where=where))
    seen: set[str] = set()
    for column in columns:
        if column and column in seen:
            raise SourceFileError(
                _("{path}, {where}: the header names the column {column} twice; rename one.").format(
                    path=path, where=where, column=repr(column))
            )
        seen.add(column)
    return columns


def _read_xlsx(path: Path, options: FileOptions) -> SourceTable:
    data = _read_bytes(path)
    if data.startswith(_OLE_SIGNATURE):
        raise SourceFileError(_("{path} is encrypted or an old .xls file; save it as .xlsx without a password.").format(path=path))
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as exc:
        raise SourceFileError(
            _("{path} is not a readable .xlsx workbook ({error}).").format(path=path, error=f"{exc.__class__.__name__}: {exc}")
        ) from None
    try:
        if options.sheet and options.sheet not in workbook.sheetnames:
            raise SourceFileError(
                _("{path} has no sheet {sheet} (sheets: {sheets}); fix sheet in the mapping.").format(
                    path=path, sheet=repr(options.sheet), sheets=", ".join(workbook.sheetnames))
            )
        sheet = workbook[options.sheet] if options.sheet else workbook.worksheets[0]
        records = enumerate(sheet.iter_rows(values_only=True), start=1)
        header_row, header = _skip_to_header(records, options.header_row, path)
        columns = _columns(header, path, _("sheet {sheet}, row {row}").format(sheet=repr(sheet.title), row=header_row))
        table = SourceTable(path, "xlsx", "", columns)
        for row, cells in records:
            if all(clean_text(cell) == "" for cell in cells):
                continue
            values = {column: cells[index] if index < len(cells) else None for index, column in enumerate(columns)}
            table.rows.append(SourceRow(row, values))
    finally:
        workbook.close()
    return table
