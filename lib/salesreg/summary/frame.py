"""The deals as one pandas DataFrame, and the pivot helpers that every table uses.

Money is summed exactly: amounts become integers in the currency's smallest unit (yen, cents)
for the pivots, and the finished tables hold ``Decimal`` again.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pandas as pd

from ..fiscal import Month
from ..i18n import N_, _
from ..money import CURRENCY_UNITS, round_money
from ..summary_data import SummaryData

# Labels that the tables show, translated with _() where a table is built. The deals frame keeps
# NOT_RANKED in English, so compare its "rank" column with NOT_RANKED itself.
TOTAL = N_("Total")
NOT_RANKED = N_("(not ranked)")
NO_REP = N_("(no rep)")
NO_STAGE = N_("(no stage)")
NO_REASON = N_("(no reason)")
NO_OFFICE = N_("(no office)")
# Outcome values of SummaryDeal, not labels: "Won" and "Lost" whatever the register shows.
OPEN = ""
WON = "Won"
LOST = "Lost"

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
    "closed_on",
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


def to_minor_units(amount: Decimal, currency: str) -> int:
    """Round ``amount`` half up to the currency's unit and count it in that unit (yen, cents)."""
    return int(round_money(amount, currency).scaleb(CURRENCY_UNITS[currency]))


def from_minor_units(units: int, currency: str) -> Decimal:
    return Decimal(int(units)).scaleb(-CURRENCY_UNITS[currency])


def money_from_minor_units(table: pd.DataFrame | pd.Series, currency: str) -> Any:
    """Return ``table`` with every count of minor units turned into a ``Decimal`` amount."""
    return table.map(lambda units: from_minor_units(units, currency))


def deals_frame(data: SummaryData) -> pd.DataFrame:
    """Return one row per deal, money in minor units and times in the zone of ``data.now``."""
    currency = data.currency
    records = [
        {
            "deal_id": deal.deal_id,
            "row": deal.row,
            "customer": deal.customer,
            "title": deal.title,
            "rep": deal.rep if deal.rep.strip() else _(NO_REP),
            "stage": deal.stage if deal.stage.strip() else _(NO_STAGE),
            "expected_close": deal.expected_close,
            "outcome": deal.outcome,
            "outcome_reason": deal.outcome_reason.strip(),
            "closed_on": deal.closed_on,
            # A rank that is not configured weighs nothing, so it counts as not ranked.
            "rank": deal.expectation if deal.expectation in data.ranks else NOT_RANKED,
            "reviewed_on": deal.reviewed_on,
            "competitors": deal.competitors,
            "fy_sales": to_minor_units(deal.fy_sales, currency),
            "weighted_sales": to_minor_units(deal.weighted_sales or Decimal(0), currency),
            "deadline": deal.deadline,
            "last_updated": deal.last_updated,
            "reminders_sent": deal.reminders_sent,
            "overdue": deal.overdue,
            # Translators: the separator between a deal's problems in one summary cell; Japanese ones end in 。.
            "problems": _("; ").join(deal.problems),
            "missing_info": deal.missing_info,
        }
        for deal in data.deals
    ]
    frame = pd.DataFrame.from_records(records, columns=list(_DEAL_COLUMNS))
    frame = frame.astype({"row": "int64", "fy_sales": "int64", "weighted_sales": "int64", "reminders_sent": "int64"})
    frame["overdue"] = frame["overdue"].astype(bool)
    for column in ("deadline", "last_updated"):
        frame[column] = local_times(frame[column], data.now)
    return frame


def local_times(times: pd.Series, now: datetime) -> pd.Series:
    return pd.to_datetime(times, utc=True).dt.tz_convert(now.tzinfo)


def open_deals(deals: pd.DataFrame) -> pd.DataFrame:
    return deals[deals["outcome"] == OPEN]


def closed_this_year(data: SummaryData, deals: pd.DataFrame) -> pd.DataFrame:
    """Return the Won and Lost deals whose close date falls in ``data.fiscal_year``.

    A closed deal without a close date belongs to no fiscal year, so it is left out.
    """
    closed = deals[deals["outcome"].isin([WON, LOST])]
    in_year = closed["closed_on"].map(lambda day: isinstance(day, date) and data.fiscal_year.contains(Month.of(day)))
    return closed[in_year.astype(bool)]


def rep_order(data: SummaryData, reps: pd.Series) -> list[str]:
    """Return the active reps in Team order, then any other rep text found in ``reps``."""
    others = sorted(set(reps) - set(data.reps))
    return [*data.reps, *others]


def stage_order(data: SummaryData, stages: pd.Series) -> list[str]:
    others = sorted(set(stages) - set(data.stages))
    return [*data.stages, *others]


def pivot(
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


def with_totals(table: pd.DataFrame, total_column: bool = True) -> pd.DataFrame:
    """Append a "Total" row, and a "Total" column when ``total_column`` is true, to a numeric table.

    The totals are appended even when a rep or stage is itself named "Total", so that such a
    row or column is kept and the totals stay last. The label is ``_(TOTAL)``, in the locale
    of the summary.
    """
    table = table.copy()
    total = _(TOTAL)
    if total_column:
        table.insert(len(table.columns), total, table.sum(axis=1), allow_duplicates=True)
    total_row = table.sum(axis=0).to_frame(total).T.astype(table.dtypes.to_dict())
    return pd.concat([table, total_row]).rename_axis(table.index.name)
