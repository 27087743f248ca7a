"""Files that are no usable register: each stops `salesreg sync` with exit status 2 and one message.

Every case starts from a register that synced fine, so that the state exists, then puts the bad
file in its place. The run must leave every file in the folder as it was.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

from helpers import DEALS_SHEET_PART, make_register, valid_deal, write_config
from libreoffice import convert

NOW = "2026-06-20T09:00"
SAVE_AS = "Open it in Excel, save it with File > Save As > Excel Workbook (*.xlsx), and run again."


@pytest.fixture
def folder(tmp_path: Path, run_cli) -> Path:
    """A folder whose register synced once, so that the state file exists."""
    write_config(tmp_path)
    make_register(tmp_path / "register.xlsx", [valid_deal()])
    result = run_cli("sync", "--now", NOW)
    assert result.exit_code == 0, result.output
    return tmp_path


def folder_files(folder: Path) -> dict[str, bytes]:
    """Return every file in ``folder`` by relative name: its bytes, or a symbolic link's target."""
    files = {}
    for path in sorted(folder.rglob("*")):
        if path.is_symlink():
            files[str(path.relative_to(folder))] = f"link to {os.readlink(path)}".encode()
        elif path.is_file():
            files[str(path.relative_to(folder))] = path.read_bytes()
    return files


def sync_stops(folder: Path, run_cli) -> str:
    """Run sync, check that it stopped with exit status 2 and changed no file; return its message."""
    before = folder_files(folder)
    result = run_cli("sync", "--now", NOW)
    assert result.exit_code == 2, result.output
    assert folder_files(folder) == before
    assert result.output.startswith("Error: ")
    assert result.output.count("\n") == 1, "one message on one line"
    return result.output.removeprefix("Error: ").rstrip("\n")


def test_csv_named_xlsx(folder: Path, run_cli) -> None:
    register = folder / "register.xlsx"
    register.write_text("Customer,Deal,Rep\nSakura Logistics,Fleet tracking,Aiko Tanaka\n", "utf-8")
    message = sync_stops(folder, run_cli)
    assert message.startswith(
        f"{register} is not a readable .xlsx workbook: it is a CSV text file, although its name ends in .xlsx. {SAVE_AS}"
    )


def test_shift_jis_csv_named_xlsx(folder: Path, run_cli) -> None:
    register = folder / "register.xlsx"
    register.write_bytes("顧客名,案件名,担当者\nさくら物流,車両管理,田中\n".encode("cp932"))
    message = sync_stops(folder, run_cli)
    assert message.startswith(f"{register} is not a readable .xlsx workbook: it is a CSV text file, although")


def test_html_named_xlsx(folder: Path, run_cli) -> None:
    register = folder / "register.xlsx"
    register.write_text(
        "<!DOCTYPE html>\n<html><body><table><tr><td>Customer</td><td>Deal</td></tr></table></body></html>\n", "utf-8"
    )
    message = sync_stops(folder, run_cli)
    assert message.startswith(
        f"{register} is not a readable .xlsx workbook: it is a web page (HTML), although its name ends in .xlsx. {SAVE_AS}"
    )


@pytest.mark.libreoffice
def test_legacy_xls(folder: Path, run_cli, tmp_path_factory: pytest.TempPathFactory) -> None:
    register = folder / "register.xlsx"
    legacy = convert(register, "xls", tmp_path_factory.mktemp("xls"))
    shutil.copy(legacy, register)
    message = sync_stops(folder, run_cli)
    assert message.startswith(
        f"{register} is not a readable .xlsx workbook: it is an Excel 97-2003 workbook (.xls). Open it in Excel, "
        f"save it as Excel Workbook (*.xlsx), and set [register] path to the new file."
    )


def compound_file(streams: dict[str, bytes]) -> bytes:
    """Return an OLE compound file (version 3, 512-byte sectors) that contains ``streams``.

    This is the container Excel writes a password-encrypted workbook into. Each stream is
    padded to 4,096 bytes so that it lives in regular sectors, not in the mini stream.
    """
    free, end_of_chain, fat_sector = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD
    fat = [fat_sector, end_of_chain]  # sector 0 is the FAT, sector 1 the directory
    data = b""
    placed = []
    for content in streams.values():
        content = content.ljust(4096, b"\0")
        count = -(-len(content) // 512)
        placed.append((len(fat), len(content)))
        fat += [len(fat) + index + 1 for index in range(count - 1)] + [end_of_chain]
        data += content.ljust(count * 512, b"\0")
    assert len(fat) <= 128, "one FAT sector holds 128 entries"

    def entry(name: str, kind: int, right: int, child: int, start: int, size: int) -> bytes:
        encoded = name.encode("utf-16-le") + b"\0\0" if name else b""
        return struct.pack(
            "<64sHBBIII16sIQQIQ", encoded, len(encoded), kind, 1, free, right, child, b"", 0, 0, 0, start, size
        )

    # Names in ascending directory order (shorter first), chained as right siblings.
    directory = entry("Root Entry", 5, free, 1, end_of_chain, 0)
    for number, (name, (start, size)) in enumerate(zip(streams, placed), start=1):
        directory += entry(name, 2, number + 1 if number < len(streams) else free, free, start, size)
    while len(directory) % 512:
        directory += entry("", 0, free, free, 0, 0)
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII", bytes.fromhex("D0CF11E0A1B11AE1"), b"", 0x3E, 3, 0xFFFE, 9, 6, b"", 0, 1, 1, 0, 4096,
        end_of_chain, 0, end_of_chain, 0,
    )
    header += struct.pack("<109I", 0, *[free] * 108)
    return header + struct.pack("<128I", *(fat + [free] * (128 - len(fat)))) + directory + data


def test_password_encrypted(folder: Path, run_cli) -> None:
    register = folder / "register.xlsx"
    info = b"\x04\x00\x04\x00\x40\x00\x00\x00" + b'<?xml version="1.0"?><encryption xmlns="http://schemas.microsoft.com/office/2006/encryption"/>'
    register.write_bytes(compound_file({"EncryptionInfo": info, "EncryptedPackage": os.urandom(6000)}))
    message = sync_stops(folder, run_cli)
    assert message.startswith(
        f"{register} is not a readable .xlsx workbook: it is protected with a password. Open it in Excel, remove the "
        f"password (File > Info > Protect Workbook > Encrypt with Password, then delete the password), save it, and "
        f"run again."
    )


def test_truncated_zip(folder: Path, run_cli) -> None:
    register = folder / "register.xlsx"
    data = register.read_bytes()
    register.write_bytes(data[: len(data) // 2])
    message = sync_stops(folder, run_cli)
    assert message.startswith(
        f"{register} is not a readable .xlsx workbook: it is damaged (File is not a zip file). Restore the newest "
        f"backup, or open the file in Excel, which can often repair it, and save it again."
    )


def test_corrupt_zip(folder: Path, run_cli) -> None:
    register = folder / "register.xlsx"
    data = bytearray(register.read_bytes())
    with zipfile.ZipFile(register) as archive:
        info = archive.getinfo(DEALS_SHEET_PART)
    # The member's data starts after its 30-byte local header, its name and its extra field.
    name_length, extra_length = struct.unpack("<HH", data[info.header_offset + 26 : info.header_offset + 30])
    middle = info.header_offset + 30 + name_length + extra_length + info.compress_size // 2
    data[middle : middle + 64] = bytes(byte ^ 0xFF for byte in data[middle : middle + 64])
    register.write_bytes(bytes(data))
    message = sync_stops(folder, run_cli)
    assert message.startswith(f"{register} is not a readable .xlsx workbook: it is damaged (")
    assert "Restore the newest backup, or open the file in Excel, which can often repair it, and save it again." in message


def test_missing_sheet_lists_sheets(folder: Path, run_cli) -> None:
    register = folder / "register.xlsx"
    workbook = openpyxl.load_workbook(register)
    workbook["Deals"].title = "Deal list"
    workbook.save(register)
    sheets = ", ".join(repr(name) for name in workbook.sheetnames)
    message = sync_stops(folder, run_cli)
    assert message == (
        f"{register} has no sheet 'Deals'; its sheets are {sheets}. If 'Deal list' is that sheet, rename it to "
        f"'Deals', or set [register] sheet = \"Deal list\" in the config."
    )


def test_missing_team_sheet(folder: Path, run_cli) -> None:
    register = folder / "register.xlsx"
    workbook = openpyxl.load_workbook(register)
    del workbook["Team"]
    workbook.save(register)
    sheets = ", ".join(repr(name) for name in workbook.sheetnames)
    message = sync_stops(folder, run_cli)
    assert message == (
        f"{register} has no sheet 'Team'; its sheets are {sheets}. Rename the sheet to 'Team', or set [register] "
        f"team_sheet in the config to its name."
    )


def test_sheet_name_in_other_case_accepted(folder: Path, run_cli) -> None:
    register = folder / "register.xlsx"
    workbook = openpyxl.load_workbook(register)
    workbook["Deals"].title = "Renamed"
    workbook["Renamed"].title = "DEALS"
    workbook.save(register)
    result = run_cli("validate", "--now", NOW)
    assert result.exit_code == 0, result.output


def test_empty_file(folder: Path, run_cli) -> None:
    register = folder / "register.xlsx"
    register.write_bytes(b"")
    message = sync_stops(folder, run_cli)
    assert message.startswith(
        f"{register} is not a readable .xlsx workbook: it is empty (0 bytes). Restore the newest backup, or run "
        f"`salesreg init` to start a new register."
    )


def test_empty_deals_sheet(folder: Path, run_cli) -> None:
    register = folder / "register.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active.title = "Deals"
    workbook.create_sheet("Team")
    workbook.save(register)
    message = sync_stops(folder, run_cli)
    assert message == (
        f"{register}, sheet 'Deals' is empty. Row 1 needs the column headers, such as Deal ID, Customer, Deal, Rep; "
        f"copy the header row from a register made by `salesreg init`."
    )


def test_new_workbook_without_register_sheets(folder: Path, run_cli) -> None:
    register = folder / "register.xlsx"
    openpyxl.Workbook().save(register)
    message = sync_stops(folder, run_cli)
    assert message == (
        f"{register} has no sheet 'Deals'; its sheets are 'Sheet'. Rename the sheet to 'Deals', or set "
        f"[register] sheet in the config to its name."
    )


def test_folder_given_as_register(folder: Path, run_cli) -> None:
    shared = folder / "shared"
    shared.mkdir()
    shutil.copy(folder / "register.xlsx", shared / "register.xlsx")
    write_config(folder, '[register]\npath = "shared"\n')
    message = sync_stops(folder, run_cli)
    assert message == (
        f"Register {shared} is a folder, not a workbook (it holds register.xlsx); set [register] path to the "
        f"register's .xlsx file."
    )


def test_file_that_fails_to_read(folder: Path, run_cli) -> None:
    register = folder / "register.xlsx"
    register.unlink()
    # Reading this file fails with an I/O error, as a file on a broken network share does.
    register.symlink_to("/proc/self/mem")
    message = sync_stops(folder, run_cli)
    assert message.startswith(
        f"Register {register} cannot be read: Input/output error. Check that its drive or network share is "
        f"reachable from this computer, then run again."
    )


def without_file_access_override() -> list[str]:
    """Return the command prefix that runs salesreg subject to file permissions, also as root."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv (util-linux), so file permissions cannot be tested")
    return [setpriv, "--bounding-set", "-dac_override,-dac_read_search"]


def test_unreadable_file(folder: Path) -> None:
    register = folder / "register.xlsx"
    before = folder_files(folder)
    register.chmod(0)
    command = [*without_file_access_override(), str(Path(sys.executable).with_name("salesreg"))]
    try:
        result = subprocess.run(
            [*command, "--config", str(folder / "config.toml"), "sync", "--now", NOW],
            capture_output=True, text=True, timeout=120, check=False,
        )
    finally:
        register.chmod(0o644)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(
        f"Error: Register {register} cannot be read: permission denied. Give the account that runs salesreg "
        f"permission to read and write it, then run again."
    )
    assert folder_files(folder) == before


def test_unicode_text_export_named_xlsx(folder: Path, run_cli) -> None:
    """Excel's "Unicode Text" export: UTF-16 with a byte order mark, values separated by tabs."""
    register = folder / "register.xlsx"
    register.write_bytes("\ufeffCustomer\tDeal\tRep\nSakura Logistics\tFleet tracking\tAiko Tanaka\n".encode("utf-16-le"))
    message = sync_stops(folder, run_cli)
    assert message.startswith(
        f"{register} is not a readable .xlsx workbook: it is a tab-separated text file, although its name ends in .xlsx. {SAVE_AS}"
    )
