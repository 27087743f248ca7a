"""Change cells of one worksheet inside an .xlsx file and carry every other part over unchanged.

openpyxl's load and save round trip drops or alters what it does not model (charts, images,
shapes, slicers, validations in extension lists, macros, cached formula results). This module
never builds a workbook model. It streams the worksheet's XML and rewrites only the ``<c>``
elements of the cells it is asked to change. Every other byte of that part, and every other zip
part, is copied as it is. The parts it may change are:

- the worksheet: the edited cells, the ``dimension`` element, the ``spans`` attribute of an
  edited row, and the ``sqref`` ranges of data validations and conditional formats that a table
  extension carries down (see ``_extend_ranges``);
- the parts of the tables it extends: their ``ref`` and the ``ref`` of their autofilter and
  sort state;
- ``calcChain.xml``, only when a written cell held a formula, so that the chain names no cell
  without one (Excel reports such a chain as damaged).

Cells are written as inline strings (``t="inlineStr"``), so the shared string table stays
byte-for-byte the same; Excel moves them into its shared strings on its next save. A written
cell keeps its ``s`` (style) attribute; a new cell takes its style as described in
``_SheetPatcher._style_for``.
"""

from __future__ import annotations

import bisect
import functools
import html
import io
import logging
import math
import posixpath
import re
import shutil
import tempfile
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO, Union
from xml.parsers import expat

from openpyxl.formula.translate import Translator
from openpyxl.utils.cell import column_index_from_string, get_column_letter

from .errors import WorkbookError
from .i18n import _

log = logging.getLogger(__name__)

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
OFFICE_DOCUMENT_TYPE = DOC_REL_NS + "/officeDocument"
WORKSHEET_TYPE = DOC_REL_NS + "/worksheet"
TABLE_TYPE = DOC_REL_NS + "/table"
CALC_CHAIN_TYPE = DOC_REL_NS + "/calcChain"

HEADER_ROW = 1
MAX_COLUMN = 16384  # XFD, the last column of a sheet
CHUNK_BYTES = 4 * 1024 * 1024
# A patched sheet larger than this is spooled to a temporary file. When the spool rolls over,
# it keeps its content twice for a moment, so a large limit costs twice its size in memory.
SPOOL_BYTES = 8 * 1024 * 1024
# zipfile needs ZIP64 records for a member that may grow past 2 GiB; decided from the input size.
ZIP64_THRESHOLD = 1 << 30

_ATTRIBUTE = re.compile(rb'([\w:.-]+)\s*=\s*(?:"([^"]*)"|\'([^\']*)\')')
_CELL_REF = re.compile(rb"^\$?([A-Za-z]{1,3})\$?(\d+)$")
_RANGE = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)(?::\$?([A-Za-z]{1,3})\$?(\d+))?$")
_ROOT = re.compile(rb"<(?:([A-Za-z_][\w.-]*):)?worksheet[\s>/]")
_XML_ENCODING = re.compile(rb"^<\?xml[^>]*encoding\s*=\s*[\"']([^\"']+)[\"']")
# Characters that XML 1.0 does not allow; Excel stores them as _xHHHH_ escapes.
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ESCAPE_LIKE = re.compile("_x[0-9A-Fa-f]{4}_")


@dataclass(frozen=True)
class Formula:
    """A formula written only into an empty cell, without a cached result."""

    text: str


@dataclass(frozen=True)
class CachedFormula:
    """A formula written with its cached result, over whatever the cell contains.

    ``text`` has no leading "=". A str ``result`` is stored as a string result (``t="str"``).
    With ``keep_formula`` the cell's own ``<f>`` element is kept byte for byte and only the
    result changes. The caller sets it after checking that the cell already contains ``text``,
    which keeps a shared formula's master cell, and the cells that share its formula, intact.
    """

    text: str
    result: int | float | Decimal | str
    keep_formula: bool = False


CellValue = Union[str, int, float, Decimal, bool, date, datetime, Formula, CachedFormula, None]
Edits = dict[int, dict[int, CellValue]]  # Excel row -> 1-based column -> value


@dataclass(frozen=True)
class SheetParts:
    """Locations of one worksheet and of the parts that belong to it in the package."""

    sheet_name: str
    sheet_id: str
    sheet_part: str
    table_parts: tuple[str, ...]
    calc_chain_part: str | None
    date1904: bool


@dataclass(frozen=True)
class TableExtension:
    part: str
    name: str
    old_ref: str
    new_ref: str


@dataclass
class PatchResult:
    """The changes ``patch_workbook`` made, kept for ``verify_workbook`` and for the log."""

    parts: SheetParts
    changed_parts: set[str] = field(default_factory=set)
    written_cells: dict[tuple[int, int], bytes] = field(default_factory=dict)  # (row, column) -> cell XML
    tables: list[TableExtension] = field(default_factory=list)
    rows_added: list[int] = field(default_factory=list)


def patch_workbook(
    data: bytes,
    target: BinaryIO,
    sheet_name: str,
    edits: Edits,
    table_rows_to: int | None = None,
    other_sheets: Mapping[str, Edits] | None = None,
) -> PatchResult:
    """Write ``data`` (an .xlsx or .xlsm package) to ``target`` with ``edits`` applied to one sheet.

    ``other_sheets`` maps the names of further sheets to their edits. Those sheets get their
    cells written but no table extension, and ``verify_workbook`` checks only that their XML is
    well-formed.

    ``table_rows_to`` is the last row the sheet's tables should cover. A table whose header is
    row 1 and whose range ends above that row is extended. Its autofilter, the ranges of the
    validations and conditional formats on its columns, and the formulas of its calculated
    columns go down with it. A value of None in ``edits`` clears a cell's value and keeps its
    style. Raise WorkbookError when the package or the sheet cannot be patched
    without losing something, naming what and where.
    """
    try:
        source = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise WorkbookError(
            _("The workbook is not a readable zip package ({error}); nothing was written.").format(error=exc)
        ) from None
    with source:
        parts = locate_sheet(source, sheet_name)
        result = PatchResult(parts)
        edits = {row: dict(cells) for row, cells in edits.items() if cells}
        replaced: dict[str, bytes] = {}
        extensions = _plan_table_extensions(source, parts, table_rows_to, edits, replaced)
        result.tables = [plan.extension for plan in extensions]
        # Formulas replaced by values, as (sheet id, cells), for the calculation chain.
        replaced_formulas: list[tuple[str, set[tuple[int, int]]]] = []
        for other_name, other_edits in (other_sheets or {}).items():
            other_parts = locate_sheet(source, other_name)
            if other_parts.sheet_part == parts.sheet_part:
                raise ValueError(f"sheet {other_name!r} is the sheet {sheet_name!r}; put its edits into edits")
            other_patcher = _SheetPatcher({row: dict(cells) for row, cells in other_edits.items() if cells}, other_parts, [])
            patched_other = io.BytesIO()
            with source.open(other_parts.sheet_part) as reader:
                other_patcher.run(reader, patched_other)
            replaced[other_parts.sheet_part] = patched_other.getvalue()
            replaced_formulas.append((other_parts.sheet_id, other_patcher.replaced_formulas))

        # The sheet goes first, into a spooled file, because the calculation chain can only be
        # patched after the pass has found the formulas it replaced, and that part may come earlier.
        sheet_info = source.getinfo(parts.sheet_part)
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as patched_sheet:
            patcher = _SheetPatcher(edits, parts, extensions)
            with source.open(sheet_info) as reader:
                patcher.run(reader, patched_sheet)
            result.changed_parts.add(parts.sheet_part)
            result.written_cells = patcher.written_cells
            result.rows_added = patcher.rows_added
            replaced_formulas.append((parts.sheet_id, patcher.replaced_formulas))
            if parts.calc_chain_part and any(cells for _, cells in replaced_formulas):
                chain = source.read(parts.calc_chain_part)
                for sheet_id, cells in replaced_formulas:
                    if cells:
                        chain = _drop_calc_chain_cells(chain, sheet_id, cells)
                replaced[parts.calc_chain_part] = chain
            result.changed_parts.update(replaced)

            patched_sheet.seek(0)
            with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as output:
                output.comment = source.comment
                for info in source.infolist():
                    copy = _copy_info(info)
                    if info.filename == parts.sheet_part:
                        with output.open(copy, "w", force_zip64=info.file_size > ZIP64_THRESHOLD) as writer:
                            shutil.copyfileobj(patched_sheet, writer, CHUNK_BYTES)
                    elif info.filename in replaced:
                        output.writestr(copy, replaced[info.filename])
                    else:
                        output.writestr(copy, source.read(info))
    return result


def locate_sheet(archive: zipfile.ZipFile, sheet_name: str) -> SheetParts:
    """Find the worksheet called ``sheet_name``, its tables and the calculation chain."""
    workbook_part = _find_relationship_targets(archive, "", OFFICE_DOCUMENT_TYPE)
    if not workbook_part:
        raise WorkbookError(
            _("The package has no workbook part (no officeDocument relationship); it is not an .xlsx workbook.")
        )
    workbook = workbook_part[0][1]
    root = _parse_small_part(archive, workbook)
    relation_id = sheet_id = None
    for sheet in root.iter(f"{{{MAIN_NS}}}sheet"):
        if sheet.get("name") == sheet_name:
            relation_id = sheet.get(f"{{{DOC_REL_NS}}}id")
            sheet_id = sheet.get("sheetId", "")
    if relation_id is None or sheet_id is None:
        raise WorkbookError(_("The workbook has no sheet {sheet}; nothing was written.").format(sheet=repr(sheet_name)))
    properties = root.find(f"{{{MAIN_NS}}}workbookPr")
    date1904 = properties is not None and properties.get("date1904", "0").lower() in ("1", "true")

    targets = {rid: (part, kind) for rid, part, kind in _relationships(archive, workbook)}
    sheet_part, kind = targets.get(relation_id, (None, None))
    if sheet_part is None or kind != WORKSHEET_TYPE:
        raise WorkbookError(
            _("Sheet {sheet} is not a worksheet (a chart sheet or a dialog sheet); salesreg cannot write it.").format(
                sheet=repr(sheet_name)
            )
        )
    if sheet_part not in archive.namelist():
        raise WorkbookError(
            _("The part {part} of sheet {sheet} is missing from the package; the file is damaged.").format(
                part=sheet_part, sheet=repr(sheet_name)
            )
        )
    tables = tuple(part for _, part in _find_relationship_targets(archive, sheet_part, TABLE_TYPE))
    chain = _find_relationship_targets(archive, workbook, CALC_CHAIN_TYPE)
    return SheetParts(sheet_name, sheet_id, sheet_part, tables, chain[0][1] if chain else None, date1904)


def verify_workbook(path: Path, original: bytes, result: PatchResult) -> None:
    """Read the written file back and raise WorkbookError unless it contains exactly what was meant.

    Every zip member is decompressed, which checks its CRC. Parts that were not changed must
    have the CRC and size of the original; changed parts must be well-formed XML; every written
    cell must read back as the XML that was written.
    """
    try:
        with zipfile.ZipFile(path) as written, zipfile.ZipFile(io.BytesIO(original)) as source:
            before = {info.filename: info for info in source.infolist()}
            after = written.infolist()
            if [info.filename for info in after] != list(before):
                raise WorkbookError(_("{path}: the written package does not list the same parts as the original.").format(path=path))
            for info in after:
                if info.filename == result.parts.sheet_part:
                    _verify_sheet(written, info, result)
                elif info.filename in result.changed_parts:
                    _check_well_formed(written.read(info), info.filename)
                else:
                    written.read(info)  # decompressing checks the CRC
                    old = before[info.filename]
                    if (info.CRC, info.file_size) != (old.CRC, old.file_size):
                        raise WorkbookError(_("{path}: part {part} differs from the original.").format(path=path, part=info.filename))
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise WorkbookError(_("{path}: the written file cannot be read back ({error}).").format(path=path, error=exc)) from None


def read_cells(data: bytes, sheet_name: str, wanted: dict[int, set[int]]) -> dict[tuple[int, int], bytes]:
    """Return the raw XML of the wanted cells (row -> columns) of one sheet; missing cells are left out."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        parts = locate_sheet(archive, sheet_name)
        return _collect_cells(archive.read(parts.sheet_part), wanted)


def read_defined_names(data: bytes) -> dict[str, str]:
    """Return the workbook-wide defined names of an .xlsx package, as name -> reference text.

    Names that belong to one sheet (``localSheetId``) are left out.
    """
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        workbook = _find_relationship_targets(archive, "", OFFICE_DOCUMENT_TYPE)
        if not workbook:
            raise WorkbookError(_("The package has no workbook part; it is not an Excel workbook."))
        root = _parse_small_part(archive, workbook[0][1])
    names: dict[str, str] = {}
    for element in root.iter(f"{{{MAIN_NS}}}definedName"):
        if element.get("localSheetId") is None and element.get("name"):
            names[element.get("name", "")] = (element.text or "").strip()
    return names


@dataclass(frozen=True)
class CellFormula:
    """The formula part of a cell's XML: its text without "=", and how it is stored."""

    text: str | None  # None for a cell that shares the formula of another cell
    shared_index: str | None  # the ``si`` of a shared formula
    kind: str  # the ``t`` attribute of ``<f>``: normal, shared, array or dataTable


def cell_formula(cell_xml: bytes) -> CellFormula | None:
    """Return the formula of one cell's XML as ``read_cells`` returns it, or None when it has none."""
    start = re.search(rb"<(?:[\w.-]+:)?f\b([^>]*?)/?>", cell_xml)
    if start is None:
        return None
    attributes = _attributes(start.group(1))
    text = None
    if not start.group(0).endswith(b"/>"):
        element = _formula_element(cell_xml, start)
        content = element[len(start.group(0)) : element.rfind(b"</")]
        text = html.unescape(content.decode("utf-8")) or None
    shared_index = attributes.get(b"si")
    return CellFormula(text, shared_index.decode() if shared_index else None, attributes.get(b"t", b"normal").decode())


def cell_result(cell_xml: bytes) -> tuple[str | None, str]:
    """Return the ``<v>`` text of one cell's XML (None without one) and its ``t`` type ("n" by default)."""
    start_tag = cell_xml[: cell_xml.find(b">") + 1]
    kind = _attributes(start_tag).get(b"t", b"n").decode()
    value = re.search(rb"<(?:[\w.-]+:)?v\b[^>]*?(/?)>", cell_xml)
    if value is None:
        return None, kind
    if value.group(1):
        return "", kind
    end = cell_xml.find(b"</", value.end())
    return html.unescape(cell_xml[value.end() : end].decode("utf-8")), kind


def excel_serial(moment: date | datetime, date1904: bool) -> str:
    """Return ``moment`` (naive, local) as the text of an Excel serial number.

    The 1900 date system counts 1900-02-29, a day that did not exist, so serials of dates
    from 1900-03-01 on are one higher than a plain day count from 1899-12-31.
    """
    if isinstance(moment, datetime):
        moment = moment.replace(tzinfo=None)
        day, clock = moment.date(), moment.time()
    else:
        day, clock = moment, time()
    epoch = date(1904, 1, 1) if date1904 else date(1899, 12, 30)
    days = (day - epoch).days
    if not date1904 and day < date(1900, 3, 1):
        days -= 1
    if days < 0:
        raise WorkbookError(_("{moment} is before the first date Excel can store; nothing was written.").format(moment=moment))
    seconds = clock.hour * 3600 + clock.minute * 60 + clock.second + clock.microsecond / 1_000_000
    if not seconds:
        return str(days)
    return repr(days + seconds / 86400)


# Locating parts


def _relationships(archive: zipfile.ZipFile, part: str) -> list[tuple[str, str, str]]:
    """Return (id, target part, type) of each internal relationship of ``part`` ("" = the package)."""
    folder, name = posixpath.split(part)
    rels_part = posixpath.join(folder, "_rels", name + ".rels")
    if rels_part not in archive.namelist():
        return []
    root = _parse_small_part(archive, rels_part)
    found = []
    for relation in root.iter(f"{{{REL_NS}}}Relationship"):
        if relation.get("TargetMode") == "External":
            continue
        target = relation.get("Target", "")
        resolved = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        found.append((relation.get("Id", ""), resolved, relation.get("Type", "")))
    return found


def _find_relationship_targets(archive: zipfile.ZipFile, part: str, kind: str) -> list[tuple[str, str]]:
    return [(rid, target) for rid, target, rel_kind in _relationships(archive, part) if rel_kind == kind]


def _parse_small_part(archive: zipfile.ZipFile, part: str) -> ET.Element:
    try:
        return ET.fromstring(archive.read(part))
    except (KeyError, ET.ParseError) as exc:
        raise WorkbookError(
            _("Part {part} of the workbook cannot be read ({error}); the file is damaged.").format(part=part, error=exc)
        ) from None


def _copy_info(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    copy = zipfile.ZipInfo(info.filename, date_time=info.date_time)
    copy.compress_type = info.compress_type
    copy.comment = info.comment
    copy.external_attr = info.external_attr
    copy.create_system = info.create_system
    return copy


# Tables


@dataclass
class _TablePlan:
    extension: TableExtension
    first_column: int
    last_column: int
    old_end: int
    new_end: int


def _plan_table_extensions(
    archive: zipfile.ZipFile, parts: SheetParts, rows_to: int | None, edits: Edits, replaced: dict[str, bytes]
) -> list[_TablePlan]:
    """Decide which tables grow to ``rows_to``; store their new XML in ``replaced`` and add formula edits."""
    plans: list[_TablePlan] = []
    if rows_to is None:
        return plans
    for part in parts.table_parts:
        data = archive.read(part)
        root = _parse_small_part(archive, part)
        name = root.get("displayName") or root.get("name") or part
        match = _RANGE.match(root.get("ref", ""))
        if not match or match.group(3) is None:
            continue
        first_column = column_index_from_string(match.group(1).upper())
        last_column = column_index_from_string(match.group(3).upper())
        top, old_end = int(match.group(2)), int(match.group(4))
        if top != HEADER_ROW or old_end >= rows_to:
            continue
        if int(root.get("totalsRowCount", "0") or 0) > 0:
            log.warning(
                "Table %s ends with a totals row, so salesreg does not extend it over rows %d to %d; "
                "remove the totals row or extend the table by hand.", name, old_end + 1, rows_to)
            continue
        old_ref = root.get("ref", "")
        new_ref = f"{match.group(1)}{top}:{match.group(3)}{rows_to}"
        replaced[part] = _extend_table_xml(data, old_ref, new_ref, old_end, rows_to)
        plans.append(_TablePlan(TableExtension(part, name, old_ref, new_ref), first_column, last_column, old_end, rows_to))
        _add_calculated_formulas(root, first_column, old_end, rows_to, edits)
    return plans


def _extend_table_xml(data: bytes, old_ref: str, new_ref: str, old_end: int, new_end: int) -> bytes:
    """Set the table's ref, and the refs of its autofilter and sort state that ended at ``old_end``."""

    def replace_ref(match: re.Match[bytes]) -> bytes:
        ref = match.group(2).decode()
        if ref == old_ref:
            ref = new_ref
        else:
            ref = _extend_range_text(ref, 0, 10**6, old_end, new_end)
        return match.group(1) + ref.encode() + match.group(3)

    pattern = re.compile(rb'(<(?:[\w.-]+:)?(?:table|autoFilter|sortState)\b[^>]*?\sref=")([^"]*)(")')
    return pattern.sub(replace_ref, data)


def _add_calculated_formulas(root: ET.Element, first_column: int, old_end: int, new_end: int, edits: Edits) -> None:
    """Add the formula of each calculated column to the table's new rows, where salesreg writes nothing else."""
    columns = root.find(f"{{{MAIN_NS}}}tableColumns")
    if columns is None:
        return
    name = root.get("displayName") or root.get("name") or ""
    for offset, column in enumerate(columns.findall(f"{{{MAIN_NS}}}tableColumn")):
        formula = column.find(f"{{{MAIN_NS}}}calculatedColumnFormula")
        if formula is None or not (formula.text or "").strip() or formula.get("array") in ("1", "true"):
            continue
        text = _qualify_structured_references(formula.text or "", name)
        letter = get_column_letter(first_column + offset)
        for row in range(old_end + 1, new_end + 1):
            cells = edits.setdefault(row, {})
            cells.setdefault(first_column + offset, Formula(_formula_for_row(text, letter, row)))


def _formula_for_row(text: str, letter: str, row: int) -> str:
    """Return a calculated column's formula for ``row``, moved down from the table's first data row.

    Excel stores the formula as the first data row has it, so relative A1 references shift
    with the row, as Excel shifts them in the rows it adds. Structured references need no shift.
    """
    if "[" in text:
        # NOTE: a formula that mixes structured and A1 references is copied unshifted.
        return text
    moved = Translator("=" + text, origin=f"{letter}{HEADER_ROW + 1}").translate_formula(f"{letter}{row}")
    return str(moved).removeprefix("=")


def _qualify_structured_references(formula: str, table: str) -> str:
    """Put the table's name before each structured reference that lacks one: [@Price] -> Deals[@Price].

    Excel understands both forms inside the table, but LibreOffice (7.4) reads a reference
    without the table name as #N/A.
    """
    if not table:
        return formula
    result: list[str] = []
    depth = 0
    in_string = False
    previous = ""
    for character in formula:
        if character == '"':
            in_string = not in_string
        elif not in_string and character == "[":
            if depth == 0 and not (previous and (previous.isalnum() or previous in "_.]'\\")):
                result.append(table)
            depth += 1
        elif not in_string and character == "]":
            depth = max(depth - 1, 0)
        result.append(character)
        previous = character
    return "".join(result)


def _extend_range_text(text: str, first_column: int, last_column: int, old_end: int, new_end: int) -> str:
    """Extend each range in a space-separated list that ends at ``old_end`` inside the columns."""
    extended = []
    for item in text.split():
        match = _RANGE.match(item)
        if match:
            start_column = column_index_from_string(match.group(1).upper())
            end_letters = match.group(3) or match.group(1)
            end_column = column_index_from_string(end_letters.upper())
            start_row = int(match.group(2))
            end_row = int(match.group(4) or match.group(2))
            if end_row == old_end and start_row <= old_end and first_column <= start_column and end_column <= last_column:
                item = f"{match.group(1)}{start_row}:{end_letters}{new_end}"
        extended.append(item)
    return " ".join(extended)


def _extend_ranges(tail: bytes, prefix: bytes, plans: list[_TablePlan]) -> bytes:
    """Carry validations and conditional formats that end at a table's last row down with the table.

    Only ``sqref`` of dataValidation and conditionalFormatting elements and the ``sqref``
    elements of Excel's extension lists (x14 validations and formats) are changed. A range
    moves only when it lies within the table's columns and ends on the table's old last row.
    """
    if not plans:
        return tail

    def extend(text: str) -> str:
        for plan in plans:
            text = _extend_range_text(text, plan.first_column, plan.last_column, plan.old_end, plan.new_end)
        return text

    def replace_attribute(match: re.Match[bytes]) -> bytes:
        return match.group(1) + extend(match.group(2).decode()).encode() + match.group(3)

    def replace_element(match: re.Match[bytes]) -> bytes:
        return match.group(1) + extend(match.group(3).decode()).encode() + match.group(4)

    def replace_in_block(match: re.Match[bytes]) -> bytes:
        return element.sub(replace_element, match.group(0))

    attribute = re.compile(rb'(<' + prefix + rb'(?:dataValidation|conditionalFormatting)\b[^>]*?\ssqref=")([^"]*)(")')
    tail = attribute.sub(replace_attribute, tail)
    # Only the sqref elements of x14 validations and formats: those of sparklines, for example,
    # must keep matching their data ranges.
    block = re.compile(rb"<([\w.-]+):(dataValidation|conditionalFormatting)\b.*?</\1:\2>", re.S)
    element = re.compile(rb"(<([\w.-]+:)?sqref>)([^<]*)(</\2sqref>)")
    return block.sub(replace_in_block, tail)


# Calculation chain


def _drop_calc_chain_cells(data: bytes, sheet_id: str, cells: set[tuple[int, int]]) -> bytes:
    """Remove the chain entries of ``cells`` on the sheet ``sheet_id``.

    An entry without ``i`` belongs to the sheet of the entry before it, so the sheet of every
    entry is tracked, and the first entry kept after a dropped one gets an explicit ``i``.
    """
    refs = {f"{get_column_letter(column)}{row}".encode() for row, column in cells}
    current_sheet = b""
    carry_sheet = False
    pieces: list[bytes] = []
    last = 0
    for match in re.finditer(rb"<(?:[\w.-]+:)?c\b([^>]*?)/>", data):
        attributes = _attributes(match.group(1))
        explicit = b"i" in attributes
        if explicit:
            current_sheet = attributes[b"i"]
        if current_sheet == sheet_id.encode() and attributes.get(b"r", b"").replace(b"$", b"") in refs:
            pieces.append(data[last : match.start()])
            last = match.end()
            carry_sheet = carry_sheet or explicit
            continue
        if carry_sheet and not explicit:
            pieces.append(data[last : match.start()])
            tag = match.group(0)
            pieces.append(tag[:-2].rstrip() + b' i="' + current_sheet + b'"/>')
            last = match.end()
        carry_sheet = False
    pieces.append(data[last:])
    return b"".join(pieces)


# The sheet


_CONTENT_TAG = re.compile(rb"<(?:[\w.-]+:)?(?:v|f|is)\b")
_FORMULA_TAG = re.compile(rb"<(?:[\w.-]+:)?f\b([^>]*?)/?>")


def _attributes(text: bytes) -> dict[bytes, bytes]:
    # findall gives b"" for the quote style not used, so "or" picks the value that was written.
    return {name: double_quoted or single_quoted for name, double_quoted, single_quoted in _ATTRIBUTE.findall(text)}


def _cell_position(reference: bytes) -> tuple[int, int] | None:
    match = _CELL_REF.match(reference)
    if not match:
        return None
    return int(match.group(2)), column_index_from_string(match.group(1).decode().upper())


@functools.lru_cache(maxsize=8)
def _cell_pattern(prefix: bytes) -> re.Pattern[bytes]:
    # Excel, LibreOffice, openpyxl and XlsxWriter write r and then s first, so the groups catch
    # them without parsing every attribute. Other orders take the slower path in _split_cells.
    return re.compile(
        rb"<" + prefix + rb'c\b(?:\s+r="([A-Z]{1,3})(\d+)")?(?:\s+s="(\d+)")?([^>]*?)(?:/>|>(.*?)</' + prefix + rb"c>)",
        re.S,
    )


@functools.lru_cache(maxsize=None)
def _column_index(letters: bytes) -> int:
    return column_index_from_string(letters.decode().upper())


@functools.lru_cache(maxsize=8)
def _quick_cell_pattern(prefix: bytes) -> re.Pattern[bytes]:
    return re.compile(rb"<" + prefix + rb'c r="([A-Z]{1,3})\d')


@functools.lru_cache(maxsize=8)
def _any_cell_pattern(prefix: bytes) -> re.Pattern[bytes]:
    return re.compile(rb"<" + prefix + rb"c[\s/>]")


@functools.lru_cache(maxsize=None)
def _column_letters(column: int) -> bytes:
    return get_column_letter(column).encode()


def _cell_style(match: re.Match[bytes] | None) -> bytes | None:
    """Return the ``s`` attribute of a cell matched by ``_cell_pattern``."""
    if match is None:
        return None
    if match.group(3) is not None or b"s=" not in match.group(4):
        return match.group(3)
    return _attributes(_start_tag(match)).get(b"s")


def _split_cells(content: bytes, prefix: bytes) -> Iterator[tuple[int, bytes | None, re.Match[bytes]]]:
    """Yield (column, style, match) of each cell in a row's content; group 5 of the match is the inner XML.

    A cell without ``r`` is in the column after the previous cell, as the format defines.
    """
    column = 0
    for match in _cell_pattern(prefix).finditer(content):
        letters, _kind, style, rest, _end = match.groups()
        if letters is not None and (style is not None or b"s=" not in rest):
            column = _column_index(letters)
            yield column, style, match
            continue
        attributes = _attributes(_start_tag(match))
        position = _cell_position(attributes.get(b"r", b""))
        column = position[1] if position else column + 1
        yield column, attributes.get(b"s"), match


def _start_tag(match: re.Match[bytes]) -> bytes:
    text = match.group(0)
    return text[: text.index(b">") + 1]


class _SheetPatcher:
    """One streaming pass over a worksheet's XML that rewrites the edited cells.

    Rows without an edited cell are copied byte for byte, in large slices. Only edited rows,
    and the row just above each, are split into cells.
    """

    def __init__(self, edits: Edits, parts: SheetParts, plans: list[_TablePlan]) -> None:
        self.edits = edits
        self.parts = parts
        self.plans = plans
        self.pending = sorted(edits)  # edited rows that the pass has not reached yet
        self.written_cells: dict[tuple[int, int], bytes] = {}
        self.replaced_formulas: set[tuple[int, int]] = set()
        self.rows_added: list[int] = []
        self.column_styles: dict[int, bytes] = {}  # column -> style of the <col> element
        self.style_above: dict[int, bytes] = {}  # column -> style of the nearest cell above seen so far
        self.edited_columns = {column for cells in edits.values() for column in cells}
        self.last_parsed_row = 0
        self.prefix = b""

    # the pass

    def run(self, reader: BinaryIO, writer: BinaryIO) -> None:
        buffer = b""
        start = None
        while True:
            start = self._sheet_data_start(buffer)
            chunk = b"" if start else reader.read(CHUNK_BYTES)
            if start or not chunk:
                break
            buffer += chunk
        if start is None:
            raise WorkbookError(
                _("Sheet {sheet} has no sheetData element; the file is damaged.").format(sheet=repr(self.parts.sheet_name))
            )
        tag_start, tag_end, self_closing = start
        writer.write(self._patch_head(buffer[:tag_start]))
        if self_closing:
            writer.write(b"<" + self.prefix + b"sheetData>")
            self._write_new_rows(writer, None)
            writer.write(b"</" + self.prefix + b"sheetData>")
            buffer = buffer[tag_end:]
        else:
            writer.write(buffer[tag_start:tag_end])
            buffer = self._patch_rows(reader, writer, buffer[tag_end:])
        tail = buffer + reader.read()
        writer.write(_extend_ranges(tail, self.prefix, self.plans))

    def _sheet_data_start(self, buffer: bytes) -> tuple[int, int, bool] | None:
        if not buffer:
            return None
        if not self.prefix:
            self._detect_prefix(buffer)
        match = re.search(rb"<" + self.prefix + rb"sheetData\b[^>]*?(/?)>", buffer)
        if not match:
            return None
        return match.start(), match.end(), match.group(1) == b"/"

    def _detect_prefix(self, buffer: bytes) -> None:
        if buffer.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise WorkbookError(
                _(
                    "Sheet {sheet} is stored as UTF-16 XML, which salesreg cannot patch; "
                    "save the workbook again from Excel or LibreOffice."
                ).format(sheet=repr(self.parts.sheet_name))
            )
        declared = _XML_ENCODING.match(buffer.lstrip(b"\xef\xbb\xbf"))
        if declared and declared.group(1).lower().replace(b"-", b"") != b"utf8":
            raise WorkbookError(
                _(
                    "Sheet {sheet} is stored in the {encoding} encoding, which "
                    "salesreg cannot patch; save the workbook again from Excel or LibreOffice."
                ).format(sheet=repr(self.parts.sheet_name), encoding=declared.group(1).decode())
            )
        root = _ROOT.search(buffer)
        if root and root.group(1):
            self.prefix = root.group(1) + b":"

    def _patch_head(self, head: bytes) -> bytes:
        for column in re.finditer(rb"<" + self.prefix + rb"col\b([^>]*?)/?>", head):
            attributes = _attributes(column.group(1))
            style = attributes.get(b"style")
            if style is None:
                continue
            low, high = int(attributes.get(b"min", b"0")), int(attributes.get(b"max", b"0"))
            for index in range(low, min(high, MAX_COLUMN) + 1):
                self.column_styles[index] = style
        pattern = rb'(<' + self.prefix + rb'dimension\b[^>]*?\sref=")([^"]*)(")'
        return re.sub(pattern, self._new_dimension, head, count=1)

    def _new_dimension(self, match: re.Match[bytes]) -> bytes:
        if not self.edits:
            return match.group(0)
        top, bottom = min(self.edits), max(self.edits)
        left = min(min(cells) for cells in self.edits.values())
        right = max(max(cells) for cells in self.edits.values())
        old = _RANGE.match(match.group(2).decode())
        if old:
            old_top, old_bottom = int(old.group(2)), int(old.group(4) or old.group(2))
            old_left = column_index_from_string(old.group(1).upper())
            old_right = column_index_from_string((old.group(3) or old.group(1)).upper())
            if old_top <= top and old_left <= left and bottom <= old_bottom and right <= old_right:
                return match.group(0)
            top, left = min(top, old_top), min(left, old_left)
            bottom, right = max(bottom, old_bottom), max(right, old_right)
        ref = f"{get_column_letter(left)}{top}:{get_column_letter(right)}{bottom}"
        return match.group(1) + ref.encode() + match.group(3)

    def _patch_rows(self, reader: BinaryIO, writer: BinaryIO, buffer: bytes) -> bytes:
        """Copy or patch every row; return the rest of the buffer from ``</sheetData>`` on."""
        p = self.prefix
        token = re.compile(rb"<" + p + rb"row\b([^>]*?)(/?)>|</" + p + rb"sheetData>")
        row_end = b"</" + p + b"row>"
        position = 0  # where the next search starts
        copied = 0  # buffer[:copied] is written already
        previous: tuple[int, int] | bytes | None = None  # the last row element, as a span of buffer or as bytes
        row_number = 0
        while True:
            match = token.search(buffer, position)
            is_row = match is not None and match.group(1) is not None
            end = -1
            if match is not None and is_row:
                end = match.end() if match.group(2) else buffer.find(row_end, match.end())
            if match is None or (is_row and end < 0):
                chunk = reader.read(CHUNK_BYTES)
                if not chunk:
                    raise WorkbookError(
                        _("Sheet {sheet} ends inside its sheetData; the file is damaged.").format(sheet=repr(self.parts.sheet_name))
                    )
                writer.write(buffer[copied:position])
                if isinstance(previous, tuple):
                    previous = buffer[previous[0] : previous[1]]
                buffer, copied, position = buffer[position:] + chunk, 0, 0
                continue
            assert match is not None
            if not is_row:  # </sheetData>
                writer.write(buffer[copied : match.start()])
                self._remember_previous(previous, buffer)
                self._write_new_rows(writer, None)
                return buffer[match.start() :]

            element_end = end if match.group(2) else end + len(row_end)
            attributes = _attributes(match.group(1))
            row_number = int(attributes[b"r"]) if b"r" in attributes else row_number + 1
            if self.pending and self.pending[0] <= row_number:
                writer.write(buffer[copied : match.start()])
                self._remember_previous(previous, buffer)
                self._write_new_rows(writer, row_number)
                copied = match.start()
                if self.pending and self.pending[0] == row_number:
                    self.pending.pop(0)
                    content = b"" if match.group(2) else buffer[match.end() : end]
                    writer.write(self._patch_row(row_number, match.group(0), attributes, content))
                    copied = element_end
            previous = (match.start(), element_end)
            position = element_end

    def _remember_previous(self, previous: tuple[int, int] | bytes | None, buffer: bytes) -> None:
        """Note the styles of the row above an edited row in the edited columns, for the cells salesreg creates."""
        if previous is None:
            return
        raw = buffer[previous[0] : previous[1]] if isinstance(previous, tuple) else previous
        start = re.match(rb"<" + self.prefix + rb"row\b([^>]*?)(/?)>", raw)
        if not start:
            return
        number = _attributes(start.group(1)).get(b"r")
        if number is not None and (int(number) <= HEADER_ROW or int(number) == self.last_parsed_row):
            return
        content = raw[start.end() :]
        columns, starts = self._index_cells(content)
        pattern = _cell_pattern(self.prefix)
        for index, column in enumerate(columns):
            if column in self.edited_columns:
                style = _cell_style(pattern.match(content, starts[index]))
                if style is not None:
                    self.style_above[column] = style

    # rows and cells

    def _index_cells(self, content: bytes) -> tuple[list[int], list[int]]:
        """Return the column and the start offset of every cell in a row's content, in order."""
        p = self.prefix
        found = [(match.start(), match.group(1)) for match in _quick_cell_pattern(p).finditer(content)]
        if len(found) == len(_any_cell_pattern(p).findall(content)):
            return [_column_index(letters) for _, letters in found], [start for start, _ in found]
        columns: list[int] = []
        starts: list[int] = []
        for column, _, match in _split_cells(content, p):
            columns.append(column)
            starts.append(match.start())
        return columns, starts

    def _patch_row(self, number: int, start_tag: bytes, attributes: dict[bytes, bytes], content: bytes) -> bytes:
        edits = self.edits[number]
        custom_format = attributes.get(b"customFormat", b"0").lower() in (b"1", b"true")
        row_style = attributes.get(b"s") if custom_format else None
        columns, starts = self._index_cells(content)
        index_of = {column: index for index, column in enumerate(columns)}
        pattern = _cell_pattern(self.prefix)

        pieces: list[bytes] = []
        last = 0  # content[:last] is in pieces already
        written: set[int] = set()
        for column in sorted(edits):
            index = index_of.get(column)
            if index is not None:
                match = pattern.match(content, starts[index])
                assert match is not None  # the same pattern found this cell
                replacement = self._replace_cell(number, column, _attributes(_start_tag(match)), match.group(5) or b"", row_style)
                style = _cell_style(match)
                if style is not None and number > HEADER_ROW:
                    self.style_above[column] = style
                if replacement is not None:
                    pieces += [content[last : match.start()], replacement]
                    last = match.end()
                    written.add(column)
                continue

            new = self._new_cell(number, column, row_style)
            if new is None:
                continue
            # Before the first cell to the right; after the last cell when there is none, so
            # that a row's extLst stays last.
            following = bisect.bisect_right(columns, column)
            if following < len(starts):
                offset = starts[following]
            elif starts:
                last_cell = pattern.match(content, starts[-1])
                offset = last_cell.end() if last_cell else len(content)
            else:
                offset = 0
            pieces += [content[last:offset], new]
            last = offset
            written.add(column)
        pieces.append(content[last:])

        self.last_parsed_row = number
        closing = b"</" + self.prefix + b"row>"
        return self._widen_spans(start_tag, written) + b"".join(pieces) + closing

    def _widen_spans(self, start_tag: bytes, columns: set[int]) -> bytes:
        """Return the row's start tag, opened up if it was empty, with ``spans`` covering ``columns``."""
        if start_tag.endswith(b"/>"):
            start_tag = start_tag[:-2].rstrip() + b">"
        match = re.search(rb'\sspans="(\d+):(\d+)"', start_tag)
        if not match or not columns:
            return start_tag
        low, high = int(match.group(1)), int(match.group(2))
        new_low, new_high = min(low, *columns), max(high, *columns)
        if (new_low, new_high) == (low, high):
            return start_tag
        return start_tag[: match.start()] + f' spans="{new_low}:{new_high}"'.encode() + start_tag[match.end() :]

    def _replace_cell(
        self, row: int, column: int, attributes: dict[bytes, bytes], inner: bytes, row_style: bytes | None
    ) -> bytes | None:
        """Return the new XML of an existing cell, or None to leave it as it is."""
        value = self.edits[row][column]
        has_content = _CONTENT_TAG.search(inner) is not None
        if isinstance(value, Formula) and has_content:
            return None  # a calculated column never overwrites what someone typed
        if _is_empty(value) and not has_content:
            return None
        formula = _FORMULA_TAG.search(inner)
        kept_formula = None
        if formula and isinstance(value, CachedFormula) and value.keep_formula:
            kept_formula = _formula_element(inner, formula)
        elif formula:
            self._check_formula_replaceable(row, column, _attributes(formula.group(1)))
            if not isinstance(value, CachedFormula):
                self.replaced_formulas.add((row, column))
        style = attributes.get(b"s") or self._style_for(column, row_style)
        # Of the other attributes only "ph" (show phonetic text) still applies to a new value;
        # "cm" and "vm" point at metadata of the old value.
        kept = {b"ph": attributes[b"ph"]} if b"ph" in attributes else {}
        return self._cell_xml(row, column, style, value, kept, kept_formula)

    def _check_formula_replaceable(self, row: int, column: int, formula: dict[bytes, bytes]) -> None:
        kind = formula.get(b"t", b"normal")
        reference = f"{get_column_letter(column)}{row}"
        if kind == b"array" or (kind == b"shared" and b"ref" in formula):
            if kind == b"array":
                message = _(
                    "Cell {cell} of sheet {sheet} contains an array formula that covers {covered}; "
                    "writing there would break the other cells. Delete the formulas in that column, save, and run again."
                )
            else:
                message = _(
                    "Cell {cell} of sheet {sheet} contains the master of a shared formula that covers {covered}; "
                    "writing there would break the other cells. Delete the formulas in that column, save, and run again."
                )
            covered = formula.get(b"ref", b"?").decode()
            raise WorkbookError(message.format(cell=reference, sheet=repr(self.parts.sheet_name), covered=covered))
        if kind == b"dataTable":
            raise WorkbookError(
                _(
                    "Cell {cell} of sheet {sheet} is part of a data table; "
                    "move the data table away from that column and run again."
                ).format(cell=reference, sheet=repr(self.parts.sheet_name))
            )

    def _new_cell(self, row: int, column: int, row_style: bytes | None) -> bytes | None:
        value = self.edits[row][column]
        if value is None or value == "":
            return None
        return self._cell_xml(row, column, self._style_for(column, row_style), value, {})

    def _style_for(self, column: int, row_style: bytes | None) -> bytes | None:
        """Return the style of a cell that salesreg creates, or that had none.

        A row with its own format gives its style, as Excel does for cells typed into it.
        Otherwise the style of the nearest cell above in the same column that this pass has
        looked at (the row just above, or an edited row further up), then the column's style.
        """
        return row_style or self.style_above.get(column) or self.column_styles.get(column)

    def _write_new_rows(self, writer: BinaryIO, before: int | None) -> None:
        """Write the edited rows that the sheet lacks and that come before row ``before`` (None: all)."""
        while self.pending and (before is None or self.pending[0] < before):
            number = self.pending.pop(0)
            cells = [self._new_cell(number, column, None) for column in sorted(self.edits[number])]
            present = [cell for cell in cells if cell is not None]
            if not present:
                continue
            row = b"<" + self.prefix + b'row r="' + str(number).encode() + b'">'
            writer.write(row + b"".join(present) + b"</" + self.prefix + b"row>")
            self.rows_added.append(number)

    def _cell_xml(
        self,
        row: int,
        column: int,
        style: bytes | None,
        value: CellValue,
        kept: dict[bytes, bytes],
        kept_formula: bytes | None = None,
    ) -> bytes:
        p = self.prefix
        if style:
            head = b'<%sc r="%s%d" s="%s"' % (p, _column_letters(column), row, style)
        else:
            head = b'<%sc r="%s%d"' % (p, _column_letters(column), row)
        for name, text in kept.items():
            head += b' %s="%s"' % (name, text)

        if value is None or value == "":
            xml = head + b"/>"
        elif type(value) is str:
            space = b' xml:space="preserve"' if value != value.strip() or "\n" in value else b""
            xml = b'%s t="inlineStr"><%sis><%st%s>%s</%st></%sis></%sc>' % (head, p, p, space, _escape(value), p, p, p)
        elif isinstance(value, bool):
            xml = b'%s t="b"><%sv>%s</%sv></%sc>' % (head, p, b"1" if value else b"0", p, p)
        elif isinstance(value, (int, float, Decimal)):
            xml = b"%s><%sv>%s</%sv></%sc>" % (head, p, _number_text(value).encode(), p, p)
        elif isinstance(value, (datetime, date)):
            serial = excel_serial(value, self.parts.date1904).encode()
            xml = b"%s><%sv>%s</%sv></%sc>" % (head, p, serial, p, p)
        elif isinstance(value, Formula):
            xml = b"%s><%sf>%s</%sf></%sc>" % (head, p, _escape(value.text), p, p)
        elif isinstance(value, CachedFormula):
            formula = kept_formula or b"<%sf>%s</%sf>" % (p, _escape(value.text), p)
            if isinstance(value.result, str):
                result = _escape(value.result)
                head += b' t="str"'
            else:
                result = _number_text(value.result).encode()
            xml = b"%s>%s<%sv>%s</%sv></%sc>" % (head, formula, p, result, p, p)
        else:
            raise TypeError(f"cannot write a {type(value).__name__} into a cell")
        self.written_cells[(row, column)] = xml
        return xml


def _formula_element(inner: bytes, start: re.Match[bytes]) -> bytes:
    """Return the whole ``<f>`` element whose start tag ``start`` matched in a cell's inner XML."""
    if start.group(0).endswith(b"/>"):
        return start.group(0)
    prefix = re.match(rb"<((?:[\w.-]+:)?)f", start.group(0)).group(1)  # type: ignore[union-attr]
    end = inner.find(b"</" + prefix + b"f>", start.end())
    if end < 0:
        raise WorkbookError(_("A formula element of the sheet has no end tag; the file is damaged."))
    return inner[start.start() : end + len(prefix) + 4]


def _is_empty(value: CellValue) -> bool:
    return value is None or (isinstance(value, str) and value == "")


def _number_text(value: int | float | Decimal) -> str:
    if isinstance(value, float):
        if not math.isfinite(value):
            raise WorkbookError(_("{value} cannot be stored in a cell; nothing was written.").format(value=repr(value)))
        return repr(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise WorkbookError(_("{value} cannot be stored in a cell; nothing was written.").format(value=value))
        return format(value, "f")
    return str(value)


def _escape(text: str) -> bytes:
    """Return ``text`` as the UTF-8 content of an XML element, with Excel's _xHHHH_ escapes."""
    if "&" in text or "<" in text or ">" in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if "_x" in text:
        # A literal "_x0041_" would read back as "A", so its underscore is escaped as _x005F_.
        text = _ESCAPE_LIKE.sub(lambda match: "_x005F" + match.group(0), text)
    if _ILLEGAL_XML.search(text):
        text = _ILLEGAL_XML.sub(lambda match: f"_x{ord(match.group(0)):04X}_", text)
    return text.encode("utf-8")


# Reading back


def _collect_cells(data: bytes, wanted: dict[int, set[int]]) -> dict[tuple[int, int], bytes]:
    """Return the raw XML of the wanted cells (row -> columns) of a worksheet's XML.

    Every wanted cell must carry its ``r`` attribute, as the cells that salesreg writes do.
    """
    prefix = _prefix_of(data)
    cell_end = re.compile(rb"/>|</" + prefix + rb"c>")
    found: dict[tuple[int, int], bytes] = {}
    for number, (content_start, content_end) in _row_spans(data, prefix, set(wanted)).items():
        for column in wanted[number]:
            cell_start = data.find(b'<%sc r="%s%d"' % (prefix, _column_letters(column), number), content_start, content_end)
            closing = cell_end.search(data, cell_start) if cell_start >= 0 else None
            if closing:
                found[(number, column)] = data[cell_start : closing.end()]
    return found


def _prefix_of(data: bytes) -> bytes:
    root = _ROOT.search(data)
    return root.group(1) + b":" if root and root.group(1) else b""


def _row_spans(data: bytes, prefix: bytes, wanted: set[int]) -> dict[int, tuple[int, int]]:
    """Return where the content of each wanted row is in a worksheet's XML.

    Rows are found by their ``r`` attribute first; rows written without it by counting rows.
    """
    row_start = re.compile(rb"<" + prefix + rb"row\b([^>]*?)(/?)>")
    row_end = b"</" + prefix + b"row>"
    sheet_data = max(data.find(b"<" + prefix + b"sheetData"), 0)
    spans: dict[int, tuple[int, int]] = {}
    position = sheet_data
    for number in sorted(wanted):
        at = data.find(b'<%srow r="%d"' % (prefix, number), position)
        match = row_start.match(data, at) if at >= 0 else None
        if match is None:
            break
        end = match.end() if match.group(2) else data.find(row_end, match.end())
        spans[number] = (match.end(), end)
        position = end
    if len(spans) < len(wanted):
        row_number = 0
        for match in row_start.finditer(data, sheet_data):
            attributes = _attributes(match.group(1))
            row_number = int(attributes[b"r"]) if b"r" in attributes else row_number + 1
            if row_number in wanted and row_number not in spans:
                end = match.end() if match.group(2) else data.find(row_end, match.end())
                spans[row_number] = (match.end(), end)
    return spans


def _verify_sheet(archive: zipfile.ZipFile, info: zipfile.ZipInfo, result: PatchResult) -> None:
    """Check the written sheet in chunks, so that memory does not grow with the sheet's size.

    Rows are looked up by their ``r`` attribute, in order. When a written row is not found
    that way (rows written without ``r``), the whole part is read and checked as one.
    """
    by_row: dict[int, list[int]] = {}
    for row, column in result.written_cells:
        by_row.setdefault(row, []).append(column)
    pending = sorted(by_row)
    parser = expat.ParserCreate()
    prefix: bytes | None = None
    buffer = b""
    with archive.open(info) as stream:
        while True:
            chunk = stream.read(CHUNK_BYTES)
            _feed_well_formed(parser, chunk, info.filename, final=not chunk)
            buffer += chunk
            if prefix is None:
                prefix = _prefix_of(buffer)
            row_end = b"</" + prefix + b"row>"
            cut = len(buffer) if not chunk else buffer.rfind(row_end) + len(row_end)
            if cut >= len(row_end) or not chunk:
                pending = _verify_rows(buffer[:cut], prefix, pending, by_row, result)
                buffer = buffer[cut:]
            if not chunk:
                break
    if pending:
        _verify_sheet_whole(archive.read(info), by_row, result)


def _verify_rows(region: bytes, prefix: bytes, pending: list[int], by_row: dict[int, list[int]], result: PatchResult) -> list[int]:
    """Check the written cells of the rows of ``pending`` that ``region`` contains whole; return the rest."""
    row_start = re.compile(rb"<" + prefix + rb"row\b([^>]*?)(/?)>")
    row_end = b"</" + prefix + b"row>"
    position = 0
    for index, number in enumerate(pending):
        at = region.find(b'<%srow r="%d"' % (prefix, number), position)
        match = row_start.match(region, at) if at >= 0 else None
        if match is None:
            return pending[index:]
        end = match.end() if match.group(2) else region.find(row_end, match.end())
        _verify_row_cells(region, prefix, number, match.end(), end, by_row[number], result)
        position = end
    return []


def _verify_row_cells(data: bytes, prefix: bytes, row: int, start: int, end: int, columns: list[int], result: PatchResult) -> None:
    for column in columns:
        expected = result.written_cells[(row, column)]
        at = data.find(b'<%sc r="%s%d"' % (prefix, _column_letters(column), row), start, end)
        if at < 0 or not data.startswith(expected, at):
            raise WorkbookError(
                _("Cell {cell} did not read back as written; the file was not replaced.").format(
                    cell=f"{get_column_letter(column)}{row}"
                )
            )


def _verify_sheet_whole(data: bytes, by_row: dict[int, list[int]], result: PatchResult) -> None:
    prefix = _prefix_of(data)
    spans = _row_spans(data, prefix, set(by_row))
    for row, columns in by_row.items():
        content_start, content_end = spans.get(row, (0, 0))
        _verify_row_cells(data, prefix, row, content_start, content_end, columns, result)


def _feed_well_formed(parser: expat.XMLParserType, chunk: bytes, part: str, final: bool) -> None:
    try:
        parser.Parse(chunk, final)
    except expat.ExpatError as exc:
        raise _not_well_formed(part, exc) from None


def _check_well_formed(data: bytes, part: str) -> None:
    parser = expat.ParserCreate()
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise _not_well_formed(part, exc) from None


def _not_well_formed(part: str, error: expat.ExpatError) -> WorkbookError:
    return WorkbookError(
        _("Part {part} of the written file is not well-formed XML ({error}); the file was not replaced.").format(
            part=part, error=error
        )
    )
