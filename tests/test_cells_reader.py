"""The python-calamine reader returns what openpyxl's values-only reading returns, on real files."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from salesreg.register import _open_workbook

SHAPES = {
    "from-a1": {"A1": "head", "E5": 12.5},
    "from-c3": {"C3": "first", "E5": "last"},
    "one-cell": {"B2": "only"},
    "corners": {"A3": "left", "C1": "top"},
    "types": {"A1": 1, "B1": 2.5, "C1": datetime(2026, 6, 30, 18, 0), "D1": date(2026, 7, 1), "E1": True, "F1": "text"},
}


def trimmed(row: tuple[Any, ...]) -> tuple[Any, ...]:
    values = list(row)
    while values and values[-1] is None:
        values.pop()
    return tuple(values)


@pytest.mark.parametrize("cells", list(SHAPES.values()), ids=list(SHAPES))
def test_rows_match_openpyxl(tmp_path: Path, cells: dict[str, Any]) -> None:
    path = tmp_path / "shape.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Deals"
    for coordinate, value in cells.items():
        sheet[coordinate] = value
    workbook.save(path)

    expected = [trimmed(row) for row in openpyxl.load_workbook(path)["Deals"].iter_rows(min_row=1, min_col=1, values_only=True)]
    read = _open_workbook(path, path.read_bytes())
    actual = [trimmed(row) for row in read["Deals"].iter_rows()]
    read.close()
    assert actual == expected
    for row_actual, row_expected in zip(actual, expected):
        assert [type(value) for value in row_actual] == [type(value) for value in row_expected]


def test_empty_sheet_has_no_rows(tmp_path: Path) -> None:
    path = tmp_path / "empty.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active.title = "Deals"
    workbook.save(path)
    read = _open_workbook(path, path.read_bytes())
    assert list(read["Deals"].iter_rows()) == []
