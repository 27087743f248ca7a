"""Read the register for an import and write the planned cells into the file.

The import owns one extra column of the Deals sheet, Source ID by default, which salesreg's
reader ignores. It writes the imported fields of new and updated rows, the Source ID of new
rows, and new people and blank cells of the Team sheet, with an Office column when the team
file has offices. Like sync, it patches the cells into the file's XML (``xlsx_patch``) instead
of loading and saving the workbook, so charts, comments, formats and Excel's own validations
stay as they are. New rows take the style of the row above; the tables, drop-downs and
checks that end on a table's last row grow over them.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable
from typing import Any, BinaryIO
from xml.sax.saxutils import quoteattr

import openpyxl
from openpyxl.utils import get_column_letter, range_boundaries

from ..atomic import TEMP_PREFIX, RegisterChanged, replace_file
from ..config import Config
from ..errors import WorkbookError
from ..fields import TEAM_OFFICE_HEADER
from ..i18n import _
from ..parse import canonical, clean_text, fold
from ..register import RegisterSnapshot, check_not_busy, read_register
from ..template import FIRST_DATA_ROW
from ..xlsx_patch import Edits, locate_sheet, patch_workbook, verify_workbook
from .plan import ImportPlan, RegisterImage, TeamPlan


@dataclass
class RegisterForImport:
    snapshot: RegisterSnapshot
    data: bytes  # the file's bytes as read; the import writes only over exactly these
    source_id_column: int | None  # 1-based; None until the first import adds the column
    last_deals_header: int  # last column of the Deals sheet with a header
    team_columns: dict[str, int]  # folded Team header -> 1-based column
    image: RegisterImage


def open_register_for_import(config: Config, id_header: str, fields: tuple[str, ...]) -> RegisterForImport:
    """Read the register with salesreg's reader, and its Source ID column and Team headers besides.

    Raise RegisterChanged when the file changed between the two reads.
    """
    snapshot = read_register(config)
    data = config.register.path.read_bytes()
    if hashlib.sha256(data).hexdigest() != snapshot.digest:
        raise RegisterChanged(
            _("{path} was saved by someone else during this run; nothing was written. Run again.").format(path=config.register.path)
        )

    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        deals = workbook[config.register.sheet]
        deals_headers = _header_positions(deals)
        id_column = deals_headers.get(fold(id_header))
        rows_by_source_id: dict[str, list[int]] = {}
        last_row = snapshot.last_row
        if id_column is not None:
            cells = deals.iter_rows(min_row=FIRST_DATA_ROW, min_col=id_column, max_col=id_column, values_only=True)
            for row, values in enumerate(cells, start=FIRST_DATA_ROW):
                source_id = clean_text(values[0]) if values else ""
                if source_id:
                    rows_by_source_id.setdefault(source_id, []).append(row)
                    last_row = max(last_row, row)
        team_columns = _header_positions(workbook[config.register.team_sheet])
    finally:
        workbook.close()

    values = {row.row: {name: canonical(row.values.get(name)) for name in fields} for row in snapshot.rows}
    image = RegisterImage(values, rows_by_source_id, last_row)
    return RegisterForImport(snapshot, data, id_column, max(deals_headers.values(), default=0), team_columns, image)


def _header_positions(sheet: Any) -> dict[str, int]:
    header = next(sheet.iter_rows(max_row=1, values_only=True), ())
    return {fold(clean_text(value)): index for index, value in enumerate(header, start=1) if clean_text(value)}


def build_import(target: RegisterForImport, plan: ImportPlan, config: Config, id_header: str, fields: tuple[str, ...]) -> tuple[bytes, list[str]]:
    """Return the new content of the register file and notices about its layout.

    Each step (a table column, the Deals cells, the Team cells) is verified by reading its
    output back before the next one starts; WorkbookError stops the import with nothing written.
    """
    notices: list[str] = []
    data = target.data
    columns = target.snapshot.columns
    edits: Edits = {}

    id_column = target.source_id_column
    if id_column is None:
        id_column = target.last_deals_header + 1
        data, inside = add_table_column(data, config.register.sheet, id_column, id_header)
        if not inside:
            notices.append(
                _("The {header} column was added right of the last header, outside the Excel table, because "
                  "the table does not end there. Extend the table over it in Excel, so that sorting the table "
                  "keeps each {header} with its row.").format(header=id_header)
            )
        edits[1] = {id_column: id_header}

    row = target.image.last_row
    for new_row in plan.new_rows:
        row += 1
        cells: dict[int, Any] = {columns[name]: new_row.deal.values[name] for name in fields if new_row.deal.values.get(name) is not None}
        cells[id_column] = new_row.deal.source_id
        edits[row] = cells
    for update in plan.updates:
        edits.setdefault(update.row, {}).update({columns[name]: value for name, value in update.changes.items()})
    if edits:
        data = _patch(data, config.register.sheet, edits, row)

    if plan.team.additions or plan.team.fills:
        data = _write_team(data, config, plan.team, target)
    return data, notices


def _write_team(data: bytes, config: Config, plan: TeamPlan, target: RegisterForImport) -> bytes:
    positions = dict(target.team_columns)
    edits: Edits = {}
    office = fold(TEAM_OFFICE_HEADER)
    if office not in positions and plan.writes_office:
        positions[office] = max(positions.values(), default=0) + 1
        data, _added = add_table_column(data, config.register.team_sheet, positions[office], TEAM_OFFICE_HEADER)
        edits[1] = {positions[office]: TEAM_OFFICE_HEADER}

    def put(row: int, header: str, value: str) -> None:
        column = positions.get(fold(header))
        if column is not None and value:
            edits.setdefault(row, {})[column] = value

    row = max((member.row for member in target.snapshot.team), default=1)
    for entry in plan.additions:
        row += 1
        for header, value in (("Name", entry.name), ("Email", entry.email), ("Manager", entry.manager),
                              ("Active", "Yes"), (TEAM_OFFICE_HEADER, entry.office)):
            put(row, header, value)
    for fill in plan.fills:
        put(fill.row, fill.header, fill.value)
    return _patch(data, config.register.team_sheet, edits, row)


def _patch(data: bytes, sheet: str, edits: Edits, rows_to: int) -> bytes:
    """Apply ``edits`` to one sheet and check the result by reading it back."""
    buffer = io.BytesIO()
    result = patch_workbook(data, buffer, sheet, edits, rows_to)
    with tempfile.TemporaryDirectory(prefix="salesreg-import-") as folder:
        written = Path(folder) / "check.xlsx"
        written.write_bytes(buffer.getvalue())
        verify_workbook(written, data, result)
    return buffer.getvalue()


def add_table_column(data: bytes, sheet: str, column: int, header: str) -> tuple[bytes, bool]:
    """Widen the sheet's table that has its header in row 1 and ends just left of ``column``.

    Returns the new package and whether a table was widened; without such a table the package
    is returned unchanged. The header cell itself is written by the caller, because Excel
    requires it to hold the column's name.
    """
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for part in locate_sheet(archive, sheet).table_parts:
            xml = archive.read(part)
            ref = ET.fromstring(xml).get("ref", "")
            try:
                first_column, first_row, last_column, last_row = range_boundaries(ref)
            except (TypeError, ValueError):
                continue
            if first_row != 1 or last_column != column - 1:
                continue
            new_ref = f"{ref.split(':')[0]}:{get_column_letter(column)}{last_row}"
            return _replace_part(data, part, _with_table_column(xml, ref, new_ref, header)), True
    return data, False


def _with_table_column(xml: bytes, old_ref: str, new_ref: str, header: str) -> bytes:
    """Return the table XML with one more column named ``header`` and the range ``new_ref``."""
    prefix_match = re.search(rb"<([\w.-]+:)?table\b", xml)
    prefix = (prefix_match.group(1) or b"") if prefix_match else b""
    ref_pattern = re.compile(rb'(<(?:[\w.-]+:)?(?:table|autoFilter)\b[^>]*?\sref=")' + re.escape(old_ref.encode()) + rb'(")')
    xml = ref_pattern.sub(lambda match: match.group(1) + new_ref.encode() + match.group(2), xml)

    ids = [int(number) for number in re.findall(rb'<(?:[\w.-]+:)?tableColumn\b[^>]*?\sid="(\d+)"', xml)]
    count_pattern = re.compile(rb'(<(?:[\w.-]+:)?tableColumns\b[^>]*?\scount=")(\d+)(")')
    xml = count_pattern.sub(lambda match: match.group(1) + str(int(match.group(2)) + 1).encode() + match.group(3), xml, count=1)
    column = b"<%stableColumn id=\"%d\" name=%s/>" % (prefix, max(ids, default=0) + 1, quoteattr(header).encode())
    closing = b"</" + prefix + b"tableColumns>"
    if closing not in xml:
        raise WorkbookError(
            _("The table with range {range} has no list of columns; salesreg cannot add {header} to it.").format(
                range=old_ref, header=repr(header))
        )
    xml = xml.replace(closing, column + closing, 1)
    try:
        ET.fromstring(xml)
    except ET.ParseError as exc:
        raise WorkbookError(
            _("Adding the column {header} to the table {range} gave invalid XML ({error}); nothing was written.").format(
                header=repr(header), range=old_ref, error=exc)
        ) from None
    return xml


def _replace_part(data: bytes, part: str, content: bytes) -> bytes:
    """Return the package with one part replaced and every other part copied unchanged."""
    output = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as target:
        target.comment = source.comment
        for info in source.infolist():
            copy = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            copy.compress_type = info.compress_type
            copy.external_attr = info.external_attr
            copy.create_system = info.create_system
            target.writestr(copy, content if info.filename == part else source.read(info))
    return output.getvalue()


def save_register(config: Config, target: RegisterForImport, content: bytes, created: bool) -> Path | None:
    """Write ``content`` as the register; return the newest backup, or None.

    An existing register is replaced atomically with rotated backups, only if it still contains
    the bytes that were read. A new register is created only if no file appeared at its path
    meanwhile. Raises WorkbookBusy when a lock file exists and RegisterChanged when someone
    else saved or created the file.
    """
    path = config.register.path
    stale_hours = config.register.stale_lock_hours
    expected = hashlib.sha256(content).hexdigest()

    def verify(temporary: Path) -> None:
        if hashlib.sha256(temporary.read_bytes()).hexdigest() != expected:
            raise WorkbookError(_("{temporary} did not read back as written; {path} was not replaced.").format(temporary=temporary, path=path))

    def write(stream: BinaryIO) -> None:
        stream.write(content)

    if created:
        _create_exclusively(path, content, verify)
        return None
    return replace_file(
        path,
        write,
        verify,
        target.snapshot.digest,
        config.register.backups,
        before_replace=lambda: check_not_busy(path, stale_hours),
    )


def _create_exclusively(path: Path, content: bytes, verify: Callable[[Path], None]) -> None:
    """Create ``path`` with ``content`` through a temporary file; never replace a file that exists."""
    handle, temp_name = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{path.name}.", suffix=".tmp", dir=path.parent)
    temp = Path(temp_name)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temp, 0o644)  # mkstemp makes the file private, but the register is a shared document
        verify(temp)
        try:
            os.link(temp, path)  # fails when the name exists, so a register made meanwhile stays
        except FileExistsError:
            raise RegisterChanged(
                _("{path} was created by someone else during this run; nothing was written. Run again.").format(path=path)
            ) from None
        except OSError:
            # NOTE: some network file systems have no hard links; then a file created between
            # this check and the rename would be replaced.
            if path.exists():
                raise RegisterChanged(
                _("{path} was created by someone else during this run; nothing was written. Run again.").format(path=path)
            ) from None
            os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
