"""The managers' summary: figures worked out by hand, and the written workbook read back.

The register below, in fiscal year April 2026 - March 2027, as of 2026-06-01 09:00 Tokyo time.
A Won or Lost deal closed on its Expected close.

| deal | rep  | stage    | outcome | closed on  | rank | monthly price, months   | fiscal-period sales |
|------|------|----------|---------|------------|------|-------------------------|---------------------|
| D-1  | Aoki | Lead     | open    |            | A    | 100,000 from 2026-10    | 600,000             |
| D-2  | Aoki | Proposal | open    |            | B    | 50,000, 2026-07 for 3   | 150,000             |
| D-3  | Baba | Proposal | open    |            | -    | 30,000, 2026-05 for 3   | 90,000              |
| D-4  | Baba | Closing  | Won     | 2026-05-15 | A    | 20,000, 2026-05 for 6   | 120,000             |
| D-5  | Aoki | Closing  | Lost    | 2026-05-20 | -    | 80,000 from 2026-09     | 560,000             |
| D-6  | Baba | Lead     | Lost    | 2026-04-30 | -    | 10,000, 2026-08 for 2   | 20,000              |
| D-7  | Aoki | Closing  | Won     | 2026-03-20 | A    | 10,000, 2027-01 for 3   | 30,000              |

D-7 was won in the previous fiscal year: it bills in this year's forecast, but it is not won
"this fiscal year" and does not count in the win rate. Chen is an active rep with no deals.
No open or won deal bills in April 2026.
"""

from __future__ import annotations

import math
import os
import posixpath
import stat
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import openpyxl
import pandas as pd
import pytest
import xlsxwriter.workbook

from salesreg.errors import SalesregError
from salesreg.fiscal import FiscalYear, Month, fiscal_year_of
from salesreg.summary import format_summary, summary_tables, write_summary
from salesreg.summary_data import HistoryEntry, SummaryData, SummaryDeal
from salesreg.i18n import _, using

TOKYO = ZoneInfo("Asia/Tokyo")
NOW = datetime(2026, 6, 1, 9, 0, tzinfo=TOKYO)
FISCAL_YEAR: FiscalYear = fiscal_year_of(NOW.date(), 4)
RANKS = {"A": Decimal("0.8"), "B": Decimal("0.5"), "C": Decimal("0.2"), "D": Decimal("0.05")}
INFORMATION_HEADERS = (
    "Customer business",
    "Target use",
    "Challenges",
    "Path to adoption",
    "Stakeholders",
    "Competitors",
)


def billing(first: str, amount: int, months: int | None = None) -> dict[Month, Decimal]:
    """Return ``amount`` in each fiscal-year month from ``first`` ("2026-10") for ``months`` months."""
    year, month = (int(part) for part in first.split("-"))
    start = Month(year, month).index
    end = start + months if months is not None else math.inf
    return {m: Decimal(amount) if start <= m.index < end else Decimal(0) for m in FISCAL_YEAR.months}


def deal(deal_id: str, row: int, **fields: object) -> SummaryDeal:
    values: dict[str, object] = {
        "deal_id": deal_id,
        "row": row,
        "customer": f"Customer {deal_id}",
        "title": f"Deal {deal_id}",
        "rep": "Aoki",
        "stage": "Lead",
        "expected_close": date(2026, 9, 30),
        "outcome": "",
        "outcome_reason": "",
        "expectation": "",
        "reviewed_on": None,
        "competitors": "",
        "fy_sales": Decimal(0),
        "weighted_sales": None,
        "monthly": billing("2026-04", 0),
        "deadline": datetime(2026, 6, 10, 18, 0, tzinfo=TOKYO),
        "last_updated": datetime(2026, 5, 28, 10, 0, tzinfo=TOKYO),
        "reminders_sent": 0,
        "overdue": False,
        "problems": (),
        "missing_info": (),
    }
    values.update(fields)
    # As salesreg.jobs does: a Won or Lost deal closed on its Expected close.
    values.setdefault("closed_on", values["expected_close"] if values["outcome"] else None)
    return SummaryDeal(**values)  # type: ignore[arg-type]


DEALS = (
    deal(
        "D-1",
        2,
        customer="=1+1",
        stage="Lead",
        expectation="A",
        fy_sales=Decimal(600_000),
        weighted_sales=Decimal(480_000),
        monthly=billing("2026-10", 100_000),
        deadline=datetime(2026, 5, 28, 18, 0, tzinfo=TOKYO),
        last_updated=datetime(2026, 5, 10, 12, 0, tzinfo=TOKYO),
        reminders_sent=2,
        overdue=True,
        problems=('"Expected close": 2026-05-28 is in the past', '"Challenges" is empty'),
        missing_info=("Challenges",),
    ),
    deal(
        "D-2",
        3,
        stage="Proposal",
        expectation="B",
        fy_sales=Decimal(150_000),
        weighted_sales=Decimal(75_000),
        monthly=billing("2026-07", 50_000, 3),
        last_updated=datetime(2026, 5, 25, 10, 0, tzinfo=TOKYO),
    ),
    deal(
        "D-3",
        4,
        rep="Baba",
        stage="Proposal",
        fy_sales=Decimal(90_000),
        monthly=billing("2026-05", 30_000, 3),
        deadline=datetime(2026, 5, 31, 18, 0, tzinfo=TOKYO),
        last_updated=datetime(2026, 4, 20, 9, 0, tzinfo=TOKYO),
        reminders_sent=1,
        overdue=True,
        problems=('"Next step" is empty',),
        missing_info=("Target use", "Challenges"),
    ),
    deal(
        "D-4",
        5,
        rep="Baba",
        stage="Closing",
        expected_close=date(2026, 5, 15),
        outcome="Won",
        outcome_reason="Price",
        expectation="A",
        fy_sales=Decimal(120_000),
        weighted_sales=Decimal(120_000),
        monthly=billing("2026-05", 20_000, 6),
    ),
    deal(
        "D-5",
        6,
        stage="Closing",
        expected_close=date(2026, 5, 20),
        outcome="Lost",
        outcome_reason="Price",
        reviewed_on=date(2026, 5, 20),
        competitors="Rival Co, Other Inc\nrival co",
        fy_sales=Decimal(560_000),
        monthly=billing("2026-09", 80_000),
    ),
    deal(
        "D-6",
        7,
        rep="Baba",
        stage="Lead",
        expected_close=date(2026, 4, 30),
        outcome="Lost",
        outcome_reason="Timing",
        competitors="Other Inc",
        fy_sales=Decimal(20_000),
        monthly=billing("2026-08", 10_000, 2),
    ),
    deal(
        "D-7",
        8,
        stage="Closing",
        expected_close=date(2026, 3, 20),
        outcome="Won",
        outcome_reason="Referral",
        expectation="A",
        reviewed_on=date(2026, 3, 25),
        fy_sales=Decimal(30_000),
        weighted_sales=Decimal(30_000),
        monthly=billing("2027-01", 10_000, 3),
    ),
)

HISTORY = (
    # Inside the default 7 days before NOW (2026-05-25 09:00 onwards).
    HistoryEntry(datetime(2026, 5, 25, 10, 0, tzinfo=TOKYO), "D-2", "Stage", "Lead", "Proposal"),
    # 12 days before NOW: outside 7 days, inside 30.
    HistoryEntry(datetime(2026, 5, 20, 10, 0, tzinfo=TOKYO), "D-5", "Outcome", "", "Lost"),
    HistoryEntry(datetime(2026, 3, 1, 10, 0, tzinfo=TOKYO), "D-1", "Stage", "", "Lead"),
)

OFFICES = {"Aoki": "Tokyo", "Baba": "Osaka", "Chen": "Nagoya"}


def build_data(
    deals: tuple[SummaryDeal, ...] = DEALS,
    currency: str = "JPY",
    **fields: object,
) -> SummaryData:
    values: dict[str, object] = {
        "now": NOW,
        "fiscal_year": FISCAL_YEAR,
        "currency": currency,
        "reps": ("Aoki", "Baba", "Chen"),
        "managers": {"Aoki": "Mori", "Baba": "Mori", "Chen": "Mori"},
        "stages": ("Lead", "Proposal", "Closing"),
        "ranks": RANKS,
        "information_headers": INFORMATION_HEADERS,
        "deals": deals,
        "history": HISTORY,
    }
    values.update(fields)
    return SummaryData(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return summary_tables(build_data())


@pytest.fixture(scope="module")
def workbook_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("summary") / "summary.xlsx"
    write_summary(build_data(), path)
    return path


# Pipeline: open deals D-1, D-2 (Aoki) and D-3 (Baba).


@pytest.mark.parametrize(
    ("rep", "stage", "expected"),
    [
        pytest.param("Aoki", "Lead", 1, id="aoki-lead"),
        pytest.param("Aoki", "Proposal", 1, id="aoki-proposal"),
        pytest.param("Aoki", "Closing", 0, id="aoki-closing"),
        pytest.param("Baba", "Proposal", 1, id="baba-proposal"),
        pytest.param("Chen", "Lead", 0, id="chen-no-deals"),
        pytest.param("Chen", "Total", 0, id="chen-total"),
        pytest.param("Total", "Proposal", 2, id="proposal-total"),
        pytest.param("Total", "Total", 3, id="grand-total"),
    ],
)
def test_pipeline_count(tables: dict[str, pd.DataFrame], rep: str, stage: str, expected: int) -> None:
    assert tables["pipeline_count"].loc[rep, stage] == expected


@pytest.mark.parametrize(
    ("rep", "stage", "expected"),
    [
        pytest.param("Aoki", "Lead", Decimal(600_000), id="aoki-lead"),
        pytest.param("Aoki", "Proposal", Decimal(150_000), id="aoki-proposal"),
        pytest.param("Aoki", "Total", Decimal(750_000), id="aoki-total"),
        pytest.param("Baba", "Proposal", Decimal(90_000), id="baba-proposal"),
        pytest.param("Chen", "Total", Decimal(0), id="chen-no-deals"),
        pytest.param("Total", "Total", Decimal(840_000), id="grand-total"),
    ],
)
def test_pipeline_sales(tables: dict[str, pd.DataFrame], rep: str, stage: str, expected: Decimal) -> None:
    assert tables["pipeline_sales"].loc[rep, stage] == expected


@pytest.mark.parametrize(
    ("rep", "stage", "expected"),
    [
        pytest.param("Aoki", "Lead", Decimal(480_000), id="aoki-lead-rank-a"),
        pytest.param("Aoki", "Proposal", Decimal(75_000), id="aoki-proposal-rank-b"),
        pytest.param("Baba", "Proposal", Decimal(0), id="baba-not-ranked"),
        pytest.param("Total", "Total", Decimal(555_000), id="grand-total"),
    ],
)
def test_pipeline_weighted(tables: dict[str, pd.DataFrame], rep: str, stage: str, expected: Decimal) -> None:
    assert tables["pipeline_weighted"].loc[rep, stage] == expected


def test_pipeline_rows_are_active_reps(tables: dict[str, pd.DataFrame]) -> None:
    assert list(tables["pipeline_count"].index) == ["Aoki", "Baba", "Chen", "Total"]


def test_pipeline_columns_are_stages(tables: dict[str, pd.DataFrame]) -> None:
    assert list(tables["pipeline_count"].columns) == ["Lead", "Proposal", "Closing", "Total"]


def test_pipeline_unknown_rep_kept(tables: dict[str, pd.DataFrame]) -> None:
    former_rep_deal = deal("D-9", 9, rep="Former Rep", fy_sales=Decimal(5), monthly=billing("2027-03", 5))
    pipeline = summary_tables(build_data((*DEALS, former_rep_deal)))["pipeline_sales"]
    assert list(pipeline.index) == ["Aoki", "Baba", "Chen", "Former Rep", "Total"]
    assert pipeline.loc["Total", "Total"] == Decimal(840_005)


def test_pipeline_rep_named_total() -> None:
    total_rep_deal = deal("D-9", 9, rep="Total", fy_sales=Decimal(5), monthly=billing("2027-03", 5))
    pipeline = summary_tables(build_data((*DEALS, total_rep_deal)))["pipeline_sales"]
    assert list(pipeline.index) == ["Aoki", "Baba", "Chen", "Total", "Total"]
    assert pipeline.iloc[-1]["Total"] == Decimal(840_005)


def test_pipeline_cents_exact() -> None:
    cent_deals = (
        deal("D-1", 2, fy_sales=Decimal("0.10"), monthly=billing("2027-03", 0)),
        deal("D-2", 3, fy_sales=Decimal("0.20"), monthly=billing("2027-03", 0)),
    )
    pipeline = summary_tables(build_data(cent_deals, currency="USD"))["pipeline_sales"]
    assert pipeline.loc["Total", "Total"] == Decimal("0.30")


# Forecast: open and won deals D-1 … D-4 and D-7, month by month.

FORECAST = [
    # month, expected sales, weighted sales
    ("2026-04", 0, 0),
    ("2026-05", 50_000, 20_000),  # D-3 not ranked, D-4 won
    ("2026-06", 50_000, 20_000),
    ("2026-07", 100_000, 45_000),  # D-2 at 0.5 joins
    ("2026-08", 70_000, 45_000),
    ("2026-09", 70_000, 45_000),
    ("2026-10", 120_000, 100_000),  # D-1 at 0.8 joins, D-4's last month
    ("2026-11", 100_000, 80_000),
    ("2026-12", 100_000, 80_000),
    ("2027-01", 110_000, 90_000),  # D-7, won last year, bills in full
    ("2027-02", 110_000, 90_000),
    ("2027-03", 110_000, 90_000),
]


def test_forecast_months_in_order(tables: dict[str, pd.DataFrame]) -> None:
    assert list(tables["forecast"].index) == [month for month, _, _ in FORECAST] + ["Total"]


@pytest.mark.parametrize(("month", "expected", "weighted"), [pytest.param(*case, id=case[0]) for case in FORECAST])
def test_forecast_expected(tables: dict[str, pd.DataFrame], month: str, expected: int, weighted: int) -> None:
    assert tables["forecast"].loc[month, "Expected sales"] == Decimal(expected)


@pytest.mark.parametrize(("month", "expected", "weighted"), [pytest.param(*case, id=case[0]) for case in FORECAST])
def test_forecast_weighted(tables: dict[str, pd.DataFrame], month: str, expected: int, weighted: int) -> None:
    assert tables["forecast"].loc[month, "Weighted sales"] == Decimal(weighted)


def test_forecast_total(tables: dict[str, pd.DataFrame]) -> None:
    assert tables["forecast"].loc["Total", "Expected sales"] == Decimal(990_000)


def test_forecast_weighted_total(tables: dict[str, pd.DataFrame]) -> None:
    assert tables["forecast"].loc["Total", "Weighted sales"] == Decimal(705_000)


def test_forecast_won_total(tables: dict[str, pd.DataFrame]) -> None:
    assert tables["forecast"].loc["Total", "Won sales"] == Decimal(150_000)


def test_forecast_weighted_rounds_half_up() -> None:
    # 1 yen a month at rank B (0.5) is 0.5 yen, which rounds half up to 1.
    one_yen_deal = (deal("D-1", 2, expectation="B", fy_sales=Decimal(12), monthly=billing("2026-04", 1)),)
    forecast = summary_tables(build_data(one_yen_deal))["forecast"]
    assert forecast.loc["2026-04", "Weighted sales"] == Decimal(1)


# Key figures, expectation, win rate.


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        pytest.param("open_deals", 3, id="open-deals"),
        pytest.param("open_sales", Decimal(840_000), id="open-pipeline"),
        pytest.param("open_weighted", Decimal(555_000), id="open-weighted"),
        pytest.param("weighted_year", Decimal(705_000), id="weighted-fiscal-year-sales"),
        pytest.param("won_deals", 1, id="won-this-year-without-d7"),
        pytest.param("won_sales", Decimal(120_000), id="won-sales-without-d7"),
        pytest.param("lost_deals", 2, id="lost-this-year"),
        pytest.param("overdue_deals", 2, id="overdue-deals"),
    ],
)
def test_overview_figure(tables: dict[str, pd.DataFrame], key: str, expected: object) -> None:
    assert tables["overview"].loc[key, "Value"] == expected


def test_overview_win_rate(tables: dict[str, pd.DataFrame]) -> None:
    assert tables["overview"].loc["win_rate", "Value"] == pytest.approx(1 / 3)


def test_overview_win_rate_without_closed_deals() -> None:
    overview = summary_tables(build_data(DEALS[:3]))["overview"]
    assert math.isnan(overview.loc["win_rate", "Value"])


@pytest.mark.parametrize(
    ("rank", "rep", "expected"),
    [
        pytest.param("A", "Aoki", 1, id="a-aoki"),
        pytest.param("B", "Aoki", 1, id="b-aoki"),
        pytest.param("C", "Total", 0, id="c-empty"),
        pytest.param("(not ranked)", "Baba", 1, id="not-ranked-baba"),
        pytest.param("(not ranked)", "Chen", 0, id="not-ranked-chen"),
    ],
)
def test_expectation_count(tables: dict[str, pd.DataFrame], rank: str, rep: str, expected: int) -> None:
    assert tables["expectation_count"].loc[rank, rep] == expected


def test_expectation_rows_in_rank_order(tables: dict[str, pd.DataFrame]) -> None:
    assert list(tables["expectation_sales"].index) == ["A", "B", "C", "D", "(not ranked)", "Total"]


def test_expectation_sales_not_ranked(tables: dict[str, pd.DataFrame]) -> None:
    assert tables["expectation_sales"].loc["(not ranked)", "Total"] == Decimal(90_000)


@pytest.mark.parametrize(
    ("rep", "expected"),
    [
        pytest.param("Aoki", 0.0, id="aoki-lost-only"),
        pytest.param("Baba", 0.5, id="baba-one-of-two"),
        pytest.param("Total", 1 / 3, id="total"),
    ],
)
def test_win_rate_by_rep(tables: dict[str, pd.DataFrame], rep: str, expected: float) -> None:
    assert tables["win_rate"].loc[rep, "Win rate"] == pytest.approx(expected)


def test_win_rate_no_closed_deals(tables: dict[str, pd.DataFrame]) -> None:
    assert math.isnan(tables["win_rate"].loc["Chen", "Win rate"])


def test_lost_reasons_ranked(tables: dict[str, pd.DataFrame]) -> None:
    assert list(tables["lost_reasons"]["Outcome reason"]) == ["Price", "Timing"]


def test_lost_competitors_counted(tables: dict[str, pd.DataFrame]) -> None:
    competitors = tables["lost_competitors"].set_index("Competitor")["Lost deals"]
    assert competitors.to_dict() == {"Other Inc": 2, "Rival Co": 1}


# Overdue and awaiting the manager.


def test_overdue_list(tables: dict[str, pd.DataFrame]) -> None:
    assert list(tables["overdue_deals"]["Deal ID"]) == ["D-1", "D-3"]


def test_overdue_days(tables: dict[str, pd.DataFrame]) -> None:
    # D-1 passed its deadline (05-28 18:00) 3 days 15 hours ago. D-3 passed it (05-31 18:00) 15 hours ago.
    assert list(tables["overdue_deals"]["Days overdue"]) == [3, 0]


def test_overdue_problems_joined(tables: dict[str, pd.DataFrame]) -> None:
    problems = tables["overdue_deals"].loc[0, "Problems"]
    assert problems == '"Expected close": 2026-05-28 is in the past; "Challenges" is empty'


def test_overdue_problems_joined_japanese() -> None:
    # Japanese problems end in 。, so a space separates them instead of "; ".
    with using("ja"):
        overdue = summary_tables(build_data())["overdue_deals"]
        problems = overdue.loc[0, _("Problems")]
    assert problems == '"Expected close": 2026-05-28 is in the past "Challenges" is empty'


@pytest.mark.parametrize(
    ("rep", "column", "expected"),
    [
        pytest.param("Aoki", "Open deals", 2, id="aoki-open"),
        pytest.param("Aoki", "Overdue deals", 1, id="aoki-overdue"),
        pytest.param("Aoki", "Days since oldest update", 21, id="aoki-oldest-update"),
        pytest.param("Baba", "Days since oldest update", 42, id="baba-oldest-update"),
        pytest.param("Baba", "Reminders sent", 1, id="baba-reminders"),
        pytest.param("Chen", "Open deals", 0, id="chen-open"),
    ],
)
def test_freshness(tables: dict[str, pd.DataFrame], rep: str, column: str, expected: int) -> None:
    assert tables["freshness"].loc[rep, column] == expected


def test_freshness_no_update_age(tables: dict[str, pd.DataFrame]) -> None:
    assert tables["freshness"].loc["Chen", "Days since oldest update"] is pd.NA


def test_awaiting_rank(tables: dict[str, pd.DataFrame]) -> None:
    assert list(tables["awaiting_rank"]["Deal ID"]) == ["D-3"]


def test_awaiting_review(tables: dict[str, pd.DataFrame]) -> None:
    assert list(tables["awaiting_review"]["Deal ID"]) == ["D-4", "D-6"]


def test_completeness_missing_field(tables: dict[str, pd.DataFrame]) -> None:
    assert tables["completeness"].loc["Total", "Challenges"] == 2


def test_completeness_complete_deals(tables: dict[str, pd.DataFrame]) -> None:
    assert tables["completeness"].loc["Aoki", "Complete deals"] == 1


def test_recent_changes_window(tables: dict[str, pd.DataFrame]) -> None:
    assert list(tables["recent_changes"]["Deal ID"]) == ["D-2"]


def test_tables_without_deals() -> None:
    empty = summary_tables(build_data(()))
    assert empty["pipeline_count"].loc["Total", "Total"] == 0
    assert empty["forecast"].loc["Total", "Expected sales"] == Decimal(0)
    assert empty["overdue_deals"].empty


# The written workbook.


def sheet_charts(path: Path, sheet_name: str) -> list[str]:
    """Return the chart parts that the drawing of ``sheet_name`` refers to."""
    namespaces = {
        "main": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
        "rel": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
        "pkg": "http://schemas.openxmlformats.org/package/2006/relationships",
    }
    with zipfile.ZipFile(path) as archive:

        def relations(part: str) -> dict[str, tuple[str, str]]:
            folder, name = posixpath.split(part)
            rels_part = posixpath.join(folder, "_rels", name + ".rels")
            if rels_part not in archive.namelist():
                return {}
            root = ElementTree.fromstring(archive.read(rels_part))
            found = {}
            for rel in root.findall("pkg:Relationship", namespaces):
                target = posixpath.normpath(posixpath.join(folder, rel.get("Target", "")))
                found[rel.get("Id", "")] = (rel.get("Type", ""), target)
            return found

        book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        sheet = next(s for s in book.iterfind("main:sheets/main:sheet", namespaces) if s.get("name") == sheet_name)
        sheet_part = relations("xl/workbook.xml")[sheet.get(f"{{{namespaces['rel']}}}id", "")][1]
        drawings = [target for kind, target in relations(sheet_part).values() if kind.endswith("/drawing")]
        return [
            target
            for drawing in drawings
            for kind, target in relations(drawing).values()
            if kind.endswith("/chart") and target in archive.namelist()
        ]


def test_workbook_sheet_names(workbook_path: Path) -> None:
    book = openpyxl.load_workbook(workbook_path)
    assert book.sheetnames == [
        "Overview",
        "Pipeline",
        "Forecast",
        "Expectation",
        "Freshness",
        "Won-Lost",
        "Awaiting manager",
        "Completeness",
        "Recent changes",
    ]


@pytest.mark.parametrize("sheet", ["Overview", "Pipeline", "Forecast", "Won-Lost"])
def test_workbook_sheet_has_chart(workbook_path: Path, sheet: str) -> None:
    assert sheet_charts(workbook_path, sheet)


def test_workbook_chart_parts(workbook_path: Path) -> None:
    with zipfile.ZipFile(workbook_path) as archive:
        charts = [name for name in archive.namelist() if name.startswith("xl/charts/chart")]
    assert charts


def test_workbook_formula_text_is_string(workbook_path: Path) -> None:
    sheet = openpyxl.load_workbook(workbook_path)["Freshness"]
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value == "=1+1"]
    assert [cell.data_type for cell in cells] == ["s"]


def test_workbook_money_cell(workbook_path: Path) -> None:
    sheet = openpyxl.load_workbook(workbook_path)["Overview"]
    values = {row[0].value: row[1] for row in sheet.iter_rows(min_row=5, max_col=2)}
    cell = values["Open pipeline (fiscal-period sales)"]
    assert cell.value == 840_000
    assert cell.number_format == '"¥"#,##0;-"¥"#,##0'


def test_workbook_header_frozen(workbook_path: Path) -> None:
    sheet = openpyxl.load_workbook(workbook_path)["Pipeline"]
    assert sheet.freeze_panes == "A5"


def test_workbook_forecast_months(workbook_path: Path) -> None:
    sheet = openpyxl.load_workbook(workbook_path)["Forecast"]
    months = [sheet.cell(row=row, column=1).value for row in range(5, 17)]
    assert months == [month for month, _, _ in FORECAST]


def test_write_replaces_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "summary.xlsx"
    path.write_bytes(b"an older summary")
    write_summary(build_data(), path)
    assert zipfile.is_zipfile(path)
    assert os.listdir(tmp_path) == ["summary.xlsx"]


def test_write_keeps_file_mode(tmp_path: Path) -> None:
    path = tmp_path / "summary.xlsx"
    path.write_bytes(b"an older summary")
    path.chmod(0o640)
    write_summary(build_data(), path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_write_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(SalesregError, match="Check that the folder exists"):
        write_summary(build_data(), tmp_path / "missing" / "summary.xlsx")


def test_write_failure_keeps_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "summary.xlsx"
    path.write_bytes(b"an older summary")

    def fail_to_close(self: xlsxwriter.workbook.Workbook) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(xlsxwriter.workbook.Workbook, "close", fail_to_close)
    with pytest.raises(OSError, match="disk full"):
        write_summary(build_data(), path)
    assert path.read_bytes() == b"an older summary"
    assert os.listdir(tmp_path) == ["summary.xlsx"]


def test_overview_weighted_matches_forecast(tables: dict[str, pd.DataFrame]) -> None:
    assert tables["overview"].loc["weighted_year", "Value"] == tables["forecast"].loc["Total", "Weighted sales"]


def test_overview_labels_name_fiscal_year(tables: dict[str, pd.DataFrame]) -> None:
    assert tables["overview"].loc["won_deals", "Figure"] == "Deals won in FY2026"


# Deals count in the fiscal year of their close date, the Expected close of a closed deal.


def test_win_rate_ignores_last_year(tables: dict[str, pd.DataFrame]) -> None:
    # D-7 (won 2026-03-20) is left out, so Aoki has only the lost D-5.
    assert tables["win_rate"].loc["Aoki", "Won"] == 0
    assert tables["win_rate"].loc["Aoki", "Lost"] == 1


def test_win_rate_won_sales(tables: dict[str, pd.DataFrame]) -> None:
    assert tables["win_rate"].loc["Total", "Won sales"] == Decimal(120_000)


def test_won_reasons_this_year(tables: dict[str, pd.DataFrame]) -> None:
    assert list(tables["won_reasons"]["Outcome reason"]) == ["Price"]


def test_lost_reasons_amounts(tables: dict[str, pd.DataFrame]) -> None:
    amounts = tables["lost_reasons"].set_index("Outcome reason")["Fiscal-period sales"]
    assert amounts.to_dict() == {"Price": Decimal(560_000), "Timing": Decimal(20_000)}


@pytest.mark.parametrize(
    ("closed_on", "counted"),
    [
        pytest.param(date(2026, 4, 1), True, id="first-day"),
        pytest.param(date(2027, 3, 31), True, id="last-day"),
        pytest.param(date(2026, 3, 31), False, id="day-before"),
        pytest.param(date(2027, 4, 1), False, id="day-after"),
        pytest.param(None, False, id="no-close-date"),
    ],
)
def test_won_deal_counted_by_close_date(closed_on: date | None, counted: bool) -> None:
    won = deal("D-9", 9, rep="Chen", outcome="Won", outcome_reason="Fit", expected_close=closed_on, closed_on=closed_on)
    overview = summary_tables(build_data((*DEALS, won)))["overview"]
    assert overview.loc["won_deals", "Value"] == (2 if counted else 1)


def test_closed_without_date_awaits_review() -> None:
    lost = deal("D-9", 9, rep="Chen", outcome="Lost", outcome_reason="Price", expected_close=None)
    tables = summary_tables(build_data((*DEALS, lost)))
    assert tables["overview"].loc["lost_deals", "Value"] == 2
    assert list(tables["awaiting_review"]["Deal ID"]) == ["D-4", "D-6", "D-9"]


# By office: Aoki in Tokyo, Baba in Osaka, Chen (no deals) in Nagoya.


@pytest.fixture(scope="module")
def office_tables() -> dict[str, pd.DataFrame]:
    return summary_tables(build_data(offices=OFFICES))


@pytest.mark.parametrize(
    ("office", "column", "expected"),
    [
        pytest.param("Tokyo", "Open deals", 2, id="tokyo-open"),
        pytest.param("Tokyo", "Fiscal-period sales", Decimal(750_000), id="tokyo-pipeline"),
        pytest.param("Tokyo", "Weighted sales", Decimal(555_000), id="tokyo-weighted"),
        pytest.param("Tokyo", "Deals won in FY2026", 0, id="tokyo-d7-won-last-year"),
        pytest.param("Osaka", "Fiscal-period sales", Decimal(90_000), id="osaka-pipeline"),
        pytest.param("Osaka", "Weighted sales", Decimal(0), id="osaka-not-ranked"),
        pytest.param("Osaka", "Won in FY2026", Decimal(120_000), id="osaka-won"),
        pytest.param("Nagoya", "Open deals", 0, id="nagoya-no-deals"),
        pytest.param("Nagoya", "Won in FY2026", Decimal(0), id="nagoya-no-won"),
        pytest.param("Total", "Fiscal-period sales", Decimal(840_000), id="total-pipeline"),
        pytest.param("Total", "Deals won in FY2026", 1, id="total-won"),
    ],
)
def test_offices(office_tables: dict[str, pd.DataFrame], office: str, column: str, expected: object) -> None:
    assert office_tables["offices"].loc[office, column] == expected


def test_offices_every_office_in_order(office_tables: dict[str, pd.DataFrame]) -> None:
    assert list(office_tables["offices"].index) == ["Tokyo", "Osaka", "Nagoya", "Total"]


def test_offices_rep_without_office() -> None:
    former_rep_deal = deal("D-9", 9, rep="Former Rep", fy_sales=Decimal(5), monthly=billing("2027-03", 5))
    offices = summary_tables(build_data((*DEALS, former_rep_deal), offices=OFFICES))["offices"]
    assert list(offices.index) == ["Tokyo", "Osaka", "Nagoya", "(no office)", "Total"]
    assert offices.loc["(no office)", "Fiscal-period sales"] == Decimal(5)


def test_offices_absent_without_office_column(tables: dict[str, pd.DataFrame]) -> None:
    assert "offices" not in tables


# Recent changes: one setting, SummaryData.history_days, 7 days by default.


def test_recent_changes_longer_window() -> None:
    changes = summary_tables(build_data(history_days=30))["recent_changes"]
    assert list(changes["Deal ID"]) == ["D-2", "D-5"]


def test_recent_changes_names_deal(tables: dict[str, pd.DataFrame]) -> None:
    assert tables["recent_changes"].loc[0, "Customer"] == "Customer D-2"


# Completeness of each open deal.


@pytest.mark.parametrize(
    ("deal_id", "column", "expected"),
    [
        pytest.param("D-1", "Challenges", "Missing", id="d1-challenges"),
        pytest.param("D-1", "Target use", "Filled", id="d1-target-use"),
        pytest.param("D-1", "Missing fields", 1, id="d1-count"),
        pytest.param("D-2", "Missing fields", 0, id="d2-complete"),
        pytest.param("D-3", "Target use", "Missing", id="d3-target-use"),
        pytest.param("D-3", "Missing fields", 2, id="d3-count"),
    ],
)
def test_completeness_by_deal(tables: dict[str, pd.DataFrame], deal_id: str, column: str, expected: object) -> None:
    assert tables["completeness_by_deal"].set_index("Deal ID").loc[deal_id, column] == expected


def test_completeness_by_deal_open_only(tables: dict[str, pd.DataFrame]) -> None:
    assert list(tables["completeness_by_deal"]["Deal ID"]) == ["D-1", "D-2", "D-3"]


# Fiscal-year labels follow [fiscal] label, never pandas' period names.


def test_fiscal_year_label_end(tmp_path: Path) -> None:
    year_named_by_end = fiscal_year_of(NOW.date(), 4, "end")
    path = tmp_path / "summary.xlsx"
    write_summary(build_data(fiscal_year=year_named_by_end), path)
    book = openpyxl.load_workbook(path)
    assert book["Overview"]["A1"].value == "Sales summary FY2027"
    assert [book["Forecast"].cell(row=row, column=1).value for row in (5, 16)] == ["2026-04", "2027-03"]


def test_fiscal_year_label_start(workbook_path: Path) -> None:
    book = openpyxl.load_workbook(workbook_path)
    assert book["Overview"]["A1"].value == "Sales summary FY2026"


# The written workbook: more sheets, text safety, formats.

DANGEROUS_TEXTS = ("=1+1", "+81 3 1234", "-deal", "@rep", "=HYPERLINK(\"http://127.0.0.1\")", "@cmd", "=2*3", "+stage")


@pytest.fixture(scope="module")
def dangerous_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A summary whose register text starts with =, +, - or @ in every kind of place."""
    lost = deal(
        "D-9",
        9,
        customer="+81 3 1234",
        title="-deal",
        rep="@rep",
        stage="+stage",
        expected_close=date(2026, 5, 1),
        outcome="Lost",
        outcome_reason='=HYPERLINK("http://127.0.0.1")',
        competitors="@cmd, =2*3",
        fy_sales=Decimal(7),
        monthly=billing("2027-03", 7),
    )
    still_open = deal("D-10", 10, rep="@rep", stage="+stage", missing_info=("Challenges",))
    history = (*HISTORY, HistoryEntry(datetime(2026, 5, 31, 10, 0, tzinfo=TOKYO), "D-9", "Customer", "=1+1", "+81 3 1234"))
    data = build_data((*DEALS, lost, still_open), history=history, offices={**OFFICES, "@rep": "=2*3"})
    path = tmp_path_factory.mktemp("dangerous") / "summary.xlsx"
    write_summary(data, path)
    return path


def test_workbook_no_formulas(dangerous_path: Path) -> None:
    book = openpyxl.load_workbook(dangerous_path)
    formulas = [f"{sheet.title}!{cell.coordinate}" for sheet in book for row in sheet.iter_rows() for cell in row if cell.data_type == "f"]
    assert formulas == []


@pytest.mark.parametrize("text", DANGEROUS_TEXTS)
def test_workbook_dangerous_text_kept(dangerous_path: Path, text: str) -> None:
    book = openpyxl.load_workbook(dangerous_path)
    kinds = {cell.data_type for sheet in book for row in sheet.iter_rows() for cell in row if cell.value == text}
    assert kinds == {"s"}


def test_workbook_office_sheet(tmp_path: Path) -> None:
    path = tmp_path / "summary.xlsx"
    write_summary(build_data(offices=OFFICES), path)
    assert openpyxl.load_workbook(path).sheetnames[:3] == ["Overview", "Pipeline", "By office"]
    assert sheet_charts(path, "By office")


def test_workbook_changes_heading(workbook_path: Path) -> None:
    assert openpyxl.load_workbook(workbook_path)["Recent changes"]["A1"].value == "Changes in the last 7 days"


def test_workbook_changes_heading_one_day(tmp_path: Path) -> None:
    path = tmp_path / "summary.xlsx"
    write_summary(build_data(history_days=1), path)
    assert openpyxl.load_workbook(path)["Recent changes"]["A1"].value == "Changes in the last 1 day"


@pytest.mark.parametrize("sheet", ["Overview", "Forecast", "Freshness", "Won-Lost", "Expectation"])
def test_workbook_more_charts(workbook_path: Path, sheet: str) -> None:
    assert sheet_charts(workbook_path, sheet)


def test_workbook_forecast_weighted_line(workbook_path: Path) -> None:
    with zipfile.ZipFile(workbook_path) as archive:
        chart_xml = [archive.read(part).decode() for part in sheet_charts(workbook_path, "Forecast")]
    assert any("<c:lineChart>" in xml and "<c:barChart>" in xml for xml in chart_xml)


def test_workbook_tables_have_filters(workbook_path: Path) -> None:
    sheet = openpyxl.load_workbook(workbook_path)["Pipeline"]
    assert sheet.tables["pipeline_count"].autoFilter is not None


def test_workbook_label_column_wide(workbook_path: Path) -> None:
    sheet = openpyxl.load_workbook(workbook_path)["Overview"]
    assert sheet.column_dimensions["A"].width >= len("Open pipeline (fiscal-period sales)")


def test_workbook_money_format_usd(tmp_path: Path) -> None:
    path = tmp_path / "summary.xlsx"
    cent_deal = deal("D-1", 2, fy_sales=Decimal("0.10"), weighted_sales=None, monthly=billing("2027-03", 0))
    write_summary(build_data((cent_deal,), currency="USD"), path)
    sheet = openpyxl.load_workbook(path)["Overview"]
    values = {row[0].value: row[1] for row in sheet.iter_rows(min_row=5, max_col=2)}
    cell = values["Open pipeline (fiscal-period sales)"]
    assert cell.value == pytest.approx(0.10)
    assert cell.number_format == '"$"#,##0.00;-"$"#,##0.00'


def test_workbook_missing_fields_highlighted(workbook_path: Path) -> None:
    sheet = openpyxl.load_workbook(workbook_path)["Completeness"]
    rules = [rule for ranges in sheet.conditional_formatting for rule in ranges.rules]
    assert [rule.formula for rule in rules] == [['"Missing"']]


def test_workbook_without_deals(tmp_path: Path) -> None:
    path = tmp_path / "summary.xlsx"
    write_summary(build_data((), history=(), offices=OFFICES), path)
    book = openpyxl.load_workbook(path)
    assert book["Freshness"]["A5"].value == "Aoki"
    assert book["Awaiting manager"]["A5"].value == "(none)"


# The terminal view for --print.


@pytest.fixture(scope="module")
def printed() -> str:
    data = build_data(offices=OFFICES)
    return format_summary(data, summary_tables(data))


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Sales summary FY2026 as of 2026-06-01 09:00 (Asia/Tokyo)", id="heading"),
        pytest.param("Key figures", id="key-figures"),
        pytest.param("Open pipeline by rep", id="pipeline"),
        pytest.param("Open pipeline and won deals by office", id="offices"),
        pytest.param("Sales forecast by month", id="forecast"),
        pytest.param("Freshness of open deals by rep", id="freshness"),
        pytest.param("Win rate by rep, deals closed in FY2026", id="win-rate"),
    ],
)
def test_print_sections(printed: str, text: str) -> None:
    assert text in printed


def test_print_key_figure_line(printed: str) -> None:
    line = next(line for line in printed.splitlines() if line.startswith("Open pipeline (fiscal-period sales)"))
    assert line.split() == ["Open", "pipeline", "(fiscal-period", "sales)", "¥840,000"]


def test_print_win_rate_percent(printed: str) -> None:
    line = next(line for line in printed.splitlines() if line.startswith("Win rate in FY2026"))
    assert line.endswith("33.3%")


def test_print_rep_without_deals(printed: str) -> None:
    pipeline = printed.split("Open pipeline by rep")[1].split("Open pipeline by stage")[0]
    chen = next(line for line in pipeline.splitlines() if line.startswith("Chen"))
    assert chen.split() == ["Chen", "0", "¥0", "¥0"]


def test_print_every_month(printed: str) -> None:
    forecast = printed.split("Sales forecast by month")[1].split("Freshness")[0]
    months = [line.split()[0] for line in forecast.splitlines() if line[:2] == "20"]
    assert months == [month for month, _, _ in FORECAST]


def test_print_empty_age_shown_blank(printed: str) -> None:
    freshness = printed.split("Freshness of open deals by rep")[1]
    chen = next(line for line in freshness.splitlines() if line.startswith("Chen"))
    assert chen.split() == ["Chen", "0", "0", "-", "0"]


def test_print_wide_characters_aligned() -> None:
    wide_rep_deal = deal("D-9", 9, rep="山田", fy_sales=Decimal(5), monthly=billing("2027-03", 5))
    data = build_data((*DEALS, wide_rep_deal), reps=("Aoki", "山田"))
    text = format_summary(data, summary_tables(data))
    pipeline = text.split("Open pipeline by rep")[1].split("Open pipeline by stage")[0].strip().splitlines()
    # "山田" is two characters but four terminal columns wide, like "Aoki", so the deal counts
    # (2 for Aoki, 1 for 山田) end in the same terminal column.
    assert pipeline[1].index("2") == pipeline[2].index("1") + 2
