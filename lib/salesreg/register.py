"""Read and write the register workbook. Every workbook access of salesreg goes through here.

Reading loads the file's bytes once, so the content and its fingerprint always match. Writing
changes only the cells salesreg owns, then replaces the file atomically after checking that
nobody saved it in between.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.styles import Alignment, PatternFill, Protection
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.worksheet import Worksheet

from .config import Config
from .errors import WorkbookBusy, WorkbookError
from .fields import COLUMN_BY_FIELD, FIELDS, TEAM_HEADERS, TEAM_OFFICE_HEADER
from .model import TeamMember
from .money import excel_number_format
from .parse import clean_text, fold
from .template import COMPUTED_COLOR

log = logging.getLogger(__name__)

_OLE_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")  # encrypted xlsx and legacy .xls files
_TRUE_WORDS = {"", "yes", "y", "true", "1", "active", "はい", "有効"}
_FALSE_WORDS = {"no", "n", "false", "0", "inactive", "いいえ", "無効"}


@dataclass(frozen=True)
class RegisterRow:
    row: int  # Excel row number
    values: dict[str, Any]  # field name -> raw cell value


@dataclass(frozen=True)
class RegisterSnapshot:
    """What one read of the register saw, with the fingerprint of the bytes it came from."""

    path: Path
    digest: str
    columns: dict[str, int]  # field name -> 1-based column index
    rows: tuple[RegisterRow, ...]
    team: tuple[TeamMember, ...]
    last_row: int  # last row of the Deals sheet that holds anything


def lock_files(path: Path) -> list[Path]:
    """Return the lock files of Excel (~$name) and LibreOffice (.~lock.name#) beside ``path``."""
    candidates = [path.with_name("~$" + path.name), path.with_name(f".~lock.{path.name}#")]
    if len(path.stem) > 2:
        # Excel shortens the owner file's name for long names by dropping the first two characters.
        candidates.append(path.with_name("~$" + path.name[2:]))
    return [candidate for candidate in candidates if candidate.exists()]


def lock_owner(lock: Path) -> str:
    """Return who holds ``lock`` when the lock file says so, else ""."""
    try:
        data = lock.read_bytes()[:200]
    except OSError:
        return ""
    if lock.name.startswith(".~lock."):
        return data.decode("utf-8", "replace").split(",")[0].strip()
    # Excel's owner file starts with a length byte and the user name.
    if data:
        length = data[0]
        return data[1 : 1 + length].decode("latin-1", "replace").strip()
    return ""


def check_not_busy(path: Path) -> None:
    """Raise WorkbookBusy when a spreadsheet program has ``path`` open for editing."""
    locks = lock_files(path)
    if locks:
        owner = lock_owner(locks[0])
        who = f" by {owner}" if owner else ""
        raise WorkbookBusy(
            f"{path} is open for editing{who} (lock file {locks[0].name}); nothing was written. "
            f"Run again after the workbook is closed."
        )


def read_register(config: Config) -> RegisterSnapshot:
    """Read the Deals and Team sheets; raise WorkbookError for a file that cannot be used."""
    path = config.register.path
    data = _read_bytes(path)
    workbook = _open_workbook(path, data, read_only=True)
    try:
        deals = _sheet(workbook, path, config.register.sheet)
        team_sheet = _sheet(workbook, path, config.register.team_sheet)
        columns, rows, last_row = _read_deals(deals, config, path)
        team = _read_team(team_sheet, path, config.register.team_sheet)
    finally:
        workbook.close()
    return RegisterSnapshot(path, hashlib.sha256(data).hexdigest(), columns, rows, team, last_row)


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise WorkbookError(f"Register {path} not found; check [register] path or run `salesreg init`.") from None
    except OSError as exc:
        raise WorkbookError(f"Register {path} cannot be read: {exc.strerror}.") from None


def _open_workbook(path: Path, data: bytes, read_only: bool) -> Any:
    if data.startswith(_OLE_SIGNATURE):
        raise WorkbookError(
            f"{path} is encrypted or an old .xls file; remove the password (File > Info > Protect "
            f"Workbook) or save it as .xlsx, then run again."
        )
    try:
        return openpyxl.load_workbook(io.BytesIO(data), read_only=read_only, data_only=read_only, keep_links=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as exc:
        raise WorkbookError(
            f"{path} is not a readable .xlsx workbook ({exc.__class__.__name__}: {exc}); "
            f"restore it from a backup or save it again from Excel."
        ) from None


def _sheet(workbook: Any, path: Path, name: str) -> Any:
    if name not in workbook.sheetnames:
        raise WorkbookError(
            f"{path} has no sheet {name!r} (sheets: {', '.join(workbook.sheetnames)}); "
            f"rename the sheet or set [register] sheet / team_sheet in the config."
        )
    return workbook[name]


def _read_deals(sheet: Any, config: Config, path: Path) -> tuple[dict[str, int], tuple[RegisterRow, ...], int]:
    rows_iter = sheet.iter_rows(values_only=True)
    header_cells = next(rows_iter, ())
    by_text = {fold(clean_text(value)): index for index, value in enumerate(header_cells, start=1) if value is not None}
    columns: dict[str, int] = {}
    missing: list[str] = []
    for name in FIELDS:
        header = config.register.headers[name]
        index = by_text.get(fold(header))
        if index is None:
            missing.append(header)
        else:
            columns[name] = index
    if missing:
        raise WorkbookError(
            f"{path}, sheet {sheet.title!r}: row 1 lacks the header(s) {', '.join(repr(h) for h in missing)}; "
            f"add them, or map your own header texts in [register.headers]."
        )

    content_fields = [name for name in FIELDS if COLUMN_BY_FIELD[name].writer != "sync" or name == "deal_id"]
    rows: list[RegisterRow] = []
    last_row = 1
    for number, cells in enumerate(rows_iter, start=2):
        values = {name: cells[index - 1] if index - 1 < len(cells) else None for name, index in columns.items()}
        if any(values[name] is not None and clean_text(values[name]) != "" for name in content_fields):
            rows.append(RegisterRow(number, values))
            last_row = number
    return columns, tuple(rows), last_row


def _read_team(sheet: Any, path: Path, title: str) -> tuple[TeamMember, ...]:
    rows_iter = sheet.iter_rows(values_only=True)
    header_cells = [fold(clean_text(value)) for value in next(rows_iter, ())]
    positions: dict[str, int] = {}
    for header in TEAM_HEADERS:
        if fold(header) not in header_cells:
            raise WorkbookError(
                f"{path}, sheet {title!r}: row 1 lacks the header {header!r}; "
                f"the Team sheet needs {', '.join(TEAM_HEADERS)}."
            )
        positions[header] = header_cells.index(fold(header))
    if fold(TEAM_OFFICE_HEADER) in header_cells:
        positions[TEAM_OFFICE_HEADER] = header_cells.index(fold(TEAM_OFFICE_HEADER))
    members: list[TeamMember] = []
    for number, cells in enumerate(rows_iter, start=2):
        def cell(header: str) -> str:
            index = positions.get(header, len(cells))
            return clean_text(cells[index]) if index < len(cells) else ""

        if not cell("Name") and not cell("Email"):
            continue
        active_text = cell("Active").casefold()
        if active_text not in _TRUE_WORDS and active_text not in _FALSE_WORDS:
            log.warning("%s, sheet %r, row %d: Active %r is not yes or no; treating the member as active.",
                        path, title, number, active_text)
        members.append(
            TeamMember(
                row=number,
                name=cell("Name") or cell("Email"),
                email=cell("Email"),
                manager=cell("Manager"),
                active=active_text not in _FALSE_WORDS,
                office=cell(TEAM_OFFICE_HEADER),
            )
        )
    return tuple(members)


def write_register(config: Config, snapshot: RegisterSnapshot, changes: dict[int, dict[str, Any]]) -> Path | None:
    """Write ``changes`` (Excel row -> field -> value) into the Deals sheet, atomically.

    Only cells of the fields in ``changes`` are touched. Raises WorkbookBusy when a lock file
    appears or the file changed since ``snapshot`` was read; then nothing is written.
    Returns the path of the backup of the previous file.
    """
    path = snapshot.path
    check_not_busy(path)
    data = _read_bytes(path)
    if hashlib.sha256(data).hexdigest() != snapshot.digest:
        raise WorkbookBusy(f"{path} was saved by someone else during this run; nothing was written. Run again.")

    keep_vba = path.suffix.lower() == ".xlsm"
    workbook = openpyxl.load_workbook(io.BytesIO(data), keep_vba=keep_vba, keep_links=True)
    sheet = workbook[config.register.sheet]
    _apply_changes(sheet, snapshot, changes, config)
    _extend_table(sheet, snapshot, max(changes, default=snapshot.last_row))

    buffer = io.BytesIO()
    workbook.save(buffer)
    return replace_atomically(path, buffer.getvalue(), expected_digest=snapshot.digest)


def _apply_changes(sheet: Worksheet, snapshot: RegisterSnapshot, changes: dict[int, dict[str, Any]], config: Config) -> None:
    """Set the owned cells, with the grey fill, lock and number format of a computed column.

    The style is set on every write because a row typed below the template's formatted rows,
    or a file saved by LibreOffice (which keeps column styles only), has unstyled cells.
    """
    money_format = excel_number_format(config.fiscal.currency)
    formats = {"money": money_format, "datetime": "yyyy-mm-dd hh:mm", "date": "yyyy-mm-dd", "count": "0"}
    fill = PatternFill(fill_type="solid", fgColor=COMPUTED_COLOR)
    locked = Protection(locked=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    for row, values in changes.items():
        for name, value in values.items():
            cell = sheet.cell(row=row, column=snapshot.columns[name])
            if isinstance(value, datetime):
                value = value.replace(tzinfo=None)
            cell.value = value
            kind = COLUMN_BY_FIELD[name].kind
            if kind in formats and cell.number_format != formats[kind]:
                cell.number_format = formats[kind]
            if cell.fill != fill:
                cell.fill = fill
            if cell.protection != locked:
                cell.protection = locked
            if name == "problems" and cell.alignment != wrap:
                cell.alignment = wrap


def _extend_table(sheet: Worksheet, snapshot: RegisterSnapshot, last_row: int) -> None:
    """Grow the Excel table over the Deals data when rows were typed below it."""
    for table in sheet.tables.values():
        start, end = table.ref.split(":")
        end_column = "".join(ch for ch in end if ch.isalpha())
        end_row = int("".join(ch for ch in end if ch.isdigit()))
        if last_row > end_row:
            table.ref = f"{start}:{end_column}{last_row}"
            if table.autoFilter is not None:
                table.autoFilter.ref = table.ref


def replace_atomically(path: Path, content: bytes, expected_digest: str | None = None) -> Path | None:
    """Write ``content`` to a temporary file beside ``path``, keep a backup, then replace ``path``.

    When ``expected_digest`` is given and the file changed meanwhile, raise WorkbookBusy and
    leave the file alone. Returns the backup path, or None when there was no previous file.
    """
    folder = path.parent
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=folder)
    temp = Path(temp_name)
    backup: Path | None = None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        if path.exists():
            if expected_digest is not None:
                current = hashlib.sha256(path.read_bytes()).hexdigest()
                if current != expected_digest:
                    raise WorkbookBusy(f"{path} was saved by someone else during this run; nothing was written. Run again.")
                check_not_busy(path)
            backup = path.with_name(f"{path.stem}.backup{path.suffix}")
            shutil.copy2(path, backup)
        os.replace(temp, path)
    finally:
        if temp.exists():
            temp.unlink()
    return backup
