"""`salesreg import` through the CLI on small exports: new rows, updates, rep edits and problems."""

from __future__ import annotations

import csv
import sqlite3
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

CONFIG = """
[fiscal]
currency = "USD"

[time]
timezone = "America/Chicago"

[deadline]
holidays = "US"

[stages]
Prospecting = []
Engaging = []
"""

MAPPING = """
[source]
id_column = "opportunity_id"

[team]
file = "teams.csv"
name = "sales_agent"
manager = "manager"
office = "regional_office"

[lookups.products]
file = "products.csv"
key = "product"
source_column = "product"
label = "price list"
close_match = true

[fields]
customer = { column = "account", required = "always" }
title = { lookup = "products", column = "product", if_blank = { column = "product" } }
rep = "sales_agent"
expected_close = { column = "close_date", required = "open" }
service_start = "close_date"
one_time_fee = { column = "close_value", if_blank = { lookup = "products", column = "sales_price" } }

[values.deal_stage]
Prospecting = { stage = "Prospecting" }
Engaging = { stage = "Engaging" }
Won = { stage = "Engaging", outcome = "Won", outcome_reason = "Won in the CRM" }
Lost = { stage = "Engaging", outcome = "Lost", outcome_reason = "Lost in the CRM" }
"""

HEADER = ["opportunity_id", "sales_agent", "product", "account", "deal_stage", "engage_date", "close_date", "close_value"]
PIPELINE = [
    ["A1", "Anna Snelling", "GTX Basic", "Acme", "Won", "2017-01-05", "2017-03-20", "540"],  # line 2
    ["A2", "Anna Snelling", "GTXPro", "Betatech", "Won", "2017-04-02", "2017-05-10", "4500"],  # line 3
    ["A3", "Ben Ito", "MG Special", "Acme", "Lost", "2017-05-01", "2017-06-01", "0"],  # line 4
    ["A4", "Ben Ito", "GTX Basic", "", "Engaging", "2017-11-01", "", ""],  # line 5
    ["A5", "Anna Snelling", "MG Special", "Codehow", "Prospecting", "", "2018-01-31", ""],  # line 6
]
TEAMS = [
    ["sales_agent", "manager", "regional_office"],
    ["Anna Snelling", "Dustin Brinkmann", "Central"],
    ["Ben Ito", "Cara Losch", "East"],
]
PRODUCTS = [["product", "series", "sales_price"], ["GTX Basic", "GTX", "550"], ["GTX Pro", "GTX", "4821"], ["MG Special", "MG", "55"]]
NOW = "2017-12-31T18:00"


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    with path.open("w", newline="", encoding=encoding) as stream:
        csv.writer(stream).writerows(rows)
    return path


@pytest.fixture
def crm(tmp_path: Path) -> Path:
    """A folder with config.toml, a mapping with its team and price list, and export.csv."""
    (tmp_path / "config.toml").write_text(CONFIG, "utf-8")
    (tmp_path / "mapping.toml").write_text(MAPPING, "utf-8")
    write_csv(tmp_path / "teams.csv", TEAMS)
    write_csv(tmp_path / "products.csv", PRODUCTS)
    write_csv(tmp_path / "export.csv", [HEADER, *PIPELINE])
    return tmp_path


def import_export(run_cli, folder: Path, *files: str, now: str = NOW):
    paths = [str(folder / name) for name in (files or ("export.csv",))]
    return run_cli("import", "--mapping", str(folder / "mapping.toml"), "--now", now, *paths)


def deal_rows(folder: Path) -> list[dict]:
    """Return every Deals row that has a Source ID, as header -> value, with its Excel row.

    Formula cells give their cached results, which sync stores.
    """
    workbook = openpyxl.load_workbook(folder / "register.xlsx", data_only=True)
    sheet = workbook["Deals"]
    headers = [cell.value for cell in sheet[1]]
    rows = []
    for number, cells in enumerate(sheet.iter_rows(min_row=2, values_only=True), start=2):
        row = dict(zip(headers, cells))
        if row.get("Source ID"):
            rows.append(row | {"row": number})
    return rows


def by_source_id(folder: Path) -> dict[str, dict]:
    return {row["Source ID"]: row for row in deal_rows(folder)}


def team_rows(folder: Path) -> list[tuple]:
    sheet = openpyxl.load_workbook(folder / "register.xlsx")["Team"]
    return [row for row in sheet.iter_rows(min_row=1, values_only=True) if any(row)]


def problem_report(folder: Path) -> list[dict[str, str]]:
    with (folder / "import-problems.csv").open(encoding="utf-8-sig", newline="") as stream:
        return list(csv.DictReader(stream))


def edit_cells(folder: Path, row: int, values: dict[str, object]) -> None:
    """Change cells of one Deals row by header, as a rep saving from Excel would."""
    path = folder / "register.xlsx"
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Deals"]
    columns = {cell.value: cell.column for cell in sheet[1]}
    for header, value in values.items():
        sheet.cell(row=row, column=columns[header], value=value)
    workbook.save(path)


# First import into a new register


def test_import_creates_register(crm: Path, run_cli) -> None:
    result = import_export(run_cli, crm)
    assert result.exit_code == 1, result.output  # 1: done, but the export has problems
    assert (crm / "register.xlsx").exists()
    assert "5 new" in result.output
    assert "created from the template" in result.output
    assert list(crm.glob("register.backup*")) == []


def test_import_writes_mapped_values(crm: Path, run_cli) -> None:
    import_export(run_cli, crm)
    rows = by_source_id(crm)
    assert list(rows) == ["A1", "A2", "A3", "A4", "A5"]
    won = rows["A1"]
    assert won["Customer"] == "Acme"
    assert won["Deal"] == "GTX Basic"
    assert won["Rep"] == "Anna Snelling"
    assert won["Stage"] == "Engaging"
    assert won["Outcome"] == "Won"
    assert won["Outcome reason"] == "Won in the CRM"
    assert won["Expected close"] == datetime(2017, 3, 20)
    assert won["Service start"] == datetime(2017, 3, 20)
    assert won["One-time fee"] == 540
    assert won["Monthly price"] is None
    assert won["Deal ID"] is None  # sync assigns it


def test_import_open_deal_values(crm: Path, run_cli) -> None:
    import_export(run_cli, crm)
    rows = by_source_id(crm)
    assert rows["A4"]["Stage"] == "Engaging"
    assert rows["A4"]["Outcome"] is None
    assert rows["A4"]["Outcome reason"] is None
    assert rows["A4"]["Expected close"] is None
    assert rows["A4"]["One-time fee"] == 550  # the list price replaces the missing close_value
    assert rows["A5"]["Stage"] == "Prospecting"


def test_import_close_match_uses_price_list_name(crm: Path, run_cli) -> None:
    import_export(run_cli, crm)
    assert by_source_id(crm)["A2"]["Deal"] == "GTX Pro"


def test_import_fills_team_sheet(crm: Path, run_cli) -> None:
    import_export(run_cli, crm)
    assert team_rows(crm) == [
        ("Name", "Email", "Manager", "Active", "Office"),
        ("Anna Snelling", None, "Dustin Brinkmann", "Yes", "Central"),
        ("Ben Ito", None, "Cara Losch", "Yes", "East"),
        ("Dustin Brinkmann", None, None, "Yes", "Central"),
        ("Cara Losch", None, None, "Yes", "East"),
    ]


def test_import_team_table_covers_office(crm: Path, run_cli) -> None:
    import_export(run_cli, crm)
    team = openpyxl.load_workbook(crm / "register.xlsx")["Team"]
    table = team.tables["Team"]
    assert table.ref == "A1:E51"
    assert [column.name for column in table.tableColumns] == ["Name", "Email", "Manager", "Active", "Office"]


def test_import_email_pattern(crm: Path, run_cli) -> None:
    mapping = (crm / "mapping.toml").read_text("utf-8")
    mapping = mapping.replace('office = "regional_office"', 'office = "regional_office"\nemail_pattern = "{first}.{last}@example.com"')
    (crm / "mapping.toml").write_text(mapping, "utf-8")
    import_export(run_cli, crm)
    emails = {row[0]: row[1] for row in team_rows(crm)[1:]}
    assert emails["Anna Snelling"] == "anna.snelling@example.com"
    assert emails["Dustin Brinkmann"] == "dustin.brinkmann@example.com"


def test_import_keeps_existing_team_cells(crm: Path, run_cli) -> None:
    import_export(run_cli, crm)
    path = crm / "register.xlsx"
    workbook = openpyxl.load_workbook(path)
    team = workbook["Team"]
    team["B2"] = "anna@crm.example"
    team["E3"] = "Tokyo"
    workbook.save(path)
    result = import_export(run_cli, crm)
    rows = team_rows(crm)
    assert rows[1][1] == "anna@crm.example"
    assert rows[2][4] == "Tokyo"
    assert 'Team row 3, Office: the register has "Tokyo" and the team file has "East"' in result.output


def test_import_adds_source_id_column(crm: Path, run_cli) -> None:
    import_export(run_cli, crm)
    sheet = openpyxl.load_workbook(crm / "register.xlsx")["Deals"]
    headers = [cell.value for cell in sheet[1]]
    assert headers[-1] == "Source ID"
    assert sheet.tables["Deals"].tableColumns[-1].name == "Source ID"
    assert sheet.tables["Deals"].ref.split(":")[1].startswith("AC")


def test_sync_reads_imported_register(crm: Path, run_cli) -> None:
    import_export(run_cli, crm)
    result = run_cli("sync", "--now", NOW)
    assert result.exit_code == 0, result.output
    rows = by_source_id(crm)
    assert [row["Deal ID"] for row in rows.values()] == ["D-000001", "D-000002", "D-000003", "D-000004", "D-000005"]
    assert rows["A2"]["Problems"] is None
    assert "Customer is empty" in rows["A4"]["Problems"]


# Money model: a closed deal's value is a one-time fee billed in the month it closed


@pytest.mark.parametrize(
    ("now", "source_id", "expected"),
    [
        pytest.param("2017-12-31T18:00", "A1", 0, id="won-fy2016-seen-in-fy2017"),
        pytest.param("2017-12-31T18:00", "A2", 4500, id="won-fy2017"),
        pytest.param("2017-03-31T18:00", "A1", 540, id="won-march-is-fy2016"),
        pytest.param("2017-03-31T18:00", "A2", 0, id="won-may-is-next-year"),
        pytest.param("2017-12-31T18:00", "A3", 0, id="lost-value-zero"),
    ],
)
def test_fiscal_sales_of_closed_deal(crm: Path, run_cli, now: str, source_id: str, expected: int) -> None:
    import_export(run_cli, crm)
    run_cli("sync", "--now", now)
    assert by_source_id(crm)[source_id]["Fiscal-period sales"] == expected


# Problems of the export, with file and line


def test_import_reports_problems_with_lines(crm: Path, run_cli) -> None:
    result = import_export(run_cli, crm)
    report = {(row["Line"], row["Problem"]) for row in problem_report(crm)}
    assert report == {
        ("3", "product differs from the price list only in spacing or case (used)"),
        ("5", "account is blank"),
        ("5", "open deals without close_date"),
    }
    assert "export.csv, line 5: account is blank; the register's Customer stays empty" in result.output
    assert 'export.csv, line 5: close_date is blank, but the deal is open (deal_stage "Engaging")' in result.output
    assert 'export.csv, line 3: product "GTXPro" is not in the price list (products.csv), but "GTX Pro"' in result.output


def test_close_match_off_reports_and_leaves_blank(crm: Path, run_cli) -> None:
    mapping = (crm / "mapping.toml").read_text("utf-8").replace("close_match = true", "close_match = false")
    (crm / "mapping.toml").write_text(mapping, "utf-8")
    result = import_export(run_cli, crm)
    assert "set close_match = true in [lookups.products] to use it" in result.output
    row = by_source_id(crm)["A2"]
    assert row["Deal"] == "GTXPro"  # the if_blank fallback: the export's own spelling
    assert row["One-time fee"] == 4500


BAD_ROWS = [
    pytest.param(["B1", "Anna Snelling", "GTX Ultra", "Acme", "Engaging", "", "2018-02-01", ""], "product not in the price list",
                 'product "GTX Ultra" is not in the price list (products.csv)', id="unknown-product"),
    pytest.param(["B1", "Anna Snelling", "GTX Basic", "Acme", "Negotiating", "", "2018-02-01", ""],
                 "deal_stage values the mapping does not know", 'deal_stage "Negotiating" is not mapped', id="unmapped-stage"),
    pytest.param(["B1", "Anna Snelling", "GTX Basic", "Acme", "Won", "", "2018-02-30", "100"],
                 "close_date values that are not a valid date", 'close_date "2018-02-30" is not a real date', id="bad-date"),
    pytest.param(["B1", "Anna Snelling", "GTX Basic", "Acme", "Won", "", "2018-02-01", "12,5x"],
                 "close_value values that are not a valid amount", 'close_value "12,5x" is not an amount', id="bad-amount"),
    pytest.param(["B1", "Nobody Known", "GTX Basic", "Acme", "Engaging", "", "2018-02-01", ""], "sales_agent not on the team",
                 'sales_agent "Nobody Known" is not in teams.csv or the register\'s Team sheet', id="unknown-rep"),
    pytest.param(["", "Anna Snelling", "GTX Basic", "Acme", "Engaging", "", "2018-02-01", ""], "opportunity_id is blank",
                 "opportunity_id is blank; the row is skipped", id="blank-id"),
    pytest.param(["A1", "Anna Snelling", "GTX Basic", "Acme", "Engaging", "", "2018-02-01", ""], "opportunity_id appears twice",
                 'opportunity_id "A1" appears again (first in export.csv, line 2); this row is skipped', id="duplicate-id"),
    pytest.param(["B1", "Anna Snelling"], "lines with the wrong number of values",
                 "has 2 values, but the header has 8 columns; the line is skipped", id="short-line"),
]


@pytest.mark.parametrize(("bad_row", "group", "message"), BAD_ROWS)
def test_bad_row_reported_others_imported(crm: Path, run_cli, bad_row: list[str], group: str, message: str) -> None:
    write_csv(crm / "export.csv", [HEADER, *PIPELINE[:2], bad_row, *PIPELINE[2:]])
    result = import_export(run_cli, crm)
    assert result.exit_code == 1, result.output
    assert f"export.csv, line 4: {message}" in result.output
    problems = [row for row in problem_report(crm) if row["Line"] == "4"]
    assert [row["Problem"] for row in problems] == [group]
    assert {"A1", "A2", "A3", "A4", "A5"} <= set(by_source_id(crm))


def test_formula_text_stays_text(crm: Path, run_cli) -> None:
    write_csv(crm / "export.csv", [HEADER, ["F1", "Anna Snelling", "GTX Basic", "=HYPERLINK(\"x\")", "Engaging", "", "2018-02-01", ""]])
    import_export(run_cli, crm)
    sheet = openpyxl.load_workbook(crm / "register.xlsx")["Deals"]
    assert sheet["B2"].value == '=HYPERLINK("x")'
    assert sheet["B2"].data_type == "s"


def test_clean_export_exits_zero(crm: Path, run_cli) -> None:
    write_csv(crm / "export.csv", [HEADER, PIPELINE[0], PIPELINE[2], PIPELINE[4]])
    result = import_export(run_cli, crm)
    assert result.exit_code == 0, result.output
    assert "No problems found in the export." in result.output


# A second import


def test_second_import_unchanged(crm: Path, run_cli) -> None:
    import_export(run_cli, crm)
    before = (crm / "register.xlsx").read_bytes()
    result = import_export(run_cli, crm)
    assert "0 new, 0 updated, 5 unchanged" in result.output
    assert (crm / "register.xlsx").read_bytes() == before


def test_second_import_updates_changed_rows(crm: Path, run_cli) -> None:
    import_export(run_cli, crm)
    run_cli("sync", "--now", NOW)
    before = by_source_id(crm)
    changed = [row[:] for row in PIPELINE]
    changed[1][7] = "4600"  # A2: a new close_value
    changed[3][4:8] = ["Won", "2017-11-01", "2017-12-20", "610"]  # A4: won
    changed.append(["A6", "Ben Ito", "GTX Basic", "Acme", "Engaging", "2017-12-01", "2018-03-01", ""])
    write_csv(crm / "export.csv", [HEADER, *changed])

    result = import_export(run_cli, crm, now="2018-01-05T09:00")
    assert "1 new, 2 updated, 3 unchanged" in result.output
    after = by_source_id(crm)
    assert after["A2"]["One-time fee"] == 4600
    assert after["A4"]["Outcome"] == "Won"
    assert after["A4"]["Expected close"] == datetime(2017, 12, 20)
    assert after["A4"]["One-time fee"] == 610
    assert after["A6"]["row"] == 7
    for source_id in ("A1", "A3", "A5"):
        assert after[source_id] == before[source_id]
    assert {name: value for name, value in after["A2"].items() if name != "One-time fee"} == {
        name: value for name, value in before["A2"].items() if name != "One-time fee"
    }


def test_rep_edit_kept_and_reported(crm: Path, run_cli) -> None:
    import_export(run_cli, crm)
    edit_cells(crm, 4, {"Outcome reason": "Price too high"})  # A3, a rep's reason
    changed = [row[:] for row in PIPELINE]
    changed[2][2] = "GTX Basic"  # A3: the CRM changed its product
    write_csv(crm / "export.csv", [HEADER, *changed])

    result = import_export(run_cli, crm)
    assert result.exit_code == 1
    assert "1 conflicts" in result.output
    assert ("export.csv, line 4: register row 4 was edited since the last import (Outcome reason), and the export "
            "changed Deal; the register keeps the edit.") in result.output
    row = by_source_id(crm)["A3"]
    assert row["Outcome reason"] == "Price too high"
    assert row["Deal"] == "MG Special"


def test_rep_edit_of_unmapped_column_no_conflict(crm: Path, run_cli) -> None:
    import_export(run_cli, crm)
    edit_cells(crm, 6, {"Next step": "Call on Monday"})  # A5
    changed = [row[:] for row in PIPELINE]
    changed[4][6] = "2018-02-28"
    write_csv(crm / "export.csv", [HEADER, *changed])

    result = import_export(run_cli, crm)
    assert "0 conflicts" in result.output
    row = by_source_id(crm)["A5"]
    assert row["Expected close"] == datetime(2018, 2, 28)
    assert row["Next step"] == "Call on Monday"


def test_rep_edit_with_unchanged_export_kept(crm: Path, run_cli) -> None:
    import_export(run_cli, crm)
    edit_cells(crm, 2, {"Customer": "Acme Corporation"})  # A1
    result = import_export(run_cli, crm)
    assert "1 kept a rep's edit, 0 conflicts" in result.output
    assert by_source_id(crm)["A1"]["Customer"] == "Acme Corporation"


def test_missing_state_makes_changes_conflicts(crm: Path, run_cli) -> None:
    import_export(run_cli, crm)
    (crm / "salesreg-state.sqlite").unlink()
    changed = [row[:] for row in PIPELINE]
    changed[0][7] = "560"
    write_csv(crm / "export.csv", [HEADER, *changed])
    result = import_export(run_cli, crm)
    assert "no record of an earlier import" in result.output
    assert by_source_id(crm)["A1"]["One-time fee"] == 540


def delete_row(folder: Path, row: int) -> None:
    path = folder / "register.xlsx"
    workbook = openpyxl.load_workbook(path)
    workbook["Deals"].delete_rows(row)
    workbook.save(path)


def test_deleted_row_not_added_again(crm: Path, run_cli) -> None:
    import_export(run_cli, crm)
    delete_row(crm, 4)  # A3
    result = import_export(run_cli, crm)
    assert "0 new" in result.output
    assert "1 deleted in the register" in result.output
    assert "1 deals imported earlier were deleted from the register and are not added again (A3)" in result.output
    assert list(by_source_id(crm)) == ["A1", "A2", "A4", "A5"]


def test_deleted_row_added_on_request(crm: Path, run_cli) -> None:
    import_export(run_cli, crm)
    delete_row(crm, 4)  # A3
    result = run_cli("import", "--mapping", str(crm / "mapping.toml"), "--add-deleted", "--now", NOW, str(crm / "export.csv"))
    assert "1 new" in result.output
    assert list(by_source_id(crm)) == ["A1", "A2", "A4", "A5", "A3"]


def test_rows_missing_from_export_kept(crm: Path, run_cli) -> None:
    import_export(run_cli, crm)
    write_csv(crm / "export.csv", [HEADER, *PIPELINE[:3]])
    result = import_export(run_cli, crm)
    assert "2 register rows have a Source ID that these export files lack (A4, A5); they are kept as they are." in result.output
    assert list(by_source_id(crm)) == ["A1", "A2", "A3", "A4", "A5"]


def test_import_records_in_state(crm: Path, run_cli) -> None:
    import_export(run_cli, crm)
    with sqlite3.connect(crm / "salesreg-state.sqlite") as db:
        rows = db.execute("SELECT source_id, source FROM imports ORDER BY source_id").fetchall()
    assert rows[0] == ("A1", "export.csv, line 2")
    assert len(rows) == 5


def test_rows_typed_below_are_kept(crm: Path, run_cli) -> None:
    import_export(run_cli, crm)
    edit_cells(crm, 7, {"Customer": "Walk-in", "Deal": "Pilot", "Rep": "Ben Ito", "Stage": "Prospecting"})
    write_csv(crm / "export.csv", [HEADER, *PIPELINE, ["A6", "Ben Ito", "GTX Basic", "Acme", "Engaging", "", "2018-03-01", ""]])
    import_export(run_cli, crm)
    sheet = openpyxl.load_workbook(crm / "register.xlsx")["Deals"]
    assert sheet["B7"].value == "Walk-in"
    assert sheet["B8"].value == "Acme"
    assert sheet["AC8"].value == "A6"


# Dry run, busy register and bad input


def test_dry_run_writes_nothing(crm: Path, run_cli) -> None:
    result = run_cli("import", "--mapping", str(crm / "mapping.toml"), "--dry-run", str(crm / "export.csv"))
    assert result.exit_code == 1, result.output
    assert "Would import 5 rows" in result.output
    assert "would be created from the template" in result.output
    assert not (crm / "register.xlsx").exists()
    assert not (crm / "import-problems.csv").exists()


def test_dry_run_on_existing_register(crm: Path, run_cli) -> None:
    import_export(run_cli, crm)
    before = (crm / "register.xlsx").read_bytes()
    write_csv(crm / "export.csv", [HEADER, *PIPELINE, ["A6", "Ben Ito", "GTX Basic", "Acme", "Engaging", "", "2018-03-01", ""]])
    result = run_cli("import", "--mapping", str(crm / "mapping.toml"), "--dry-run", str(crm / "export.csv"))
    assert "Would import 6 rows from export.csv (UTF-8) into register.xlsx: 1 new" in result.output
    assert (crm / "register.xlsx").read_bytes() == before


def test_busy_register_exits_3(crm: Path, run_cli) -> None:
    import_export(run_cli, crm)
    before = (crm / "register.xlsx").read_bytes()
    (crm / "~$register.xlsx").write_bytes(bytes([4]) + b"Aiko" + bytes(50))
    write_csv(crm / "export.csv", [HEADER, *PIPELINE, ["A6", "Ben Ito", "GTX Basic", "Acme", "Engaging", "", "2018-03-01", ""]])
    result = import_export(run_cli, crm)
    assert result.exit_code == 3
    assert "open for editing by Aiko" in result.output
    assert (crm / "register.xlsx").read_bytes() == before


def test_missing_export_column_stops(crm: Path, run_cli) -> None:
    write_csv(crm / "export.csv", [HEADER[:-1], *(row[:-1] for row in PIPELINE)])
    result = import_export(run_cli, crm)
    assert result.exit_code == 2
    assert "the header has no column 'close_value', which the mapping names" in result.output
    assert not (crm / "register.xlsx").exists()


def test_missing_export_file_stops(crm: Path, run_cli) -> None:
    result = import_export(run_cli, crm, "export.csv", "missing.csv")
    assert result.exit_code == 2
    assert "missing.csv not found" in result.output
    assert not (crm / "register.xlsx").exists()


def test_unknown_mapping_key_stops(crm: Path, run_cli) -> None:
    mapping = (crm / "mapping.toml").read_text("utf-8").replace("close_match = true", "close_matches = true")
    (crm / "mapping.toml").write_text(mapping, "utf-8")
    result = import_export(run_cli, crm)
    assert result.exit_code == 2
    assert "unknown key 'lookups.products.close_matches'" in result.output
    assert "Did you mean 'lookups.products.close_match'?" in result.output


def test_two_export_files(crm: Path, run_cli) -> None:
    write_csv(crm / "first.csv", [HEADER, *PIPELINE[:3]])
    write_csv(crm / "second.csv", [HEADER, *PIPELINE[3:]])
    result = import_export(run_cli, crm, "first.csv", "second.csv")
    assert "Imported 5 rows from first.csv (UTF-8), second.csv (UTF-8)" in result.output
    assert "second.csv, line 2: account is blank" in result.output
    assert list(by_source_id(crm)) == ["A1", "A2", "A3", "A4", "A5"]


# Many rows: beyond the rows the template prepares


@pytest.fixture
def many(crm: Path, run_cli) -> Path:
    rows = [[f"M{number:04d}", "Anna Snelling", "GTX Basic", f"Customer {number}", "Won", "2017-04-01", "2017-06-15", "500"]
            for number in range(250)]
    write_csv(crm / "export.csv", [HEADER, *rows])
    result = import_export(run_cli, crm)
    assert result.exit_code == 0, result.output
    return crm


def test_many_rows_extend_table(many: Path) -> None:
    sheet = openpyxl.load_workbook(many / "register.xlsx")["Deals"]
    assert sheet.tables["Deals"].ref == "A1:AC251"


def test_many_rows_extend_dropdowns(many: Path) -> None:
    sheet = openpyxl.load_workbook(many / "register.xlsx")["Deals"]
    stage_lists = [str(v.sqref) for v in sheet.data_validations.dataValidation if v.formula1 == "StageList"]
    assert stage_lists == ["E2:E1048576"]


def test_many_rows_rep_cells_unlocked(many: Path) -> None:
    sheet = openpyxl.load_workbook(many / "register.xlsx")["Deals"]
    assert sheet["B251"].protection.locked is False
    assert sheet["F251"].protection.locked is False
    assert sheet["F251"].number_format == "yyyy-mm-dd"
    assert sheet["J251"].number_format == '"$"#,##0.00;-"$"#,##0.00'
    assert sheet["AC251"].protection.locked is True


def test_many_rows_sync(many: Path, run_cli) -> None:
    result = run_cli("sync", "--now", NOW)
    assert result.exit_code == 0, result.output
    rows = deal_rows(many)
    assert len(rows) == 250
    assert rows[-1]["Deal ID"] == "D-000250"
    assert rows[-1]["Fiscal-period sales"] == 500


@pytest.mark.libreoffice
def test_imported_register_opens_in_libreoffice(many: Path, run_cli) -> None:
    from libreoffice import convert, require_soffice

    require_soffice()
    run_cli("sync", "--now", NOW)
    exported = convert(many / "register.xlsx", "csv:Text - txt - csv (StarCalc):44,34,76,1", many / "lo")
    rows = list(csv.DictReader(exported.open(encoding="utf-8")))
    assert len(rows) >= 250
    assert rows[249]["Source ID"] == "M0249"
    assert rows[249]["Customer"] == "Customer 249"
    assert rows[249]["Expected close"] == "2017-06-15"
