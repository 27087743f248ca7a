"""Text and Rep cells as reps type and paste them, read through `salesreg sync` on real workbooks."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from helpers import POSITIONS, SYNC_COLUMNS, TEAM, CaseRun, make_register, put_cell_xml, valid_deal, write_config

LONG_TEXT = " ".join(["Needs a fleet of 40 trucks tracked."] * 1112)  # 40,031 characters
EXCEL_CELL_LIMIT = 32767

# id, the fields of the row, the field to check, the value salesreg reads
TEXT = [
    ("spaces-around", {"customer": "  Sakura Logistics\u3000"}, "customer", "Sakura Logistics"),
    ("no-break-and-ideographic-spaces", {"customer": "\u3000\u3000Kitano Foods\u00a0"}, "customer", "Kitano Foods"),
    ("zero-width-space", {"customer": "\u200bMinato Clinic"}, "customer", "Minato Clinic"),
    ("line-break-in-one-line-field", {"title": "Fleet\ntracking"}, "title", "Fleet tracking"),
    ("line-breaks-kept-in-notes", {"next_step": "Call on Monday\r\nthen visit"}, "next_step", "Call on Monday\nthen visit"),
    ("excel-escaped-carriage-return", {"next_step": "<xml>Call on Monday_x000D_\nthen visit"}, "next_step", "Call on Monday\nthen visit"),
    ("NA-stays-text", {"customer": "NA"}, "customer", "NA"),
    ("None-stays-text", {"title": "None"}, "title", "None"),
    ("N/A-stays-text", {"next_step": "N/A"}, "next_step", "N/A"),
]

# id, Rep cell, the Team member's Name salesreg finds
REPS = [
    ("name-any-case", "AIKO TANAKA", "Aiko Tanaka"),
    ("email-any-case", "Aiko@EXAMPLE.com", "Aiko Tanaka"),
    ("email-full-width", "ａｉｋｏ＠ｅｘａｍｐｌｅ．ｃｏｍ", "Aiko Tanaka"),
    ("name-and-address", "Aiko Tanaka <aiko@example.com>", "Aiko Tanaka"),
    ("ideographic-space-inside", "Aiko\u3000Tanaka", "Aiko Tanaka"),
    ("line-break-after", "Aiko Tanaka\n", "Aiko Tanaka"),
    ("japanese-name-without-space", "田中愛子", "田中 愛子"),
    ("japanese-name-full-width-space", "田中\u3000愛子", "田中 愛子"),
]

# id, Rep cell, the Problems line sync writes
REP_PROBLEMS = [
    (
        "unknown-close-to-a-name",
        "Aiko Tanka",
        'Rep: "Aiko Tanka" is not on the Team sheet (did you mean "Aiko Tanaka"?); pick a Name from the list '
        "or add the rep to Team.",
    ),
    ("unknown", "Nobody", 'Rep: "Nobody" is not on the Team sheet; pick a Name from the list or add the rep to Team.'),
    ("inactive", "Old Rep", 'Rep: "Old Rep" is inactive on the Team sheet; hand the deal to an active rep.'),
    ("inactive-by-email", "OLD@example.com", 'Rep: "Old Rep" is inactive on the Team sheet; hand the deal to an active rep.'),
    (
        "two-members-same-name",
        "Ken Sato",
        'Rep: "Ken Sato" matches 2 people on the Team sheet (rows 7, 8); type the rep\'s e-mail address instead.',
    ),
]

TEAM_WITH_NAMESAKES = TEAM + (
    ("田中 愛子", "aiko.tanaka@example.jp", "Kenji Mori", "Yes"),
    ("Ken Sato", "ken.sato@example.com", "Kenji Mori", "Yes"),
    ("Ken Sato", "kenji.sato@example.com", "Kenji Mori", "Yes"),
)

ROWS = (
    [(case_id, fields) for case_id, fields, _, _ in TEXT]
    + [(case_id, {"rep": rep}) for case_id, rep, _ in REPS + REP_PROBLEMS]
    + [("longer-than-a-cell", {"customer_business": "<xml>" + LONG_TEXT})]
)
ROW = {case_id: row for row, (case_id, _) in enumerate(ROWS, start=2)}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> CaseRun:
    folder = tmp_path_factory.mktemp("text")
    write_config(folder)
    deals = [valid_deal(**{name: None if str(value).startswith("<xml>") else value for name, value in fields.items()}) for _, fields in ROWS]
    path = make_register(folder / "register.xlsx", deals, team=TEAM_WITH_NAMESAKES)
    # Cells as Excel saves them: openpyxl cannot write these two.
    for case_id, fields in ROWS:
        for name, value in fields.items():
            if isinstance(value, str) and value.startswith("<xml>"):
                coordinate = f"{get_column_letter(POSITIONS[name])}{ROW[case_id]}"
                text = value.removeprefix("<xml>")
                put_cell_xml(path, coordinate, f'<c r="{coordinate}" s="2" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>')
    return CaseRun(folder)


def test_sync_exit_status(run: CaseRun) -> None:
    assert run.result.exit_code == 0, run.result.output


def test_sync_changes_only_its_columns(run: CaseRun) -> None:
    assert run.changes == []


@pytest.mark.parametrize(("case_id", "field", "expected"), [pytest.param(c, f, e, id=c) for c, _, f, e in TEXT])
def test_text_read(run: CaseRun, case_id: str, field: str, expected: str) -> None:
    row = ROW[case_id]
    deal = run.deals[row]
    value = deal.information.get(field) if field in deal.information else getattr(deal, field)
    assert value == expected
    assert run.problems(row) is None


@pytest.mark.parametrize(("case_id", "expected"), [pytest.param(c, e, id=c) for c, _, e in REPS])
def test_rep_found(run: CaseRun, case_id: str, expected: str) -> None:
    row = ROW[case_id]
    rep = run.deals[row].rep
    assert rep is not None
    assert rep.name == expected
    assert run.problems(row) is None


@pytest.mark.parametrize(("case_id", "expected"), [pytest.param(c, e, id=c) for c, _, e in REP_PROBLEMS])
def test_rep_problem(run: CaseRun, case_id: str, expected: str) -> None:
    row = ROW[case_id]
    assert run.problems(row) == expected
    assert f'Row {row}, "Rep": {expected.removeprefix("Rep: ")}' in run.result.output


def test_text_longer_than_a_cell(run: CaseRun) -> None:
    row = ROW["longer-than-a-cell"]
    expected = "Customer business is too long: 40,031 characters, and an Excel cell can contain at most 32,767; shorten it."
    assert run.problems(row) == expected
    assert f'Row {row}, "Customer business" is too long: 40,031 characters' in run.result.output
    assert run.deals[row].information["customer_business"] is None


def test_nothing_written_longer_than_a_cell(run: CaseRun) -> None:
    sheet = openpyxl.load_workbook(run.path, read_only=True)["Deals"]
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            if cell.value is not None and cell.column_letter in SYNC_COLUMNS:
                assert len(str(cell.value)) <= EXCEL_CELL_LIMIT, cell.coordinate


def test_long_text_left_as_the_rep_saved_it(run: CaseRun) -> None:
    sheet = openpyxl.load_workbook(run.path, read_only=True)["Deals"]
    coordinate = f"{get_column_letter(POSITIONS['customer_business'])}{ROW['longer-than-a-cell']}"
    assert sheet[coordinate].value == LONG_TEXT


def test_problem_values_shown_short(tmp_path: Path, run_cli) -> None:
    write_config(tmp_path)
    make_register(tmp_path / "register.xlsx", [valid_deal(rep="x" * 500)])
    result = run_cli("validate", "--now", "2026-06-20T09:00")
    assert result.exit_code == 1
    assert f'Row 2, "Rep": "{"x" * 57}..." is not on the Team sheet' in result.output
