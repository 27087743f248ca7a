"""The won/lost analysis: outcome reasons, competitors named in lost deals and win rates.

Every table here counts the deals closed in the current fiscal year, by their close date.
"""

from __future__ import annotations

import pandas as pd

from ..i18n import _
from ..summary_data import SummaryData
from .frame import LOST, NO_REASON, WON, closed_this_year, money_from_minor_units, pivot, rep_order, with_totals

# Separators between competitor names in the Competitors cell: commas (ASCII, full-width and
# ideographic), semicolons and line breaks.
COMPETITOR_SEPARATORS = r"[,，、;；\r\n]+"


def reasons(data: SummaryData, deals: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """Return the outcome reasons of ``outcome`` deals, the most frequent first, then by amount."""
    closed = closed_this_year(data, deals)
    closed = closed[closed["outcome"] == outcome]
    reason = closed["outcome_reason"].where(closed["outcome_reason"] != "", _(NO_REASON))
    grouped = closed.assign(reason=reason).groupby("reason").agg(deals=("deal_id", "size"), fy_sales=("fy_sales", "sum"))
    grouped = grouped.reset_index().sort_values(["deals", "fy_sales", "reason"], ascending=[False, False, True])
    return pd.DataFrame(
        {
            _("Outcome reason"): grouped["reason"],
            _("Deals"): grouped["deals"].astype("int64"),
            _("Fiscal-period sales"): money_from_minor_units(grouped["fy_sales"], data.currency),
        }
    ).reset_index(drop=True)


def lost_competitors(data: SummaryData, deals: pd.DataFrame) -> pd.DataFrame:
    """Return each competitor named in lost deals with the number and amount of those deals.

    Names are split on commas, semicolons and line breaks, and grouped without regard to case,
    showing the first spelling met. A deal that names a competitor twice counts once.
    """
    closed = closed_this_year(data, deals)
    lost = closed[closed["outcome"] == LOST]
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
            _("Competitor"): grouped["name"],
            _("Lost deals"): grouped["deals"].astype("int64"),
            _("Fiscal-period sales"): money_from_minor_units(grouped["fy_sales"], data.currency),
        }
    ).reset_index(drop=True)


def win_rate(data: SummaryData, deals: pd.DataFrame) -> pd.DataFrame:
    """Return the won and lost deals of each rep and the win rate won ÷ (won + lost)."""
    closed = closed_this_year(data, deals)
    reps = rep_order(data, closed["rep"])
    counts = pivot(closed, "rep", "outcome", None, reps, [WON, LOST])
    counts["won_sales"] = pivot(closed, "rep", "outcome", "fy_sales", reps, [WON])[WON]
    counts = with_totals(counts, total_column=False)
    closed_count = counts[WON] + counts[LOST]
    return pd.DataFrame(
        {
            _("Won"): counts[WON],
            _("Lost"): counts[LOST],
            _("Win rate"): (counts[WON] / closed_count.where(closed_count > 0)).astype("float64"),
            _("Won sales"): money_from_minor_units(counts["won_sales"], data.currency),
        }
    ).rename_axis(_("Rep"))
