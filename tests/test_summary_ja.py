"""The managers' summary in Japanese: ``[mail] locale = "ja"`` on real files, and the tables.

The command runs use the register of test_summary_cli (two open deals as of 2026-06-01 09:00
Tokyo time, fiscal year 2026), with offices on the Team sheet so that every sheet is written.
Labels that come from other parts of the catalogue (register headers such as "Rep" or
"Expectation") are checked only where the glossary fixes them.
"""

from __future__ import annotations

import email
import email.policy
import io
from datetime import date
from email.message import EmailMessage
from pathlib import Path
from typing import cast

import openpyxl
import pytest
from test_summary import build_data
from test_summary_cli import NOW, make_folder

from salesreg.fiscal import fiscal_year_of
from salesreg.i18n import _, using
from salesreg.model import TeamMember
from salesreg.summary import summary_recipients, summary_tables
from salesreg.summary.workbook import SHEETS
from salesreg.summary_data import fiscal_year_label

JA_CONFIG = '[mail]\nlocale = "ja"\n'
SHEET_NAMES = [
    "概要",
    "パイプライン",
    "拠点別",
    "売上見込み",
    "確度",
    "更新状況",
    "受注・失注",
    "上長確認待ち",
    "入力状況",
    "最近の変更",
]
FORBIDDEN_IN_SHEET_NAMES = set("[]:*?/\\")


def make_ja_folder(folder: Path, config_text: str = JA_CONFIG) -> None:
    """Write the register of test_summary_cli with offices on its Team sheet, and a config."""
    make_folder(folder, config_text=config_text)
    book = openpyxl.load_workbook(folder / "register.xlsx")
    for row, office in enumerate(["Office", "Tokyo", "Osaka", "Nagoya"], start=1):
        book["Team"].cell(row=row, column=5, value=office)
    book.save(folder / "register.xlsx")


def outbox_message(folder: Path) -> EmailMessage:
    paths = sorted((folder / "outbox").glob("*.eml"))
    assert len(paths) == 1
    return cast(EmailMessage, email.message_from_bytes(paths[0].read_bytes(), policy=email.policy.default))


def body_text(message: EmailMessage, subtype: str) -> str:
    body = message.get_body((subtype,))
    assert body is not None
    return body.get_content()


@pytest.fixture
def ja_workbook(tmp_path: Path, run_cli) -> openpyxl.Workbook:
    make_ja_folder(tmp_path)
    result = run_cli("summary", "--now", NOW)
    assert result.exit_code == 0, result.output
    return openpyxl.load_workbook(tmp_path / "summary.xlsx")


def column_a(sheet) -> list[object]:
    return [row[0] for row in sheet.iter_rows(min_col=1, max_col=1, values_only=True)]


# The workbook


def test_workbook_sheet_names(ja_workbook: openpyxl.Workbook) -> None:
    assert ja_workbook.sheetnames == SHEET_NAMES


def test_workbook_overview_heading(ja_workbook: openpyxl.Workbook) -> None:
    sheet = ja_workbook["概要"]
    assert sheet["A1"].value == "売上サマリー 2026年度"
    assert sheet["A2"].value == "集計日時"
    assert sheet["A3"].value == "主要指標"


def test_workbook_overview_figures(ja_workbook: openpyxl.Workbook) -> None:
    labels = column_a(ja_workbook["概要"])
    assert labels[3:13] == [
        "指標",
        "進行中の案件数",
        "パイプライン（今期売上）",
        "パイプライン（加重売上）",
        "2026年度の加重売上（受注は全額、進行中は確度で加重）",
        "2026年度の受注件数",
        "2026年度の受注額（今期売上）",
        "2026年度の失注件数",
        "2026年度の受注率（受注 ÷ 受注・失注の件数）",
        "更新期限切れの案件",
    ]


def test_workbook_as_of_date_format(ja_workbook: openpyxl.Workbook) -> None:
    assert ja_workbook["概要"]["B2"].number_format == 'yyyy"年"m"月"d"日" hh:mm'


def test_workbook_total_row(ja_workbook: openpyxl.Workbook) -> None:
    labels = column_a(ja_workbook["パイプライン"])
    assert labels[-1] == "合計"


def test_workbook_office_table(ja_workbook: openpyxl.Workbook) -> None:
    sheet = ja_workbook["拠点別"]
    assert sheet["A1"].value == "拠点別のパイプラインと受注（2026年度）"
    headers = [cell.value for cell in sheet[4]]
    assert headers[0] == "拠点"
    assert headers[4:6] == ["2026年度の受注件数", "2026年度の受注額"]


def test_workbook_recent_changes_heading(ja_workbook: openpyxl.Workbook) -> None:
    assert ja_workbook["最近の変更"]["A1"].value == "直近7日の変更"


def test_workbook_register_data_untranslated(ja_workbook: openpyxl.Workbook) -> None:
    labels = column_a(ja_workbook["パイプライン"])
    assert labels[4:7] == ["Aiko Tanaka", "Ben Carter", "Chiara Rossi"]


def test_workbook_english_still_english(tmp_path: Path, run_cli) -> None:
    make_ja_folder(tmp_path, config_text="")
    run_cli("summary", "--now", NOW)
    book = openpyxl.load_workbook(tmp_path / "summary.xlsx")
    assert book.sheetnames[:3] == ["Overview", "Pipeline", "By office"]
    assert book["Overview"]["A1"].value == "Sales summary FY2026"
    assert book["Overview"]["B2"].number_format == "yyyy-mm-dd hh:mm"


def test_sheet_names_valid_in_excel() -> None:
    with using("ja"):
        names = [_(name) for name, _heading, _layout in SHEETS]
    assert len(set(names)) == len(names)
    for name in names:
        assert 0 < len(name) <= 31, name
        assert not FORBIDDEN_IN_SHEET_NAMES & set(name), name


# Labels of the tables


def test_fiscal_year_label() -> None:
    year = fiscal_year_of(date(2026, 6, 1), 4)
    with using("ja"):
        assert fiscal_year_label(year) == "2026年度"
    assert fiscal_year_label(year) == "FY2026"


def test_tables_outcome_values() -> None:
    with using("ja"):
        table = summary_tables(build_data())["awaiting_review"]
    # The Outcome column, by position because its header comes from the register's part of the catalogue.
    assert list(table.iloc[:, 5]) == ["受注", "失注"]


def test_tables_completeness_marks() -> None:
    with using("ja"):
        table = summary_tables(build_data())["completeness_by_deal"]
    assert set(table.iloc[:, 6:-1].to_numpy().ravel()) == {"入力済み", "未入力"}
    assert table.columns[-1] == "未入力の項目数"


def test_tables_not_ranked_label() -> None:
    with using("ja"):
        table = summary_tables(build_data())["expectation_count"]
    assert list(table.index) == ["A", "B", "C", "D", "（確度未設定）", "合計"]


def test_recipient_problem_in_japanese() -> None:
    team = (
        TeamMember(row=2, name="Rep", email="rep@example.com", manager="Nobody", active=True),
    )
    with using("ja"):
        found = summary_recipients(team)
    assert found.problems == (
        "'Rep' の上長 'Nobody'（チームシートの2行目）は、チームシートの名前でもメールアドレスでもないため、"
        "この上長にはサマリーを送信しません。",
    )


# --print


def test_print_heading(tmp_path: Path, run_cli) -> None:
    make_ja_folder(tmp_path)
    output = run_cli("summary", "--now", NOW, "--print").output
    assert "売上サマリー 2026年度（2026年6月1日(月) 09:00 時点、Asia/Tokyo）\n\n\n主要指標\n" in output


def test_print_key_figures(tmp_path: Path, run_cli) -> None:
    make_ja_folder(tmp_path)
    lines = run_cli("summary", "--now", NOW, "--print").output.splitlines()
    figures = {line.rsplit(None, 1)[0]: line.rsplit(None, 1)[1] for line in lines if line.startswith("パイプライン（")}
    assert figures == {"パイプライン（今期売上）": "¥800,000", "パイプライン（加重売上）": "¥480,000"}


def test_print_sections(tmp_path: Path, run_cli) -> None:
    make_ja_folder(tmp_path)
    output = run_cli("summary", "--now", NOW, "--print").output
    for title in (
        "担当者別パイプライン",
        "フェーズ別パイプライン",
        "拠点別のパイプラインと受注",
        "月別売上見込み（進行中・受注済みの案件）",
        "担当者別の更新状況（進行中の案件）",
        "担当者別受注率（2026年度に受注・失注した案件）",
    ):
        assert f"\n\n\n{title}\n\n" in output, title


# --mail through the outbox


def test_mail_subject(tmp_path: Path, run_cli) -> None:
    make_ja_folder(tmp_path)
    result = run_cli("summary", "--now", NOW, "--mail")
    assert result.exit_code == 0, result.output
    assert outbox_message(tmp_path)["Subject"] == "[案件台帳] 売上サマリー 2026年度（2026年6月1日(月)時点）"


def test_mail_subject_iso_2022_jp(tmp_path: Path, run_cli) -> None:
    make_ja_folder(tmp_path, config_text=JA_CONFIG + 'charset = "iso-2022-jp"\n')
    run_cli("summary", "--now", NOW, "--mail")
    message = outbox_message(tmp_path)
    assert "iso-2022-jp" in message.as_string().lower()
    assert message["Subject"] == "[案件台帳] 売上サマリー 2026年度（2026年6月1日(月)時点）"


def test_mail_text(tmp_path: Path, run_cli) -> None:
    make_ja_folder(tmp_path)
    run_cli("summary", "--now", NOW, "--mail")
    text = body_text(outbox_message(tmp_path), "plain")
    assert text.startswith("各位\n\nお疲れ様です。\n2026年6月1日(月) 09:00（Asia/Tokyo）時点の2026年度売上サマリーを\n")
    assert "・パイプライン（今期売上）：¥800,000\n" in text
    assert "・2026年度の受注件数：0\n" in text
    assert "概要、パイプライン、拠点別、売上見込み、" in text


def test_mail_html(tmp_path: Path, run_cli) -> None:
    make_ja_folder(tmp_path)
    run_cli("summary", "--now", NOW, "--mail")
    html = body_text(outbox_message(tmp_path), "html")
    assert '<html lang="ja">' in html
    assert '<tr><th align="left">パイプライン（今期売上）</th><td align="right">¥800,000</td></tr>' in html


def test_mail_attachment_sheets(tmp_path: Path, run_cli) -> None:
    make_ja_folder(tmp_path)
    run_cli("summary", "--now", NOW, "--mail")
    attachment = next(outbox_message(tmp_path).iter_attachments())
    assert openpyxl.load_workbook(io.BytesIO(attachment.get_content())).sheetnames == SHEET_NAMES


def test_mail_english_after_japanese(tmp_path: Path, run_cli) -> None:
    japanese, english = tmp_path / "ja", tmp_path / "en"
    japanese.mkdir()
    english.mkdir()
    make_ja_folder(japanese)
    make_ja_folder(english, config_text="")
    assert run_cli("summary", "--now", NOW, "--mail", config=japanese / "config.toml").exit_code == 0
    assert run_cli("summary", "--now", NOW, "--mail", config=english / "config.toml").exit_code == 0
    message = outbox_message(english)
    assert message["Subject"] == "[Sales register] Sales summary FY2026 as of 2026-06-01"
    assert body_text(message, "plain").startswith("Hello,\n")
