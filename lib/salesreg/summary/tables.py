"""Every table of the summary, computed from one ``SummaryData`` snapshot without any I/O.

This module contains the sales figures (key figures, pipeline, offices, forecast,
expectation). ``outcomes`` contains the won/lost analysis, and ``hygiene`` the tables about
stale, unranked, unreviewed and incomplete deals.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import pandas as pd

from ..i18n import _
from ..summary_data import SummaryData, fiscal_year_label
from .frame import (
    LOST,
    NO_OFFICE,
    NOT_RANKED,
    OPEN,
    TOTAL,
    WON,
    closed_this_year,
    deals_frame,
    from_minor_units,
    money_from_minor_units,
    open_deals,
    pivot,
    rep_order,
    stage_order,
    to_minor_units,
    with_totals,
)
from .hygiene import (
    awaiting_rank,
    awaiting_review,
    completeness,
    completeness_by_deal,
    freshness,
    overdue_deals,
    recent_changes,
)
from .outcomes import lost_competitors, reasons, win_rate


def summary_tables(data: SummaryData) -> dict[str, pd.DataFrame]:
    """Compute every table of the summary workbook, keyed by table name.

    Money cells are ``Decimal``, counts are integers, ratios are floats (NaN when undefined),
    dates are ``date`` and times are ``datetime`` in the time zone of ``data.now``. The writer
    formats each cell by that type. A table whose index has a name (Rep, Stage, Month, Rank,
    Office) is a pivot, and its last row is the "Total" row when it has one.

    Column headers, index names and labels such as "Total" are in the current locale (see
    ``salesreg.i18n``), so compute the tables in the locale that writes them. Register data
    (reps, stages, offices, reasons) stays as typed.

    Keys: overview, pipeline_by_stage, pipeline_count, pipeline_sales, pipeline_weighted,
    offices (only when ``data.offices`` is not empty), forecast, expectation_count,
    expectation_sales, freshness, overdue_deals, won_reasons, lost_reasons, lost_competitors,
    win_rate, awaiting_rank, awaiting_review, completeness, completeness_by_deal and
    recent_changes.
    """
    deals = deals_frame(data)
    tables: dict[str, pd.DataFrame] = {}
    tables["forecast"] = _forecast(data)
    tables["overview"] = _overview(data, deals, tables["forecast"])
    tables["pipeline_by_stage"] = _pipeline_by_stage(data, deals)
    tables.update(_pipeline(data, deals))
    if data.offices:
        tables["offices"] = _offices(data, deals)
    tables.update(_expectation(data, deals))
    tables["freshness"] = freshness(data, deals)
    tables["overdue_deals"] = overdue_deals(data, deals)
    tables["won_reasons"] = reasons(data, deals, WON)
    tables["lost_reasons"] = reasons(data, deals, LOST)
    tables["lost_competitors"] = lost_competitors(data, deals)
    tables["win_rate"] = win_rate(data, deals)
    tables["awaiting_rank"] = awaiting_rank(data, deals)
    tables["awaiting_review"] = awaiting_review(data, deals)
    tables["completeness"] = completeness(data, deals)
    tables["completeness_by_deal"] = completeness_by_deal(data, deals)
    tables["recent_changes"] = recent_changes(data, deals)
    return tables


def _overview(data: SummaryData, deals: pd.DataFrame, forecast: pd.DataFrame) -> pd.DataFrame:
    """Return the key figures, indexed by a stable key, with the columns Figure and Value (translated).

    Won, lost and the win rate count the deals closed in this fiscal year. The weighted
    fiscal-year sales are the Forecast sheet's total, so that both sheets show one number.
    """
    currency = data.currency
    year = fiscal_year_label(data.fiscal_year)
    pipeline = open_deals(deals)
    closed = closed_this_year(data, deals)
    won = closed[closed["outcome"] == WON]
    lost = closed[closed["outcome"] == LOST]
    closed_count = len(won) + len(lost)
    weighted_year = forecast.loc[_(TOTAL), _("Weighted sales")]
    figures: dict[str, tuple[str, Any]] = {
        "open_deals": (_("Open deals"), len(pipeline)),
        "open_sales": (
            _("Open pipeline (fiscal-period sales)"),
            from_minor_units(pipeline["fy_sales"].sum(), currency),
        ),
        "open_weighted": (
            _("Open pipeline (weighted sales)"),
            from_minor_units(pipeline["weighted_sales"].sum(), currency),
        ),
        "weighted_year": (_("Weighted {year} sales (won in full, open weighted)").format(year=year), weighted_year),
        "won_deals": (_("Deals won in {year}").format(year=year), len(won)),
        "won_sales": (
            _("Won in {year} (fiscal-period sales)").format(year=year),
            from_minor_units(won["fy_sales"].sum(), currency),
        ),
        "lost_deals": (_("Deals lost in {year}").format(year=year), len(lost)),
        "win_rate": (
            _("Win rate in {year} (won ÷ closed deals)").format(year=year),
            len(won) / closed_count if closed_count else math.nan,
        ),
        "overdue_deals": (_("Overdue deals"), int(pipeline["overdue"].sum())),
    }
    return pd.DataFrame(
        {
            _("Figure"): [label for label, _value in figures.values()],
            _("Value"): pd.Series([value for _label, value in figures.values()], index=list(figures), dtype=object),
        },
        index=list(figures),
    )


def _pipeline_by_stage(data: SummaryData, deals: pd.DataFrame) -> pd.DataFrame:
    pipeline = open_deals(deals)
    grouped = pipeline.groupby("stage").agg(
        deals=("deal_id", "size"), fy_sales=("fy_sales", "sum"), weighted_sales=("weighted_sales", "sum")
    )
    grouped = grouped.reindex(stage_order(data, pipeline["stage"]), fill_value=0).astype("int64")
    table = with_totals(grouped, total_column=False)
    table = pd.DataFrame(
        {
            _("Open deals"): table["deals"],
            _("Fiscal-period sales"): money_from_minor_units(table["fy_sales"], data.currency),
            _("Weighted sales"): money_from_minor_units(table["weighted_sales"], data.currency),
        }
    )
    return table.rename_axis(_("Stage"))


def _pipeline(data: SummaryData, deals: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Return the open deals by rep × stage: count, fiscal-period sales and weighted sales."""
    pipeline = open_deals(deals)
    reps = rep_order(data, pipeline["rep"])
    stages = stage_order(data, pipeline["stage"])

    def rep_by_stage(values: str | None) -> pd.DataFrame:
        return with_totals(pivot(pipeline, "rep", "stage", values, reps, stages)).rename_axis(_("Rep"))

    return {
        "pipeline_count": rep_by_stage(None),
        "pipeline_sales": money_from_minor_units(rep_by_stage("fy_sales"), data.currency),
        "pipeline_weighted": money_from_minor_units(rep_by_stage("weighted_sales"), data.currency),
    }


def _offices(data: SummaryData, deals: pd.DataFrame) -> pd.DataFrame:
    """Return, per office, the open pipeline, its weighted sales and the deals won this fiscal year.

    Every office of the Team sheet appears in sheet order. Deals of a rep without an office
    (or not on the Team sheet) form a "(no office)" row, which appears only when it has deals.
    """
    no_office = _(NO_OFFICE)
    pipeline = open_deals(deals)
    pipeline = pipeline.assign(office=pipeline["rep"].map(lambda rep: data.offices.get(rep, no_office)))
    closed = closed_this_year(data, deals)
    won = closed[closed["outcome"] == WON]
    won = won.assign(office=won["rep"].map(lambda rep: data.offices.get(rep, no_office)))

    offices = list(dict.fromkeys(data.offices.values()))
    if no_office in set(pipeline["office"]) | set(won["office"]):
        offices.append(no_office)
    by_office = pd.concat(
        [
            pipeline.groupby("office").agg(
                deals=("deal_id", "size"), fy_sales=("fy_sales", "sum"), weighted_sales=("weighted_sales", "sum")
            ),
            won.groupby("office").agg(won_deals=("deal_id", "size"), won_sales=("fy_sales", "sum")),
        ],
        axis=1,
    )
    columns = ["deals", "fy_sales", "weighted_sales", "won_deals", "won_sales"]
    by_office = by_office.reindex(index=offices, columns=columns).fillna(0).astype("int64")
    table = with_totals(by_office, total_column=False)
    year = fiscal_year_label(data.fiscal_year)
    return pd.DataFrame(
        {
            _("Open deals"): table["deals"],
            _("Fiscal-period sales"): money_from_minor_units(table["fy_sales"], data.currency),
            _("Weighted sales"): money_from_minor_units(table["weighted_sales"], data.currency),
            _("Deals won in {year}").format(year=year): table["won_deals"],
            _("Won in {year}").format(year=year): money_from_minor_units(table["won_sales"], data.currency),
        }
    ).rename_axis(_("Office"))


def _monthly_frame(data: SummaryData) -> pd.DataFrame:
    """Return one row per open or won deal and month of the fiscal year with an amount.

    Months without an amount are left out: they add nothing to the sums, and on a large
    register they are most of the rows.
    """
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
        if amount and data.fiscal_year.contains(month)
    ]
    return pd.DataFrame.from_records(records, columns=["outcome", "rank", "month", "amount"])


def _forecast(data: SummaryData) -> pd.DataFrame:
    """Return the expected and weighted sales of each month of the fiscal year, with totals.

    Expected sales add the monthly billing of open and won deals, whenever they were won.
    Weighted sales count a won deal in full and an open deal at its rank's probability (0 when
    not ranked), each deal's month rounded half up to the currency's unit as the register
    rounds weighted sales. Months are labelled YYYY-MM by calendar month, never by pandas'
    period names.
    """
    currency = data.currency
    months = [str(month) for month in data.fiscal_year.months]
    monthly = _monthly_frame(data)

    probability = monthly["rank"].map(data.ranks).where(monthly["outcome"] == OPEN, Decimal(1))
    probability = probability.where(probability.notna(), Decimal(0))
    monthly["units"] = monthly["amount"].map(lambda amount: to_minor_units(amount, currency))
    weighted = monthly["amount"] * probability
    monthly["weighted_units"] = weighted.map(lambda amount: to_minor_units(amount, currency))

    by_outcome = pivot(monthly, "month", "outcome", "units", months, [WON, OPEN])
    table = pd.DataFrame(
        {
            _("Won sales"): by_outcome[WON],
            _("Open sales"): by_outcome[OPEN],
            _("Expected sales"): by_outcome[WON] + by_outcome[OPEN],
            _("Weighted sales"): monthly.groupby("month")["weighted_units"].sum().reindex(months, fill_value=0),
        }
    ).astype("int64")
    table = with_totals(table, total_column=False)
    return money_from_minor_units(table, currency).rename_axis(_("Month"))


def _expectation(data: SummaryData, deals: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Return the open deals by expectation rank × rep: count and fiscal-period sales."""
    pipeline = open_deals(deals)
    ranks = [*data.ranks, NOT_RANKED]
    reps = rep_order(data, pipeline["rep"])
    # The deals frame marks unranked deals with the English NOT_RANKED; the table shows it translated.
    labels = [*data.ranks, _(NOT_RANKED)]
    count = pivot(pipeline, "rank", "rep", None, ranks, reps).set_axis(labels)
    sales = pivot(pipeline, "rank", "rep", "fy_sales", ranks, reps).set_axis(labels)
    return {
        "expectation_count": with_totals(count).rename_axis(_("Rank")),
        "expectation_sales": money_from_minor_units(with_totals(sales), data.currency).rename_axis(_("Rank")),
    }
