"""The managers' summary workbook: pivot tables of the deals, with native Excel charts.

``summary_tables`` computes every table from one ``SummaryData`` snapshot and does no I/O.
``write_summary`` lays the tables out with XlsxWriter and replaces the target file atomically.

Money is summed exactly: amounts become integers in the currency's smallest unit (yen, cents)
for the pivots, and the finished tables hold ``Decimal`` again.
"""

from __future__ import annotations

import math
import numbers
import os
import stat
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import xlsxwriter
from xlsxwriter.chart import Chart
from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from .errors import SalesregError, WorkbookBusy
from .money import CURRENCY_UNITS, excel_number_format, round_money, to_cell
from .summary_data import SummaryData

TOTAL = "Total"
NOT_RANKED = "(not ranked)"
NO_REP = "(no rep)"
NO_STAGE = "(no stage)"
NO_REASON = "(no reason)"
OPEN = ""
WON = "Won"
LOST = "Lost"

# The Changes sheet lists the history of this many days before "now".
RECENT_CHANGE_DAYS = 30

# Separators between competitor names in the Competitors cell: commas (ASCII, full-width and
# ideographic), semicolons and line breaks.
COMPETITOR_SEPARATORS = r"[,，、;；\r\n]+"

_DEAL_COLUMNS = (
    "deal_id",
    "row",
    "customer",
    "title",
    "rep",
    "stage",
    "expected_close",
    "outcome",
    "outcome_reason",
    "rank",
    "reviewed_on",
    "competitors",
    "fy_sales",
    "weighted_sales",
    "deadline",
    "last_updated",
    "reminders_sent",
    "overdue",
    "problems",
    "missing_info",
)


# ---------------------------------------------------------------------------------------------
# Tables


def summary_tables(data: SummaryData) -> dict[str, pd.DataFrame]:
    """Compute every table of the summary workbook, keyed by table name.

    Money cells are ``Decimal``, counts are integers, ratios are floats (NaN when undefined),
    dates are ``date`` and times are ``datetime`` in the time zone of ``data.now``. The writer
    formats each cell by that type. A table whose index has a name (Rep, Stage, Month, Rank)
    is a pivot, and its last row is the "Total" row when it has one.

    Keys: overview, pipeline_by_stage, pipeline_count, pipeline_sales, pipeline_weighted,
    forecast, expectation_count, expectation_sales, freshness, overdue_deals, won_reasons,
    lost_reasons, lost_competitors, win_rate, awaiting_rank, awaiting_review, completeness
    and recent_changes.
    """
    deals = _deals_frame(data)
    tables: dict[str, pd.DataFrame] = {}
    tables["overview"] = _overview(data, deals)
    tables["pipeline_by_stage"] = _pipeline_by_stage(data, deals)
    tables.update(_pipeline(data, deals))
    tables["forecast"] = _forecast(data)
    tables.update(_expectation(data, deals))
    tables["freshness"] = _freshness(data, deals)
    tables["overdue_deals"] = _overdue_deals(data, deals)
    tables["won_reasons"] = _reasons(data, deals, WON)
    tables["lost_reasons"] = _reasons(data, deals, LOST)
    tables["lost_competitors"] = _lost_competitors(data, deals)
    tables["win_rate"] = _win_rate(data, deals)
    tables["awaiting_rank"] = _awaiting_rank(data, deals)
    tables["awaiting_review"] = _awaiting_review(data, deals)
    tables["completeness"] = _completeness(data, deals)
    tables["recent_changes"] = _recent_changes(data, deals)
    return tables


def _to_minor_units(amount: Decimal, currency: str) -> int:
    """Round ``amount`` half up to the currency's unit and count it in that unit (yen, cents)."""
    return int(round_money(amount, currency).scaleb(CURRENCY_UNITS[currency]))


def _from_minor_units(units: int, currency: str) -> Decimal:
    return Decimal(int(units)).scaleb(-CURRENCY_UNITS[currency])


def _money_from_minor_units(table: pd.DataFrame | pd.Series, currency: str) -> Any:
    """Return ``table`` with every count of minor units turned into a ``Decimal`` amount."""
    return table.map(lambda units: _from_minor_units(units, currency))


def _deals_frame(data: SummaryData) -> pd.DataFrame:
    """Return one row per deal, money in minor units and times in the zone of ``data.now``."""
    currency = data.currency
    records = [
        {
            "deal_id": deal.deal_id,
            "row": deal.row,
            "customer": deal.customer,
            "title": deal.title,
            "rep": deal.rep if deal.rep.strip() else NO_REP,
            "stage": deal.stage if deal.stage.strip() else NO_STAGE,
            "expected_close": deal.expected_close,
            "outcome": deal.outcome,
            "outcome_reason": deal.outcome_reason.strip(),
            # A rank that is not configured weighs nothing, so it counts as not ranked.
            "rank": deal.expectation if deal.expectation in data.ranks else NOT_RANKED,
            "reviewed_on": deal.reviewed_on,
            "competitors": deal.competitors,
            "fy_sales": _to_minor_units(deal.fy_sales, currency),
            "weighted_sales": _to_minor_units(deal.weighted_sales or Decimal(0), currency),
            "deadline": deal.deadline,
            "last_updated": deal.last_updated,
            "reminders_sent": deal.reminders_sent,
            "overdue": deal.overdue,
            "problems": "; ".join(deal.problems),
            "missing_info": deal.missing_info,
        }
        for deal in data.deals
    ]
    frame = pd.DataFrame.from_records(records, columns=list(_DEAL_COLUMNS))
    frame = frame.astype({"row": "int64", "fy_sales": "int64", "weighted_sales": "int64", "reminders_sent": "int64"})
    frame["overdue"] = frame["overdue"].astype(bool)
    for column in ("deadline", "last_updated"):
        frame[column] = _local_times(frame[column], data.now)
    return frame


def _local_times(times: pd.Series, now: datetime) -> pd.Series:
    return pd.to_datetime(times, utc=True).dt.tz_convert(now.tzinfo)


def _open_deals(deals: pd.DataFrame) -> pd.DataFrame:
    return deals[deals["outcome"] == OPEN]


def _rep_order(data: SummaryData, reps: pd.Series) -> list[str]:
    """Return the active reps in Team order, then any other rep text found in ``reps``."""
    others = sorted(set(reps) - set(data.reps))
    return [*data.reps, *others]


def _stage_order(data: SummaryData, stages: pd.Series) -> list[str]:
    others = sorted(set(stages) - set(data.stages))
    return [*data.stages, *others]


def _pivot(
    frame: pd.DataFrame,
    rows: str,
    columns: str,
    values: str | None,
    row_order: list[str],
    column_order: list[str],
) -> pd.DataFrame:
    """Count the deals (``values`` None) or sum ``values`` for each ``rows`` × ``columns`` pair.

    Every label of ``row_order`` and ``column_order`` appears, in that order, with 0 where no
    deal matches.
    """
    if values is None:
        table = frame.pivot_table(index=rows, columns=columns, values="deal_id", aggfunc="size", fill_value=0)
    else:
        table = frame.pivot_table(index=rows, columns=columns, values=values, aggfunc="sum", fill_value=0)
    table = table.reindex(index=row_order, columns=column_order, fill_value=0).astype("int64")
    table.columns.name = None
    return table


def _with_totals(table: pd.DataFrame, total_column: bool = True) -> pd.DataFrame:
    """Append a "Total" row, and a "Total" column when ``total_column`` is true, to a numeric table.

    The totals are appended even when a rep or stage is itself named "Total", so that such a
    row or column is kept and the totals stay last.
    """
    table = table.copy()
    if total_column:
        table.insert(len(table.columns), TOTAL, table.sum(axis=1), allow_duplicates=True)
    total_row = table.sum(axis=0).to_frame(TOTAL).T.astype(table.dtypes.to_dict())
    return pd.concat([table, total_row]).rename_axis(table.index.name)


def _overview(data: SummaryData, deals: pd.DataFrame) -> pd.DataFrame:
    """Return the key figures, indexed by a stable key, with the columns Figure and Value."""
    currency = data.currency
    open_deals = _open_deals(deals)
    won = deals[deals["outcome"] == WON]
    lost = deals[deals["outcome"] == LOST]
    closed = len(won) + len(lost)
    open_sales = _from_minor_units(open_deals["fy_sales"].sum(), currency)
    open_weighted = _from_minor_units(open_deals["weighted_sales"].sum(), currency)
    figures: dict[str, tuple[str, Any]] = {
        "open_deals": ("Open deals", len(open_deals)),
        "open_sales": ("Open pipeline (fiscal-period sales)", open_sales),
        "open_weighted": ("Open pipeline (weighted sales)", open_weighted),
        "won_sales": ("Won deals (fiscal-period sales)", _from_minor_units(won["fy_sales"].sum(), currency)),
        "won_deals": ("Won deals", len(won)),
        "lost_deals": ("Lost deals", len(lost)),
        "win_rate": ("Win rate (won ÷ closed deals)", len(won) / closed if closed else math.nan),
        "overdue_deals": ("Overdue deals", int(open_deals["overdue"].sum())),
    }
    return pd.DataFrame(
        {
            "Figure": [label for label, _ in figures.values()],
            "Value": pd.Series([value for _, value in figures.values()], index=list(figures), dtype=object),
        },
        index=list(figures),
    )


def _pipeline_by_stage(data: SummaryData, deals: pd.DataFrame) -> pd.DataFrame:
    open_deals = _open_deals(deals)
    grouped = open_deals.groupby("stage").agg(
        deals=("deal_id", "size"), fy_sales=("fy_sales", "sum"), weighted_sales=("weighted_sales", "sum")
    )
    grouped = grouped.reindex(_stage_order(data, open_deals["stage"]), fill_value=0).astype("int64")
    table = _with_totals(grouped, total_column=False)
    table = pd.DataFrame(
        {
            "Open deals": table["deals"],
            "Fiscal-period sales": _money_from_minor_units(table["fy_sales"], data.currency),
            "Weighted sales": _money_from_minor_units(table["weighted_sales"], data.currency),
        }
    )
    return table.rename_axis("Stage")


def _pipeline(data: SummaryData, deals: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Return the open deals by rep × stage: count, fiscal-period sales and weighted sales."""
    open_deals = _open_deals(deals)
    reps = _rep_order(data, open_deals["rep"])
    stages = _stage_order(data, open_deals["stage"])

    def pivot(values: str | None) -> pd.DataFrame:
        return _with_totals(_pivot(open_deals, "rep", "stage", values, reps, stages)).rename_axis("Rep")

    return {
        "pipeline_count": pivot(None),
        "pipeline_sales": _money_from_minor_units(pivot("fy_sales"), data.currency),
        "pipeline_weighted": _money_from_minor_units(pivot("weighted_sales"), data.currency),
    }


def _monthly_frame(data: SummaryData) -> pd.DataFrame:
    """Return one row per open or won deal and month of the fiscal year, with its amount."""
    records = [
        {
            "outcome": deal.outcome,
            "rank": deal.expectation,
            "month": str(month),
            "amount": amount,
        }
        for deal in data.deals
        if deal.outcome in (OPEN, WON)
        for month, amount in deal.monthly.items()
        if data.fiscal_year.contains(month)
    ]
    return pd.DataFrame.from_records(records, columns=["outcome", "rank", "month", "amount"])


def _forecast(data: SummaryData) -> pd.DataFrame:
    """Return the expected and weighted sales of each month of the fiscal year, with totals.

    Expected sales add the monthly billing of open and won deals. Weighted sales count a won
    deal in full and an open deal at its rank's probability (0 when not ranked), each deal's
    month rounded half up to the currency's unit as the register rounds weighted sales.
    """
    currency = data.currency
    months = [str(month) for month in data.fiscal_year.months]
    monthly = _monthly_frame(data)

    probability = monthly["rank"].map(data.ranks).where(monthly["outcome"] == OPEN, Decimal(1))
    probability = probability.where(probability.notna(), Decimal(0))
    monthly["units"] = monthly["amount"].map(lambda amount: _to_minor_units(amount, currency))
    weighted = monthly["amount"] * probability
    monthly["weighted_units"] = weighted.map(lambda amount: _to_minor_units(amount, currency))

    by_outcome = _pivot(monthly, "month", "outcome", "units", months, [WON, OPEN])
    table = pd.DataFrame(
        {
            "Won sales": by_outcome[WON],
            "Open sales": by_outcome[OPEN],
            "Expected sales": by_outcome[WON] + by_outcome[OPEN],
            "Weighted sales": monthly.groupby("month")["weighted_units"].sum().reindex(months, fill_value=0),
        }
    ).astype("int64")
    table = _with_totals(table, total_column=False)
    return _money_from_minor_units(table, currency).rename_axis("Month")


def _expectation(data: SummaryData, deals: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Return the open deals by expectation rank × rep: count and fiscal-period sales."""
    open_deals = _open_deals(deals)
    ranks = [*data.ranks, NOT_RANKED]
    reps = _rep_order(data, open_deals["rep"])
    count = _pivot(open_deals, "rank", "rep", None, ranks, reps)
    sales = _pivot(open_deals, "rank", "rep", "fy_sales", ranks, reps)
    return {
        "expectation_count": _with_totals(count).rename_axis("Rank"),
        "expectation_sales": _money_from_minor_units(_with_totals(sales), data.currency).rename_axis("Rank"),
    }


def _freshness(data: SummaryData, deals: pd.DataFrame) -> pd.DataFrame:
    """Return, per rep, the open and overdue deals, the oldest update's age and reminders sent."""
    open_deals = _open_deals(deals)
    reps = _rep_order(data, open_deals["rep"])
    grouped = open_deals.groupby("rep").agg(
        open_deals=("deal_id", "size"),
        overdue_deals=("overdue", "sum"),
        oldest_update=("last_updated", "min"),
        reminders_sent=("reminders_sent", "sum"),
    )
    grouped = grouped.reindex(reps)
    age = (pd.Timestamp(data.now) - grouped["oldest_update"]).dt.days
    return pd.DataFrame(
        {
            "Open deals": grouped["open_deals"].fillna(0).astype("int64"),
            "Overdue deals": grouped["overdue_deals"].fillna(0).astype("int64"),
            "Days since oldest update": age.astype("Int64"),
            "Reminders sent": grouped["reminders_sent"].fillna(0).astype("int64"),
        }
    ).rename_axis("Rep")


def _overdue_deals(data: SummaryData, deals: pd.DataFrame) -> pd.DataFrame:
    """Return the overdue open deals, the longest overdue first."""
    overdue = _open_deals(deals)
    overdue = overdue[overdue["overdue"]]
    days = (pd.Timestamp(data.now) - overdue["deadline"]).dt.days
    table = pd.DataFrame(
        {
            "Deal ID": overdue["deal_id"],
            "Row": overdue["row"],
            "Customer": overdue["customer"],
            "Deal": overdue["title"],
            "Rep": overdue["rep"],
            "Update deadline": overdue["deadline"],
            "Days overdue": days.astype("Int64"),
            "Problems": overdue["problems"],
        }
    )
    return table.sort_values(["Days overdue", "Row"], ascending=[False, True]).reset_index(drop=True)


def _reasons(data: SummaryData, deals: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """Return the outcome reasons of ``outcome`` deals, the most frequent first, then by amount."""
    closed = deals[deals["outcome"] == outcome]
    reasons = closed["outcome_reason"].where(closed["outcome_reason"] != "", NO_REASON)
    grouped = closed.assign(reason=reasons).groupby("reason").agg(
        deals=("deal_id", "size"), fy_sales=("fy_sales", "sum")
    )
    grouped = grouped.reset_index().sort_values(["deals", "fy_sales", "reason"], ascending=[False, False, True])
    return pd.DataFrame(
        {
            "Outcome reason": grouped["reason"],
            "Deals": grouped["deals"].astype("int64"),
            "Fiscal-period sales": _money_from_minor_units(grouped["fy_sales"], data.currency),
        }
    ).reset_index(drop=True)


def _lost_competitors(data: SummaryData, deals: pd.DataFrame) -> pd.DataFrame:
    """Return each competitor named in lost deals with the number and amount of those deals.

    Names are split on commas, semicolons and line breaks, and grouped without regard to case,
    showing the first spelling met. A deal that names a competitor twice counts once.
    """
    lost = deals[deals["outcome"] == LOST]
    names = lost.assign(name=lost["competitors"].str.split(COMPETITOR_SEPARATORS, regex=True)).explode("name")
    names["name"] = names["name"].fillna("").str.strip()
    names = names[names["name"] != ""]
    names = names.assign(key=names["name"].str.casefold()).drop_duplicates(["deal_id", "key"])
    grouped = names.groupby("key", sort=False).agg(
        name=("name", "first"), deals=("deal_id", "size"), fy_sales=("fy_sales", "sum")
    )
    grouped = grouped.sort_values(["deals", "fy_sales", "name"], ascending=[False, False, True])
    return pd.DataFrame(
        {
            "Competitor": grouped["name"],
            "Lost deals": grouped["deals"].astype("int64"),
            "Fiscal-period sales": _money_from_minor_units(grouped["fy_sales"], data.currency),
        }
    ).reset_index(drop=True)


def _win_rate(data: SummaryData, deals: pd.DataFrame) -> pd.DataFrame:
    """Return the won and lost deals of each rep and the win rate won ÷ (won + lost)."""
    closed = deals[deals["outcome"].isin([WON, LOST])]
    reps = _rep_order(data, closed["rep"])
    counts = _pivot(closed, "rep", "outcome", None, reps, [WON, LOST])
    counts["won_sales"] = _pivot(closed, "rep", "outcome", "fy_sales", reps, [WON])[WON]
    counts = _with_totals(counts, total_column=False)
    closed_count = counts[WON] + counts[LOST]
    return pd.DataFrame(
        {
            "Won": counts[WON],
            "Lost": counts[LOST],
            "Win rate": (counts[WON] / closed_count.where(closed_count > 0)).astype("float64"),
            "Won sales": _money_from_minor_units(counts["won_sales"], data.currency),
        }
    ).rename_axis("Rep")


def _deal_list(data: SummaryData, deals: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """Return ``deals`` in register row order with ``columns`` (field → header) as a list table."""
    deals = deals.sort_values("row")
    table = pd.DataFrame({header: deals[field] for field, header in columns.items()})
    if "fy_sales" in columns:
        header = columns["fy_sales"]
        table[header] = _money_from_minor_units(deals["fy_sales"], data.currency)
    return table.reset_index(drop=True)


def _awaiting_rank(data: SummaryData, deals: pd.DataFrame) -> pd.DataFrame:
    """Return the open deals that the manager has not ranked with a configured rank."""
    open_deals = _open_deals(deals)
    unranked = open_deals[open_deals["rank"] == NOT_RANKED]
    columns = {
        "deal_id": "Deal ID",
        "row": "Row",
        "customer": "Customer",
        "title": "Deal",
        "rep": "Rep",
        "stage": "Stage",
        "expected_close": "Expected close",
        "fy_sales": "Fiscal-period sales",
    }
    return _deal_list(data, unranked, columns)


def _awaiting_review(data: SummaryData, deals: pd.DataFrame) -> pd.DataFrame:
    """Return the won and lost deals without a "Reviewed on" date."""
    closed = deals[deals["outcome"].isin([WON, LOST])]
    unreviewed = closed[closed["reviewed_on"].isna()]
    columns = {
        "deal_id": "Deal ID",
        "row": "Row",
        "customer": "Customer",
        "title": "Deal",
        "rep": "Rep",
        "outcome": "Outcome",
        "outcome_reason": "Outcome reason",
        "fy_sales": "Fiscal-period sales",
    }
    return _deal_list(data, unreviewed, columns)


def _completeness(data: SummaryData, deals: pd.DataFrame) -> pd.DataFrame:
    """Return, per rep, the open deals, how many miss each information field, and the complete ones."""
    open_deals = _open_deals(deals)
    reps = _rep_order(data, open_deals["rep"])
    missing = open_deals[["deal_id", "rep", "missing_info"]].explode("missing_info").dropna(subset=["missing_info"])
    by_field = _pivot(missing, "rep", "missing_info", None, reps, list(data.information_headers))

    open_count = open_deals.groupby("rep").size().reindex(reps, fill_value=0)
    complete = open_deals[open_deals["missing_info"].map(len) == 0].groupby("rep").size()
    table = pd.concat(
        [
            open_count.rename("Open deals"),
            by_field,
            complete.reindex(reps, fill_value=0).rename("Complete deals"),
        ],
        axis=1,
    ).astype("int64")
    return _with_totals(table, total_column=False).rename_axis("Rep")


def _recent_changes(data: SummaryData, deals: pd.DataFrame) -> pd.DataFrame:
    """Return the field changes of the last ``RECENT_CHANGE_DAYS`` days, newest first."""
    records = [(entry.changed_at, entry.deal_id, entry.header, entry.old, entry.new) for entry in data.history]
    changes = pd.DataFrame.from_records(records, columns=["changed_at", "deal_id", "header", "old", "new"])
    changes["changed_at"] = _local_times(changes["changed_at"], data.now)
    since = pd.Timestamp(data.now - timedelta(days=RECENT_CHANGE_DAYS))
    changes = changes[changes["changed_at"].between(since, pd.Timestamp(data.now))]
    names = deals[["deal_id", "customer", "title", "rep"]].drop_duplicates("deal_id")
    changes = changes.merge(names, on="deal_id", how="left").fillna({"customer": "", "title": "", "rep": ""})
    changes = changes.sort_values("changed_at", ascending=False, kind="stable")
    return pd.DataFrame(
        {
            "Changed at": changes["changed_at"],
            "Deal ID": changes["deal_id"],
            "Customer": changes["customer"],
            "Deal": changes["title"],
            "Rep": changes["rep"],
            "Column": changes["header"],
            "Old value": changes["old"],
            "New value": changes["new"],
        }
    ).reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# Workbook


def write_summary(data: SummaryData, path: Path) -> None:
    """Write the summary workbook to ``path``, replacing any earlier one atomically.

    The workbook is built in a temporary file in the same folder, which then replaces ``path``
    with ``os.replace``. On any error the temporary file is removed and ``path`` stays as it
    was. Raises ``WorkbookBusy`` when ``path`` cannot be replaced (on Windows, while it is
    open in Excel) and ``SalesregError`` when the folder is missing or not writable.
    """
    path = Path(path)
    tables = summary_tables(data)
    try:
        handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".xlsx.tmp")
    except OSError as error:
        raise SalesregError(
            f'Failed to create a temporary file beside the summary "{path}": {error.strerror}. '
            "Check that the folder exists and is writable, or change [summary] path."
        ) from error
    os.close(handle)
    temp = Path(temp_name)
    try:
        _write_workbook(data, tables, temp)
        # mkstemp creates the file with mode 0600, but the managers who share the folder must read it.
        os.chmod(temp, _file_mode(path))
        try:
            os.replace(temp, path)
        except PermissionError as error:
            raise WorkbookBusy(
                f'Failed to replace the summary "{path}": {error.strerror}. '
                "Close it if it is open in Excel, then run the summary again."
            ) from error
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _file_mode(path: Path) -> int:
    """Return the permission bits of ``path``, or those of a new file when it does not exist."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        # os.umask can only be read by setting it, so the old value is restored at once.
        umask = os.umask(0o022)
        os.umask(umask)
        return 0o666 & ~umask


@dataclass(frozen=True)
class _Placement:
    """Position of one table on its sheet, in zero-based rows and columns."""

    sheet: str
    header_row: int
    first_row: int  # first data row
    last_row: int  # last data row without the Total row, or first_row - 1 when the table is empty
    first_col: int
    headers: tuple[str, ...]

    @property
    def has_rows(self) -> bool:
        return self.last_row >= self.first_row

    def col(self, header: str) -> int:
        return self.first_col + self.headers.index(header)

    def cells(self, header: str) -> list[Any]:
        """Return the data cells of column ``header`` as an XlsxWriter range list."""
        col = self.col(header)
        return [self.sheet, self.first_row, col, self.last_row, col]

    def header_cell(self, header: str) -> list[Any]:
        return [self.sheet, self.header_row, self.col(header)]


class _Formats:
    """The cell formats of one workbook, made once and shared by every sheet."""

    def __init__(self, book: Workbook, currency: str) -> None:
        self._book = book
        self.currency = currency
        self._number_formats = {
            "money": excel_number_format(currency),
            "count": "#,##0",
            "ratio": "0.0%",
            "date": "yyyy-mm-dd",
            "datetime": "yyyy-mm-dd hh:mm",
            "text": "@",
        }
        self._cache: dict[tuple[str, bool], Format] = {}
        self.heading = book.add_format({"bold": True, "font_size": 14})
        self.title = book.add_format({"bold": True, "font_size": 11})
        self.header = book.add_format({"bold": True, "bottom": 1})
        self.note = book.add_format({"italic": True, "font_color": "#595959"})
        self.money_format = self._number_formats["money"]

    def cell(self, kind: str, bold: bool = False) -> Format:
        key = (kind, bold)
        if key not in self._cache:
            properties: dict[str, Any] = {"num_format": self._number_formats[kind], "valign": "top"}
            if bold:
                properties["bold"] = True
                properties["top"] = 1
            self._cache[key] = self._book.add_format(properties)
        return self._cache[key]


def _is_blank(value: Any) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def _cell_kind(value: Any) -> str:
    """Return the cell kind of a table value, chosen by its Python type as ``summary_tables`` describes."""
    if isinstance(value, str):
        return "text"
    if isinstance(value, Decimal):
        return "money"
    if isinstance(value, datetime):
        return "datetime"
    if isinstance(value, date):
        return "date"
    if isinstance(value, numbers.Integral):
        return "count"
    if isinstance(value, numbers.Real):
        return "ratio"
    return "text"


def _display_width(value: Any, kind: str) -> int:
    """Estimate the characters that ``value`` takes on screen, for the column width."""
    if kind == "text":
        return max((len(line) for line in str(value).splitlines()), default=0)
    if kind == "money":
        return len(f"{value:,}") + 3
    if kind == "count":
        return len(f"{int(value):,}")
    return {"datetime": 16, "date": 10, "ratio": 6}[kind]


class _SheetWriter:
    """One summary sheet: a heading, then tables side by side under one frozen header row.

    Row 0 is the heading, row 1 the "as of" time, row 2 the table titles and row 3 the header
    of every table, so freezing rows 0-3 keeps each table's header in view.
    """

    TITLE_ROW = 2
    HEADER_ROW = 3
    MIN_WIDTH = 6
    MAX_WIDTH = 60

    def __init__(self, book: Workbook, formats: _Formats, name: str, heading: str, now: datetime) -> None:
        self.book = book
        self.formats = formats
        self.name = name
        self.sheet: Worksheet = book.add_worksheet(name)
        self.next_col = 0
        self.bottom_row = self.HEADER_ROW  # the last row that a table uses
        self._widths: dict[int, int] = {}
        self.sheet.write_string(0, 0, heading, formats.heading)
        self.sheet.write_string(1, 0, "As of", formats.title)
        self.sheet.write_datetime(1, 1, now.replace(tzinfo=None), formats.cell("datetime"))
        self.sheet.write_string(1, 2, str(now.tzinfo or ""))
        self._widen(1, 16)
        self.sheet.freeze_panes(self.HEADER_ROW + 1, 0)
        self.sheet.set_landscape()
        self.sheet.fit_to_pages(1, 0)

    def table(self, name: str, title: str, frame: pd.DataFrame) -> _Placement:
        """Write ``frame`` as an Excel table with a filter, right of the tables already written.

        A pivot's "Total" row goes just below the table, outside its range, so that sorting
        or filtering the table never moves it.
        """
        frame, total = self._split_total(frame)
        headers = _unique_headers(str(header) for header in frame.columns)
        first_col = self.next_col
        last_col = first_col + len(headers) - 1
        first_row = self.HEADER_ROW + 1
        last_row = first_row + len(frame) - 1

        self.sheet.write_string(self.TITLE_ROW, first_col, title, self.formats.title)
        if len(frame):
            self.sheet.add_table(
                self.HEADER_ROW,
                first_col,
                last_row,
                last_col,
                {
                    "name": name,
                    "columns": [{"header": header} for header in headers],
                    "style": "Table Style Light 9",
                    "autofilter": True,
                },
            )
        else:
            # Excel tables need at least one data row, so an empty table is a header and a note.
            for offset, header in enumerate(headers):
                self.sheet.write_string(self.HEADER_ROW, first_col + offset, header, self.formats.header)
            self.sheet.write_string(first_row, first_col, "(none)", self.formats.note)
        for offset, header in enumerate(headers):
            self._widen(first_col + offset, len(header) + 3)

        for row_offset, values in enumerate(frame.itertuples(index=False, name=None)):
            self._write_row(first_row + row_offset, first_col, values, bold=False)
        bottom_row = max(last_row, first_row)  # an empty table still has its "(none)" row
        if total is not None:
            bottom_row += 1
            self._write_row(bottom_row, first_col, total, bold=True)

        self.next_col = last_col + 2
        self.bottom_row = max(self.bottom_row, bottom_row)
        return _Placement(self.name, self.HEADER_ROW, first_row, last_row, first_col, tuple(headers))

    def insert_chart(self, chart: Chart | None, below: bool) -> None:
        """Insert ``chart`` below every table, or right of them when ``below`` is false."""
        if chart is None:
            return
        if below:
            self.sheet.insert_chart(self.bottom_row + 2, 0, chart)
        else:
            self.sheet.insert_chart(self.TITLE_ROW, self.next_col, chart)

    def finish(self) -> None:
        for col, width in self._widths.items():
            self.sheet.set_column(col, col, min(max(width, self.MIN_WIDTH), self.MAX_WIDTH) + 1)

    def _split_total(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, tuple[Any, ...] | None]:
        """Turn the index into the first column and separate the Total row, if any."""
        if frame.index.name is None:
            return frame, None
        flat = frame.reset_index()
        if len(frame) and frame.index[-1] == TOTAL:
            total = tuple(flat.iloc[-1])
            return flat.iloc[:-1], total
        return flat, None

    def _write_row(self, row: int, first_col: int, values: Iterable[Any], bold: bool) -> None:
        for offset, value in enumerate(values):
            col = first_col + offset
            if _is_blank(value):
                self.sheet.write_blank(row, col, None, self.formats.cell("count", bold))
                continue
            kind = _cell_kind(value)
            cell_format = self.formats.cell(kind, bold)
            self._widen(col, _display_width(value, kind))
            self._write_value(row, col, value, kind, cell_format)

    def _write_value(self, row: int, col: int, value: Any, kind: str, cell_format: Format) -> None:
        if kind == "text":
            # write_string stores register text as text, so "=1+1" never becomes a formula.
            self.sheet.write_string(row, col, str(value), cell_format)
        elif kind == "money":
            self.sheet.write_number(row, col, to_cell(value, self.formats.currency), cell_format)
        elif kind == "datetime":
            self.sheet.write_datetime(row, col, value.replace(tzinfo=None), cell_format)
        elif kind == "date":
            self.sheet.write_datetime(row, col, value, cell_format)
        else:
            self.sheet.write_number(row, col, value, cell_format)

    def _widen(self, col: int, width: int) -> None:
        self._widths[col] = max(self._widths.get(col, 0), width)


def _unique_headers(headers: Iterable[str]) -> list[str]:
    """Return ``headers`` with case-insensitive repeats numbered, as Excel tables require."""
    seen: set[str] = set()
    unique = []
    for header in headers:
        candidate = header
        number = 2
        while candidate.casefold() in seen:
            candidate = f"{header} ({number})"
            number += 1
        seen.add(candidate.casefold())
        unique.append(candidate)
    return unique


def _column_chart(
    writer: _SheetWriter,
    placement: _Placement,
    category: str,
    series: Iterable[str],
    title: str,
    stacked: bool = False,
    money: bool = True,
) -> Chart | None:
    """Return a column chart of the ``series`` columns over ``category``, or None without data."""
    series = list(series)
    if not placement.has_rows or not series:
        return None
    chart = writer.book.add_chart({"type": "column", "subtype": "stacked" if stacked else "clustered"})
    assert chart is not None
    for header in series:
        chart.add_series(
            {
                "name": placement.header_cell(header),
                "categories": placement.cells(category),
                "values": placement.cells(header),
            }
        )
    chart.set_title({"name": title})
    chart.set_legend({"position": "bottom"})
    if money:
        chart.set_y_axis({"num_format": writer.formats.money_format})
    chart.set_size({"width": 720, "height": 360})
    return chart


def _pivot_series(placement: _Placement) -> list[str]:
    """Return the value columns of a pivot: every header but the first (labels) and the last (Total)."""
    return list(placement.headers[1:-1])


def _layout_overview(writer: _SheetWriter, tables: dict[str, pd.DataFrame]) -> None:
    writer.table("overview", "Key figures", tables["overview"])
    by_stage = writer.table("pipeline_by_stage", "Open pipeline by stage", tables["pipeline_by_stage"])
    series = ["Fiscal-period sales", "Weighted sales"]
    chart = _column_chart(writer, by_stage, "Stage", series, "Open pipeline by stage")
    writer.insert_chart(chart, below=False)


def _layout_pipeline(writer: _SheetWriter, tables: dict[str, pd.DataFrame]) -> None:
    writer.table("pipeline_count", "Open deals (count)", tables["pipeline_count"])
    sales = writer.table("pipeline_sales", "Fiscal-period sales", tables["pipeline_sales"])
    writer.table("pipeline_weighted", "Weighted sales", tables["pipeline_weighted"])
    title = "Fiscal-period sales of open deals by rep and stage"
    writer.insert_chart(_column_chart(writer, sales, "Rep", _pivot_series(sales), title, stacked=True), below=True)


def _layout_forecast(writer: _SheetWriter, tables: dict[str, pd.DataFrame]) -> None:
    forecast = writer.table("forecast", "Expected sales by month (open and won deals)", tables["forecast"])
    series = ["Won sales", "Open sales"]
    chart = _column_chart(writer, forecast, "Month", series, "Sales forecast by month", stacked=True)
    if chart is not None:
        line = writer.book.add_chart({"type": "line"})
        assert line is not None
        line.add_series(
            {
                "name": forecast.header_cell("Weighted sales"),
                "categories": forecast.cells("Month"),
                "values": forecast.cells("Weighted sales"),
                "marker": {"type": "circle"},
            }
        )
        chart.combine(line)
    writer.insert_chart(chart, below=False)


def _layout_expectation(writer: _SheetWriter, tables: dict[str, pd.DataFrame]) -> None:
    writer.table("expectation_count", "Open deals (count)", tables["expectation_count"])
    sales = writer.table("expectation_sales", "Fiscal-period sales", tables["expectation_sales"])
    title = "Fiscal-period sales of open deals by expectation rank"
    writer.insert_chart(_column_chart(writer, sales, "Rank", _pivot_series(sales), title, stacked=True), below=True)


def _layout_overdue(writer: _SheetWriter, tables: dict[str, pd.DataFrame]) -> None:
    freshness = writer.table("freshness", "Open deals by rep", tables["freshness"])
    writer.table("overdue_deals", "Overdue deals", tables["overdue_deals"])
    series = ["Open deals", "Overdue deals"]
    chart = _column_chart(writer, freshness, "Rep", series, "Open and overdue deals by rep", money=False)
    writer.insert_chart(chart, below=False)


def _layout_won_lost(writer: _SheetWriter, tables: dict[str, pd.DataFrame]) -> None:
    writer.table("won_reasons", "Reasons for won deals", tables["won_reasons"])
    writer.table("lost_reasons", "Reasons for lost deals", tables["lost_reasons"])
    writer.table("lost_competitors", "Competitors named in lost deals", tables["lost_competitors"])
    win_rate = writer.table("win_rate", "Win rate by rep (won ÷ closed deals)", tables["win_rate"])
    chart = _column_chart(writer, win_rate, "Rep", ["Won", "Lost"], "Won and lost deals by rep", money=False)
    writer.insert_chart(chart, below=False)


def _layout_awaiting_manager(writer: _SheetWriter, tables: dict[str, pd.DataFrame]) -> None:
    writer.table("awaiting_rank", "Open deals without an expectation rank", tables["awaiting_rank"])
    writer.table("awaiting_review", "Won and lost deals not yet reviewed", tables["awaiting_review"])


def _layout_completeness(writer: _SheetWriter, tables: dict[str, pd.DataFrame]) -> None:
    writer.table("completeness", "Open deals with each information field empty", tables["completeness"])


def _layout_changes(writer: _SheetWriter, tables: dict[str, pd.DataFrame]) -> None:
    writer.table("recent_changes", "Changes to deals, newest first", tables["recent_changes"])


SheetLayout = Callable[[_SheetWriter, dict[str, pd.DataFrame]], None]

# Sheet name, heading ({fy} is the fiscal year's name) and the function that fills the sheet.
SHEETS: tuple[tuple[str, str, SheetLayout], ...] = (
    ("Overview", "Sales summary {fy}", _layout_overview),
    ("Pipeline", "Open pipeline by rep and stage, {fy}", _layout_pipeline),
    ("Forecast", "Sales forecast by month, {fy}", _layout_forecast),
    ("Expectation", "Open deals by expectation rank, {fy}", _layout_expectation),
    ("Overdue", "Overdue and stale open deals", _layout_overdue),
    ("Won-Lost", "Won and lost deals", _layout_won_lost),
    ("Awaiting manager", "Deals awaiting the manager", _layout_awaiting_manager),
    ("Completeness", "Information fields still empty in open deals", _layout_completeness),
    ("Changes", f"Changes in the last {RECENT_CHANGE_DAYS} days", _layout_changes),
)


def _write_workbook(data: SummaryData, tables: dict[str, pd.DataFrame], path: Path) -> None:
    """Write every sheet of the summary to ``path`` with XlsxWriter."""
    # Text goes through write_string. These options also keep any other write() call from
    # turning text into a formula, a number or a link.
    options = {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False, "in_memory": True}
    book = xlsxwriter.Workbook(str(path), options)
    book.set_properties({"title": f"Sales summary {data.fiscal_year.name}"})
    formats = _Formats(book, data.currency)
    for name, heading, layout in SHEETS:
        writer = _SheetWriter(book, formats, name, heading.format(fy=data.fiscal_year.name), data.now)
        layout(writer, tables)
        writer.finish()
    book.close()
