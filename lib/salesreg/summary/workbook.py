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
from ..i18n import N_, _, ngettext
from ..summary_data import SummaryData, fiscal_year_label
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
        message = _(
            'Failed to create a temporary file beside the summary "{path}": {reason}. '
            "Check that the folder exists and is writable, or change [summary] path."
        )
        raise SalesregError(message.format(path=path, reason=error.strerror)) from error
    os.close(handle)
    temp = Path(temp_name)
    try:
        _write_workbook(data, tables, temp)
        # mkstemp creates the file with mode 0600, but the managers who share the folder must read it.
        os.chmod(temp, _file_mode(path))
        try:
            os.replace(temp, path)
        except PermissionError as error:
            message = _(
                'Failed to replace the summary "{path}": {reason}. '
                "Close it if it is open in Excel, then run the summary again."
            )
            raise WorkbookBusy(message.format(path=path, reason=error.strerror)) from error
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
    writer.table("overview", _("Key figures"), tables["overview"])
    by_stage = writer.table("pipeline_by_stage", _("Open pipeline by stage"), tables["pipeline_by_stage"])
    series = [_("Fiscal-period sales"), _("Weighted sales")]
    chart = column_chart(writer, by_stage, _("Stage"), series, _("Open pipeline by stage"))
    writer.insert_chart(chart)


def _layout_pipeline(writer: SheetWriter, tables: dict[str, pd.DataFrame]) -> None:
    writer.table("pipeline_count", _("Open deals (count)"), tables["pipeline_count"])
    sales = writer.table("pipeline_sales", _("Fiscal-period sales"), tables["pipeline_sales"])
    writer.table("pipeline_weighted", _("Weighted sales"), tables["pipeline_weighted"])
    title = _("Fiscal-period sales of open deals by rep and stage")
    writer.insert_chart(column_chart(writer, sales, _("Rep"), pivot_series(sales), title, stacked=True))


def _layout_offices(writer: SheetWriter, tables: dict[str, pd.DataFrame]) -> None:
    offices = writer.table("offices", _("Open pipeline and won deals by office"), tables["offices"])
    won_sales = offices.headers[-1]  # "Won in FY2026"
    series = [_("Fiscal-period sales"), _("Weighted sales"), won_sales]
    writer.insert_chart(column_chart(writer, offices, _("Office"), series, _("Sales by office")))


def _layout_forecast(writer: SheetWriter, tables: dict[str, pd.DataFrame]) -> None:
    forecast = writer.table("forecast", _("Expected sales by month (open and won deals)"), tables["forecast"])
    writer.insert_chart(forecast_chart(writer, forecast))


def _layout_expectation(writer: SheetWriter, tables: dict[str, pd.DataFrame]) -> None:
    writer.table("expectation_count", _("Open deals (count)"), tables["expectation_count"])
    sales = writer.table("expectation_sales", _("Fiscal-period sales"), tables["expectation_sales"])
    title = _("Fiscal-period sales of open deals by expectation rank")
    writer.insert_chart(column_chart(writer, sales, _("Rank"), pivot_series(sales), title, stacked=True))


def _layout_freshness(writer: SheetWriter, tables: dict[str, pd.DataFrame]) -> None:
    freshness = writer.table("freshness", _("Open deals by rep"), tables["freshness"])
    writer.table("overdue_deals", _("Overdue deals"), tables["overdue_deals"])
    series = [_("Open deals"), _("Overdue deals")]
    chart = column_chart(writer, freshness, _("Rep"), series, _("Open and overdue deals by rep"), money=False)
    writer.insert_chart(chart)


def _layout_won_lost(writer: SheetWriter, tables: dict[str, pd.DataFrame]) -> None:
    writer.table("won_reasons", _("Reasons for won deals"), tables["won_reasons"])
    writer.table("lost_reasons", _("Reasons for lost deals"), tables["lost_reasons"])
    writer.table("lost_competitors", _("Competitors named in lost deals"), tables["lost_competitors"])
    win_rate = writer.table("win_rate", _("Win rate by rep (won ÷ closed deals)"), tables["win_rate"])
    series = [_("Won"), _("Lost")]
    chart = column_chart(writer, win_rate, _("Rep"), series, _("Won and lost deals by rep"), money=False)
    writer.insert_chart(chart)


def _layout_awaiting_manager(writer: SheetWriter, tables: dict[str, pd.DataFrame]) -> None:
    writer.table("awaiting_rank", _("Open deals without an expectation rank"), tables["awaiting_rank"])
    writer.table("awaiting_review", _("Won and lost deals not yet reviewed"), tables["awaiting_review"])


def _layout_completeness(writer: SheetWriter, tables: dict[str, pd.DataFrame]) -> None:
    writer.table("completeness", _("Open deals with each information field empty"), tables["completeness"])
    title = _("Information fields of each open deal")
    by_deal = writer.table("completeness_by_deal", title, tables["completeness_by_deal"])
    writer.highlight(by_deal, _(MISSING))


def _layout_changes(writer: SheetWriter, tables: dict[str, pd.DataFrame]) -> None:
    writer.table("recent_changes", _("Changes to deals, newest first"), tables["recent_changes"])


SheetLayout = Callable[[SheetWriter, dict[str, pd.DataFrame]], None]

# Sheet name, heading and the function that fills the sheet, in English and translated with _()
# when the workbook is written. In the heading, {fy} is the fiscal year's name and {days} the
# period of history on the Recent changes sheet, such as "7 days". A translated sheet name must
# stay a valid Excel sheet name: at most 31 characters, none of []:*?/\ (tests/test_summary_ja.py).
SHEETS: tuple[tuple[str, str, SheetLayout], ...] = (
    (N_("Overview"), N_("Sales summary {fy}"), _layout_overview),
    (N_("Pipeline"), N_("Open pipeline by rep and stage, {fy}"), _layout_pipeline),
    (N_("By office"), N_("Open pipeline and won deals by office, {fy}"), _layout_offices),
    (N_("Forecast"), N_("Sales forecast by month, {fy}"), _layout_forecast),
    (N_("Expectation"), N_("Open deals by expectation rank, {fy}"), _layout_expectation),
    (N_("Freshness"), N_("Overdue and stale open deals"), _layout_freshness),
    (N_("Won-Lost"), N_("Won and lost deals closed in {fy}"), _layout_won_lost),
    (N_("Awaiting manager"), N_("Deals awaiting the manager"), _layout_awaiting_manager),
    (N_("Completeness"), N_("Information fields of open deals"), _layout_completeness),
    (N_("Recent changes"), N_("Changes in the last {days}"), _layout_changes),
)

# The sheets that need a table only some summaries have: English sheet name -> table name.
OPTIONAL_SHEETS = {"By office": "offices"}


def _included(name: str, tables: dict[str, pd.DataFrame]) -> bool:
    return name not in OPTIONAL_SHEETS or OPTIONAL_SHEETS[name] in tables


def sheet_names(tables: dict[str, pd.DataFrame]) -> list[str]:
    """Return the names of the sheets that ``tables`` fill, in workbook order and the current locale."""
    return [_(name) for name, _heading, _layout in SHEETS if _included(name, tables)]


def _write_workbook(data: SummaryData, tables: dict[str, pd.DataFrame], path: Path) -> None:
    """Write every sheet of the summary to ``path`` with XlsxWriter, its texts in the current locale."""
    # Text goes through write_string. These options also keep any other write() call from
    # turning text into a formula, a number or a link.
    options = {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False, "in_memory": True}
    book = xlsxwriter.Workbook(str(path), options)
    year = fiscal_year_label(data.fiscal_year)
    book.set_properties({"title": _("Sales summary {fy}").format(fy=year)})
    formats = Formats(book, data.currency)
    days = ngettext("{count} day", "{count} days", data.history_days).format(count=data.history_days)
    for name, heading, layout in SHEETS:
        if not _included(name, tables):
            continue
        writer = SheetWriter(book, formats, _(name), _(heading).format(fy=year, days=days), data.now)
        layout(writer, tables)
        writer.finish()
    book.close()
