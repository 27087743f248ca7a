"""Build real register workbooks and configs on disk for tests."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl

from salesreg.config import Config, load_config
from salesreg.fields import COLUMNS
from salesreg.formulas import text_input_message
from salesreg.template import build_template

TEAM = (
    ("Aiko Tanaka", "aiko@example.com", "Kenji Mori", "Yes"),
    ("Ben Carter", "ben@example.com", "Kenji Mori", "Yes"),
    ("Old Rep", "old@example.com", "Kenji Mori", "No"),
    ("Kenji Mori", "kenji@example.com", "", "Yes"),
)

POSITIONS = {column.field: index for index, column in enumerate(COLUMNS, start=1)}


def valid_deal(**overrides: Any) -> dict[str, Any]:
    """Return a deal that passes every check in Lead stage; overrides replace fields."""
    deal: dict[str, Any] = {
        "customer": "Sakura Logistics",
        "title": "Fleet tracking",
        "rep": "Aiko Tanaka",
        "stage": "Lead",
        "expected_close": date(2026, 6, 30),
        "monthly_price": 100_000,
        "service_start": date(2026, 10, 1),
    }
    deal.update(overrides)
    return deal


def write_config(folder: Path, text: str = "") -> Path:
    """Write config.toml in ``folder`` with ``text`` (TOML) and return its path."""
    path = folder / "config.toml"
    path.write_text(text, "utf-8")
    return path


def make_register(path: Path, deals: list[dict[str, Any]], team: tuple[tuple[str, str, str, str], ...] = TEAM) -> Path:
    """Write the template with ``team`` and ``deals`` (field -> value) to ``path``."""
    build_template(path)
    workbook = openpyxl.load_workbook(path)
    team_sheet = workbook["Team"]
    for row, member in enumerate(team, start=2):
        for column, value in enumerate(member, start=1):
            team_sheet.cell(row=row, column=column, value=value)
    sheet = workbook["Deals"]
    for row, deal in enumerate(deals, start=2):
        for name, value in deal.items():
            sheet.cell(row=row, column=POSITIONS[name], value=value)
    workbook.save(path)
    return path


def edit_row(path: Path, row: int, **values: Any) -> None:
    """Change cells of one row the way a rep saving from Excel would."""
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Deals"]
    for name, value in values.items():
        sheet.cell(row=row, column=POSITIONS[name], value=value)
    workbook.save(path)


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Return every non-empty Deals row as header text -> cached value."""
    workbook = openpyxl.load_workbook(path, data_only=True)
    sheet = workbook["Deals"]
    headers = [cell.value for cell in sheet[1]]
    rows = []
    for cells in sheet.iter_rows(min_row=2, values_only=True):
        if any(value is not None for value in cells):
            rows.append(dict(zip(headers, cells)))
    return rows


def setup_folder(folder: Path, deals: list[dict[str, Any]], config_text: str = "") -> Config:
    """Create config.toml and register.xlsx in ``folder``; return the loaded config."""
    make_register(folder / "register.xlsx", deals)
    return load_config(write_config(folder, config_text))


def at(text: str) -> datetime:
    """Return a Tokyo time from ``2026-06-30T17:05``."""
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("Asia/Tokyo"))


# Workbooks with content that openpyxl does not keep, and edits that keep every other part.

DEALS_SHEET_PART = "xl/worksheets/sheet1.xml"  # where XlsxWriter puts the first sheet
SLICER_REL_TYPE = "http://schemas.microsoft.com/office/2007/relationships/slicer"
SLICER_CACHE_REL_TYPE = "http://schemas.microsoft.com/office/2007/relationships/slicerCache"
X14_NS = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"
XM_NS = "http://schemas.microsoft.com/office/excel/2006/main"
# The ECMA-376 hash attributes of a sheet protected with a modern password. The values are
# made up, because salesreg only has to carry them over.
MODERN_PROTECTION = (
    b'<sheetProtection algorithmName="SHA-512" hashValue="bWFkZSB1cCBmb3IgYSB0ZXN0IG9mIHNhbGVzcmVn" '
    b'saltValue="c2FsdHNhbHQ=" spinCount="100000" sheet="1" objects="1" scenarios="1" '
    b'formatColumns="0" formatRows="0" insertRows="0" sort="0" autoFilter="0"/>'
)


def png_bytes(width: int = 4, height: int = 4) -> bytes:
    """Return a small red PNG image."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def make_rich_register(path: Path, deals: list[dict[str, Any]], team: tuple[tuple[str, str, str, str], ...] = TEAM) -> Path:
    """Write a register with XlsxWriter that contains what a team adds to a shared workbook.

    The Deals sheet has an Excel table with a calculated column (formulas with cached
    results), column formats, drop-downs (also one in Excel's x14 extension list), a chart, an
    image, a text box, a comment, a conditional format, a slicer and a sheet protection with a
    SHA-512 password hash. A Report sheet has a chart and a formula with its cached result.
    A path ending in .xlsm also gets a VBA project (made-up bytes: nothing runs it).
    """
    import io
    import xlsxwriter

    from salesreg.fields import TEAM_HEADERS
    from salesreg.money import excel_number_format
    from salesreg.template import COMPUTED_COLOR

    workbook = xlsxwriter.Workbook(str(path))
    deals_sheet = workbook.add_worksheet("Deals")
    team_sheet = workbook.add_worksheet("Team")
    lists = workbook.add_worksheet("Lists")
    report = workbook.add_worksheet("Report")

    rep_format = workbook.add_format({"locked": False})
    date_format = workbook.add_format({"locked": False, "num_format": "yyyy-mm-dd"})
    money_format = workbook.add_format({"locked": False, "num_format": "#,##0"})
    computed = {"bg_color": "#" + COMPUTED_COLOR, "locked": True}
    computed_formats = {
        "text": workbook.add_format(computed),
        "money": workbook.add_format({**computed, "num_format": excel_number_format("JPY")}),
        "datetime": workbook.add_format({**computed, "num_format": "yyyy-mm-dd hh:mm"}),
        "count": workbook.add_format({**computed, "num_format": "0"}),
    }
    computed_formats["problems"] = workbook.add_format({**computed, "text_wrap": True, "valign": "top"})
    for index, column in enumerate(COLUMNS):
        if column.writer == "sync":
            style = computed_formats["problems" if column.field == "problems" else column.kind]
        else:
            style = {"date": date_format, "money": money_format}.get(column.kind, rep_format)
        deals_sheet.set_column(index, index, column.width, style)

    last_row = 201
    table_columns: list[dict[str, Any]] = [{"header": column.header} for column in COLUMNS]
    table_columns.append({"header": "Annual price", "formula": "=[@[Monthly price]]*12", "format": money_format})
    deals_sheet.add_table(0, 0, last_row - 1, len(table_columns) - 1, {"name": "DealTable", "columns": table_columns})
    for row, deal in enumerate(deals, start=1):
        for name, value in deal.items():
            column = POSITIONS[name] - 1
            if isinstance(value, (date, datetime)):
                deals_sheet.write_datetime(row, column, value, date_format)
            else:
                deals_sheet.write(row, column, value, rep_format)
        price = deal.get("monthly_price") or 0
        deals_sheet.write_formula(row, len(COLUMNS), f"=G{row + 1}*12", money_format, price * 12)

    deals_sheet.data_validation(1, POSITIONS["stage"] - 1, last_row - 1, POSITIONS["stage"] - 1,
                                {"validate": "list", "source": "=Lists!$A$2:$A$6"})
    deals_sheet.conditional_format(1, POSITIONS["fy_sales"] - 1, last_row - 1, POSITIONS["fy_sales"] - 1,
                                   {"type": "cell", "criteria": ">", "value": 1_000_000,
                                    "format": workbook.add_format({"bold": True})})
    deals_sheet.write_comment(0, POSITIONS["customer"] - 1, "The customer's legal name.")
    chart = workbook.add_chart({"type": "column"})
    chart.add_series({"name": "Monthly price", "values": f"=Deals!$G$2:$G${len(deals) + 1}"})
    deals_sheet.insert_chart("AE2", chart)
    deals_sheet.insert_image("AE18", "logo.png", {"image_data": io.BytesIO(png_bytes())})
    deals_sheet.insert_textbox("AE24", "Ask Kenji before you change a stage.")
    deals_sheet.freeze_panes(1, 0)
    deals_sheet.protect()

    for column, header in enumerate(TEAM_HEADERS):
        team_sheet.write(0, column, header)
    for row, member in enumerate(team, start=1):
        for column, value in enumerate(member):
            team_sheet.write(row, column, value)
    for row, stage in enumerate(("Stages", "Lead", "Qualified", "Proposal", "Negotiation", "Closing")):
        lists.write(row, 0, stage)
    for row, outcome in enumerate(("Outcomes", "Won", "Lost")):
        lists.write(row, 1, outcome)
    workbook.define_name("StageList", "=Lists!$A$2:$A$6")

    report.write(0, 0, "Total monthly price")
    total = sum((deal.get("monthly_price") or 0) for deal in deals)
    report.write_formula(0, 1, f"=SUM(Deals!G2:G{last_row})", None, total)
    pie = workbook.add_chart({"type": "pie"})
    pie.add_series({"values": "=Report!$B$1:$B$1"})
    report.insert_chart("D2", pie)
    report.write_url(2, 0, "https://example.com/pipeline", string="Pipeline rules")
    report.merge_range("A5:C5", "Merged note", None)

    if path.suffix == ".xlsm":
        workbook.add_vba_project(io.BytesIO(b"made-up VBA project bytes: salesreg must keep them as they are"), is_stream=True)
        workbook.set_vba_name()
        deals_sheet.set_vba_name()
    workbook.close()
    _add_extension_content(path)
    return path


def _add_extension_content(path: Path) -> None:
    """Add what XlsxWriter cannot write: an x14 drop-down, a slicer, a modern sheet protection."""
    import re
    import zipfile

    with zipfile.ZipFile(path) as source:
        parts = {info.filename: source.read(info) for info in source.infolist()}
    sheet = parts[DEALS_SHEET_PART]
    sheet = re.sub(rb"<sheetProtection\b[^>]*/>", MODERN_PROTECTION, sheet)
    outcome = POSITIONS["outcome"]
    from openpyxl.utils import get_column_letter

    letter = get_column_letter(outcome).encode()
    extensions = (
        b'<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}" xmlns:x14="' + X14_NS.encode() + b'">'
        b'<x14:dataValidations count="1" xmlns:xm="' + XM_NS.encode() + b'">'
        b'<x14:dataValidation type="list" allowBlank="1" showErrorMessage="1">'
        b"<x14:formula1><xm:f>Lists!$B$2:$B$3</xm:f></x14:formula1>"
        b"<xm:sqref>" + letter + b"2:" + letter + b"201</xm:sqref></x14:dataValidation></x14:dataValidations></ext>"
        b'<ext uri="{3A4CF648-6AED-40f4-86FF-DC5316D8AED3}" xmlns:x14="' + X14_NS.encode() + b'">'
        b'<x14:slicerList><x14:slicer r:id="rIdSlicer1"/></x14:slicerList></ext></extLst>'
    )
    assert b"<extLst>" not in sheet
    parts[DEALS_SHEET_PART] = sheet.replace(b"</worksheet>", extensions + b"</worksheet>")

    rels_part = "xl/worksheets/_rels/sheet1.xml.rels"
    parts[rels_part] = parts[rels_part].replace(
        b"</Relationships>",
        b'<Relationship Id="rIdSlicer1" Type="' + SLICER_REL_TYPE.encode() + b'" Target="../slicers/slicer1.xml"/></Relationships>',
    )
    parts["xl/slicers/slicer1.xml"] = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<slicers xmlns="' + X14_NS.encode() + b'"><slicer name="Stage" cache="Slicer_Stage" caption="Stage" rowHeight="241300"/></slicers>'
    )
    parts["xl/slicerCaches/slicerCache1.xml"] = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<slicerCacheDefinition xmlns="' + X14_NS.encode() + b'" name="Slicer_Stage" sourceName="Stage">'
        b'<extLst><x:ext xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" uri="{2F2917AC-EB37-4324-AD4E-5DD8C200BD13}">'
        b'<x15:tableSlicerCache xmlns:x15="http://schemas.microsoft.com/office/spreadsheetml/2010/11/main" tableId="1" column="5"/>'
        b"</x:ext></extLst></slicerCacheDefinition>"
    )
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>",
        b'<Relationship Id="rIdSlicerCache1" Type="' + SLICER_CACHE_REL_TYPE.encode() + b'" Target="slicerCaches/slicerCache1.xml"/></Relationships>',
    )
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>",
        b'<Override PartName="/xl/slicers/slicer1.xml" ContentType="application/vnd.ms-excel.slicer+xml"/>'
        b'<Override PartName="/xl/slicerCaches/slicerCache1.xml" ContentType="application/vnd.ms-excel.slicerCache+xml"/></Types>',
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in parts.items():
            target.writestr(name, data)


def zip_parts(path: Path) -> dict[str, bytes]:
    """Return every part of a zip package, uncompressed, by name."""
    import zipfile

    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def save_rep_edit(path: Path, row: int, sheet: str = "Deals", **values: Any) -> None:
    """Save cells of one Deals row the way a spreadsheet program saves: new file, then rename.

    Unlike ``edit_row``, which goes through openpyxl, this changes nothing but those cells,
    so tests can check that every other part of a rich workbook survives.
    """
    import io
    import os

    from salesreg.xlsx_patch import patch_workbook

    buffer = io.BytesIO()
    patch_workbook(path.read_bytes(), buffer, sheet, {row: {POSITIONS[name]: value for name, value in values.items()}})
    saving = path.with_name(f"{path.name}.{os.getpid()}.saving")
    saving.write_bytes(buffer.getvalue())
    os.replace(saving, path)


def cell_text(path: Path, row: int, field: str, sheet: str = "Deals") -> str:
    """Return the text of one cell, read from the sheet's XML (inline or shared string, or a number)."""
    return cell_text_in(path.read_bytes(), row, field, sheet)


def cell_text_in(data: bytes, row: int, field: str, sheet: str = "Deals") -> str:
    """Return the text of one cell of the workbook ``data``, as ``cell_text`` does."""
    import io
    import re
    import xml.etree.ElementTree as ET
    import zipfile

    from salesreg.xlsx_patch import read_cells

    column = POSITIONS[field]
    raw = read_cells(data, sheet, {row: {column}}).get((row, column))
    if raw is None:
        return ""
    cell = ET.fromstring(re.sub(rb"<(/?)[\w.-]+:", rb"<\1", raw))
    if cell.get("t") == "inlineStr":
        return "".join(cell.itertext())
    value = cell.findtext("v") or ""
    if cell.get("t") == "s":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            strings = ET.fromstring(archive.read("xl/sharedStrings.xml"))
        item = list(strings)[int(value)]
        return "".join(item.itertext())
    return value


def append_rep_text(path: Path, row: int, field: str, text: str) -> str:
    """Add ``text`` to the end of one text cell, reading and saving the file once, as a rep's save does.

    Return the cell's new text.
    """
    import io
    import os
    import tempfile

    from salesreg.xlsx_patch import patch_workbook

    data = path.read_bytes()
    new_text = f"{cell_text_in(data, row, field)} {text}".strip()
    buffer = io.BytesIO()
    patch_workbook(data, buffer, "Deals", {row: {POSITIONS[field]: new_text}})
    handle, saving = tempfile.mkstemp(prefix=f"{path.name}.", suffix=".saving", dir=path.parent)
    with os.fdopen(handle, "wb") as stream:
        stream.write(buffer.getvalue())
    os.replace(saving, path)
    return new_text


# Registers whose cells look the way other programs save them, and checks that sync changes
# nothing but its own columns (tests/test_cells_*.py).


def rewrite_zip_part(path: Path, part: str, change: Any) -> None:
    """Replace one part of the zip package at ``path`` with ``change(old bytes)``; keep every other part."""
    import zipfile

    parts = zip_parts(path)
    parts[part] = change(parts[part])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in parts.items():
            target.writestr(name, data)


def put_cell_xml(path: Path, coordinate: str, cell_xml: str) -> None:
    """Replace the Deals cell at ``coordinate`` (which must exist, as in the template's rows) with raw XML."""
    import re

    pattern = re.compile(rb'<c r="' + coordinate.encode() + rb'"[^>]*?(?:/>|>.*?</c>)', re.DOTALL)

    def change(xml: bytes) -> bytes:
        new, count = pattern.subn(lambda _: cell_xml.encode("utf-8"), xml, count=1)
        assert count == 1, f"no cell {coordinate} in the Deals sheet"
        return new

    rewrite_zip_part(path, DEALS_SHEET_PART, change)


def workbook_cells(path: Path) -> dict[tuple[str, str], Any]:
    """Return (sheet, coordinate) -> value of every non-empty cell of every sheet; formulas as text."""
    workbook = openpyxl.load_workbook(path)
    cells = {}
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.value is not None:
                    cells[(sheet.title, cell.coordinate)] = cell.value
    return cells


SYNC_COLUMNS = frozenset(
    openpyxl.utils.get_column_letter(POSITIONS[column.field]) for column in COLUMNS if column.writer == "sync"
)


def changes_besides_sync_columns(before: dict[tuple[str, str], Any], after: dict[tuple[str, str], Any]) -> list[str]:
    """Return the cells that differ between two ``workbook_cells`` results, except sync's own Deals columns."""
    changed = []
    for key in sorted(set(before) | set(after)):
        sheet, coordinate = key
        column, row = coordinate.rstrip("0123456789"), int(coordinate.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
        if sheet == "Deals" and column in SYNC_COLUMNS and row > 1:
            continue
        if sheet == "Settings" and column == "B" and 2 <= row <= 6:
            continue  # the fiscal-year settings that sync refreshes when the year turns
        if before.get(key) != after.get(key):
            changed.append(f"{sheet}!{coordinate}: {before.get(key)!r} -> {after.get(key)!r}")
    return changed


def rows_by_number(path: Path) -> dict[int, dict[str, Any]]:
    """Return Excel row -> header text -> saved value for every non-empty Deals row."""
    workbook = openpyxl.load_workbook(path, data_only=True)
    sheet = workbook["Deals"]
    headers = [cell.value for cell in sheet[1]]
    rows = {}
    for number, cells in enumerate(sheet.iter_rows(min_row=2, values_only=True), start=2):
        if any(value is not None for value in cells):
            rows[number] = dict(zip(headers, cells))
    return rows


CASE_NOW = "2026-06-20T09:00"  # fiscal year April 2026 - March 2027


class CaseRun:
    """One command run on a prepared register: its result, the saved rows and the typed deals."""

    def __init__(self, folder: Path, command: str = "sync", now: str = CASE_NOW) -> None:
        from click.testing import CliRunner

        from salesreg.cli import main
        from salesreg.register import read_register
        from salesreg.validate import TeamIndex, check_deal

        config_path = folder / "config.toml"
        config = load_config(config_path)
        self.path = config.register.path
        before = workbook_cells(config.register.path)
        self.result = CliRunner().invoke(main, ["--config", str(config_path), command, "--now", now], catch_exceptions=False)
        self.changes = changes_besides_sync_columns(before, workbook_cells(config.register.path))
        self.rows = rows_by_number(config.register.path)
        snapshot = read_register(config)
        team = TeamIndex(snapshot.team)
        today = datetime.fromisoformat(now).date()
        # Typed values as read_register and check_deal return them; problems name row 1's headers.
        self.deals = {row.row: check_deal(row.row, row.values, config, team, today, snapshot.headers) for row in snapshot.rows}

    def problems(self, row: int) -> str | None:
        """Return the Problems cell of ``row`` as sync saved it."""
        return self.rows[row]["Problems"]


def notice_for(header: str, raw: object) -> str | None:
    """Return the Problems notice of a price, date or count typed as text, which salesreg still reads.

    A case written as raw sheet XML ("<v>...</v>|style") is a number cell and gets none.
    """
    if not isinstance(raw, str) or raw.startswith("<v>"):
        return None
    return text_input_message(header, raw)
