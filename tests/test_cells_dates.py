"""Date cells as reps type and paste them, read through `salesreg sync` on real workbooks.

Every case is one row with a monthly price of 100,000 and the date under test in Service start.
The fiscal year of the run is April 2026 - March 2027, so a start on 2026-10-01 bills six
months (600,000) and a start one day earlier bills seven (700,000).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from helpers import POSITIONS, CaseRun, make_register, notice_for, put_cell_xml, valid_deal, write_config

START = get_column_letter(POSITIONS["service_start"])
DATE_STYLE = 3  # the template's yyyy-mm-dd cell style, as make_register saves it

# id, how the cell is written (a Python value, or raw sheet XML for the value), expected date
TYPED = [
    ("date-cell", date(2026, 10, 1), date(2026, 10, 1)),
    # 2026-09-30 23:59:59.9998: Excel shows midnight of October 1.
    ("midnight-float-noise", f'<v>46295.9999999977</v>|{DATE_STYLE}', date(2026, 10, 1)),
    # 23:59:59.568 rounds to the next second, which is midnight.
    ("half-second-before-midnight", f'<v>46295.999995</v>|{DATE_STYLE}', date(2026, 10, 1)),
    ("serial-in-general-cell", "<v>46296</v>|", date(2026, 10, 1)),
    ("serial-with-noise-in-general-cell", "<v>46295.999995</v>|", date(2026, 10, 1)),
    ("text-slashes", "2026/10/1", date(2026, 10, 1)),
    ("text-iso", "2026-10-01", date(2026, 10, 1)),
    ("text-kanji", "2026年10月1日", date(2026, 10, 1)),
    ("text-full-width", "２０２６／１０／０１", date(2026, 10, 1)),
    ("era-kanji", "令和8年10月1日", date(2026, 10, 1)),
    ("era-initial", "R8.10.1", date(2026, 10, 1)),
    ("era-first-year", "令和元年5月1日", date(2019, 5, 1)),
    ("era-heisei", "平成31年4月30日", date(2019, 4, 30)),
    ("number-yyyymmdd-in-general-cell", "<v>20261001</v>|", date(2026, 10, 1)),
    ("weekday-in-brackets", "2026/10/1(木)", date(2026, 10, 1)),
    ("day-first-unambiguous", "31.10.2026", date(2026, 10, 31)),
]

# id, cell value, the Problems line sync writes
PROBLEMS = [
    ("no-year", "10/1", 'Service start: "10/1" has no year; type the whole date as YYYY-MM-DD.'),
    (
        "day-month-ambiguous",
        "01.10.2026",
        'Service start: "01.10.2026" can be read as 2026-01-10 or as 2026-10-01; type the date as YYYY-MM-DD.',
    ),
    (
        "two-digit-year",
        "26/10/01",
        'Service start: "26/10/01" has a two-digit year; type the whole date as YYYY-MM-DD.',
    ),
    (
        "era-date-after-its-end",
        "平成31年5月1日",
        'Service start: "平成31年5月1日" is not a date of the 平成 era, which runs from 1989-01-08 to '
        "2019-04-30; type the date as YYYY-MM-DD.",
    ),
    (
        "wrong-weekday",
        "2026/10/1(金)",
        'Service start: "2026/10/1(金)" names the wrong day of the week: 2026-10-01 is a Thursday; '
        "check the date and type it as YYYY-MM-DD.",
    ),
    ("impossible-day", "2026-02-30", 'Service start: "2026-02-30" is not a real date; check the day and month.'),
    (
        "small-number-in-general-cell",
        "<v>5</v>|",
        'Service start: "5" is a number, not a date; type the date as YYYY-MM-DD or use a date cell.',
    ),
    (
        "year-1900-in-date-cell",
        f"<v>5</v>|{DATE_STYLE}",
        'Service start: "1900-01-05" is outside the years 1950 to 2199; check the year, or type the date as YYYY-MM-DD.',
    ),
    ("words", "next spring", 'Service start: "next spring" is not a date; use YYYY-MM-DD or a date cell.'),
]

def months_billed(start: date) -> int:
    """Return the months of fiscal year 2026 (April 2026 - March 2027) billed from ``start`` on."""
    first = max((start.year, start.month), (2026, 4))
    return (2027 * 12 + 3) - (first[0] * 12 + first[1]) + 1


CASES = [(case_id, raw) for case_id, raw, _ in TYPED + PROBLEMS]
ROW = {case_id: row for row, (case_id, _) in enumerate(CASES, start=2)}


def write_date(path: Path, row: int, raw: object) -> None:
    """Put ``raw`` into Service start: raw XML "<v>...</v>|style" as a program saves it, else through openpyxl."""
    if isinstance(raw, str) and raw.startswith("<v>"):
        value_xml, style = raw.split("|")
        style_attribute = f' s="{style}"' if style else ""
        put_cell_xml(path, f"{START}{row}", f'<c r="{START}{row}"{style_attribute}>{value_xml}</c>')


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> CaseRun:
    folder = tmp_path_factory.mktemp("dates")
    write_config(folder)
    deals = [valid_deal(service_start=None if str(raw).startswith("<v>") else raw) for _, raw in CASES]
    path = make_register(folder / "register.xlsx", deals)
    for case_id, raw in CASES:
        write_date(path, ROW[case_id], raw)
    return CaseRun(folder)


def test_sync_exit_status(run: CaseRun) -> None:
    assert run.result.exit_code == 0, run.result.output


def test_sync_changes_only_its_columns(run: CaseRun) -> None:
    assert run.changes == []


@pytest.mark.parametrize(("case_id", "raw", "expected"), [pytest.param(c, r, e, id=c) for c, r, e in TYPED])
def test_date_read(run: CaseRun, case_id: str, raw: object, expected: date) -> None:
    row = ROW[case_id]
    assert run.deals[row].billing.service_start == expected
    # A date typed as text is read, and a notice requests a date cell for the live formula.
    assert run.problems(row) == notice_for("Service start", raw)
    assert run.rows[row]["Fiscal-period sales"] == 100_000 * months_billed(expected)


@pytest.mark.parametrize(("case_id", "expected"), [pytest.param(c, e, id=c) for c, _, e in PROBLEMS])
def test_date_problem(run: CaseRun, case_id: str, expected: str) -> None:
    row = ROW[case_id]
    assert run.problems(row) == expected
    assert f'Row {row}, "Service start": {expected.removeprefix("Service start: ")}' in run.result.output
    assert run.deals[row].billing.service_start is None


def test_1904_date_system(tmp_path: Path) -> None:
    write_config(tmp_path)
    path = make_register(tmp_path / "register.xlsx", [valid_deal(), valid_deal(service_start=None)])
    workbook = openpyxl.load_workbook(path)
    workbook.epoch = CALENDAR_MAC_1904
    workbook["Deals"][f"{START}2"] = date(2026, 10, 1)  # written as the 1904-system serial 44834
    workbook.save(path)
    # 44834 in a General cell is 2026-10-01 in the 1904 system, but 2022-09-30 in the 1900 one.
    put_cell_xml(path, f"{START}3", f'<c r="{START}3"><v>44834</v></c>')

    run = CaseRun(tmp_path)

    assert run.result.exit_code == 0, run.result.output
    assert run.deals[2].billing.service_start == date(2026, 10, 1)
    assert run.deals[3].billing.service_start == date(2026, 10, 1)
    assert run.rows[2]["Fiscal-period sales"] == 600_000
    assert run.rows[3]["Fiscal-period sales"] == 600_000
    assert run.rows[2]["Update deadline"] == datetime(2026, 6, 30, 18, 0)
    assert run.changes == []
