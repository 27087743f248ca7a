"""LibreOffice, a real spreadsheet application, opens what salesreg writes."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from helpers import setup_folder, valid_deal
from libreoffice import convert, require_soffice

pytestmark = pytest.mark.libreoffice


def test_synced_register_opens(tmp_path: Path, run_cli) -> None:
    require_soffice()
    setup_folder(tmp_path, [valid_deal(expected_close=date(2026, 12, 25)), valid_deal(customer=None)])
    result = run_cli("sync", "--now", "2026-12-04T10:00")
    assert result.exit_code == 0, result.output
    # CSV filter options: comma separator, UTF-8 (76), first sheet.
    exported = convert(tmp_path / "register.xlsx", "csv:Text - txt - csv (StarCalc):44,34,76,1", tmp_path / "lo")
    rows = list(csv.DictReader(exported.open(encoding="utf-8")))
    assert rows[0]["Deal ID"] == "D-000001"
    assert rows[0]["Fiscal-period sales"].replace(",", "").replace("¥", "").strip('"') == "600000"
    assert rows[0]["Update deadline"].startswith("2026-12-18")
    assert "Customer is empty" in rows[1]["Problems"]


def test_summary_opens(tmp_path: Path, run_cli) -> None:
    require_soffice()
    setup_folder(tmp_path, [valid_deal(expected_close=date(2026, 12, 25), expectation="A")])
    run_cli("sync", "--now", "2026-12-04T10:00")
    result = run_cli("summary", "--now", "2026-12-04T10:00")
    assert result.exit_code == 0, result.output
    pdf = convert(tmp_path / "summary.xlsx", "pdf", tmp_path / "lo")
    assert pdf.read_bytes().startswith(b"%PDF")
    assert pdf.stat().st_size > 5000
