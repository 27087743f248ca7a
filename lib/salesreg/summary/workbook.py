"""Lay the summary tables out as sheets with XlsxWriter and replace the summary file atomically."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import xlsxwriter

from ..errors import SalesregError, WorkbookBusy
from ..summary_data import SummaryData
from .charts import column_chart, forecast_chart, pivot_series
from .hygiene import MISSING
from .sheet import Formats, SheetWriter
from .tables import summary_tables


def write_summary(data: SummaryData, path: Path, tables: dict[str, pd.DataFrame] | None = None) -> None:
    """Write the summary workbook to ``path``, replacing any earlier one atomically.

    ``tables`` are the tables of ``summary_tables(data)``, computed here when not given. The
    workbook is built in a temporary file in the same folder, which then replaces ``path``
    with ``os.replace``. On any error the temporary file is removed and ``path`` stays as it
    was. Raises ``WorkbookBusy`` when ``path`` cannot be replaced (on Windows, while it is
    open in Excel) and ``SalesregError`` when the folder is missing or not writable.
    """
    path = Path(path)
    if tables is None:
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


def _layout_overview(writer: SheetWriter, tables: dict[str, pd.DataFrame]) -> None:
    writer.table("overview", "Key figures", tables["overview"])
    by_stage = writer.table("pipeline_by_stage", "Open pipeline by stage", tables["pipeline_by_stage"])
    series = ["Fiscal-period sales", "Weighted sales"]
    chart = column_chart(writer, by_stage, "Stage", series, "Open pipeline by stage")
    writer.insert_chart(chart)


def _layout_pipeline(writer: SheetWriter, tables: dict[str, pd.DataFrame]) -> None:
    writer.table("pipeline_count", "Open deals (count)", tables["pipeline_count"])
    sales = writer.table("pipeline_sales", "Fiscal-period sales", tables["pipeline_sales"])
    writer.table("pipeline_weighted", "Weighted sales", tables["pipeline_weighted"])
    title = "Fiscal-period sales of open deals by rep and stage"
    writer.insert_chart(column_chart(writer, sales, "Rep", pivot_series(sales), title, stacked=True))


def _layout_offices(writer: SheetWriter, tables: dict[str, pd.DataFrame]) -> None:
    offices = writer.table("offices", "Open pipeline and won deals by office", tables["offices"])
    won_sales = offices.headers[-1]  # "Won in FY2026"
    series = ["Fiscal-period sales", "Weighted sales", won_sales]
    writer.insert_chart(column_chart(writer, offices, "Office", series, "Sales by office"))


def _layout_forecast(writer: SheetWriter, tables: dict[str, pd.DataFrame]) -> None:
    forecast = writer.table("forecast", "Expected sales by month (open and won deals)", tables["forecast"])
    writer.insert_chart(forecast_chart(writer, forecast))


def _layout_expectation(writer: SheetWriter, tables: dict[str, pd.DataFrame]) -> None:
    writer.table("expectation_count", "Open deals (count)", tables["expectation_count"])
    sales = writer.table("expectation_sales", "Fiscal-period sales", tables["expectation_sales"])
    title = "Fiscal-period sales of open deals by expectation rank"
    writer.insert_chart(column_chart(writer, sales, "Rank", pivot_series(sales), title, stacked=True))


def _layout_freshness(writer: SheetWriter, tables: dict[str, pd.DataFrame]) -> None:
    freshness = writer.table("freshness", "Open deals by rep", tables["freshness"])
    writer.table("overdue_deals", "Overdue deals", tables["overdue_deals"])
    series = ["Open deals", "Overdue deals"]
    chart = column_chart(writer, freshness, "Rep", series, "Open and overdue deals by rep", money=False)
    writer.insert_chart(chart)


def _layout_won_lost(writer: SheetWriter, tables: dict[str, pd.DataFrame]) -> None:
    writer.table("won_reasons", "Reasons for won deals", tables["won_reasons"])
    writer.table("lost_reasons", "Reasons for lost deals", tables["lost_reasons"])
    writer.table("lost_competitors", "Competitors named in lost deals", tables["lost_competitors"])
    win_rate = writer.table("win_rate", "Win rate by rep (won ÷ closed deals)", tables["win_rate"])
    chart = column_chart(writer, win_rate, "Rep", ["Won", "Lost"], "Won and lost deals by rep", money=False)
    writer.insert_chart(chart)


def _layout_awaiting_manager(writer: SheetWriter, tables: dict[str, pd.DataFrame]) -> None:
    writer.table("awaiting_rank", "Open deals without an expectation rank", tables["awaiting_rank"])
    writer.table("awaiting_review", "Won and lost deals not yet reviewed", tables["awaiting_review"])


def _layout_completeness(writer: SheetWriter, tables: dict[str, pd.DataFrame]) -> None:
    writer.table("completeness", "Open deals with each information field empty", tables["completeness"])
    by_deal = writer.table("completeness_by_deal", "Information fields of each open deal", tables["completeness_by_deal"])
    writer.highlight(by_deal, MISSING)


def _layout_changes(writer: SheetWriter, tables: dict[str, pd.DataFrame]) -> None:
    writer.table("recent_changes", "Changes to deals, newest first", tables["recent_changes"])


SheetLayout = Callable[[SheetWriter, dict[str, pd.DataFrame]], None]

# Sheet name, heading and the function that fills the sheet. In the heading, {fy} is the fiscal
# year's name and {days} the period of history on the Recent changes sheet, such as "7 days".
SHEETS: tuple[tuple[str, str, SheetLayout], ...] = (
    ("Overview", "Sales summary {fy}", _layout_overview),
    ("Pipeline", "Open pipeline by rep and stage, {fy}", _layout_pipeline),
    ("By office", "Open pipeline and won deals by office, {fy}", _layout_offices),
    ("Forecast", "Sales forecast by month, {fy}", _layout_forecast),
    ("Expectation", "Open deals by expectation rank, {fy}", _layout_expectation),
    ("Freshness", "Overdue and stale open deals", _layout_freshness),
    ("Won-Lost", "Won and lost deals closed in {fy}", _layout_won_lost),
    ("Awaiting manager", "Deals awaiting the manager", _layout_awaiting_manager),
    ("Completeness", "Information fields of open deals", _layout_completeness),
    ("Recent changes", "Changes in the last {days}", _layout_changes),
)

# The sheets that need a table only some summaries have: sheet name -> table name.
OPTIONAL_SHEETS = {"By office": "offices"}


def sheet_names(tables: dict[str, pd.DataFrame]) -> list[str]:
    """Return the names of the sheets that ``tables`` fill, in workbook order."""
    return [name for name, _, _ in SHEETS if name not in OPTIONAL_SHEETS or OPTIONAL_SHEETS[name] in tables]


def _write_workbook(data: SummaryData, tables: dict[str, pd.DataFrame], path: Path) -> None:
    """Write every sheet of the summary to ``path`` with XlsxWriter."""
    # Text goes through write_string. These options also keep any other write() call from
    # turning text into a formula, a number or a link.
    options = {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False, "in_memory": True}
    book = xlsxwriter.Workbook(str(path), options)
    book.set_properties({"title": f"Sales summary {data.fiscal_year.name}"})
    formats = Formats(book, data.currency)
    names = sheet_names(tables)
    days = f"{data.history_days} day" if data.history_days == 1 else f"{data.history_days} days"
    for name, heading, layout in SHEETS:
        if name not in names:
            continue
        writer = SheetWriter(book, formats, name, heading.format(fy=data.fiscal_year.name, days=days), data.now)
        layout(writer, tables)
        writer.finish()
    book.close()
