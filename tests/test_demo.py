"""`salesreg demo` builds the example and runs the whole job, in English and in Japanese."""

from __future__ import annotations

import email
import email.policy
import re
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from salesreg.cli import main

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def run_demo(folder: Path, *args: str):
    result = CliRunner().invoke(main, ["demo", str(folder), "--now", "2026-12-04T10:00", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def messages(folder: Path) -> list[email.message.EmailMessage]:
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
        for path in sorted((folder / "outbox").glob("*.eml"))
    ]


@pytest.fixture(scope="module")
def japanese_demo(tmp_path_factory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("demo-ja") / "demo"
    return folder, run_demo(folder, "--locale", "ja").output


def test_japanese_demo_register(japanese_demo) -> None:
    folder, _ = japanese_demo
    workbook = openpyxl.load_workbook(folder / "register.xlsx")
    assert workbook.sheetnames[:2] == ["案件", "チーム"]
    sheet = workbook["案件"]
    headers = [cell.value for cell in sheet[1]]
    assert headers[:6] == ["案件ID", "顧客名", "案件名", "担当者", "フェーズ", "受注予定日"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len([row for row in rows if row[0]]) == 60
    problems = [row[headers.index("要修正事項")] for row in rows if row[headers.index("要修正事項")]]
    assert problems and all(JAPANESE.search(text) for text in problems)
    assert '月額料金: "5万くらい" は金額ではありません。100000 のような数値を入力してください。' in problems
    assert {row[headers.index("結果")] for row in rows} == {None, "受注", "失注"}


def test_japanese_demo_reminders(japanese_demo) -> None:
    folder, _ = japanese_demo
    sent = messages(folder)
    assert len(sent) > 20
    for message in sent:
        assert str(message["Subject"]).startswith("[案件台帳] ")
        body = message.get_body(preferencelist=("plain",)).get_content()
        assert body.splitlines()[2] == "お疲れ様です。案件台帳からのお知らせです。"
        assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日\([月火水木金土日]\) \d\d:\d\d", body), body


def test_japanese_demo_summary(japanese_demo) -> None:
    folder, _ = japanese_demo
    workbook = openpyxl.load_workbook(folder / "summary.xlsx")
    assert workbook.sheetnames[0] == "概要"
    assert all(JAPANESE.search(name) for name in workbook.sheetnames)


def test_japanese_demo_report(japanese_demo) -> None:
    _, output = japanese_demo
    assert JAPANESE.search(output.splitlines()[0]), output


def test_english_demo_stays_english(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    output = run_demo(folder).output
    assert output.startswith(f"Demo built in {folder} as of 2026-12-04T10:00+09:00:")
    workbook = openpyxl.load_workbook(folder / "register.xlsx")
    assert workbook.sheetnames[:2] == ["Deals", "Team"]
    sent = messages(folder)
    assert sent and all(str(message["Subject"]).startswith("[Sales register] ") for message in sent)
    assert not any(JAPANESE.search(str(message["Subject"])) for message in sent)
