"""Progress bars: on a terminal only, so that runs under cron print nothing extra."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from helpers import setup_folder, valid_deal
from salesreg.cli import options

DEALS = [valid_deal(), valid_deal(customer="Kitano Foods", expected_close=date(2026, 9, 30))]


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    setup_folder(tmp_path, DEALS)
    # Every loop counts as long, so only the terminal check decides.
    monkeypatch.setattr(options, "PROGRESS_DELAY_SECONDS", 0.0)
    return tmp_path


def test_no_terminal_prints_no_bar(folder: Path, run_cli) -> None:
    result = run_cli("sync", "--now", "2026-06-20T09:00")
    assert result.exit_code == 0, result.output
    assert "Checking rows" not in result.output
    assert "Checking rows" not in result.stderr
    assert result.stdout.splitlines()[0].startswith("Wrote register.xlsx: 2 deals")


def test_no_terminal_remind_prints_no_bar(folder: Path, run_cli) -> None:
    run_cli("sync", "--now", "2026-06-20T09:00")
    result = run_cli("remind", "--now", "2026-07-01T09:00")
    assert result.exit_code == 0, result.output
    assert "Sent 1 reminder" in result.stdout
    assert "Checking rows" not in result.stderr
    assert "Sending reminders" not in result.stderr


def test_terminal_shows_bar(folder: Path, run_cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(options, "is_interactive", lambda: True)
    run_cli("sync", "--now", "2026-06-20T09:00")
    result = run_cli("remind", "--now", "2026-07-01T09:00")
    assert result.exit_code == 0, result.output
    assert "Checking rows" in result.stderr
    assert "Sending reminders" in result.stderr
    assert "Checking rows" not in result.stdout


def test_quick_loop_shows_no_bar(tmp_path: Path, run_cli, monkeypatch: pytest.MonkeyPatch) -> None:
    setup_folder(tmp_path, DEALS)
    monkeypatch.setattr(options, "is_interactive", lambda: True)
    monkeypatch.setattr(options, "PROGRESS_DELAY_SECONDS", 3600.0)
    result = run_cli("sync", "--now", "2026-06-20T09:00")
    assert result.exit_code == 0, result.output
    assert "Checking rows" not in result.stderr
