"""The CRM example end to end: 8,800 real deals through the CLI, checked against pandas.

The expected figures come straight from the CSV files in examples/data, computed with pandas
and without salesreg. The whole job runs once for the module; the file takes about 30 s on a 2-core machine.
"""

from __future__ import annotations

import importlib.util
import shutil
from datetime import datetime
from pathlib import Path
from types import ModuleType

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from salesreg.cli import main
from salesreg.fields import FIELDS
from salesreg.xlsx_patch import patch_workbook

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
DATA = EXAMPLES / "data"
MAPPING = EXAMPLES / "crm-sales-opportunities.toml"

EXPECTED_CLOSE_COLUMN = FIELDS.index("expected_close") + 1  # the template's column order
NOW = "2017-12-31T18:00"  # the example's date: fiscal year 2017 (April 2017 to March 2018)
FISCAL_YEARS = {
    "FY2016": ("2017-03-31T18:00", "2016-04-01", "2017-04-01"),
    "FY2017": ("2017-12-31T18:00", "2017-04-01", "2018-04-01"),
}


def load_example_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("run_crm_example", EXAMPLES / "run_crm_example.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def salesreg(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--config", str(config), *args], catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def pipeline() -> pd.DataFrame:
    """The export with its CSV line numbers and each agent's manager and office."""
    frame = pd.read_csv(DATA / "sales_pipeline.csv", parse_dates=["engage_date", "close_date"])
    frame["line"] = frame.index + 2
    teams = pd.read_csv(DATA / "sales_teams.csv")
    return frame.merge(teams, on="sales_agent", how="left", validate="many_to_one")


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder that the README's example command builds, as of NOW."""
    folder = tmp_path_factory.mktemp("crm") / "example-crm"
    assert load_example_script().main([str(folder), "--now", NOW]) == 0
    return folder


@pytest.fixture(scope="module")
def deals(example: Path) -> pd.DataFrame:
    """The Deals sheet of the example's register after sync."""
    return read_sheet(example / "register.xlsx", "Deals")


@pytest.fixture(scope="module")
def team(example: Path) -> pd.DataFrame:
    return read_sheet(example / "register.xlsx", "Team").set_index("Name")


@pytest.fixture(scope="module")
def summaries(example: Path) -> dict[str, dict[str, pd.DataFrame]]:
    """The tables of the summary workbook of each fiscal year of the export, by table name.

    The example wrote the FY2017 summary already; FY2016 gets its own config and workbook.
    """
    config = example / "config-FY2016.toml"
    text = (example / "config.toml").read_text("utf-8")
    config.write_text(text.replace('path = "summary.xlsx"', 'path = "summary-FY2016.xlsx"'), "utf-8")
    status, output = salesreg(config, "summary", "--now", FISCAL_YEARS["FY2016"][0])
    assert status == 0, output
    return {
        "FY2016": summary_tables(example / "summary-FY2016.xlsx"),
        "FY2017": summary_tables(example / "summary.xlsx"),
    }


def read_sheet(path: Path, sheet: str) -> pd.DataFrame:
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    rows = list(workbook[sheet].iter_rows(values_only=True))
    workbook.close()
    frame = pd.DataFrame(rows[1:], columns=rows[0])
    return frame.dropna(how="all")


def summary_tables(path: Path) -> dict[str, pd.DataFrame]:
    """Return every Excel table of a summary workbook by name, indexed by its first column."""
    workbook = openpyxl.load_workbook(path, data_only=True)
    tables = {}
    for sheet in workbook.worksheets:
        for table in sheet.tables.values():
            cells = [[cell.value for cell in row] for row in sheet[table.ref]]
            tables[table.name] = pd.DataFrame(cells[1:], columns=cells[0]).set_index(cells[0][0])
    return tables


def won_in(pipeline: pd.DataFrame, year: str, outcome: str = "Won") -> pd.DataFrame:
    _, first, end = FISCAL_YEARS[year]
    closed = pipeline[(pipeline["deal_stage"] == outcome) & (pipeline["close_date"] >= first)]
    return closed[closed["close_date"] < end]


# The whole export imported and synced


def test_every_deal_imported(deals: pd.DataFrame, pipeline: pd.DataFrame) -> None:
    assert len(deals) == 8800
    assert set(deals["Source ID"]) == set(pipeline["opportunity_id"])
    assert deals["Deal ID"].notna().all()


def test_counts_by_stage_and_outcome(deals: pd.DataFrame, pipeline: pd.DataFrame) -> None:
    crm_stage = deals["Outcome"].where(deals["Outcome"].notna(), deals["Stage"])
    assert crm_stage.value_counts().to_dict() == pipeline["deal_stage"].value_counts().to_dict()


def test_open_deals_by_stage_in_summary(summaries: dict[str, dict[str, pd.DataFrame]], pipeline: pd.DataFrame) -> None:
    table = summaries["FY2017"]["pipeline_by_stage"]
    expected = pipeline["deal_stage"].value_counts()
    assert table.loc["Prospecting", "Open deals"] == expected["Prospecting"]
    assert table.loc["Engaging", "Open deals"] == expected["Engaging"]


def test_team_sheet_from_teams_file(team: pd.DataFrame) -> None:
    teams = pd.read_csv(DATA / "sales_teams.csv").set_index("sales_agent")
    assert len(team) == len(teams) + teams["manager"].nunique()
    for agent, row in teams.iterrows():
        assert team.loc[agent, "Manager"] == row["manager"]
        assert team.loc[agent, "Office"] == row["regional_office"]


def test_register_fiscal_sales_by_agent(deals: pd.DataFrame, pipeline: pd.DataFrame) -> None:
    won = deals[deals["Outcome"] == "Won"]
    actual = won.groupby("Rep")["Fiscal-period sales"].sum()
    expected = won_in(pipeline, "FY2017").groupby("sales_agent")["close_value"].sum()
    assert actual[actual != 0].to_dict() == expected.to_dict()


def test_register_fiscal_sales_by_office(deals: pd.DataFrame, team: pd.DataFrame, pipeline: pd.DataFrame) -> None:
    won = deals[deals["Outcome"] == "Won"]
    actual = won.groupby(won["Rep"].map(team["Office"]))["Fiscal-period sales"].sum()
    expected = won_in(pipeline, "FY2017").groupby("regional_office")["close_value"].sum()
    assert actual.to_dict() == expected.to_dict()


# The summary of each fiscal year


@pytest.mark.parametrize("year", list(FISCAL_YEARS))
def test_summary_won_by_agent(summaries: dict[str, dict[str, pd.DataFrame]], pipeline: pd.DataFrame, year: str) -> None:
    table = summaries[year]["win_rate"].drop(index="Total", errors="ignore")
    won = won_in(pipeline, year).groupby("sales_agent")["close_value"].agg(["size", "sum"])
    assert set(won.index) <= set(table.index)
    for agent in table.index:
        deals, value = won.loc[agent] if agent in won.index else (0, 0)
        assert table.loc[agent, "Won"] == deals, agent
        assert table.loc[agent, "Won sales"] == value, agent


@pytest.mark.parametrize("year", list(FISCAL_YEARS))
def test_summary_lost_by_agent(summaries: dict[str, dict[str, pd.DataFrame]], pipeline: pd.DataFrame, year: str) -> None:
    table = summaries[year]["win_rate"].drop(index="Total", errors="ignore")
    lost = won_in(pipeline, year, "Lost").groupby("sales_agent").size()
    assert table["Lost"].to_dict() == {agent: lost.get(agent, 0) for agent in table.index}


@pytest.mark.parametrize("year", list(FISCAL_YEARS))
def test_summary_won_by_office(summaries: dict[str, dict[str, pd.DataFrame]], pipeline: pd.DataFrame, year: str) -> None:
    table = summaries[year]["offices"].drop(index="Total", errors="ignore")
    won = won_in(pipeline, year).groupby("regional_office")["close_value"].agg(["size", "sum"])
    assert sorted(table.index) == ["Central", "East", "West"]
    for office in table.index:
        assert table.loc[office, f"Deals won in {year}"] == won.loc[office, "size"], office
        assert table.loc[office, f"Won in {year}"] == won.loc[office, "sum"], office


# Problems of the export, each with its line


def report_lines(example: Path, group: str) -> list[int]:
    report = pd.read_csv(example / "import-problems.csv", encoding="utf-8-sig")
    return sorted(report.loc[report["Problem"] == group, "Line"].astype(int))


def test_blank_accounts_reported(example: Path, pipeline: pd.DataFrame) -> None:
    expected = pipeline.loc[pipeline["account"].isna(), "line"]
    assert report_lines(example, "account is blank") == sorted(expected)


def test_open_deals_without_close_date_reported(example: Path, pipeline: pd.DataFrame) -> None:
    open_deals = pipeline[pipeline["deal_stage"].isin(["Prospecting", "Engaging"]) & pipeline["close_date"].isna()]
    assert report_lines(example, "open deals without close_date") == sorted(open_deals["line"])


def test_spacing_variants_reported(example: Path, pipeline: pd.DataFrame) -> None:
    products = set(pd.read_csv(DATA / "products.csv")["product"])
    variants = pipeline[~pipeline["product"].isin(products)]
    group = "product differs from the price list only in spacing or case (used)"
    assert report_lines(example, group) == sorted(variants["line"])
    assert set(variants["product"]) == {"GTXPro"}


def test_no_other_problems(example: Path) -> None:
    report = pd.read_csv(example / "import-problems.csv", encoding="utf-8-sig")
    assert set(report["Problem"]) == {
        "account is blank",
        "open deals without close_date",
        "product differs from the price list only in spacing or case (used)",
    }


# A second import of a changed export


@pytest.fixture(scope="module")
def second_import(example: Path, pipeline: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory):
    """Copy the example, let a rep edit one row, then import an export with six changed rows.

    Returns the register rows before and after the import (by Source ID), the CLI output and
    the source IDs of the changed rows.
    """
    folder = tmp_path_factory.mktemp("reimport")
    for name in ("config.toml", "register.xlsx", "salesreg-state.sqlite"):
        shutil.copy2(example / name, folder / name)

    engaging = pipeline[(pipeline["deal_stage"] == "Engaging") & pipeline["account"].notna()]
    ids = {
        "won_now": engaging["opportunity_id"].iloc[0],
        "engaged": pipeline.loc[pipeline["deal_stage"] == "Prospecting", "opportunity_id"].iloc[0],
        "new_value": pipeline.loc[pipeline["deal_stage"] == "Won", "opportunity_id"].iloc[0],
        "new_account": pipeline.loc[pipeline["deal_stage"] == "Lost", "opportunity_id"].iloc[0],
        "account_found": pipeline.loc[pipeline["account"].isna(), "opportunity_id"].iloc[0],
        "edited_by_rep": engaging["opportunity_id"].iloc[1],
    }

    # The rep's edit goes in through salesreg's cell patcher, because an openpyxl load and save
    # of 8,800 rows would double this fixture's time. test_import.py edits with openpyxl.
    register = folder / "register.xlsx"
    edited_row = int(pipeline.loc[pipeline["opportunity_id"] == ids["edited_by_rep"], "line"].iloc[0])
    data = register.read_bytes()
    with register.open("wb") as stream:
        patch_workbook(data, stream, "Deals", {edited_row: {EXPECTED_CLOSE_COLUMN: datetime(2018, 2, 15)}})
    before = read_sheet(register, "Deals").set_index("Source ID")
    assert before.loc[ids["edited_by_rep"], "Expected close"] == datetime(2018, 2, 15)

    changed = pd.read_csv(DATA / "sales_pipeline.csv", dtype=str, keep_default_na=False).set_index("opportunity_id")
    changed.loc[ids["won_now"], ["deal_stage", "close_date", "close_value"]] = ["Won", "2017-12-28", "1234"]
    changed.loc[ids["engaged"], ["deal_stage", "engage_date"]] = ["Engaging", "2017-12-29"]
    changed.loc[ids["new_value"], "close_value"] = "999"
    changed.loc[ids["new_account"], "account"] = "Zumgoity"
    changed.loc[ids["account_found"], "account"] = "Cancity"
    changed.loc[ids["edited_by_rep"], ["deal_stage", "close_date", "close_value"]] = ["Lost", "2017-12-30", "0"]
    export = folder / "sales_pipeline.csv"
    changed.reset_index().to_csv(export, index=False)

    status, output = salesreg(folder / "config.toml", "import", "--mapping", str(MAPPING), "--now", "2018-01-02T09:00", str(export))
    assert status == 1, output  # the export still has its known problems
    after = read_sheet(register, "Deals").set_index("Source ID")
    return before, after, output, ids


def changed_cells(before: pd.DataFrame, after: pd.DataFrame) -> set[tuple[str, str]]:
    assert list(before.index) == list(after.index)
    differs = (before != after) & ~(before.isna() & after.isna())
    return {(str(source_id), str(column)) for source_id, column in differs[differs].stack().index}


def test_second_import_counts(second_import) -> None:
    _, _, output, _ = second_import
    assert "0 new, 5 updated, 8794 unchanged, 0 kept a rep's edit, 1 conflicts, 0 skipped" in output


def test_second_import_changes_exactly_those_cells(second_import) -> None:
    before, after, _, ids = second_import
    assert changed_cells(before, after) == {
        (ids["won_now"], "Outcome"),
        (ids["won_now"], "Outcome reason"),
        (ids["won_now"], "Expected close"),
        (ids["won_now"], "Service start"),
        (ids["won_now"], "One-time fee"),
        (ids["engaged"], "Stage"),
        (ids["new_value"], "One-time fee"),
        (ids["new_account"], "Customer"),
        (ids["new_account"], "Customer business"),
        (ids["account_found"], "Customer"),
        (ids["account_found"], "Customer business"),
    }


def test_second_import_new_values(second_import) -> None:
    _, after, _, ids = second_import
    assert after.loc[ids["won_now"], "Outcome"] == "Won"
    assert after.loc[ids["won_now"], "One-time fee"] == 1234
    assert after.loc[ids["won_now"], "Service start"] == datetime(2017, 12, 28)
    assert after.loc[ids["engaged"], "Stage"] == "Engaging"
    assert after.loc[ids["new_value"], "One-time fee"] == 999
    assert after.loc[ids["account_found"], "Customer"] == "Cancity"


def test_second_import_keeps_rep_edit(second_import) -> None:
    _, after, output, ids = second_import
    row = after.loc[ids["edited_by_rep"]]
    assert row["Expected close"] == datetime(2018, 2, 15)
    assert pd.isna(row["Outcome"])
    assert ("was edited since the last import (Expected close), and the export changed Expected close, "
            "Service start, One-time fee, Outcome, Outcome reason; the register keeps the edit.") in output
