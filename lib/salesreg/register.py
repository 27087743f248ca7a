"""Read and write the register workbook. Every workbook access of salesreg goes through here.

Reading loads the file's bytes once, so the content and its fingerprint always match. Writing
patches only the cells salesreg owns (xlsx_patch), then replaces the file atomically after
checking that nobody saved it in between (atomic).
"""

from __future__ import annotations

import difflib
import hashlib
import html
import io
import itertools
import logging
import posixpath
import re
import time
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, BinaryIO

from xml.etree import ElementTree

import python_calamine
from openpyxl.formula.translate import Translator
from openpyxl.utils.cell import coordinate_to_tuple, get_column_letter
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900
from openpyxl.worksheet.cell_range import CellRange

from .atomic import changed_error, newest_backup, replace_file
from .config import Config
from .errors import WorkbookBusy, WorkbookError
from .formulas import FORMULA_FIELDS, FY_START, MONEY_DIGITS
from .fields import COLUMN_BY_FIELD, FIELDS, TEAM_HEADERS, TEAM_OFFICE_HEADER, team_header_words
from .i18n import N_, _, format_datetime
from .model import TeamMember
from .parse import UnreadableCell, clean_text, fold, is_blank, serial_to_datetime, show, show_list
from .xlsx_patch import (
    CellFormula,
    CellValue,
    PatchResult,
    cell_formula,
    cell_result,
    locate_sheet,
    patch_workbook,
    read_cells,
    read_defined_names,
    verify_workbook,
)

log = logging.getLogger(__name__)

_OLE_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")  # encrypted xlsx and legacy .xls files
_TRUE_WORDS = {"", "yes", "y", "true", "1", "active", "はい", "有効"}
_FALSE_WORDS = {"no", "n", "false", "0", "inactive", "いいえ", "無効"}


@dataclass(frozen=True)
class RegisterRow:
    row: int  # Excel row number
    values: dict[str, Any]  # field name -> cell value as read_register returns it


@dataclass(frozen=True)
class RegisterSnapshot:
    """The content of one read of the register, with the fingerprint of the bytes it came from."""

    path: Path
    digest: str
    columns: dict[str, int]  # field name -> 1-based column index
    rows: tuple[RegisterRow, ...]
    team: tuple[TeamMember, ...]
    last_row: int  # last row of the Deals sheet that holds anything
    headers: dict[str, str] = field(default_factory=dict)  # field name -> header text as row 1 shows it


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
        # LibreOffice writes "full name,user name,host,date,profile URL;".
        fields = data.decode("utf-8", "replace").split(",")
        return next((field.strip() for field in fields[:2] if field.strip()), "")
    # Excel's owner file starts with a length byte and the user name.
    if data:
        length = data[0]
        return data[1 : 1 + length].decode("latin-1", "replace").strip()
    return ""


def check_not_busy(path: Path, stale_lock_hours: float | None = None) -> None:
    """Raise WorkbookBusy when a spreadsheet program has ``path`` open for editing.

    A lock file last written more than ``stale_lock_hours`` ago still blocks the write,
    because only a person can tell a crashed program from a workbook left open over the
    weekend. The message then calls it probably stale and tells how to remove it.
    """
    locks = lock_files(path)
    if not locks:
        return
    lock = locks[0]
    owner = lock_owner(lock)
    try:
        age_hours = (time.time() - lock.stat().st_mtime) / 3600
    except OSError:
        age_hours = 0.0  # the lock file went away just now; still report it, the next run will write
    if stale_lock_hours is not None and age_hours > stale_lock_hours:
        if owner:
            message = _(
                "{path} is locked by {owner} by the lock file {lock_name}, last written {hours} hours ago, longer "
                "than [register] stale_lock_hours ({limit}). It is probably left over from a program "
                "that crashed. If nobody has the workbook open, delete {lock} and run again; nothing was written."
            )
        else:
            message = _(
                "{path} is locked by the lock file {lock_name}, last written {hours} hours ago, longer "
                "than [register] stale_lock_hours ({limit}). It is probably left over from a program "
                "that crashed. If nobody has the workbook open, delete {lock} and run again; nothing was written."
            )
        raise WorkbookBusy(
            message.format(
                path=path, owner=owner, lock_name=lock.name, hours=f"{age_hours:.0f}", limit=f"{stale_lock_hours:g}", lock=lock
            )
        )
    if owner:
        message = _(
            "{path} is open for editing by {owner} (lock file {lock_name}); nothing was written. "
            "Run again after the workbook is closed."
        )
    else:
        message = _(
            "{path} is open for editing (lock file {lock_name}); nothing was written. Run again after the workbook is closed."
        )
    raise WorkbookBusy(message.format(path=path, owner=owner, lock_name=lock.name))


def with_backup_hint(error: WorkbookError, path: Path) -> WorkbookError:
    """Return ``error`` naming the newest backup when ``path`` is a damaged file, else ``error`` itself."""
    backup = newest_backup(path)
    if backup is None or not _is_damaged(path):
        return error
    saved = format_datetime(datetime.fromtimestamp(backup.stat().st_mtime))
    return WorkbookError(
        _(
            "{error} The newest backup is {backup} (saved {saved}); nothing was written over the damaged file. "
            "To go back to that version, close the workbook everywhere and copy the backup over {name}."
        ).format(error=error, backup=backup, saved=saved, name=path.name)
    )


def _is_damaged(path: Path) -> bool:
    """Return True when ``path`` exists but is not a complete zip package."""
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.testzip() is not None
    except FileNotFoundError:
        return False
    except (zipfile.BadZipFile, OSError, EOFError):
        return True


def read_register(config: Config) -> RegisterSnapshot:
    """Read the Deals and Team sheets; raise WorkbookError for a file that cannot be used.

    python-calamine reads the saved values, converted to the types that openpyxl's values-only
    reading returns (see _Sheet.iter_rows), with two changes: a number in a date
    column becomes a date-time of the workbook's date system when it is a plausible date serial
    number, and a cell that contains no usable value (a formula without a saved result, part of a
    merged range) becomes an UnreadableCell that says why.
    """
    path = config.register.path
    data = _read_bytes(path)
    _check_file_kind(path, data)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            workbook = _open_workbook(path, data)
            try:
                deals_sheet = _sheet(workbook, path, config.register.sheet, "sheet")
                team_sheet = _sheet(workbook, path, config.register.team_sheet, "team_sheet")
                parts = _sheet_parts(archive)
                epoch = CALENDAR_MAC_1904 if _uses_1904_dates(archive) else CALENDAR_WINDOWS_1900
                deals = _read_deals(deals_sheet, _scan_sheet(archive, parts.get(deals_sheet.title)), config, path, epoch)
                team = _read_team(team_sheet, _scan_sheet(archive, parts.get(team_sheet.title)), path)
            finally:
                workbook.close()
    except (zipfile.BadZipFile, zlib.error, ElementTree.ParseError, EOFError) as exc:
        raise _damaged(path, exc) from None
    digest = hashlib.sha256(data).hexdigest()
    return RegisterSnapshot(path, digest, deals.columns, deals.rows, team, deals.last_row, deals.headers)


def register_digest(path: Path) -> str | None:
    """Return the SHA-256 of the register file's bytes, or None when it cannot be read."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise WorkbookError(
            _("Register {path} not found; check [register] path or run `salesreg init`.").format(path=path)
        ) from None
    except IsADirectoryError:
        workbooks = sorted(child.name for child in path.glob("*.xls[xm]") if not child.name.startswith(("~$", ".")))
        if workbooks:
            message = _(
                "Register {path} is a folder, not a workbook (it holds {files}); "
                "set [register] path to the register's .xlsx file."
            )
        else:
            message = _("Register {path} is a folder, not a workbook; set [register] path to the register's .xlsx file.")
        raise WorkbookError(message.format(path=path, files=show_list(workbooks[:3]))) from None
    except PermissionError:
        raise WorkbookError(
            _(
                "Register {path} cannot be read: permission denied. Give the account that runs salesreg "
                "permission to read and write it, then run again."
            ).format(path=path)
        ) from None
    except OSError as exc:
        raise WorkbookError(
            _(
                "Register {path} cannot be read: {reason}. Check that its drive or network share is "
                "reachable from this computer, then run again."
            ).format(path=path, reason=exc.strerror)
        ) from None


# ---------------------------------------------------------------------------------------------
# What kind of file the register is

# The parts of a "not a readable .xlsx workbook" message: what the file is, and what to do.
_SAVE_AS_XLSX = N_("Open it in Excel, save it with File > Save As > Excel Workbook (*.xlsx), and run again.")
_POINT_AT_XLSX = N_("Set [register] path to the register's .xlsx file.")
_RESTORE_BACKUP = N_("Restore the newest backup, or set [register] path to the register's .xlsx file.")


def _not_readable(path: Path, what: str, todo: str) -> WorkbookError:
    """Return the error for a file that is no .xlsx workbook; ``what`` and ``todo`` are marked with N_()."""
    return _not_readable_as(path, _(what), todo)


def _not_readable_as(path: Path, what: str, todo: str) -> WorkbookError:
    """Like _not_readable, with ``what`` already translated and filled in."""
    return WorkbookError(
        _("{path} is not a readable .xlsx workbook: it {what}. {todo}").format(path=path, what=what, todo=_(todo))
    )


def _named_as(path: Path, what: str) -> str:
    """Return the translated ``what`` with the file name's suffix that pretends otherwise, if any."""
    if not path.suffix:
        return _(what)
    return _("{what}, although its name ends in {suffix}").format(what=_(what), suffix=path.suffix)


def _check_file_kind(path: Path, data: bytes) -> None:
    """Raise WorkbookError naming the file's real kind when ``data`` is no .xlsx workbook."""
    if not data:
        raise _not_readable(
            path, N_("is empty (0 bytes)"), N_("Restore the newest backup, or run `salesreg init` to start a new register.")
        )
    if data.startswith(_OLE_SIGNATURE):
        raise _compound_file_error(path, data)
    if not data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        raise _other_file_error(path, data)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            mimetype = archive.read("mimetype")[:100] if "mimetype" in names else b""
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise _damaged(path, exc) from None
    if b"opendocument.spreadsheet" in mimetype:
        raise _not_readable(
            path,
            N_("is an OpenDocument spreadsheet (.ods)"),
            N_("Open it in LibreOffice or Excel, save it as Excel 2007-365 (.xlsx), and run again."),
        )
    if any(name.endswith("workbook.bin") for name in names):
        raise _not_readable(path, N_("is an Excel binary workbook (.xlsb)"), _SAVE_AS_XLSX)
    if "[Content_Types].xml" not in names or not any(name.endswith("workbook.xml") for name in names):
        kind = N_("is a Word document") if "word/document.xml" in names else N_("is a zip file of other documents")
        raise _not_readable(path, kind, _POINT_AT_XLSX)


def _compound_file_error(path: Path, data: bytes) -> WorkbookError:
    """Describe an OLE compound file: an encrypted workbook, a legacy .xls, or another old Office file."""
    # Stream names in a compound file's directory are stored as UTF-16LE.
    if "EncryptedPackage".encode("utf-16-le") in data:
        return _not_readable(
            path,
            N_("is protected with a password"),
            N_(
                "Open it in Excel, remove the password (File > Info > Protect Workbook > Encrypt with Password, "
                "then delete the password), save it, and run again."
            ),
        )
    if "Workbook".encode("utf-16-le") in data or "Book".encode("utf-16-le") in data:
        return _not_readable(
            path,
            N_("is an Excel 97-2003 workbook (.xls)"),
            N_("Open it in Excel, save it as Excel Workbook (*.xlsx), and set [register] path to the new file."),
        )
    return _not_readable(path, N_("is an Office 97-2003 document"), _POINT_AT_XLSX)


def _other_file_error(path: Path, data: bytes) -> WorkbookError:
    """Describe a file that is neither a zip package nor a compound file: CSV, HTML, PDF or unknown."""
    head = data[:4096]
    for bom, encoding in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if head.startswith(bom):
            head = head[len(bom) :].decode(encoding, "ignore").encode("utf-8")
            break
    sample = head.lstrip().lower()
    if sample.startswith(b"%pdf"):
        return _not_readable(path, N_("is a PDF document"), _POINT_AT_XLSX)
    if sample.startswith((b"<!doctype html", b"<html", b"<table", b"<meta", b"<head")) or (
        b"mime-version" in sample and b"text/html" in sample
    ):
        # Many systems export "Excel" files that are web pages.
        return _not_readable_as(path, _named_as(path, N_("is a web page (HTML)")), _SAVE_AS_XLSX)
    if sample.startswith(b"<?xml") and b"urn:schemas-microsoft-com:office:spreadsheet" in data[:65536]:
        return _not_readable_as(path, _named_as(path, N_("is an Excel 2003 XML spreadsheet")), _SAVE_AS_XLSX)
    if _looks_like_text(head):
        first_line = head.split(b"\n", 1)[0]
        if b"\t" in first_line:
            kind = N_("is a tab-separated text file")
        elif b"," in first_line or b";" in first_line:
            kind = N_("is a CSV text file")
        else:
            kind = N_("is a text file")
        return _not_readable_as(path, _named_as(path, kind), _SAVE_AS_XLSX)
    return _not_readable(path, N_("does not start like any spreadsheet file"), _RESTORE_BACKUP)


def _looks_like_text(head: bytes) -> bool:
    """Return True when ``head`` decodes as UTF-8 or Shift_JIS text without control characters."""
    # Cut the sample after its last line break, so that it does not end inside a character.
    sample = head[: head.rfind(b"\n") + 1] or head
    for encoding in ("utf-8", "cp932"):
        try:
            text = sample.decode(encoding)
        except UnicodeDecodeError:
            continue
        if all(char.isprintable() or char in "\r\n\t" for char in text):
            return True
    return False


def _damaged(path: Path, exc: BaseException) -> WorkbookError:
    return _not_readable_as(
        path,
        _("is damaged ({error})").format(error=exc),
        N_("Restore the newest backup, or open the file in Excel, which can often repair it, and save it again."),
    )


class _Workbook:
    """The register's sheets as python-calamine reads them, by name."""

    def __init__(self, workbook: python_calamine.CalamineWorkbook, path: Path) -> None:
        self._workbook = workbook
        self._path = path
        self.sheetnames: list[str] = list(workbook.sheet_names)

    def __getitem__(self, name: str) -> _Sheet:
        try:
            return _Sheet(name, self._workbook.get_sheet_by_name(name))
        except python_calamine.CalamineError as exc:
            raise _damaged(self._path, exc) from None

    def close(self) -> None:
        self._workbook.close()


class _Sheet:
    """One sheet's cell values; row lists start at row 1 and column A."""

    def __init__(self, title: str, sheet: python_calamine.CalamineSheet) -> None:
        self.title = title
        self._sheet = sheet

    def iter_rows(self, max_row: int | None = None, errors: Mapping[tuple[int, int], str] | None = None) -> Iterator[tuple[Any, ...]]:
        """Yield each row's values as openpyxl's values-only reading returns them.

        python-calamine reads an error cell such as #N/A as empty, so ``errors`` maps
        (row, column) to the error text that the XML holds, and each such cell yields it.

        python-calamine gives "" for an empty cell, a float for every number and a date for
        a date cell without a time. openpyxl, which salesreg read with before, gives None, an
        int for a whole number and a date-time, and the parsers, fingerprints and stored
        content hashes expect those.
        """
        start = self._sheet.start
        if start is None:
            return  # an empty sheet
        errors_by_row: dict[int, list[tuple[int, str]]] = {}
        for (row, column), text in (errors or {}).items():
            errors_by_row.setdefault(row, []).append((column, text))
        # python-calamine 0.9 yields rows from row 1 on, but cells from the first used column
        # on, so the columns before it are added back. Rows come one at a time, which keeps
        # memory low on a large sheet.
        padding = [None] * start[1]
        convert = _openpyxl_value
        for number, cells in enumerate(self._sheet.iter_rows(), start=1):
            if max_row is not None and number > max_row:
                break
            # Most cells are text, which needs no call.
            values = padding + [None if value == "" else value if value.__class__ is str else convert(value) for value in cells]
            for column, text in errors_by_row.get(number, ()):
                values.extend([None] * (column - len(values)))
                values[column - 1] = text
            yield tuple(values)


_MAX_EXACT_FLOAT = 2**53  # above this a float no longer represents every whole number exactly


def _openpyxl_value(value: Any) -> Any:
    kind = value.__class__
    if kind is str:
        return value if value else None
    if kind is float:
        if value.is_integer() and -_MAX_EXACT_FLOAT < value < _MAX_EXACT_FLOAT:
            return int(value)
        return value
    if kind is date:
        return datetime(value.year, value.month, value.day)
    return value


def _open_workbook(path: Path, data: bytes) -> _Workbook:
    try:
        return _Workbook(python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data)), path)
    except (python_calamine.CalamineError, ValueError, OSError) as exc:
        raise _damaged(path, exc) from None


def _uses_1904_dates(archive: zipfile.ZipFile) -> bool:
    """Return whether the workbook counts date serial numbers from 1904 (workbookPr date1904)."""
    try:
        package_rels = ElementTree.fromstring(archive.read("_rels/.rels"))
        target = next(rel.get("Target", "") for rel in package_rels if rel.get("Type", "").endswith("/officeDocument"))
        workbook = ElementTree.fromstring(archive.read(target.lstrip("/")))
    except (KeyError, StopIteration):
        return False
    properties = workbook.find("{*}workbookPr")
    return properties is not None and properties.get("date1904", "0").lower() in ("1", "true")


def _sheet(workbook: Any, path: Path, name: str, key: str) -> Any:
    """Return the sheet called ``name``, ignoring case and full-width forms; ``key`` is its config key."""
    if name in workbook.sheetnames:
        return workbook[name]
    by_folded = {fold(title): title for title in workbook.sheetnames}
    if fold(name) in by_folded:
        return workbook[by_folded[fold(name)]]
    sheets = show_list(repr(title) for title in workbook.sheetnames)
    close = difflib.get_close_matches(fold(name), list(by_folded), n=1, cutoff=0.5)
    if close:
        other = by_folded[close[0]]
        message = _(
            "{path} has no sheet {name}; its sheets are {sheets}. If {other} is that sheet, rename it to {name}, "
            'or set [register] {key} = "{other_text}" in the config.'
        )
    else:
        other = ""
        message = _(
            "{path} has no sheet {name}; its sheets are {sheets}. Rename the sheet to {name}, "
            "or set [register] {key} in the config to its name."
        )
    raise WorkbookError(
        message.format(path=path, name=repr(name), sheets=sheets, other=repr(other), other_text=other, key=key)
    )


# ---------------------------------------------------------------------------------------------
# A streaming look at a sheet's XML: the last row with content, formulas without a saved
# result, error cells and merged ranges. python-calamine reads a formula without a result and
# an error cell such as #N/A as empty cells.


@dataclass(frozen=True)
class _SheetLayout:
    last_row: int | None  # last row with a value or formula; None when the scan could not tell
    formulas: dict[tuple[int, int], str]  # (row, column) -> formula of a cell without a saved result
    merged: tuple[CellRange, ...]
    errors: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, column) -> error value such as "#N/A"


_UNKNOWN_LAYOUT = _SheetLayout(None, {}, ())
_CHUNK_BYTES = 1 << 20
# Bytes kept from one chunk for the next: more than a cell's start tag plus an 8,192-character
# formula in UTF-8, so that a value tag can always be traced back to its cell's reference.
_OVERLAP_BYTES = 1 << 16
_ROOT_TAG = re.compile(rb"<(?:([A-Za-z_][\w.-]*):)?worksheet[\s>]")
_REFERENCE_ATTRIBUTE = re.compile(rb'\sr\s*=\s*["\']([A-Za-z]{1,3})(\d{1,7})["\']')
_TYPE_ATTRIBUTE = re.compile(rb'\st\s*=\s*["\'](\w+)["\']')
_ERROR_TYPE = re.compile(rb't\s*=\s*["\']e["\']')
_SHARED_INDEX_ATTRIBUTE = re.compile(rb'\ssi\s*=\s*["\'](\d+)["\']')
_TEXT_TYPES = ("str", "s", "inlineStr")  # cell types whose empty <v/> is a saved empty string
_TAG_NAME_ENDS = (b" ", b"\t", b"\r", b"\n", b">", b"/")


class _UnexpectedXml(Exception):
    """XML that the byte scan does not handle, such as a cell without a reference."""


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Return sheet name -> the zip member of its XML, as the workbook's relationships give it."""
    try:
        package_rels = ElementTree.fromstring(archive.read("_rels/.rels"))
        target = next(rel.get("Target", "") for rel in package_rels if rel.get("Type", "").endswith("/officeDocument"))
        workbook_part = target.lstrip("/")
        folder = posixpath.dirname(workbook_part)
        rels_part = posixpath.join(folder, "_rels", posixpath.basename(workbook_part) + ".rels")
        targets = {rel.get("Id"): rel.get("Target", "") for rel in ElementTree.fromstring(archive.read(rels_part))}
        workbook = ElementTree.fromstring(archive.read(workbook_part))
    except (KeyError, StopIteration, ElementTree.ParseError):
        log.warning("Could not find the sheets' XML in the workbook; reading without the formula and merge checks.")
        return {}
    parts: dict[str, str] = {}
    for sheet in workbook.iterfind(".//{*}sheets/{*}sheet"):
        relation = next((value for key, value in sheet.attrib.items() if key.endswith("}id")), None)
        sheet_target = targets.get(relation, "")
        if sheet_target:
            joined = sheet_target.lstrip("/") if sheet_target.startswith("/") else posixpath.join(folder, sheet_target)
            parts[sheet.get("name", "")] = posixpath.normpath(joined)
    return parts


def _scan_sheet(archive: zipfile.ZipFile, part: str | None) -> _SheetLayout:
    """Return the sheet's layout from a byte search of its XML, or from a full parse as a fallback.

    The byte search reads the XML once and costs a small part of openpyxl's reading: about
    0.1 s of processor time for 50,000 rows, measured as docs/cells.md describes. XML that the
    search does not handle gets the full parse.
    """
    if part is None or part not in archive.namelist():
        return _UNKNOWN_LAYOUT
    scanner: _ByteScanner | None = None
    offset = 0
    tail = b""
    try:
        with archive.open(part) as stream:
            while chunk := stream.read(_CHUNK_BYTES):
                buffer = tail + chunk
                if scanner is None:
                    root = _ROOT_TAG.search(buffer)
                    if root is None:
                        raise _UnexpectedXml("no worksheet element")
                    scanner = _ByteScanner(root.group(1) + b":" if root.group(1) else b"")
                scanner.feed(buffer, offset)
                keep_from = scanner.keep_from(offset, len(buffer))
                offset += keep_from
                tail = buffer[keep_from:]
    except _UnexpectedXml as exc:
        log.debug("Parsing %s in full: %s.", part, exc)
        return _parse_sheet(archive, part)
    return scanner.layout() if scanner else _UNKNOWN_LAYOUT


class _ByteScanner:
    """Find a worksheet's content rows, formulas without results and merged ranges by searching bytes.

    Inside sheetData the XML is regular: a cell is ``<c ...>...</c>`` or ``<c .../>``, its
    formula ``<f>`` comes first, and no text inside contains "<". So a search for tags finds
    exactly the elements, without parsing the other million.
    """

    def __init__(self, prefix: bytes) -> None:
        escaped = re.escape(prefix)
        self.formula_tag = re.compile(b"<" + escaped + rb"f[\s>/]")
        self.cell_open = b"<" + prefix + b"c"
        self.value_tag = re.compile(b"<" + escaped + rb"v(?:\s[^>]*)?(/?)>")
        self.merge_tag = re.compile(
            b"<" + escaped + rb'mergeCell\s[^>]*?ref\s*=\s*["\']([A-Za-z]{1,3}\d+(?::[A-Za-z]{1,3}\d+)?)'
        )
        self.content_tags = tuple(b"<" + prefix + tag for tag in (b"v>", b"v ", b"is>", b"is ", b"f>", b"f ", b"f/"))
        self.cell_end = b"</" + prefix + b"c>"
        self.formula_end = b"</" + prefix + b"f>"
        self.value_end = b"</" + prefix + b"v>"
        self.data_end = b"</" + prefix + b"sheetData>"
        self.last_row = 0
        self.bounded = True
        self.in_data = True
        self.merged: set[bytes] = set()
        self.formulas: dict[tuple[int, int], str] = {}
        self.errors: dict[tuple[int, int], str] = {}
        self.shared: dict[str, tuple[str, str]] = {}  # shared formula index -> (first cell, formula)
        self.handled = 0  # XML offset before which every formula tag has been handled
        self.pending: int | None = None  # XML offset of a formula cell that ends in the next chunk

    def feed(self, buffer: bytes, offset: int) -> None:
        """Scan ``buffer``, which starts at byte ``offset`` of the XML and may repeat earlier bytes."""
        self.merged.update(self.merge_tag.findall(buffer))
        if not self.in_data:
            return
        end = buffer.find(self.data_end)
        region = buffer if end < 0 else buffer[:end]
        self._note_formulas(region, offset, complete=end >= 0)
        self._note_errors(region)
        row = self._last_content_row(region)
        if row is None:
            self.bounded = False
        else:
            self.last_row = max(self.last_row, row)
        self.in_data = end < 0

    def keep_from(self, offset: int, length: int) -> int:
        """Return where in the buffer the next one should start: the overlap, or an unfinished cell."""
        start = length - _OVERLAP_BYTES
        if self.pending is not None:
            start = min(start, self.pending - offset - _OVERLAP_BYTES)
        return max(start, 0)

    def layout(self) -> _SheetLayout:
        ranges = tuple(CellRange(ref.decode("ascii")) for ref in sorted(self.merged))
        return _SheetLayout(self.last_row if self.bounded else None, self.formulas, ranges, self.errors)

    def _note_errors(self, region: bytes) -> None:
        """Record the error cells (t="e") of ``region`` that end inside it.

        Buffers overlap, so a cell cut by the end of one buffer is whole in the next, and a
        cell seen twice is recorded twice with the same value.
        """
        for match in _ERROR_TYPE.finditer(region):
            start = region.rfind(b"<", 0, match.start())
            if start < 0 or region[start : start + len(self.cell_open) + 1] not in (self.cell_open + end for end in (b" ", b"\t", b"\r", b"\n")):
                continue  # a t="e" attribute of another element, or text
            start_tag_end = region.find(b">", match.end())
            cell_end = region.find(self.cell_end, start_tag_end)
            if start_tag_end < 0 or cell_end < 0:
                continue
            reference = _REFERENCE_ATTRIBUTE.search(region[start : start_tag_end + 1])
            if reference is None:
                raise _UnexpectedXml("an error cell without a reference")
            value = self.value_tag.search(region, start_tag_end, cell_end)
            if value is None or value.group(1):
                continue
            value_end = region.find(self.value_end, value.end(), cell_end)
            if value_end < 0:
                continue
            text = html.unescape(region[value.end() : value_end].decode("utf-8"))
            if text:
                self.errors[coordinate_to_tuple((reference.group(1) + reference.group(2)).decode("ascii"))] = text

    def _note_formulas(self, region: bytes, offset: int, complete: bool) -> None:
        self.pending = None
        for match in self.formula_tag.finditer(region, max(0, self.handled - offset)):
            cell_end = region.find(self.cell_end, match.end())
            if cell_end < 0:
                if complete:
                    raise _UnexpectedXml("a formula cell without an end tag")
                self.pending = offset + match.start()
                self.handled = self.pending
                return
            cell_start = self._cell_start(region, match.start())
            self._note_formula_cell(region[cell_start:cell_end], match.start() - cell_start)
            self.handled = offset + match.end()
        # A tag cut by the end of the chunk comes again at the start of the next buffer.
        self.handled = max(self.handled, offset + len(region) - 16)

    def _cell_start(self, region: bytes, position: int) -> int:
        """Return where the cell that contains ``position`` starts."""
        lowest = max(0, position - _OVERLAP_BYTES)
        start = region.rfind(self.cell_open, lowest, position)
        # Rich text tags such as <color> also begin with "<c".
        while start >= 0 and region[start + len(self.cell_open) : start + len(self.cell_open) + 1] not in _TAG_NAME_ENDS:
            start = region.rfind(self.cell_open, lowest, start)
        if start < 0:
            raise _UnexpectedXml("a value outside a cell")
        return start

    def _note_formula_cell(self, cell: bytes, formula_at: int) -> None:
        start_tag = cell[: cell.find(b">") + 1]
        formula_tag_end = cell.find(b">", formula_at)
        formula_tag = cell[formula_at : formula_tag_end + 1]
        shares_text = b"shared" in formula_tag and not formula_tag.endswith(b"/>")
        if not shares_text and self._has_result(cell, start_tag, formula_tag_end):
            return  # most formula cells: nothing to note, so skip parsing the rest
        reference = _REFERENCE_ATTRIBUTE.search(start_tag)
        if reference is None:
            raise _UnexpectedXml("a formula cell without a reference")
        coordinate = (reference.group(1) + reference.group(2)).decode("ascii")
        text = None
        if not formula_tag.endswith(b"/>"):
            text_end = cell.find(self.formula_end, formula_tag_end)
            text = html.unescape(cell[formula_tag_end + 1 : text_end].decode("utf-8")) or None
        shared_index = _SHARED_INDEX_ATTRIBUTE.search(formula_tag)
        index = shared_index.group(1).decode("ascii") if shared_index else None
        if text is not None and index is not None and b"shared" in formula_tag:
            self.shared[index] = (coordinate, "=" + text)

        if self._has_result(cell, start_tag, formula_tag_end):
            return
        self.formulas[coordinate_to_tuple(coordinate)] = _formula_display(text, coordinate, index, self.shared)

    def _has_result(self, cell: bytes, start_tag: bytes, formula_tag_end: int) -> bool:
        """Return whether a formula cell has a saved result, an empty string counting as one."""
        value = self.value_tag.search(cell, formula_tag_end)
        if value is None:
            return False
        if not value.group(1) and cell.find(self.value_end, value.end()) > value.end():
            return True
        cell_type = _TYPE_ATTRIBUTE.search(start_tag)
        return cell_type is not None and cell_type.group(1).decode("ascii") in _TEXT_TYPES

    def _last_content_row(self, region: bytes) -> int | None:
        """Return the row of the last cell in ``region`` with a value or formula: 0 for none, None when unknown."""
        position = max(region.rfind(tag) for tag in self.content_tags)
        if position < 0:
            return 0
        start_tag = region[self._cell_start(region, position) : position]
        reference = _REFERENCE_ATTRIBUTE.search(start_tag[: start_tag.find(b">") + 1])
        return int(reference.group(2)) if reference else None


def _parse_sheet(archive: zipfile.ZipFile, part: str) -> _SheetLayout:
    """Return the sheet's layout from a streaming parse of every element of its XML."""
    formulas: dict[tuple[int, int], str] = {}
    errors: dict[tuple[int, int], str] = {}
    shared: dict[str, tuple[str, str]] = {}
    merged: list[CellRange] = []
    last_row = row = column = 0
    names: dict[str, str] = {}
    with archive.open(part) as stream:
        for event, element in ElementTree.iterparse(stream, events=("start", "end")):
            if not names:
                namespace = element.tag[: element.tag.find("}") + 1]
                names = {local: namespace + local for local in ("row", "c", "f", "v", "is", "mergeCell")}
            tag = element.tag
            if event == "start":
                if tag == names["row"]:
                    row = int(element.get("r") or row + 1)
                    column = 0
                continue
            if tag == names["c"]:
                reference = element.get("r")
                if reference:
                    row, column = coordinate_to_tuple(reference)
                else:
                    column += 1
                coordinate = reference or f"{get_column_letter(column)}{row}"
                formula = element.find(names["f"])
                value = element.find(names["v"])
                if formula is not None or (value is not None and value.text) or element.find(names["is"]) is not None:
                    last_row = row
                if element.get("t") == "e" and value is not None and value.text:
                    errors[(row, column)] = value.text
                if formula is None:
                    continue
                index = formula.get("si")
                if formula.text and index is not None and formula.get("t") == "shared":
                    shared[index] = (coordinate, "=" + formula.text)
                if value is None or (not value.text and element.get("t") not in _TEXT_TYPES):
                    formulas[(row, column)] = _formula_display(formula.text, coordinate, index, shared)
            elif tag == names["row"]:
                element.clear()
            elif tag == names["mergeCell"] and element.get("ref"):
                merged.append(CellRange(element.get("ref")))
    return _SheetLayout(last_row, formulas, tuple(merged), errors)


def _formula_display(text: str | None, coordinate: str, index: str | None, shared: dict[str, tuple[str, str]]) -> str:
    """Return a cell's formula as Excel shows it, translating a shared formula from its first cell."""
    if text:
        return "=" + text
    if index in shared:
        origin, formula = shared[index]
        return str(Translator(formula, origin=origin).translate_formula(coordinate))
    return "(a formula)"


# ---------------------------------------------------------------------------------------------
# The Deals sheet


@dataclass(frozen=True)
class _DealsSheet:
    columns: dict[str, int]
    headers: dict[str, str]
    rows: tuple[RegisterRow, ...]
    last_row: int


_DATE_FIELDS = frozenset(name for name in FIELDS if COLUMN_BY_FIELD[name].kind == "date")
# Fields whose cells a rep or manager types, and Deal ID: a formula there needs a saved result.
_TYPED_FIELDS = tuple(name for name in FIELDS if COLUMN_BY_FIELD[name].writer != "sync" or name == "deal_id")


def _read_deals(sheet: Any, layout: _SheetLayout, config: Config, path: Path, epoch: datetime) -> _DealsSheet:
    rows_iter = sheet.iter_rows(max_row=layout.last_row or None, errors=layout.errors)
    header_cells = next(rows_iter, None) or ()
    columns, headers = _match_columns(header_cells, rows_iter, layout, config, path, sheet.title)

    merges = _MergeSweep(layout.merged, columns)
    # Formulas in sync's own columns are no problem of the rep's.
    typed_columns = {columns[name] for name in _TYPED_FIELDS}
    formulas = {key: text for key, text in layout.formulas.items() if key[1] in typed_columns}
    column_items = tuple(columns.items())
    rows: list[RegisterRow] = []
    last_row = 1
    for number, cells in enumerate(rows_iter, start=2):
        width = len(cells)
        if cells.count(None) == width and not formulas:
            continue
        values = {name: cells[index - 1] if index <= width else None for name, index in column_items}
        _convert_dates(values, epoch)
        has_content = any(not is_blank(values[name]) for name in _TYPED_FIELDS)
        if formulas:
            for name in _TYPED_FIELDS:
                formula = formulas.get((number, columns[name]))
                if formula is not None:
                    values[name] = UnreadableCell(None, formula, _formula_message(formula))
                    has_content = True
        if not has_content:
            continue
        for name, cell_range in merges.cells_in_row(number):
            values[name] = UnreadableCell(values[name], cell_range, _merged_message(cell_range))
        rows.append(RegisterRow(number, values))
        last_row = number
    return _DealsSheet(columns, headers, tuple(rows), last_row)


def _convert_dates(values: dict[str, Any], epoch: datetime) -> None:
    """Replace numbers in date columns by date-times when they are plausible serials of ``epoch``."""
    for name in _DATE_FIELDS:
        value = values.get(name)
        if value.__class__ in (int, float):
            moment = serial_to_datetime(value, epoch)
            if moment is not None:
                values[name] = moment


def _formula_message(formula: str) -> str:
    return _(
        "the formula {formula} has no saved result, because the file was last saved by a program that "
        "does not calculate formulas; open the register in Excel and save it, or type the value."
    ).format(formula=show(formula))


def _merged_message(cell_range: str) -> str:
    return _(
        "cells {cells} are merged; unmerge them (Home > Merge & Center > Unmerge Cells) and type the value into each row."
    ).format(cells=cell_range)


class _MergeSweep:
    """The merged ranges that cover the register's columns, visited row by row in ascending order."""

    def __init__(self, ranges: tuple[CellRange, ...], columns: dict[str, int]) -> None:
        self.fields_by_column = {index: name for name, index in columns.items()}
        self.pending = sorted((cell_range for cell_range in ranges if cell_range.max_row >= 2), key=lambda r: r.min_row)
        self.active: list[CellRange] = []

    def cells_in_row(self, row: int) -> list[tuple[str, str]]:
        """Return (field, range) for every register cell in ``row`` that is part of a merged range."""
        while self.pending and self.pending[0].min_row <= row:
            self.active.append(self.pending.pop(0))
        self.active = [cell_range for cell_range in self.active if cell_range.max_row >= row]
        return [
            (self.fields_by_column[column], cell_range.coord)
            for cell_range in self.active
            for column in range(cell_range.min_col, cell_range.max_col + 1)
            if column in self.fields_by_column
        ]


def _match_columns(
    header_cells: tuple[Any, ...],
    rows_iter: Any,
    layout: _SheetLayout,
    config: Config,
    path: Path,
    title: str,
) -> tuple[dict[str, int], dict[str, str]]:
    """Return field -> column index and field -> header text; raise WorkbookError naming what is wrong.

    Header texts match after NFKC normalisation, case folding and joining of spaces and line
    breaks, so "Expected\\nclose" and "ＣＵＳＴＯＭＥＲ" count as their fields' headers.
    """
    where = _("{path}, sheet {sheet}").format(path=path, sheet=repr(title))
    found: dict[str, list[int]] = {}
    texts: dict[int, str] = {}
    for index, value in enumerate(header_cells, start=1):
        text = " ".join(clean_text(value).split())
        if text:
            found.setdefault(fold(text), []).append(index)
            texts[index] = text
    if not texts:
        if layout.last_row == 0:
            message = _("{where} is empty. {hint}")
        else:
            message = _("{where} has no headers in row 1. {hint}")
        raise WorkbookError(message.format(where=where, hint=_header_row_hint(rows_iter, config)))

    columns: dict[str, int] = {}
    headers: dict[str, str] = {}
    missing: list[str] = []
    problems: list[str] = []
    for name in FIELDS:
        aliases = _aliases(config, name)
        hits = sorted({index for alias in aliases for index in found.get(fold(alias), [])})
        if not hits:
            missing.append(name)
        elif len(hits) > 1:
            listed = _(" and ").join(
                _("{column} ({header})").format(column=get_column_letter(index), header=repr(texts[index])) for index in hits
            )
            if len(hits) == 2:
                message = _(
                    "Columns {columns} are both the {header} column, and salesreg cannot tell which one to use; "
                    "delete or rename all but one of them."
                )
            else:
                message = _(
                    "Columns {columns} are all the {header} column, and salesreg cannot tell which one to use; "
                    "delete or rename all but one of them."
                )
            problems.append(message.format(columns=listed, header=repr(aliases[0])))
        else:
            columns[name] = hits[0]
            headers[name] = texts[hits[0]]
    if missing:
        unused = {index: text for index, text in texts.items() if index not in columns.values()}
        problems.insert(0, _missing_columns_text(missing, unused, config))
        merged = [cell_range.coord for cell_range in layout.merged if cell_range.min_row == 1]
        if merged:
            problems.append(
                _("Row 1 has merged cells ({cells}); unmerge them so that every column has its own header.").format(
                    cells=show_list(merged)
                )
            )
        problems.append(
            _("Headers found in row 1: {headers}.").format(headers=show_list(repr(text) for text in texts.values()))
        )
    if problems:
        raise WorkbookError(_("{where}: {problems}").format(where=where, problems=" ".join(problems)))
    return columns, headers


def _aliases(config: Config, name: str) -> tuple[str, ...]:
    return config.register.header_aliases.get(name) or (config.register.headers[name],)


def _missing_columns_text(missing: list[str], unused: dict[int, str], config: Config) -> str:
    """Describe the missing columns, each with the closest unused header of row 1."""
    unused_by_folded = {fold(text): index for index, text in unused.items()}
    described = []
    for name in missing:
        aliases = _aliases(config, name)
        wanted = _(" or ").join(repr(alias) for alias in aliases)
        close = max(
            (
                (difflib.SequenceMatcher(None, fold(alias), candidate).ratio(), candidate)
                for alias in aliases
                for candidate in unused_by_folded
            ),
            default=(0.0, ""),
        )
        if close[0] >= 0.6:
            index = unused_by_folded[close[1]]
            described.append(
                _("{wanted} (the closest header is {header}, in column {column})").format(
                    wanted=wanted, header=repr(unused[index]), column=get_column_letter(index)
                )
            )
        else:
            described.append(wanted)
    if len(described) == 1:
        return _(
            "row 1 lacks the header {headers}. Rename the header in row 1, or add your header text to "
            "[register.headers] in the config."
        ).format(headers=described[0])
    listed = _("{items} and {last}").format(items=show_list(described[:-1]), last=described[-1])
    return _(
        "row 1 lacks the headers {headers}. Rename the header in row 1, or add your header text to "
        "[register.headers] in the config."
    ).format(headers=listed)


def _header_row_hint(rows_iter: Any, config: Config) -> str:
    """Return advice for a sheet whose row 1 is empty, naming a lower row that contains the headers."""
    known = {fold(alias) for name in FIELDS for alias in _aliases(config, name)}
    for number, cells in enumerate(itertools.islice(rows_iter, 20), start=2):
        matches = sum(1 for value in cells if fold(clean_text(value)) in known)
        if matches >= 3:
            return _(
                "The headers seem to be in row {row}; delete the rows above them so that the headers are in row 1."
            ).format(row=number)
    standard = show_list(_aliases(config, name)[0] for name in FIELDS[:4])
    return _(
        "Row 1 needs the column headers, such as {headers}; copy the header row from a register made by `salesreg init`."
    ).format(headers=standard)


# ---------------------------------------------------------------------------------------------
# The Team sheet


def _team_column(header: str, header_cells: list[str]) -> int | None:
    """Return the 0-based column of the Team column ``header`` in any locale's text ("Name", "氏名")."""
    for text in team_header_words(header):
        if fold(text) in header_cells:
            return header_cells.index(fold(text))
    return None


def _read_team(sheet: Any, layout: _SheetLayout, path: Path) -> tuple[TeamMember, ...]:
    title = sheet.title
    rows_iter = sheet.iter_rows(max_row=layout.last_row or None, errors=layout.errors)
    header_cells = [fold(clean_text(value)) for value in next(rows_iter, None) or ()]
    positions: dict[str, int] = {}
    for header in TEAM_HEADERS:
        position = _team_column(header, header_cells)
        if position is None:
            found = show_list(f'"{text}"' for text in header_cells if text) or _("none")
            raise WorkbookError(
                _(
                    "{path}, sheet {sheet}: row 1 lacks the header {header}; "
                    "the Team sheet needs {needed} (headers found: {found})."
                ).format(path=path, sheet=repr(title), header=repr(header), needed=show_list(TEAM_HEADERS), found=found)
            )
        positions[header] = position
    office = _team_column(TEAM_OFFICE_HEADER, header_cells)
    if office is not None:
        positions[TEAM_OFFICE_HEADER] = office
    members: list[TeamMember] = []
    for number, cells in enumerate(rows_iter, start=2):
        if cells.count(None) == len(cells):
            continue

        def cell(header: str) -> str:
            index = positions.get(header, len(cells))
            return " ".join(clean_text(cells[index]).split()) if index < len(cells) else ""

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


def write_register(
    config: Config,
    snapshot: RegisterSnapshot,
    changes: dict[int, dict[str, Any]],
    other_cells: Mapping[str, Mapping[str, Any]] | None = None,
    written_digests: list[str] | None = None,
) -> Path | None:
    """Write ``changes`` (Excel row -> field -> value) into the Deals sheet, atomically.

    ``other_cells`` maps other sheets' names to coordinate ("B3") -> value, such as the
    Settings cells of a new fiscal year. Only the cells in ``changes`` and ``other_cells`` are
    written, by patching the sheets' XML (see xlsx_patch); every other part of the file stays
    byte-for-byte the same. Rows beyond the Excel table extend it. Raise WorkbookBusy when a
    lock file exists and RegisterChanged when the file changed since ``snapshot`` was read;
    then nothing is written. Return the path of the newest backup, or None when
    ``[register] backups`` is 0. The SHA-256 of the bytes written is appended to
    ``written_digests`` when it is given.
    """
    path = snapshot.path
    stale_hours = config.register.stale_lock_hours
    check_not_busy(path, stale_hours)
    data = _read_bytes(path)
    if hashlib.sha256(data).hexdigest() != snapshot.digest:
        raise changed_error(path)

    edits = {
        row: {snapshot.columns[name]: _cell_value(value) for name, value in values.items()}
        for row, values in changes.items()
    }
    other_edits: dict[str, dict[int, dict[int, CellValue]]] = {}
    for sheet_name, cells in (other_cells or {}).items():
        for coordinate, value in cells.items():
            row, column = coordinate_to_tuple(coordinate.replace("$", ""))
            other_edits.setdefault(sheet_name, {}).setdefault(row, {})[column] = _cell_value(value)
    table_rows_to = max([snapshot.last_row, *changes])
    patched: list[PatchResult] = []

    def write(stream: BinaryIO) -> None:
        patched.append(patch_workbook(data, stream, config.register.sheet, edits, table_rows_to, other_edits))

    def verify(temporary: Path) -> None:
        verify_workbook(temporary, data, patched[-1])
        if written_digests is not None:
            written_digests.append(hashlib.sha256(temporary.read_bytes()).hexdigest())

    backup = replace_file(
        path, write, verify, snapshot.digest, config.register.backups, before_replace=lambda: check_not_busy(path, stale_hours)
    )
    result = patched[-1]
    log.debug("Wrote %d cells into %s, in %d new rows and %d existing ones.", len(result.written_cells), path,
              len(result.rows_added), len({row for row, _ in result.written_cells} - set(result.rows_added)))
    for table in result.tables:
        log.info("Extended table %s from %s to %s.", table.name, table.old_ref, table.new_ref)
    return backup


@dataclass(frozen=True)
class FormulaCells:
    """The formula columns of the Deals sheet and the Settings cells, as one read of the file saw them."""

    # (row, field) -> formula text with its leading "=", or None when the cell holds no formula.
    # A cell that shares another cell's formula has the text translated to its own row.
    formulas: dict[tuple[int, str], str | None]
    # (row, field) -> the cached result text and type of the cell, as cell_result returns them.
    results: dict[tuple[int, str], tuple[str | None, str]]
    # Defined name -> (sheet name, coordinate without "$") of the Settings names that exist.
    names: dict[str, tuple[str, str]]
    # Defined name -> the cached value text and type of its cell, as cell_result returns them.
    settings: dict[str, tuple[str | None, str]]
    date1904: bool

    @property
    def has_formulas(self) -> bool:
        """Whether the register has the Settings sheet that the sales formulas read.

        Registers made before the template had formulas lack it, and sync writes plain values there.
        """
        return FY_START in self.names


def read_formula_cells(config: Config, snapshot: RegisterSnapshot, fields: Sequence[str] = FORMULA_FIELDS) -> FormulaCells:
    """Read the formulas of the ``fields`` columns in the snapshot's rows, and the Settings cells.

    openpyxl reads the register with cached values only, so this reads the sheet XML again for
    the formula texts. Raise RegisterChanged when the file changed since ``snapshot`` was read.
    """
    path = snapshot.path
    data = _read_bytes(path)
    if hashlib.sha256(data).hexdigest() != snapshot.digest:
        raise changed_error(path)

    names: dict[str, tuple[str, str]] = {}
    for name, reference in read_defined_names(data).items():
        if name in (FY_START, MONEY_DIGITS):
            located = _single_cell_reference(reference)
            if located is not None:
                names[name] = located
    columns = {field: snapshot.columns[field] for field in fields if field in snapshot.columns}
    rows = {row.row for row in snapshot.rows}
    try:
        deal_cells = read_cells(data, config.register.sheet, {row: set(columns.values()) for row in rows}) if columns else {}
        settings: dict[str, tuple[str | None, str]] = {}
        for name, (sheet, coordinate) in names.items():
            row, column = coordinate_to_tuple(coordinate)
            cell = read_cells(data, sheet, {row: {column}}).get((row, column))
            settings[name] = cell_result(cell) if cell is not None else (None, "n")
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            date1904 = locate_sheet(archive, config.register.sheet).date1904
    except (zipfile.BadZipFile, zlib.error, ElementTree.ParseError, EOFError) as exc:
        raise _damaged(path, exc) from None

    formulas: dict[tuple[int, str], str | None] = {}
    results: dict[tuple[int, str], tuple[str | None, str]] = {}
    shared: dict[tuple[int, str], tuple[str, str]] = {}  # (column, shared index) -> (master cell, formula)
    for (row, column), xml in sorted(deal_cells.items()):
        formula = cell_formula(xml)
        if formula is not None and formula.kind == "shared" and formula.text and formula.shared_index is not None:
            shared[(column, formula.shared_index)] = (f"{get_column_letter(column)}{row}", "=" + formula.text)
    for field, column in columns.items():
        for row in rows:
            xml = deal_cells.get((row, column))
            formula = cell_formula(xml) if xml is not None else None
            formulas[(row, field)] = _formula_text(formula, row, column, shared)
            results[(row, field)] = cell_result(xml) if xml is not None else (None, "n")
    return FormulaCells(formulas, results, names, settings, date1904)


def _formula_text(formula: CellFormula | None, row: int, column: int, shared: dict[tuple[int, str], tuple[str, str]]) -> str | None:
    """Return a cell's formula with "=", translating a formula shared from a cell in the same column."""
    if formula is None:
        return None
    if formula.text:
        return "=" + formula.text
    master = shared.get((column, formula.shared_index or ""))
    if master is None:
        # NOTE: a formula shared from another column is not followed; sync writes the formula again.
        return "=(a shared formula)"
    origin, text = master
    return str(Translator(text, origin=origin).translate_formula(f"{get_column_letter(column)}{row}"))


def _single_cell_reference(reference: str) -> tuple[str, str] | None:
    """Return (sheet, coordinate) of a defined name's reference such as ``'My sheet'!$B$3``."""
    match = re.fullmatch(r"(?:'((?:[^']|'')+)'|([^'!]+))!\$?([A-Za-z]{1,3})\$?(\d+)", reference)
    if match is None:
        return None
    sheet = match.group(1).replace("''", "'") if match.group(1) is not None else match.group(2)
    return sheet, f"{match.group(3).upper()}{match.group(4)}"


def _cell_value(value: Any) -> CellValue:
    """Return a planned value as the patcher takes it; Excel cells hold no time zone."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    return value  # type: ignore[no-any-return]
