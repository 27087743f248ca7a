"""Deleted rows, `salesreg restore`, and rows copied together with their Deal ID."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from helpers import POSITIONS, make_register, read_rows, save_rep_edit, setup_folder, valid_deal
from salesreg.fields import COLUMNS

NOW = "2026-06-20T09:00"


def delete_row(path: Path, row: int) -> None:
    """Delete a row of the Deals sheet, moving the rows below it up, as a rep would."""
    workbook = openpyxl.load_workbook(path)
    workbook["Deals"].delete_rows(row)
    workbook.save(path)


def history(folder: Path, deal_id: str) -> list[tuple[str, str, str]]:
    with sqlite3.connect(folder / "salesreg-state.sqlite") as db:
        return db.execute("SELECT field, old, new FROM history WHERE deal_id = ? ORDER BY id", (deal_id,)).fetchall()


@pytest.fixture
def register(tmp_path: Path, run_cli) -> Path:
    """Three synced deals; the second has the manager's rank and comment and a review date."""
    deals = [
        valid_deal(),
        valid_deal(customer="Kitano Foods", rep="Ben Carter", expected_close=date(2026, 9, 30), contract_months=12,
                   one_time_fee=50_000, next_step="Demo on 07-01", expectation="B", manager_comment="Push for Q2",
                   reviewed_on=date(2026, 6, 1)),
        valid_deal(customer="Minato Clinic"),
    ]
    setup_folder(tmp_path, deals)
    result = run_cli("sync", "--now", NOW)
    assert result.exit_code == 0, result.output
    return tmp_path


def test_deleted_deal_reported_once(register: Path, run_cli) -> None:
    delete_row(register / "register.xlsx", 3)
    result = run_cli("sync", "--now", "2026-06-21T09:00")
    assert result.exit_code == 0, result.output
    assert "Deal D-000002, last seen in row 3, is no longer in register.xlsx" in result.output
    assert "run `salesreg restore D-000002`" in result.output
    assert history(register, "D-000002")[-1] == ("row", "3", "deleted")

    again = run_cli("sync", "--now", "2026-06-21T10:00")
    assert "D-000002" not in again.output


def test_restore_puts_deal_back(register: Path, run_cli) -> None:
    before = {row["Deal ID"]: row for row in read_rows(register / "register.xlsx")}["D-000002"]
    delete_row(register / "register.xlsx", 3)
    run_cli("sync", "--now", "2026-06-21T09:00")

    result = run_cli("restore", "D-000002")
    assert result.exit_code == 0, result.output
    assert "Restored D-000002 to row 4 of register.xlsx" in result.output
    restored = read_rows(register / "register.xlsx")[2]
    for column in COLUMNS:
        if column.writer != "sync":
            assert restored[column.header] == before[column.header], column.header
    assert restored["Fiscal-period sales"] is None  # the next sync fills the computed columns
    assert history(register, "D-000002")[-1] == ("row", "deleted", "4")

    synced = run_cli("sync", "--now", "2026-06-21T10:00")
    assert synced.exit_code == 0, synced.output
    assert "no longer" not in synced.output
    assert "back in the register" not in synced.output
    after = read_rows(register / "register.xlsx")[2]
    assert after["Fiscal-period sales"] == before["Fiscal-period sales"]
    assert after["Update deadline"] == before["Update deadline"]  # the same cycle goes on


def test_restore_accepts_short_id(register: Path, run_cli) -> None:
    delete_row(register / "register.xlsx", 2)
    result = run_cli("restore", "d-1")
    assert result.exit_code == 0, result.output
    assert "Restored D-000001 to row 4" in result.output


def test_restore_present_deal_rejected(register: Path, run_cli) -> None:
    before = (register / "register.xlsx").read_bytes()
    result = run_cli("restore", "D-000002")
    assert result.exit_code == 2
    assert "Deal D-000002 is already in row 3 of register.xlsx; nothing was restored." in result.output
    assert (register / "register.xlsx").read_bytes() == before


def test_restore_unknown_deal_rejected(register: Path, run_cli) -> None:
    delete_row(register / "register.xlsx", 3)
    run_cli("sync", "--now", "2026-06-21T09:00")
    result = run_cli("restore", "D-000042")
    assert result.exit_code == 2
    assert "Deal D-000042 is not in the state file" in result.output
    assert "Recently deleted deals: D-000002." in result.output


def test_restore_while_locked(register: Path, run_cli) -> None:
    delete_row(register / "register.xlsx", 3)
    (register / "~$register.xlsx").write_bytes(b"\x04Aiko" + b" " * 50)
    before = (register / "register.xlsx").read_bytes()
    result = run_cli("restore", "D-000002")
    assert result.exit_code == 3
    assert (register / "register.xlsx").read_bytes() == before


def test_restore_below_table_extends_it(tmp_path: Path, run_cli) -> None:
    setup_folder(tmp_path, [valid_deal(customer=f"Customer {n}") for n in range(200)])
    assert run_cli("sync", "--now", NOW).exit_code == 0
    path = tmp_path / "register.xlsx"
    save_rep_edit(path, 50, **{column.field: None for column in COLUMNS})  # cleared, so row 201 stays the last
    assert "D-000049" in run_cli("sync", "--now", "2026-06-21T09:00").output

    result = run_cli("restore", "D-000049")
    assert result.exit_code == 0, result.output
    assert "to row 202" in result.output
    sheet = openpyxl.load_workbook(path)["Deals"]
    assert sheet.tables["Deals"].ref == "A1:AB202"
    assert sheet.cell(row=202, column=POSITIONS["customer"]).value == "Customer 48"


def test_deal_back_by_hand(register: Path, run_cli) -> None:
    path = register / "register.xlsx"
    kept = path.read_bytes()
    delete_row(path, 3)
    run_cli("sync", "--now", "2026-06-21T09:00")
    path.write_bytes(kept)  # the rep copied the old version back
    result = run_cli("sync", "--now", "2026-06-21T10:00")
    assert "Deal D-000002 is back in the register, in row 3." in result.output
    assert history(register, "D-000002")[-1] == ("row", "deleted", "3")
    assert "D-000002" not in run_cli("sync", "--now", "2026-06-21T11:00").output


def test_restore_from_rep_values_only(register: Path, run_cli) -> None:
    """A state written before salesreg kept whole rows has only the rep's columns."""
    with sqlite3.connect(register / "salesreg-state.sqlite") as db:
        db.execute("DELETE FROM deal_rows")
    delete_row(register / "register.xlsx", 3)
    result = run_cli("restore", "D-000002")
    assert result.exit_code == 0, result.output
    assert "only the rep's columns" in result.output
    restored = read_rows(register / "register.xlsx")[2]
    assert restored["Customer"] == "Kitano Foods"
    assert restored["Expected close"] == datetime(2026, 9, 30)
    assert restored["Monthly price"] == 100_000
    assert restored["Contract months"] == 12
    assert restored["Expectation"] is None


# copied rows


def test_copied_row_problem_names_both(register: Path, run_cli) -> None:
    path = register / "register.xlsx"
    original = read_rows(path)[1]
    copy = {column.field: original[column.header] for column in COLUMNS if column.writer != "sync"}
    save_rep_edit(path, 5, deal_id=original["Deal ID"], **copy)

    result = run_cli("sync", "--now", "2026-06-21T09:00")
    assert result.exit_code == 0, result.output
    rows = read_rows(path)
    assert rows[1]["Deal ID"] == "D-000002"
    assert rows[1]["Problems"] is None
    assert rows[3]["Deal ID"] == "D-000004"
    assert rows[3]["Problems"] == (
        "Deal ID: D-000002 was also in row 3, so this row got the new ID D-000004. "
        "If this row is a copy of that deal, delete it."
    )
    assert 'Row 5, "Deal ID": D-000002 was also in row 3' in result.output


def test_copied_row_note_goes_after_next_sync(register: Path, run_cli) -> None:
    path = register / "register.xlsx"
    save_rep_edit(path, 5, deal_id="D-000001", customer="Copy Co", title="Copied", rep="Aiko Tanaka", stage="Lead",
                  expected_close=date(2026, 9, 1))
    run_cli("sync", "--now", "2026-06-21T09:00")
    run_cli("sync", "--now", "2026-06-21T10:00")
    rows = read_rows(path)
    assert [row["Deal ID"] for row in rows] == ["D-000001", "D-000002", "D-000003", "D-000004"]
    assert rows[3]["Problems"] is None


def test_copy_in_register_made_by_make_register(tmp_path: Path, run_cli) -> None:
    """Two rows typed with the same ID before the first sync: the first keeps it."""
    make_register(tmp_path / "register.xlsx", [valid_deal(deal_id="D-000007"), valid_deal(deal_id="D-000007", customer="Twin")])
    (tmp_path / "config.toml").write_text("")
    result = run_cli("sync", "--now", NOW)
    assert result.exit_code == 0, result.output
    rows = read_rows(tmp_path / "register.xlsx")
    assert [row["Deal ID"] for row in rows] == ["D-000007", "D-000008"]
    assert rows[1]["Problems"].startswith("Deal ID: D-000007 was also in row 2")
