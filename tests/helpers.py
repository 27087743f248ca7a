"""Build real register workbooks and configs on disk for tests."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl

from salesreg.config import Config, load_config
from salesreg.fields import COLUMNS
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
