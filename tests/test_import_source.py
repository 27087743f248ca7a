"""Reading exports: CSV in UTF-8, UTF-8 with BOM and CP932, .xlsx sheets, and the line of each row."""

from __future__ import annotations

import codecs
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from salesreg.importer.mapping import FileOptions
from salesreg.importer.source import SourceFileError, read_table

JAPANESE_CSV = "商談ID,顧客,担当\nJ1,株式会社さくら物流,田中 太郎\nJ2,北野食品,鈴木 花子\n"


@pytest.mark.parametrize(
    ("data", "encoding_name"),
    [
        pytest.param(JAPANESE_CSV.encode("utf-8"), "UTF-8", id="utf-8"),
        pytest.param(codecs.BOM_UTF8 + JAPANESE_CSV.encode("utf-8"), "UTF-8 with BOM", id="utf-8-bom"),
        pytest.param(JAPANESE_CSV.encode("cp932"), "CP932", id="cp932"),
        pytest.param(JAPANESE_CSV.replace("\n", "\r\n").encode("cp932"), "CP932", id="cp932-crlf"),
    ],
)
def test_csv_encoding_detected(tmp_path: Path, data: bytes, encoding_name: str) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(data)
    table = read_table(path, FileOptions())
    assert table.encoding == encoding_name
    assert table.columns == ("商談ID", "顧客", "担当")
    assert table.rows[0].values == {"商談ID": "J1", "顧客": "株式会社さくら物流", "担当": "田中 太郎"}
    assert [row.line for row in table.rows] == [2, 3]


def test_csv_cp932_only_characters(tmp_path: Path) -> None:
    # NEC special characters and the wave dash exist in CP932 but not in Shift_JIS.
    path = tmp_path / "export.csv"
    path.write_bytes("id,name\n1,①株式会社～\n".encode("cp932"))
    table = read_table(path, FileOptions())
    assert table.rows[0].values["name"] == "①株式会社～"


def test_csv_named_encoding_wrong(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes("id,name\n1,ok\n2,".encode("utf-8") + "北野".encode("cp932") + b"\n")
    with pytest.raises(SourceFileError, match=r"export.csv, line 3: the bytes are not valid utf-8"):
        read_table(path, FileOptions(encoding="utf-8"))


def test_csv_undecodable_bytes(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(b"id,name\n1,\x82\xff\n")
    with pytest.raises(SourceFileError, match="line 2: the bytes are not valid UTF-8 or CP932"):
        read_table(path, FileOptions())


def test_csv_lines_after_multiline_value(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text('id,note\n1,"first\nsecond\nthird"\n\n2,plain\n3,"a ""quoted"" word"\n', "utf-8")
    table = read_table(path, FileOptions())
    assert [row.line for row in table.rows] == [2, 6, 7]
    assert table.rows[0].values["note"] == "first\nsecond\nthird"
    assert table.rows[2].values["note"] == 'a "quoted" word'


def test_csv_header_row_and_delimiter(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text("Export of 2017-12-31\nid;name\n1;Acme\n", "utf-8")
    table = read_table(path, FileOptions(delimiter=";", header_row=2))
    assert table.columns == ("id", "name")
    assert table.rows[0].line == 3


def test_csv_trailing_empty_cells_ignored(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text("id,name,,\n1,Acme,,\n2,Beta,,x\n", "utf-8")
    table = read_table(path, FileOptions())
    assert table.columns == ("id", "name")
    assert [row.values for row in table.rows] == [{"id": "1", "name": "Acme"}]
    assert table.problems[0].line == 3
    assert table.problems[0].message.startswith("has 4 values, but the header has 2 columns")


def test_csv_duplicate_header(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text("id,name,name\n", "utf-8")
    with pytest.raises(SourceFileError, match="names the column 'name' twice"):
        read_table(path, FileOptions())


def test_csv_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(b"")
    with pytest.raises(SourceFileError, match="has no header in row 1"):
        read_table(path, FileOptions())


def test_csv_unclosed_quote_stops(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text('id,name\n1,"Acme\n2,Beta\n', "utf-8")
    with pytest.raises(SourceFileError, match="export.csv, line 2: the quotes of this record are not valid CSV"):
        read_table(path, FileOptions())


def test_csv_quote_inside_value_kept(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text('id,name\n1,5" screen\n', "utf-8")
    assert read_table(path, FileOptions()).rows[0].values["name"] == '5" screen'


def write_xlsx(path: Path, rows: list[list[object]], title: str = "Opportunities") -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def test_xlsx_rows_and_types(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "export.xlsx", [["id", "closed", "value"], ["X1", datetime(2017, 3, 1), 1054], [], ["X2", None, 0]])
    table = read_table(path, FileOptions())
    assert table.kind == "xlsx"
    assert table.line_word == "row"
    assert [row.line for row in table.rows] == [2, 4]
    assert table.rows[0].values == {"id": "X1", "closed": datetime(2017, 3, 1), "value": 1054}


def test_xlsx_named_sheet(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "export.xlsx", [["id"], ["X1"]])
    with pytest.raises(SourceFileError, match="has no sheet 'Deals' \\(sheets: Opportunities\\)"):
        read_table(path, FileOptions(sheet="Deals"))
    assert read_table(path, FileOptions(sheet="Opportunities")).rows[0].values == {"id": "X1"}


def test_xlsx_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "export.xlsx"
    path.write_text("id,name\n", "utf-8")
    with pytest.raises(SourceFileError, match="is not a readable .xlsx workbook"):
        read_table(path, FileOptions())


def test_problem_text_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text("id,name\n1\n", "utf-8")
    table = read_table(path, FileOptions())
    assert table.problems[0].text().startswith("export.csv, line 2: has 1 values")


# Whole imports of a CP932 CSV and of an .xlsx export through the CLI

CONFIG = '[fiscal]\ncurrency = "JPY"\n\n[stages]\n"見込み" = []\n"提案" = []\n'
MAPPING = """
[source]
id_column = "商談ID"
date_format = "%Y/%m/%d"

[team]
file = "team.csv"
name = "担当者"
office = "支店"

[fields]
customer = { column = "顧客", required = "always" }
title = "商談名"
rep = "担当者"
expected_close = { column = "完了予定日", required = "open" }
one_time_fee = "金額"
service_start = "完了予定日"

[values."フェーズ"]
"見込み" = { stage = "見込み" }
"提案" = { stage = "提案" }
"受注" = { stage = "提案", outcome = "Won", outcome_reason = "受注（CRMに理由の記録なし）" }
"""


@pytest.fixture
def japanese(tmp_path: Path) -> Path:
    (tmp_path / "config.toml").write_text(CONFIG, "utf-8")
    (tmp_path / "mapping.toml").write_text(MAPPING, "utf-8")
    (tmp_path / "team.csv").write_bytes("担当者,支店\n田中 太郎,東京\n鈴木 花子,大阪\n".encode("cp932"))
    return tmp_path


def test_cp932_export_imported(japanese: Path, run_cli) -> None:
    export = "商談ID,顧客,商談名,担当者,フェーズ,完了予定日,金額\n" \
             "J1,株式会社さくら物流,配送管理,田中 太郎,受注,2017/05/10,\"1,200,000\"\n" \
             "J2,北野食品,受発注,鈴木 花子,提案,2017/13/01,300000\n"
    (japanese / "export.csv").write_bytes(export.encode("cp932"))
    result = run_cli("import", "--mapping", str(japanese / "mapping.toml"), "--now", "2017-12-31T18:00", str(japanese / "export.csv"))
    assert result.exit_code == 1, result.output
    assert "export.csv (CP932)" in result.output
    assert ("export.csv, line 3: 完了予定日 \"2017/13/01\" is not a date in the format '%Y/%m/%d' that [source] "
            "date_format names. The register's Expected close and Service start stay empty.") in result.output

    sheet = openpyxl.load_workbook(japanese / "register.xlsx")["Deals"]
    assert sheet["B2"].value == "株式会社さくら物流"
    assert sheet["E2"].value == "提案"
    assert sheet["F2"].value == datetime(2017, 5, 10)
    assert sheet["J2"].value == 1_200_000
    assert sheet["S2"].value == "受注（CRMに理由の記録なし）"
    team = openpyxl.load_workbook(japanese / "register.xlsx")["Team"]
    assert [cell.value for cell in team[2]] == ["田中 太郎", None, None, "Yes", "東京"]


def test_xlsx_export_imported(japanese: Path, run_cli) -> None:
    write_xlsx(japanese / "export.xlsx", [
        ["商談ID", "顧客", "商談名", "担当者", "フェーズ", "完了予定日", "金額"],
        ["X1", "北野食品", "受発注", "鈴木 花子", "見込み", date(2018, 1, 31), 300000],
        ["X2", None, "配送管理", "田中 太郎", "見込み", date(2018, 2, 28), 5000],
    ])
    result = run_cli("import", "--mapping", str(japanese / "mapping.toml"), "--now", "2017-12-31T18:00", str(japanese / "export.xlsx"))
    assert "export.xlsx, row 3: 顧客 is blank" in result.output
    sheet = openpyxl.load_workbook(japanese / "register.xlsx")["Deals"]
    assert sheet["F2"].value == datetime(2018, 1, 31)
    assert sheet["J3"].value == 5000
