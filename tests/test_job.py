"""The whole job through the CLI on real files: init, sync, remind at many times, summary."""

from __future__ import annotations

import email
import email.policy
import sqlite3
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from helpers import POSITIONS, edit_row, make_register, read_rows, setup_folder, valid_deal


def outbox(folder: Path) -> list[email.message.EmailMessage]:
    """Return every e-mail in the outbox, oldest file first."""
    files = sorted((folder / "outbox").glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in files]  # type: ignore[misc]


def subjects(folder: Path) -> list[str]:
    return sorted(str(message["Subject"]) for message in outbox(folder))


@pytest.fixture
def register(tmp_path: Path, run_cli):
    """A folder made by `salesreg init`, with four deals typed in on 2026-06-20."""
    result = run_cli("init", str(tmp_path))
    assert result.exit_code == 0, result.output
    deals = [
        valid_deal(),  # row 2: closes 2026-06-30, the spec's example
        valid_deal(customer="Kitano Foods", rep="Ben Carter", expected_close=date(2026, 9, 30), expectation="B"),
        valid_deal(customer="Minato Clinic", outcome="Won", outcome_reason="Best fit", expected_close=date(2026, 6, 1)),
        valid_deal(customer=None, expected_close=date(2026, 8, 31)),  # row 5: invalid from the start
    ]
    make_register(tmp_path / "register.xlsx", deals)
    return tmp_path


def test_sync_fills_computed_columns(register: Path, run_cli) -> None:
    result = run_cli("sync", "--now", "2026-06-20T09:00")
    assert result.exit_code == 0, result.output
    rows = read_rows(register / "register.xlsx")
    assert [row["Deal ID"] for row in rows] == ["D-000001", "D-000002", "D-000003", "D-000004"]
    assert rows[0]["Fiscal-period sales"] == 600_000
    assert rows[0]["Weighted sales"] is None
    assert rows[1]["Weighted sales"] == 300_000
    assert rows[2]["Weighted sales"] == 600_000
    assert rows[0]["Update deadline"] == datetime(2026, 6, 30, 18, 0)
    assert rows[1]["Update deadline"] == datetime(2026, 7, 3, 18, 0)  # 07-04 is a Saturday
    assert rows[2]["Update deadline"] is None
    assert rows[0]["Last updated"] == datetime(2026, 6, 20, 9, 0)
    assert rows[0]["Reminders sent"] == 0
    assert rows[0]["Problems"] is None
    assert rows[3]["Problems"] == "Customer is empty; type the customer name."


def test_sync_keeps_rep_content(register: Path, run_cli) -> None:
    before = read_rows(register / "register.xlsx")
    run_cli("sync", "--now", "2026-06-20T09:00")
    after = read_rows(register / "register.xlsx")
    for old, new in zip(before, after):
        for header in ("Customer", "Deal", "Rep", "Stage", "Expected close", "Monthly price", "Outcome", "Expectation"):
            assert new[header] == old[header]


def test_sync_keeps_other_sheets_and_table(register: Path, run_cli) -> None:
    workbook = openpyxl.load_workbook(register / "register.xlsx")
    workbook.create_sheet("Notes")["A1"] = "my own notes"
    workbook.save(register / "register.xlsx")
    run_cli("sync", "--now", "2026-06-20T09:00")
    workbook = openpyxl.load_workbook(register / "register.xlsx")
    assert workbook["Notes"]["A1"].value == "my own notes"
    assert workbook.sheetnames[:4] == ["Deals", "Team", "Lists", "Guide"]
    assert "Deals" in workbook["Deals"].tables
    assert len(workbook["Deals"].data_validations.dataValidation) > 0


def test_second_sync_writes_nothing(register: Path, run_cli) -> None:
    run_cli("sync", "--now", "2026-06-20T09:00")
    before = (register / "register.xlsx").read_bytes()
    result = run_cli("sync", "--now", "2026-06-20T09:30")
    assert "Nothing to write" in result.output
    assert (register / "register.xlsx").read_bytes() == before


def test_reminder_ladder_end_to_end(register: Path, run_cli) -> None:
    run_cli("sync", "--now", "2026-06-20T09:00")

    result = run_cli("remind", "--now", "2026-06-29T17:59")
    assert result.exit_code == 0, result.output
    assert outbox(register) == []  # nothing before its time

    run_cli("remind", "--now", "2026-06-30T17:05")
    messages = outbox(register)
    assert len(messages) == 1
    assert "D-000001" in str(messages[0]["Subject"])
    assert "Due in an hour" in str(messages[0]["Subject"])
    assert messages[0]["To"].addresses[0].addr_spec == "aiko@example.com"

    run_cli("remind", "--now", "2026-06-30T17:10")
    assert len(outbox(register)) == 1  # never twice

    run_cli("remind", "--now", "2026-07-02T19:00")
    later = subjects(register)
    assert len(later) == 4
    assert any("D-000001" in s and "2 days overdue" in s for s in later)
    assert any("D-000002" in s and "Due tomorrow" in s for s in later)
    assert any("D-000004" in s and "Due tomorrow" in s for s in later)  # invalid rows are reminded too

    run_cli("sync", "--now", "2026-07-02T19:30")
    rows = read_rows(register / "register.xlsx")
    assert rows[0]["Reminders sent"] == 2
    assert rows[0]["Problems"] == 'Expected close: "2026-06-30" is in the past; enter the new expected close date, or close the deal as Won or Lost.'


def test_proper_update_stops_reminders(register: Path, run_cli) -> None:
    run_cli("sync", "--now", "2026-06-20T09:00")
    run_cli("remind", "--now", "2026-07-02T19:00")
    assert sum("D-000001" in s for s in subjects(register)) == 1

    edit_row(register / "register.xlsx", 2, expected_close=date(2026, 7, 31), next_step="Board meeting 07-20")
    run_cli("sync", "--now", "2026-07-03T10:00")
    rows = read_rows(register / "register.xlsx")
    assert rows[0]["Update deadline"] == datetime(2026, 7, 17, 18, 0)
    assert rows[0]["Last updated"] == datetime(2026, 7, 3, 10, 0)
    assert rows[0]["Reminders sent"] == 0
    assert rows[0]["Problems"] is None

    run_cli("remind", "--now", "2026-07-04T19:00")
    assert sum("D-000001" in s for s in subjects(register)) == 1


def test_improper_update_keeps_deadline(register: Path, run_cli) -> None:
    run_cli("sync", "--now", "2026-06-20T09:00")
    edit_row(register / "register.xlsx", 2, next_step="Call again")  # expected close stays 06-30
    result = run_cli("sync", "--now", "2026-07-01T10:00")
    assert "1 updated improperly" in result.output
    rows = read_rows(register / "register.xlsx")
    assert rows[0]["Update deadline"] == datetime(2026, 6, 30, 18, 0)
    assert rows[0]["Last updated"] == datetime(2026, 7, 1, 10, 0)


def test_remind_sees_update_before_sync(register: Path, run_cli) -> None:
    run_cli("sync", "--now", "2026-06-20T09:00")
    edit_row(register / "register.xlsx", 2, expected_close=date(2026, 7, 31))
    run_cli("remind", "--now", "2026-07-02T19:00")
    assert not any("D-000001" in s for s in subjects(register))


def test_catch_up_sends_only_latest(register: Path, run_cli) -> None:
    run_cli("sync", "--now", "2026-06-20T09:00")
    run_cli("remind", "--now", "2026-06-29T12:00")
    run_cli("remind", "--now", "2026-07-02T19:00")
    deal_one = [s for s in subjects(register) if "D-000001" in s]
    assert deal_one == [s for s in deal_one if "2 days overdue" in s]
    assert len(deal_one) == 1
    with sqlite3.connect(register / "salesreg-state.sqlite") as db:
        statuses = dict(db.execute("SELECT step, status FROM reminders WHERE deal_id = 'D-000001'").fetchall())
    assert statuses == {"before-1d": "skipped", "before-1h": "skipped", "after-2d": "sent"}


def test_manager_copied_from_second_overdue(register: Path, run_cli) -> None:
    run_cli("sync", "--now", "2026-06-20T09:00")
    run_cli("remind", "--now", "2026-07-02T19:00")
    run_cli("remind", "--now", "2026-07-03T19:00")
    overdue = [m for m in outbox(register) if "D-000001" in str(m["Subject"])]
    assert overdue[0]["Cc"] is None
    assert overdue[1]["Cc"].addresses[0].addr_spec == "kenji@example.com"


def test_settled_deal_gets_no_reminder(register: Path, run_cli) -> None:
    run_cli("sync", "--now", "2026-06-20T09:00")
    run_cli("remind", "--now", "2026-08-30T19:00")
    assert not any("D-000003" in s for s in subjects(register))


def test_history_records_changed_fields(register: Path, run_cli) -> None:
    run_cli("sync", "--now", "2026-06-20T09:00")
    edit_row(register / "register.xlsx", 3, stage="Qualified", challenges="Orders by fax", customer_business="Food maker")
    run_cli("sync", "--now", "2026-06-22T09:00")
    with sqlite3.connect(register / "salesreg-state.sqlite") as db:
        rows = db.execute("SELECT deal_id, field, old, new FROM history ORDER BY id").fetchall()
    assert ("D-000002", "stage", "Lead", "Qualified") in rows
    assert ("D-000002", "challenges", "", "Orders by fax") in rows


def test_dry_run_changes_nothing(register: Path, run_cli) -> None:
    before = (register / "register.xlsx").read_bytes()
    result = run_cli("sync", "--dry-run", "--now", "2026-06-20T09:00")
    assert "Would write" in result.output
    assert (register / "register.xlsx").read_bytes() == before
    assert not (register / "salesreg-state.sqlite").exists()


def test_remind_dry_run_sends_nothing(register: Path, run_cli) -> None:
    run_cli("sync", "--now", "2026-06-20T09:00")
    result = run_cli("remind", "--dry-run", "--now", "2026-06-30T17:05")
    assert "Would send 1 reminder through" in result.output
    assert "D-000001" in result.output
    assert outbox(register) == []


def test_busy_workbook_exit_three(register: Path, run_cli) -> None:
    (register / "~$register.xlsx").write_bytes(b"\x05Aikoo" + b" " * 50)
    before = (register / "register.xlsx").read_bytes()
    result = run_cli("sync", "--now", "2026-06-20T09:00")
    assert result.exit_code == 3
    assert "open for editing by Aikoo" in result.output
    assert (register / "register.xlsx").read_bytes() == before


def test_libreoffice_lock_exit_three(register: Path, run_cli) -> None:
    (register / ".~lock.register.xlsx#").write_text("Ben Carter,ben,host,04.12.2026 10:00,file:///tmp;")
    result = run_cli("sync", "--now", "2026-06-20T09:00")
    assert result.exit_code == 3
    assert "Ben Carter" in result.output


def test_not_an_xlsx_changes_nothing(tmp_path: Path, run_cli) -> None:
    (tmp_path / "config.toml").write_text("")
    (tmp_path / "register.xlsx").write_text("this is a CSV, really\n1,2,3\n")
    result = run_cli("sync", "--now", "2026-06-20T09:00")
    assert result.exit_code == 2
    assert "is not a readable .xlsx workbook" in result.output
    assert (tmp_path / "register.xlsx").read_text() == "this is a CSV, really\n1,2,3\n"


def test_missing_header_named(tmp_path: Path, run_cli) -> None:
    config = setup_folder(tmp_path, [valid_deal()])
    workbook = openpyxl.load_workbook(config.register.path)
    workbook["Deals"].cell(row=1, column=POSITIONS["stage"], value="Phase")
    workbook.save(config.register.path)
    result = run_cli("sync", "--now", "2026-06-20T09:00")
    assert result.exit_code == 2
    assert "lacks the header 'Stage'" in result.output


def test_missing_sheet_named(tmp_path: Path, run_cli) -> None:
    setup_folder(tmp_path, [valid_deal()], '[register]\nsheet = "Opportunities"\n')
    result = run_cli("sync", "--now", "2026-06-20T09:00")
    assert result.exit_code == 2
    assert "no sheet 'Opportunities'" in result.output


def test_lost_state_is_reported(register: Path, run_cli) -> None:
    run_cli("sync", "--now", "2026-06-20T09:00")
    (register / "salesreg-state.sqlite").unlink()
    result = run_cli("sync", "--now", "2026-06-21T09:00")
    assert "reminder history is lost" in result.output
    rows = read_rows(register / "register.xlsx")
    assert [row["Deal ID"] for row in rows] == ["D-000001", "D-000002", "D-000003", "D-000004"]


def test_copied_row_gets_new_id(register: Path, run_cli) -> None:
    run_cli("sync", "--now", "2026-06-20T09:00")
    edit_row(register / "register.xlsx", 6, deal_id="D-000002", customer="Copy Co", title="Copied", rep="Ben Carter",
             stage="Lead", expected_close=date(2026, 9, 1))
    result = run_cli("sync", "--now", "2026-06-21T09:00")
    assert "Deal ID D-000002 is already used by row 3" in result.output
    assert read_rows(register / "register.xlsx")[4]["Deal ID"] == "D-000005"


def test_summary_written(register: Path, run_cli) -> None:
    run_cli("sync", "--now", "2026-06-20T09:00")
    result = run_cli("summary", "--now", "2026-07-02T19:00")
    assert result.exit_code == 0, result.output
    workbook = openpyxl.load_workbook(register / "summary.xlsx")
    assert "Pipeline" in workbook.sheetnames
    assert "Forecast" in workbook.sheetnames


def test_init_refuses_to_overwrite(register: Path, run_cli) -> None:
    before = (register / "register.xlsx").read_bytes()
    result = run_cli("init", str(register))
    assert result.exit_code == 2
    assert "already; nothing was created" in result.output
    assert (register / "register.xlsx").read_bytes() == before
