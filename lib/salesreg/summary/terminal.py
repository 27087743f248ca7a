"""The key tables of the summary as plain text, for ``salesreg summary --print``."""

from __future__ import annotations

import math
import numbers
import unicodedata
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pandas as pd

from ..i18n import _, format_date, format_datetime
from ..money import format_money
from ..summary_data import SummaryData, fiscal_year_label
from .frame import TOTAL

BLANK = "-"
COLUMN_GAP = "  "


def format_value(value: Any, currency: str) -> str:
    """Return a table cell as text: money in ``currency``, ratios as percentages, dates and times in the locale's form."""
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return BLANK
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, Decimal):
        return format_money(value, currency)
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return format_date(value)
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}"
    if isinstance(value, numbers.Real):
        return f"{float(value):.1%}"
    return str(value)


def format_table(frame: pd.DataFrame, currency: str) -> str:
    """Return ``frame`` as aligned text: text columns left, numbers right, a rule above the Total row.

    Widths count East Asian wide characters as two columns, as terminals show them.
    """
    if frame.index.name is not None:
        frame = frame.reset_index()
    if frame.empty:
        return _("(none)")
    headers = [str(header) for header in frame.columns]
    rows = [[format_value(value, currency) for value in values] for values in frame.itertuples(index=False, name=None)]
    left = [all(isinstance(value, str) for value in frame[column]) for column in frame.columns]
    widths = [max(_display_width(text) for text in [header, *(row[i] for row in rows)]) for i, header in enumerate(headers)]

    def line(cells: list[str]) -> str:
        return COLUMN_GAP.join(_pad(text, widths[i], left[i]) for i, text in enumerate(cells)).rstrip()

    lines = [line(headers)]
    for number, row in enumerate(rows):
        if number == len(rows) - 1 and number > 0 and row[0] == _(TOTAL):
            lines.append(COLUMN_GAP.join("-" * width for width in widths))
        lines.append(line(row))
    return "\n".join(lines)


def format_summary(data: SummaryData, tables: dict[str, pd.DataFrame]) -> str:
    """Return the key tables of the summary as text: key figures, pipeline, offices, forecast, freshness."""
    year = fiscal_year_label(data.fiscal_year)
    heading = _("Sales summary {fy} as of {as_of} ({timezone})")
    sections = [
        (heading.format(fy=year, as_of=format_datetime(data.now), timezone=data.now.tzinfo), None),
        (_("Key figures"), tables["overview"]),
        (_("Open pipeline by rep"), _pipeline_by_rep(tables)),
        (_("Open pipeline by stage"), tables["pipeline_by_stage"]),
    ]
    if "offices" in tables:
        sections.append((_("Open pipeline and won deals by office"), tables["offices"]))
    sections += [
        (_("Sales forecast by month (open and won deals)"), tables["forecast"]),
        (_("Freshness of open deals by rep"), tables["freshness"]),
        (_("Win rate by rep, deals closed in {fy}").format(fy=year), tables["win_rate"]),
    ]
    blocks = []
    for title, frame in sections:
        if frame is None:
            blocks.append(title)
        else:
            blocks.append(f"{title}\n\n{format_table(frame, data.currency)}")
    return "\n\n\n".join(blocks) + "\n"


def _pipeline_by_rep(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Return the Total column of each rep × stage pipeline table, one row per rep."""
    # iloc takes the last column by position, because a stage may itself be named "Total".
    return pd.DataFrame(
        {
            _("Open deals"): tables["pipeline_count"].iloc[:, -1],
            _("Fiscal-period sales"): tables["pipeline_sales"].iloc[:, -1],
            _("Weighted sales"): tables["pipeline_weighted"].iloc[:, -1],
        }
    ).rename_axis(_("Rep"))


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _pad(text: str, width: int, left: bool) -> str:
    fill = " " * (width - _display_width(text))
    return text + fill if left else fill + text
