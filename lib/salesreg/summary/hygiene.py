"""Tables about the upkeep of the register: stale and overdue deals, deals awaiting the
manager, empty information fields and recent changes."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd

from ..i18n import N_, _
from ..summary_data import SummaryData
from .frame import LOST, NOT_RANKED, WON, local_times, money_from_minor_units, open_deals, pivot, rep_order, with_totals

# Cell texts of the completeness table, translated with _() where they are written.
FILLED = N_("Filled")
MISSING = N_("Missing")


def freshness(data: SummaryData, deals: pd.DataFrame) -> pd.DataFrame:
    """Return, per rep, the open and overdue deals, the oldest update's age and reminders sent."""
    pipeline = open_deals(deals)
    reps = rep_order(data, pipeline["rep"])
    grouped = pipeline.groupby("rep").agg(
        open_deals=("deal_id", "size"),
        overdue_deals=("overdue", "sum"),
        oldest_update=("last_updated", "min"),
        reminders_sent=("reminders_sent", "sum"),
    )
    grouped = grouped.reindex(reps)
    age = (pd.Timestamp(data.now) - grouped["oldest_update"]).dt.days
    return pd.DataFrame(
        {
            _("Open deals"): grouped["open_deals"].fillna(0).astype("int64"),
            _("Overdue deals"): grouped["overdue_deals"].fillna(0).astype("int64"),
            _("Days since oldest update"): age.astype("Int64"),
            _("Reminders sent"): grouped["reminders_sent"].fillna(0).astype("int64"),
        }
    ).rename_axis(_("Rep"))


def overdue_deals(data: SummaryData, deals: pd.DataFrame) -> pd.DataFrame:
    """Return the overdue open deals, the longest overdue first."""
    overdue = open_deals(deals)
    overdue = overdue[overdue["overdue"]]
    days = (pd.Timestamp(data.now) - overdue["deadline"]).dt.days
    table = pd.DataFrame(
        {
            _("Deal ID"): overdue["deal_id"],
            _("Row"): overdue["row"],
            _("Customer"): overdue["customer"],
            _("Deal"): overdue["title"],
            _("Rep"): overdue["rep"],
            _("Update deadline"): overdue["deadline"],
            _("Days overdue"): days.astype("Int64"),
            _("Problems"): overdue["problems"],
        }
    )
    return table.sort_values([_("Days overdue"), _("Row")], ascending=[False, True]).reset_index(drop=True)


def _deal_list(data: SummaryData, deals: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """Return ``deals`` in register row order with ``columns`` (field → header) as a list table.

    The headers are English msgids, translated here. Outcome values show as translated "Won"
    and "Lost".
    """
    deals = deals.sort_values("row")
    table = pd.DataFrame({_(header): deals[field] for field, header in columns.items()})
    if "fy_sales" in columns:
        header = _(columns["fy_sales"])
        table[header] = money_from_minor_units(deals["fy_sales"], data.currency)
    if "outcome" in columns:
        header = _(columns["outcome"])
        table[header] = deals["outcome"].map({WON: _("Won"), LOST: _("Lost")}).fillna(deals["outcome"])
    return table.reset_index(drop=True)


def awaiting_rank(data: SummaryData, deals: pd.DataFrame) -> pd.DataFrame:
    """Return the open deals that the manager has not ranked with a configured rank."""
    pipeline = open_deals(deals)
    unranked = pipeline[pipeline["rank"] == NOT_RANKED]
    columns = {
        "deal_id": N_("Deal ID"),
        "row": N_("Row"),
        "customer": N_("Customer"),
        "title": N_("Deal"),
        "rep": N_("Rep"),
        "stage": N_("Stage"),
        "expected_close": N_("Expected close"),
        "fy_sales": N_("Fiscal-period sales"),
    }
    return _deal_list(data, unranked, columns)


def awaiting_review(data: SummaryData, deals: pd.DataFrame) -> pd.DataFrame:
    """Return the won and lost deals without a "Reviewed on" date, whenever they closed."""
    closed = deals[deals["outcome"].isin([WON, LOST])]
    unreviewed = closed[closed["reviewed_on"].isna()]
    columns = {
        "deal_id": N_("Deal ID"),
        "row": N_("Row"),
        "customer": N_("Customer"),
        "title": N_("Deal"),
        "rep": N_("Rep"),
        "outcome": N_("Outcome"),
        "outcome_reason": N_("Outcome reason"),
        "fy_sales": N_("Fiscal-period sales"),
    }
    return _deal_list(data, unreviewed, columns)


def completeness(data: SummaryData, deals: pd.DataFrame) -> pd.DataFrame:
    """Return, per rep, the open deals, how many miss each information field, and the complete ones."""
    pipeline = open_deals(deals)
    reps = rep_order(data, pipeline["rep"])
    missing = pipeline[["deal_id", "rep", "missing_info"]].explode("missing_info").dropna(subset=["missing_info"])
    by_field = pivot(missing, "rep", "missing_info", None, reps, list(data.information_headers))

    open_count = pipeline.groupby("rep").size().reindex(reps, fill_value=0)
    complete = pipeline[pipeline["missing_info"].map(len) == 0].groupby("rep").size()
    table = pd.concat(
        [
            open_count.rename(_("Open deals")),
            by_field,
            complete.reindex(reps, fill_value=0).rename(_("Complete deals")),
        ],
        axis=1,
    ).astype("int64")
    return with_totals(table, total_column=False).rename_axis(_("Rep"))


def completeness_by_deal(data: SummaryData, deals: pd.DataFrame) -> pd.DataFrame:
    """Return each open deal in row order with every information field marked Filled or Missing (translated)."""
    pipeline = open_deals(deals).sort_values("row")
    table = pd.DataFrame(
        {
            _("Deal ID"): pipeline["deal_id"],
            _("Row"): pipeline["row"],
            _("Customer"): pipeline["customer"],
            _("Deal"): pipeline["title"],
            _("Rep"): pipeline["rep"],
            _("Stage"): pipeline["stage"],
        }
    )
    filled, missing = _(FILLED), _(MISSING)
    for header in data.information_headers:
        table[header] = pipeline["missing_info"].map(lambda fields: missing if header in fields else filled)
    table[_("Missing fields")] = pipeline["missing_info"].map(len).astype("int64")
    return table.reset_index(drop=True)


def recent_changes(data: SummaryData, deals: pd.DataFrame) -> pd.DataFrame:
    """Return the field changes of the last ``data.history_days`` days, newest first."""
    records = [(entry.changed_at, entry.deal_id, entry.header, entry.old, entry.new) for entry in data.history]
    changes = pd.DataFrame.from_records(records, columns=["changed_at", "deal_id", "header", "old", "new"])
    changes["changed_at"] = local_times(changes["changed_at"], data.now)
    since = pd.Timestamp(data.now - timedelta(days=data.history_days))
    changes = changes[changes["changed_at"].between(since, pd.Timestamp(data.now))]
    names = deals[["deal_id", "customer", "title", "rep"]].drop_duplicates("deal_id")
    changes = changes.merge(names, on="deal_id", how="left").fillna({"customer": "", "title": "", "rep": ""})
    changes = changes.sort_values("changed_at", ascending=False, kind="stable")
    return pd.DataFrame(
        {
            _("Changed at"): changes["changed_at"],
            _("Deal ID"): changes["deal_id"],
            _("Customer"): changes["customer"],
            _("Deal"): changes["title"],
            _("Rep"): changes["rep"],
            _("Column"): changes["header"],
            _("Old value"): changes["old"],
            _("New value"): changes["new"],
        }
    ).reset_index(drop=True)
