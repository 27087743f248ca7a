"""A sync whose inputs are those of the last sync reuses its result, on real files."""

from __future__ import annotations

import os
import shutil
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from helpers import at, edit_row, save_rep_edit, setup_folder, valid_deal, write_config
from salesreg.config import Config, load_config
from salesreg.jobs import LAST_SYNC_KEY, run_remind, run_sync

DEALS = [
    valid_deal(),
    valid_deal(customer="Kitano Foods", expected_close=date(2026, 6, 1)),  # in the past on 2026-06-20
    valid_deal(customer=None),  # row 4: a problem
    valid_deal(customer="Copy Co"),  # row 5: with copied_id, the Deal ID of row 2 is typed in here too
]


def synced(folder: Path, copied_id: bool = False) -> Config:
    """Return the config of a register after its first sync, which wrote every row."""
    config = setup_folder(folder, DEALS)
    if copied_id:
        edit_row(config.register.path, 2, deal_id="D-000001")
        edit_row(config.register.path, 5, deal_id="D-000001")
    assert run_sync(config, at("2026-06-20T09:00"), reuse_unchanged=True).written
    return config


def forget_last_sync(config: Config) -> None:
    with sqlite3.connect(config.state_path) as db:
        db.execute("DELETE FROM meta WHERE key = ?", (LAST_SYNC_KEY,))


def test_unchanged_register_is_not_read(tmp_path: Path) -> None:
    config = synced(tmp_path)
    result = run_sync(config, at("2026-06-20T09:30"), reuse_unchanged=True)
    assert result.scan is None
    assert not result.written
    assert result.counts["rows"] == 4


def test_copied_id_is_read_again(tmp_path: Path) -> None:
    # The first sync gave row 5 a new ID and a problem about the copy, which a second scan no
    # longer finds, so the second sync reads the register and the third reuses that.
    config = synced(tmp_path, copied_id=True)
    assert run_sync(config, at("2026-06-20T09:30"), reuse_unchanged=True).scan is not None
    assert run_sync(config, at("2026-06-20T09:40"), reuse_unchanged=True).scan is None


def test_reused_report_equals_full_sync(tmp_path: Path, run_cli) -> None:
    config = synced(tmp_path)
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("config.toml", "register.xlsx", config.state_path.name):
        shutil.copy2(tmp_path / name, copy / name)
    forget_last_sync(load_config(copy / "config.toml"))

    reused = run_cli("sync", "--now", "2026-06-20T09:30")
    full = run_cli("sync", "--now", "2026-06-20T09:30", config=copy / "config.toml")
    assert reused.exit_code == 0, reused.output
    assert full.exit_code == 0, full.output
    assert "in the past" in reused.output
    assert reused.output == full.output


def test_copied_folder_reuses_result(tmp_path: Path) -> None:
    synced(tmp_path / "first")
    shutil.copytree(tmp_path / "first", tmp_path / "second")
    config = load_config(tmp_path / "second" / "config.toml")
    assert run_sync(config, at("2026-06-20T09:30"), reuse_unchanged=True).scan is None


def test_edit_with_same_mtime_is_read(tmp_path: Path) -> None:
    config = synced(tmp_path)
    path = config.register.path
    before = path.stat()
    save_rep_edit(path, 2, monthly_price=200_000)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    result = run_sync(config, at("2026-06-20T09:30"), reuse_unchanged=True)
    assert result.scan is not None
    assert result.counts["updated"] == 1


def test_next_day_is_read(tmp_path: Path) -> None:
    config = synced(tmp_path)
    assert run_sync(config, at("2026-06-21T09:00"), reuse_unchanged=True).scan is not None


def test_config_change_is_read(tmp_path: Path) -> None:
    config = synced(tmp_path)
    changed = load_config(write_config(tmp_path, '[register]\nbackups = 2\n'))
    assert changed != config
    assert run_sync(changed, at("2026-06-20T09:30"), reuse_unchanged=True).scan is not None


def test_sent_reminder_is_read(tmp_path: Path) -> None:
    config = synced(tmp_path)
    remind = run_remind(config, at("2026-06-30T17:30"))
    assert remind.result is not None
    assert remind.result.sent >= 1
    result = run_sync(config, at("2026-06-30T17:35"), reuse_unchanged=True)
    assert result.scan is not None
    assert result.written  # the Reminders sent column changed


def test_second_reuse_after_full_read(tmp_path: Path) -> None:
    config = synced(tmp_path)
    assert run_sync(config, at("2026-06-21T09:00"), reuse_unchanged=True).scan is not None
    assert run_sync(config, at("2026-06-21T10:00"), reuse_unchanged=True).scan is None


def test_without_reuse_reads(tmp_path: Path) -> None:
    config = synced(tmp_path)
    assert run_sync(config, at("2026-06-20T09:30")).scan is not None


def remind_at(config: Config, when: str):
    return run_remind(config, at(when), reuse_unchanged=True)


def test_remind_nothing_due_is_not_read(tmp_path: Path) -> None:
    config = synced(tmp_path)
    remind_at(config, "2026-06-20T10:00")  # sends the overdue reminder of row 3, whose Expected close is past
    run = remind_at(config, "2026-06-20T10:05")
    assert run.scan.deals == []
    assert run.counts["deals"] == 4
    assert run.result is not None
    assert run.result.sent == 0


def test_remind_due_is_read_and_sent(tmp_path: Path) -> None:
    config = synced(tmp_path)
    run = remind_at(config, "2026-06-30T17:30")
    due_ids = {due.deal_id for due in run.plan}
    # Only the rows of the deals with a reminder due are checked.
    assert {scanned.deal_id for scanned in run.scan.deals} == due_ids
    assert run.counts["deals"] == 4
    assert run.result is not None
    assert run.result.sent >= 1
    # The same steps are settled now, so the next run has nothing due and reads nothing.
    again = remind_at(config, "2026-06-30T17:35")
    assert again.scan.deals == []
    assert again.result is not None
    assert again.result.sent == 0


def test_remind_after_edit_is_read(tmp_path: Path) -> None:
    config = synced(tmp_path)
    path = config.register.path
    before = path.stat()
    save_rep_edit(path, 2, monthly_price=200_000)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    run = remind_at(config, "2026-06-20T10:00")
    assert len(run.scan.deals) == 4


def test_remind_equals_full_read(tmp_path: Path) -> None:
    # At every hour of two weeks, the remind that may skip reading sends what a full one sends.
    config = synced(tmp_path / "reuse")
    shutil.copytree(tmp_path / "reuse", tmp_path / "full")
    full_config = load_config(tmp_path / "full" / "config.toml")
    for day in range(20, 32):
        for hour in (9, 17, 19):
            when = f"2026-06-{day:02d}T{hour:02d}:00" if day <= 30 else f"2026-07-{day - 30:02d}T{hour:02d}:00"
            reused = remind_at(config, when)
            full = run_remind(full_config, at(when))
            assert reused.result is not None
            assert full.result is not None
            assert [(when, due.deal_id, due.step.key) for due in reused.plan] == [(when, due.deal_id, due.step.key) for due in full.plan]
            assert (when, reused.result.sent, reused.result.skipped) == (when, full.result.sent, full.result.skipped)
            assert reused.counts == full.counts


def test_relative_config_path_reuses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced(tmp_path)  # loaded by its absolute path
    monkeypatch.chdir(tmp_path)
    config = load_config(Path("config.toml"))
    assert run_sync(config, at("2026-06-20T09:30"), reuse_unchanged=True).scan is None
