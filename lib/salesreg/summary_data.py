"""The input of the summary workbook: one snapshot of every deal after a scan."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from .fiscal import FiscalYear, Month
from .i18n import _

# The Recent changes sheet covers the history of this many days before "now".
RECENT_CHANGE_DAYS = 7


@dataclass(frozen=True)
class SummaryDeal:
    """One deal as the summary reads it, with exact money and zone-aware times."""

    deal_id: str
    row: int
    customer: str
    title: str
    rep: str  # the rep's Name from the Team sheet, or the text typed when the rep is unknown
    stage: str
    expected_close: date | None
    outcome: str  # "" while open, "Won" or "Lost"
    outcome_reason: str
    # The Expected close of a Won or Lost deal, because the register has no close date column;
    # None for open deals and for closed deals without an Expected close.
    closed_on: date | None
    expectation: str  # rank such as "A", or "" when the manager has not ranked the deal
    reviewed_on: date | None
    competitors: str
    fy_sales: Decimal
    weighted_sales: Decimal | None  # None: open and not ranked yet
    monthly: dict[Month, Decimal]  # every month of the fiscal year
    deadline: datetime | None
    last_updated: datetime | None
    reminders_sent: int
    overdue: bool  # open, deadline passed, not updated properly since
    problems: tuple[str, ...]
    missing_info: tuple[str, ...]  # header texts of the empty information fields


@dataclass(frozen=True)
class HistoryEntry:
    """One field-level change recorded by a scan."""

    changed_at: datetime
    deal_id: str
    header: str
    old: str
    new: str


@dataclass(frozen=True)
class SummaryData:
    """Everything the summary shows, as of ``now``; the summary reads nothing else."""

    now: datetime
    fiscal_year: FiscalYear
    currency: str
    reps: tuple[str, ...]  # active reps from the Team sheet, in sheet order
    managers: dict[str, str]  # rep name -> manager name or e-mail
    stages: tuple[str, ...]
    ranks: dict[str, Decimal]  # expectation rank -> probability, in config order
    information_headers: tuple[str, ...]  # header texts of the six information fields
    deals: tuple[SummaryDeal, ...]
    history: tuple[HistoryEntry, ...] = field(default=())
    history_days: int = RECENT_CHANGE_DAYS  # the Recent changes sheet shows this many days before ``now``
    offices: dict[str, str] = field(default_factory=dict)  # rep name -> office; empty when Team has no Office column


def fiscal_year_label(year: FiscalYear) -> str:
    """Return the name of ``year`` in the current locale: "FY2026" in English, "2026年度" in Japanese."""
    return _("FY{year}").format(year=year.label_year)
