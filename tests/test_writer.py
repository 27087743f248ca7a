"""The writer: cells, styles, tables, lock files, backups and the checks before a replace."""

from __future__ import annotations

import os
import re
import sqlite3
import time
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Callable

import openpyxl
import pytest
import xlsxwriter

import salesreg.atomic as atomic
import salesreg.jobs as jobs
from helpers import (
    POSITIONS,
    at,
    cell_text,
    make_register,
    read_rows,
    save_rep_edit,
    setup_folder,
    valid_deal,
    write_config,
    zip_parts,
)
from salesreg.atomic import RegisterChanged
from salesreg.config import load_config
from salesreg.errors import WorkbookError
from salesreg.jobs import run_sync
from salesreg.register import read_register, write_register
from salesreg.formulas import formula_cells
from salesreg.xlsx_patch import Formula, patch_workbook, verify_workbook

SHEET = "xl/worksheets/sheet1.xml"
NOW = "2026-06-20T09:00"


def rewrite_part(path: Path, part: str, change: Callable[[bytes], bytes]) -> None:
    """Rewrite one zip part of ``path`` in place, the others as they are."""
    parts = zip_parts(path)
    parts[part] = change(parts[part])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def style_of(path: Path, row: int, field: str) -> str | None:
    """Return the s attribute of one Deals cell, from the sheet's XML."""
    letter = openpyxl.utils.get_column_letter(POSITIONS[field])
    match = re.search(rb'<c r="' + f"{letter}{row}".encode() + rb'"(?: s="(\d+)")?', zip_parts(path)[SHEET])
    assert match, f"no cell {letter}{row}"
    return match.group(1).decode() if match.group(1) else None


def patch(path: Path, edits: dict, rows_to: int | None = None) -> Path:
    data = path.read_bytes()
    target = path.with_name("patched.xlsx")
    with open(target, "wb") as stream:
        result = patch_workbook(data, stream, "Deals", edits, rows_to)
    verify_workbook(target, data, result)
    return target


# cells and styles


def test_written_cell_keeps_style(tmp_path: Path) -> None:
    path = make_register(tmp_path / "register.xlsx", [valid_deal()])
    before = style_of(path, 2, "deadline")
    patched = patch(path, {2: {POSITIONS["deadline"]: datetime(2026, 6, 30, 18, 0)}})
    assert style_of(patched, 2, "deadline") == before
    cell = openpyxl.load_workbook(patched)["Deals"].cell(row=2, column=POSITIONS["deadline"])
    assert cell.value == datetime(2026, 6, 30, 18, 0)
    assert cell.number_format == "yyyy-mm-dd hh:mm"


def test_new_row_takes_style_from_above(tmp_path: Path) -> None:
    path = make_register(tmp_path / "register.xlsx", [valid_deal()])
    edits = {250: {POSITIONS["deal_id"]: "D-000009", POSITIONS["customer"]: "Late Co", POSITIONS["fy_sales"]: 600000}}
    patched = patch(path, edits)
    for field in ("deal_id", "customer", "fy_sales"):
        assert style_of(patched, 250, field) == style_of(path, 201, field), field
    cell = openpyxl.load_workbook(patched)["Deals"].cell(row=250, column=POSITIONS["fy_sales"])
    assert cell.fill.fgColor.rgb.endswith("D9D9D9")
    assert cell.protection.locked


def test_text_written_inline(tmp_path: Path) -> None:
    path = make_register(tmp_path / "register.xlsx", [valid_deal()])
    text = "  Line one & <two>\nSecond line\x0b, typed as _x0041_"
    patched = patch(path, {2: {POSITIONS["problems"]: text}})
    assert b't="inlineStr"' in re.search(rb'<c r="AB2".*?</c>', zip_parts(patched)[SHEET], re.S).group(0)
    # openpyxl does not undo Excel's _xHHHH_ escapes; Excel and salesreg's reader do.
    value = openpyxl.load_workbook(patched)["Deals"].cell(row=2, column=POSITIONS["problems"]).value
    assert value == "  Line one & <two>\nSecond line_x000B_, typed as _x005F_x0041_"


def test_shared_strings_unchanged(tmp_path: Path) -> None:
    from helpers import make_rich_register

    path = make_rich_register(tmp_path / "register.xlsx", [valid_deal()])
    patched = patch(path, {2: {POSITIONS["problems"]: "Customer is empty"}, 3: {POSITIONS["deal_id"]: "D-000002"}})
    assert zip_parts(patched)["xl/sharedStrings.xml"] == zip_parts(path)["xl/sharedStrings.xml"]


def test_clearing_keeps_cell_style(tmp_path: Path) -> None:
    path = make_register(tmp_path / "register.xlsx", [valid_deal(problems="Old problem")])
    patched = patch(path, {2: {POSITIONS["problems"]: None}})
    assert re.search(rb'<c r="AB2" s="\d+"/>', zip_parts(patched)[SHEET])
    assert openpyxl.load_workbook(patched)["Deals"].cell(row=2, column=POSITIONS["problems"]).value is None


@pytest.mark.parametrize("date1904", [False, True], ids=["1900-system", "1904-system"])
def test_datetime_serial_respects_date_system(tmp_path: Path, date1904: bool) -> None:
    path = tmp_path / "register.xlsx"
    workbook = xlsxwriter.Workbook(str(path), {"date_1904": date1904})
    sheet = workbook.add_worksheet("Deals")
    sheet.set_column(0, 1, 18, workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"}))
    sheet.write(0, 0, "When")
    workbook.close()
    edits = {1: datetime(2026, 6, 30, 17, 5)} if date1904 else {1: datetime(2026, 6, 30, 17, 5), 2: date(1900, 1, 10)}
    patched = patch(path, {2: edits})
    cells = openpyxl.load_workbook(patched)["Deals"]
    assert cells["A2"].value == datetime(2026, 6, 30, 17, 5)
    if not date1904:
        assert cells["B2"].value == datetime(1900, 1, 10)  # before 1900-03-01, where Excel's serials are off by one
    serial = re.search(rb'<c r="A2"[^>]*><v>([\d.]+)</v>', zip_parts(patched)[SHEET]).group(1)
    assert float(serial) == pytest.approx(44741.711805 if date1904 else 46203.711805, abs=1e-6)


def test_prefixed_sheet_xml(tmp_path: Path) -> None:
    """Some generators write the sheet with a namespace prefix, such as <x:row>."""
    path = make_register(tmp_path / "register.xlsx", [valid_deal()])

    def add_prefix(xml: bytes) -> bytes:
        xml = re.sub(rb"<(/?)([A-Za-z])", rb"<\1x:\2", xml)
        return xml.replace(b'<x:worksheet xmlns="', b'<x:worksheet xmlns:x="', 1)

    rewrite_part(path, SHEET, add_prefix)
    patched = patch(path, {2: {1: "D-000001"}, 260: {1: "D-000002", POSITIONS["fy_sales"]: 5}})
    assert b'<x:c r="A2" s="1" t="inlineStr"><x:is><x:t>D-000001</x:t></x:is></x:c>' in zip_parts(patched)[SHEET]
    sheet = openpyxl.load_workbook(patched)["Deals"]
    assert sheet["A2"].value == "D-000001"
    assert sheet.cell(row=260, column=POSITIONS["fy_sales"]).value == 5


def test_cells_without_references(tmp_path: Path) -> None:
    """Rows and cells may leave out r: their position follows from the ones before."""
    path = tmp_path / "register.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Deals"
    for row in range(1, 4):
        for column in range(1, 4):
            sheet.cell(row=row, column=column, value=f"{row}-{column}")
    workbook.save(path)
    rewrite_part(path, SHEET, lambda xml: re.sub(rb' r="[A-Z]*\d+"', b"", xml))
    patched = patch(path, {2: {2: "new", 5: 42}, 4: {1: "added"}})
    sheet = openpyxl.load_workbook(patched)["Deals"]
    assert [[sheet.cell(row=r, column=c).value for c in range(1, 6)] for r in range(1, 5)] == [
        ["1-1", "1-2", "1-3", None, None],
        ["2-1", "new", "2-3", None, 42],
        ["3-1", "3-2", "3-3", None, None],
        ["added", None, None, None, None],
    ]


def test_verify_rejects_damaged_file(tmp_path: Path) -> None:
    path = make_register(tmp_path / "register.xlsx", [valid_deal()])
    data = path.read_bytes()
    target = tmp_path / "patched.xlsx"
    with open(target, "wb") as stream:
        result = patch_workbook(data, stream, "Deals", {2: {1: "D-000001"}})
    damaged = bytearray(target.read_bytes())
    start = damaged.find(b"xl/worksheets/sheet1.xml") + 200  # inside the sheet's compressed data
    damaged[start : start + 8] = b"\x00" * 8
    target.write_bytes(bytes(damaged))
    with pytest.raises(WorkbookError):
        verify_workbook(target, data, result)


# formulas


def test_shared_formula_master_rejected(tmp_path: Path, run_cli) -> None:
    config = setup_folder(tmp_path, [valid_deal(), valid_deal()])
    # The cached results differ from what sync computes, so that sync has to write W2.
    shared = b'<c r="W2" s="6"><f t="shared" ref="W2:W3" si="0">G2*6</f><v>1</v></c>'

    def add_formula(xml: bytes) -> bytes:
        xml = re.sub(rb'<c r="W2"[^>]*?(/>|>.*?</c>)', shared, xml, count=1)
        return re.sub(rb'<c r="W3"[^>]*?(/>|>.*?</c>)', b'<c r="W3" s="6"><f t="shared" si="0"/><v>1</v></c>', xml, count=1)

    rewrite_part(config.register.path, SHEET, add_formula)
    before = config.register.path.read_bytes()
    result = run_cli("sync", "--now", NOW)
    assert result.exit_code == 2
    assert "Cell W2 of sheet 'Deals' contains the master of a shared formula that covers W2:W3" in result.output
    assert config.register.path.read_bytes() == before


def test_replaced_formula_leaves_calc_chain(tmp_path: Path) -> None:
    path = make_register(tmp_path / "register.xlsx", [valid_deal()])
    rewrite_part(path, SHEET, lambda xml: re.sub(rb'<c r="W2"[^>]*?(/>|>.*?</c>)', b'<c r="W2" s="6"><f>1+1</f><v>2</v></c>', xml, count=1))
    parts = zip_parts(path)
    parts["xl/calcChain.xml"] = b'<calcChain xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><c r="W2" i="1"/><c r="G9"/><c r="A1" i="2"/></calcChain>'
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>",
        b'<Relationship Id="rIdChain" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/calcChain" Target="calcChain.xml"/></Relationships>',
    )
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)

    patched = patch(path, {2: {POSITIONS["fy_sales"]: 600000}})
    assert zip_parts(patched)["xl/calcChain.xml"] == (
        b'<calcChain xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><c r="G9" i="1"/><c r="A1" i="2"/></calcChain>'
    )


def test_calculated_formula_only_in_empty_cells(tmp_path: Path) -> None:
    path = make_register(tmp_path / "register.xlsx", [valid_deal()])
    patched = patch(path, {300: {3: Formula("[@Deal]"), 4: "typed"}, 301: {3: Formula("1+1")}})
    save_rep_edit(patched, 301, title="typed by a rep")
    again = patch(patched, {301: {POSITIONS["title"]: Formula("2+2")}})
    sheet = openpyxl.load_workbook(again)["Deals"]
    assert sheet.cell(row=300, column=3).value == "=[@Deal]"
    assert sheet.cell(row=301, column=3).value == "typed by a rep"


# tables


def test_table_extended_over_new_rows(tmp_path: Path, run_cli) -> None:
    config = setup_folder(tmp_path, [valid_deal()])
    path = config.register.path
    for row in (202, 205):
        save_rep_edit(path, row, **valid_deal(customer=f"Late {row}"))
    result = run_cli("sync", "--now", NOW)
    assert result.exit_code == 0, result.output

    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Deals"]
    table = sheet.tables["Deals"]
    assert table.ref == "A1:AB205"
    assert table.autoFilter.ref == "A1:AB205"
    ranges = {str(validation.sqref) for validation in sheet.data_validations.dataValidation}
    # The template's drop-downs reach the sheet's last row, so they cover the new rows already.
    assert "E2:E1048576" in ranges  # Stage drop-down
    assert "D2:D1048576" in ranges  # Rep drop-down
    assert "A1" in ranges  # input help on a header stays where it was
    assert re.search(rb'<dimension ref="A1:AB205"', zip_parts(path)[SHEET])
    assert [row["Deal ID"] for row in read_rows(path)] == ["D-000001", "D-000002", "D-000003"]
    # Every row the table gained gets the sales formulas of its own row, deal or not.
    for row in (202, 203, 204, 205):
        for field, formula in formula_cells(row).items():
            assert sheet.cell(row=row, column=POSITIONS[field]).value == formula, f"{field} row {row}"


# lock files


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        pytest.param("~$register.xlsx", b"\x0bAiko Tanaka" + b" " * 43, "open for editing by Aiko Tanaka", id="excel"),
        pytest.param("~$gister.xlsx", b"\x03Ben" + b" " * 50, "open for editing by Ben", id="excel-short-name"),
        pytest.param(".~lock.register.xlsx#", "Ben Carter,ben,pc-12,20.06.2026 08:55,file:///home/ben/.config/libreoffice/4;".encode(),
                     "open for editing by Ben Carter", id="libreoffice"),
        pytest.param(".~lock.register.xlsx#", b",ben,pc-12,20.06.2026 08:55,file:///x;", "open for editing by ben", id="libreoffice-no-name"),
    ],
)
def test_lock_file_blocks_sync(tmp_path: Path, run_cli, name: str, content: bytes, expected: str) -> None:
    config = setup_folder(tmp_path, [valid_deal()])
    (tmp_path / name).write_bytes(content)
    before = config.register.path.read_bytes()
    result = run_cli("sync", "--now", NOW)
    assert result.exit_code == 3
    assert expected in result.output
    assert name in result.output
    assert config.register.path.read_bytes() == before


def test_stale_lock_named_as_stale(tmp_path: Path, run_cli) -> None:
    config = setup_folder(tmp_path, [valid_deal()], "[register]\nstale_lock_hours = 2\n")
    lock = tmp_path / ".~lock.register.xlsx#"
    lock.write_text("Ben Carter,ben,pc-12,20.06.2026 08:55,file:///x;")
    three_hours_ago = time.time() - 3 * 3600
    os.utime(lock, (three_hours_ago, three_hours_ago))
    before = config.register.path.read_bytes()
    result = run_cli("sync", "--now", NOW)
    assert result.exit_code == 3
    assert "last written 3 hours ago, longer than [register] stale_lock_hours (2)" in result.output
    assert "probably left over from a program that crashed" in result.output
    assert f"delete {lock} and run again" in result.output.replace("\n", " ")
    assert config.register.path.read_bytes() == before


def test_fresh_lock_not_called_stale(tmp_path: Path, run_cli) -> None:
    setup_folder(tmp_path, [valid_deal()], "[register]\nstale_lock_hours = 2\n")
    (tmp_path / "~$register.xlsx").write_bytes(b"\x04Aiko" + b" " * 50)
    result = run_cli("sync", "--now", NOW)
    assert result.exit_code == 3
    assert "probably" not in result.output


def test_remind_works_while_locked(tmp_path: Path, run_cli) -> None:
    setup_folder(tmp_path, [valid_deal()])
    assert run_cli("sync", "--now", NOW).exit_code == 0
    (tmp_path / "~$register.xlsx").write_bytes(b"\x04Aiko" + b" " * 50)
    result = run_cli("remind", "--now", "2026-06-30T17:05")
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1


# backups and the final checks


def test_backups_rotate(tmp_path: Path, run_cli) -> None:
    config = setup_folder(tmp_path, [valid_deal()], "[register]\nbackups = 2\n")
    path = config.register.path
    versions = [path.read_bytes()]
    for day in range(20, 24):
        save_rep_edit(path, 2, next_step=f"Call on the {day}th")
        versions.append(path.read_bytes())
        assert run_cli("sync", "--now", f"2026-06-{day}T09:00").exit_code == 0
        versions.append(path.read_bytes())
    assert (tmp_path / "register.backup-1.xlsx").read_bytes() == versions[-2]
    assert (tmp_path / "register.backup-2.xlsx").read_bytes() == versions[-4]
    assert not (tmp_path / "register.backup-3.xlsx").exists()


def test_no_backups_when_zero(tmp_path: Path, run_cli) -> None:
    setup_folder(tmp_path, [valid_deal()], "[register]\nbackups = 0\n")
    result = run_cli("sync", "--now", NOW)
    assert result.exit_code == 0, result.output
    assert "Previous version kept" not in result.output
    assert list(tmp_path.glob("register.backup*")) == []


def test_permissions_kept(tmp_path: Path, run_cli) -> None:
    config = setup_folder(tmp_path, [valid_deal()])
    os.chmod(config.register.path, 0o664)
    assert run_cli("sync", "--now", NOW).exit_code == 0
    assert config.register.path.stat().st_mode & 0o777 == 0o664


def test_damaged_register_names_backup(tmp_path: Path, run_cli) -> None:
    config = setup_folder(tmp_path, [valid_deal()])
    assert run_cli("sync", "--now", NOW).exit_code == 0
    damaged = config.register.path.read_bytes()[:5000]  # a save cut off half way
    config.register.path.write_bytes(damaged)
    result = run_cli("sync", "--now", "2026-06-21T09:00")
    assert result.exit_code == 2
    assert f"The newest backup is {tmp_path / 'register.backup-1.xlsx'}" in result.output.replace("\n", " ")
    assert config.register.path.read_bytes() == damaged


def test_leftover_temporary_files_removed(tmp_path: Path, run_cli) -> None:
    setup_folder(tmp_path, [valid_deal()])
    old = tmp_path / ".~salesreg.register.xlsx.killed.tmp"
    young = tmp_path / ".~salesreg.register.xlsx.running.tmp"
    for leftover in (old, young):
        leftover.write_bytes(b"partial")
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    assert run_cli("sync", "--now", NOW).exit_code == 0
    assert not old.exists()
    assert young.exists()


def test_write_rejected_after_other_save(tmp_path: Path) -> None:
    config = setup_folder(tmp_path, [valid_deal()])
    snapshot = read_register(config)
    save_rep_edit(config.register.path, 2, next_step="Saved by Aiko")
    saved = config.register.path.read_bytes()
    with pytest.raises(RegisterChanged):
        write_register(config, snapshot, {2: {"deal_id": "D-000001"}})
    assert config.register.path.read_bytes() == saved


def test_sync_reads_again_after_other_save(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = setup_folder(tmp_path, [valid_deal(), valid_deal()])
    monkeypatch.setattr(jobs, "RETRY_PAUSE_SECONDS", 0)
    calls = []
    real_write = jobs.write_register

    def write_after_rep_saved(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            save_rep_edit(config.register.path, 3, next_step="Saved by Ben during sync")
        return real_write(*args, **kwargs)

    monkeypatch.setattr(jobs, "write_register", write_after_rep_saved)
    result = run_sync(config, at(NOW))
    assert result.written
    assert len(calls) == 2
    rows = read_rows(config.register.path)
    assert rows[1]["Next step"] == "Saved by Ben during sync"
    assert [row["Deal ID"] for row in rows] == ["D-000001", "D-000002"]


def test_sync_gives_up_after_three_saves(tmp_path: Path, run_cli, monkeypatch: pytest.MonkeyPatch) -> None:
    config = setup_folder(tmp_path, [valid_deal()])
    monkeypatch.setattr(jobs, "RETRY_PAUSE_SECONDS", 0)
    real_write = jobs.write_register
    saves = []

    def write_after_rep_saved(*args, **kwargs):
        saves.append(1)
        save_rep_edit(config.register.path, 2, next_step=f"Save {len(saves)}")
        return real_write(*args, **kwargs)

    monkeypatch.setattr(jobs, "write_register", write_after_rep_saved)
    result = run_cli("sync", "--now", NOW)
    assert result.exit_code == 3
    assert "was saved by someone else 3 times while sync ran; nothing was written" in result.output.replace("\n", " ")
    assert read_rows(config.register.path)[0]["Next step"] == "Save 3"
    with sqlite3.connect(tmp_path / "salesreg-state.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM deals").fetchone() == (0,)


def save_just_before(monkeypatch: pytest.MonkeyPatch, target: str, path: Path) -> list[str]:
    """Make ``atomic.<target>`` save a rep's edit of ``path`` before it runs, the first time only."""
    real = getattr(atomic, target)
    saved: list[str] = []

    def wrapper(*args, **kwargs):
        if not saved:
            save_rep_edit(path, 2, next_step="Saved at the last moment")
            saved.append(target)
        return real(*args, **kwargs)

    monkeypatch.setattr(atomic, target, wrapper)
    return saved


def test_save_during_swap_is_put_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if atomic._renameat2 is None:
        pytest.skip("renameat2 is not available here, so the writer uses its fallback")
    config = setup_folder(tmp_path, [valid_deal()])
    snapshot = read_register(config)
    saved = save_just_before(monkeypatch, "_exchange", config.register.path)
    with pytest.raises(RegisterChanged):
        write_register(config, snapshot, {2: {"deal_id": "D-000001"}})
    assert saved
    assert cell_text(config.register.path, 2, "next_step") == "Saved at the last moment"
    assert cell_text(config.register.path, 2, "deal_id") == ""
    assert sorted(path.name for path in tmp_path.iterdir()) == ["config.toml", "register.xlsx"]


def test_fallback_without_exchange(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(atomic, "_renameat2", None)
    config = setup_folder(tmp_path, [valid_deal()])
    first = config.register.path.read_bytes()
    assert run_sync(config, at(NOW)).written
    assert (tmp_path / "register.backup-1.xlsx").read_bytes() == first

    save_rep_edit(config.register.path, 2, next_step="Call again")
    snapshot = read_register(config)
    save_just_before(monkeypatch, "_store_backup", config.register.path)
    with pytest.raises(RegisterChanged):
        write_register(config, snapshot, {2: {"problems": "x"}})
    assert cell_text(config.register.path, 2, "next_step") == "Saved at the last moment"


@pytest.mark.libreoffice
def test_table_extension_opened_by_libreoffice(tmp_path: Path) -> None:
    from helpers import make_rich_register
    from libreoffice import convert

    path = make_rich_register(tmp_path / "register.xlsx", [valid_deal(), valid_deal(customer="Kitano Foods")])
    for row in (202, 203, 204):  # typed below the table, as LibreOffice lets a rep do
        save_rep_edit(path, row, **valid_deal(customer=f"Late {row}"))
    config = load_config(write_config(tmp_path))
    assert run_sync(config, at(NOW)).written

    sheet_xml = zip_parts(path)[SHEET]
    assert b'<autoFilter ref="A1:AC204"/>' in zip_parts(path)["xl/tables/table1.xml"]
    assert b'<conditionalFormatting sqref="W2:W204">' in sheet_xml
    assert b"<xm:sqref>R2:R204</xm:sqref>" in sheet_xml  # the drop-down in Excel's extension list
    assert b'<c r="AC204" s="4"><f>DealTable[[#This Row],[Monthly price]]*12</f></c>' in sheet_xml

    resaved = convert(path, "xlsx", tmp_path / "libreoffice")
    sheet = openpyxl.load_workbook(resaved)["Deals"]
    assert sheet.tables["DealTable"].ref == "A1:AC204"
    ranges = {str(validation.sqref) for validation in sheet.data_validations.dataValidation}
    assert {"E2:E204", "R2:R204"} <= ranges
    values = openpyxl.load_workbook(resaved, data_only=True)["Deals"]
    assert values["A204"].value == "D-000005"
    assert values["AC204"].value == 1_200_000  # LibreOffice computed the table's formula in the new row
    assert values.cell(row=204, column=POSITIONS["fy_sales"]).value == 600_000
