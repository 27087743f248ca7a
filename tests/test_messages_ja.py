"""Row problems and workbook errors in the team's language: `[mail] locale` through the CLI.

The same register with four bad rows is validated and synced in Japanese and in English. The
report lines and the Problems cells must read exactly as below. The English ones are the texts
from before Japanese was added, so they must not change.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import openpyxl
import pytest

from salesreg.i18n import using
from salesreg.model import Problem
from salesreg.parse import CellError, parse_date

from helpers import POSITIONS, setup_folder, valid_deal

NOW = "2026-06-20T09:00"

BAD_ROWS = [
    valid_deal(expected_close="31/02/2026"),  # row 2: a date that is not a date
    valid_deal(rep="Aiko Tanak"),  # row 3: an unknown rep, close to a Team name
    valid_deal(monthly_price=-5),  # row 4: a negative price
    valid_deal(outcome="Lost", expected_close=date(2026, 6, 1)),  # row 5: lost without a reason
]

JAPANESE_CELLS = [
    'Expected close: "31/02/2026" は日付ではありません。YYYY-MM-DD の形式で入力するか、日付セルを使ってください。',
    'Rep: "Aiko Tanak" はチームシートにいません ("Aiko Tanaka" のことですか？)。'
    "リストから氏名を選ぶか、担当者をチームシートに追加してください。",
    'Monthly price: "-5" はマイナスです。0 以上の金額を入力してください。',
    "Outcome reason: 空欄です。失注した案件には失注理由を書いてください。",
]
JAPANESE_REPORT = [
    '2行目「Expected close」: "31/02/2026" は日付ではありません。YYYY-MM-DD の形式で入力するか、日付セルを使ってください。',
    '3行目「Rep」: "Aiko Tanak" はチームシートにいません ("Aiko Tanaka" のことですか？)。'
    "リストから氏名を選ぶか、担当者をチームシートに追加してください。",
    '4行目「Monthly price」: "-5" はマイナスです。0 以上の金額を入力してください。',
    "5行目「Outcome reason」: 空欄です。失注した案件には失注理由を書いてください。",
]
ENGLISH_CELLS = [
    'Expected close: "31/02/2026" is not a date; use YYYY-MM-DD or a date cell.',
    'Rep: "Aiko Tanak" is not on the Team sheet (did you mean "Aiko Tanaka"?); '
    "pick a Name from the list or add the rep to Team.",
    'Monthly price: "-5" is negative; type an amount of 0 or more.',
    "Outcome reason is empty, but the deal is Lost; write why it was lost.",
]
ENGLISH_REPORT = [
    'Row 2, "Expected close": "31/02/2026" is not a date; use YYYY-MM-DD or a date cell.',
    'Row 3, "Rep": "Aiko Tanak" is not on the Team sheet (did you mean "Aiko Tanaka"?); '
    "pick a Name from the list or add the rep to Team.",
    'Row 4, "Monthly price": "-5" is negative; type an amount of 0 or more.',
    'Row 5, "Outcome reason" is empty, but the deal is Lost; write why it was lost.',
]

LOCALES = [
    pytest.param("ja", JAPANESE_REPORT, JAPANESE_CELLS, id="ja"),
    pytest.param("en", ENGLISH_REPORT, ENGLISH_CELLS, id="en"),
]


def problems_cells(path: Path) -> list[str | None]:
    """Return the Problems cell of every deal row, read back with openpyxl."""
    sheet = openpyxl.load_workbook(path)["Deals"]
    return [sheet.cell(row=row, column=POSITIONS["problems"]).value for row in range(2, 2 + len(BAD_ROWS))]


@pytest.fixture
def folder(tmp_path: Path):
    def build(locale: str) -> Path:
        setup_folder(tmp_path, BAD_ROWS, f'[mail]\nlocale = "{locale}"\n')
        return tmp_path

    return build


@pytest.mark.parametrize(("locale", "report", "cells"), LOCALES)
def test_validate_lists_every_problem_in_the_locale(folder, run_cli, locale: str, report: list[str], cells: list[str]) -> None:
    folder(locale)
    result = run_cli("validate", "--now", NOW)
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    for line in report:
        assert line in lines, result.output


@pytest.mark.parametrize(("locale", "report", "cells"), LOCALES)
def test_sync_writes_problems_cells_in_the_locale(folder, run_cli, locale: str, report: list[str], cells: list[str]) -> None:
    path = folder(locale) / "register.xlsx"
    result = run_cli("sync", "--now", NOW)
    assert result.exit_code == 0, result.output
    assert problems_cells(path) == cells
    lines = [line.strip() for line in result.output.splitlines()]
    for line in report:
        assert line in lines, result.output


def test_problem_cell_japanese_uses_colon() -> None:
    with using("ja"):
        empty = Problem(7, "受注予定日", None, "空欄です。受注予定日を入力してください (YYYY-MM-DD)。")
        assert empty.cell_text() == "受注予定日: 空欄です。受注予定日を入力してください (YYYY-MM-DD)。"
        assert empty.report_text() == "7行目「受注予定日」: 空欄です。受注予定日を入力してください (YYYY-MM-DD)。"


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        pytest.param("ja", "空欄です。受注予定日を入力してください (YYYY-MM-DD)。", id="ja"),
        pytest.param("en", "is empty; type the date you expect to close the deal (YYYY-MM-DD).", id="en"),
    ],
)
def test_empty_expected_close_in_the_locale(folder, run_cli, locale: str, expected: str) -> None:
    path = folder(locale) / "register.xlsx"
    workbook = openpyxl.load_workbook(path)
    workbook["Deals"].cell(row=2, column=POSITIONS["expected_close"]).value = None
    workbook.save(path)
    run_cli("sync", "--now", NOW)
    separator = " " if locale == "en" else ": "
    assert problems_cells(path)[0] == f"Expected close{separator}{expected}"


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        pytest.param(
            "ja",
            "register.xlsx は編集中です (ロックファイル ~$register.xlsx)。何も書き込んでいません。"
            "ブックが閉じられてから、もう一度実行してください。",
            id="ja",
        ),
        pytest.param(
            "en",
            "register.xlsx is open for editing (lock file ~$register.xlsx); nothing was written. "
            "Run again after the workbook is closed.",
            id="en",
        ),
    ],
)
def test_busy_workbook_message_in_the_locale(folder, run_cli, locale: str, expected: str) -> None:
    path = folder(locale) / "register.xlsx"
    (path.parent / "~$register.xlsx").write_bytes(b"")
    before = path.read_bytes()
    result = run_cli("sync", "--now", NOW)
    assert result.exit_code == 3, result.output
    assert expected in result.output.replace(f"{path.parent}/", "")
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        pytest.param(
            "ja",
            "register.xlsx は読み取れる .xlsx ブックではありません。このファイルは、名前の末尾は .xlsx ですが、"
            "CSV テキストファイルです。Excel で開き、[ファイル] > [名前を付けて保存] > [Excel ブック (*.xlsx)] "
            "で保存してから、もう一度実行してください。",
            id="ja",
        ),
        pytest.param(
            "en",
            "register.xlsx is not a readable .xlsx workbook: it is a CSV text file, although its name ends in "
            ".xlsx. Open it in Excel, save it with File > Save As > Excel Workbook (*.xlsx), and run again.",
            id="en",
        ),
    ],
)
def test_unreadable_workbook_message_in_the_locale(folder, run_cli, locale: str, expected: str) -> None:
    path = folder(locale) / "register.xlsx"
    path.write_text("Customer,Deal\nSakura,Fleet\n", "utf-8")
    result = run_cli("validate", "--now", NOW)
    assert result.exit_code == 2, result.output
    assert expected in " ".join(result.output.replace(f"{path.parent}/", "").split())


@pytest.mark.parametrize(
    ("locale", "value", "expected"),
    [
        pytest.param("ja", "04/03/2026", "2026年3月4日(水)とも2026年4月3日(金)とも読めます", id="ja-ambiguous"),
        pytest.param("en", "04/03/2026", "can be read as 2026-03-04 or as 2026-04-03", id="en-ambiguous"),
        pytest.param("ja", "2026-06-30 (月)", "2026年6月30日(火)は火曜日です", id="ja-wrong-weekday"),
        pytest.param("en", "2026-06-30 (月)", "2026-06-30 is a Tuesday", id="en-wrong-weekday"),
    ],
)
def test_dates_shown_to_people_follow_the_locale(locale: str, value: str, expected: str) -> None:
    with using(locale):
        with pytest.raises(CellError) as caught:
            parse_date(value)
    assert expected in str(caught.value)
