"""The columns of the Deals sheet: header text, field name, who writes it and its kind."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Writer = Literal["sync", "rep", "manager"]
Kind = Literal["text", "date", "money", "count", "choice", "datetime"]


@dataclass(frozen=True)
class Column:
    field: str
    header: str
    writer: Writer
    kind: Kind
    help: str
    width: int = 16


COLUMNS: tuple[Column, ...] = (
    Column("deal_id", "Deal ID", "sync", "text", "Assigned by salesreg; leave blank on a new deal.", 11),
    Column("customer", "Customer", "rep", "text", "Customer company name (required).", 22),
    Column("title", "Deal", "rep", "text", "Short name of the deal (required).", 26),
    Column("rep", "Rep", "rep", "choice", "Your name or e-mail as on the Team sheet (required).", 16),
    Column("stage", "Stage", "rep", "choice", "Pick the current stage from the list.", 14),
    Column("expected_close", "Expected close", "rep", "date", "Date you expect to close; required while open.", 14),
    Column("monthly_price", "Monthly price", "rep", "money", "Monthly recurring price, 0 or more.", 14),
    Column("service_start", "Service start", "rep", "date", "First billed month (the whole month counts).", 14),
    Column("contract_months", "Contract months", "rep", "count", "Whole months, 1 or more; blank = runs on.", 10),
    Column("one_time_fee", "One-time fee", "rep", "money", "Billed in the service start month, 0 or more.", 14),
    Column("customer_business", "Customer business", "rep", "text", "What the customer's business is.", 30),
    Column("target_use", "Target use", "rep", "text", "What the customer will use the product for.", 30),
    Column("challenges", "Challenges", "rep", "text", "The customer's problems to solve.", 30),
    Column("adoption_path", "Path to adoption", "rep", "text", "Schedule and actions until adoption.", 30),
    Column("stakeholders", "Stakeholders", "rep", "text", "Who decides, who influences, how they relate.", 30),
    Column("competitors", "Competitors", "rep", "text", "Competing products or services.", 24),
    Column("next_step", "Next step", "rep", "text", "Your next action and its date.", 28),
    Column("outcome", "Outcome", "rep", "choice", "Blank while open; Won or Lost when closed.", 10),
    Column("outcome_reason", "Outcome reason", "rep", "text", "Why the deal was won or lost (required when closed).", 28),
    Column("expectation", "Expectation", "manager", "choice", "Manager's rank A-D; drives weighted sales.", 12),
    Column("manager_comment", "Manager comment", "manager", "text", "Manager's note to the rep.", 28),
    Column("reviewed_on", "Reviewed on", "manager", "date", "Date the manager examined the outcome.", 14),
    Column("fy_sales", "Fiscal-period sales", "sync", "money", "Computed: sales inside the current fiscal year.", 16),
    Column("weighted_sales", "Weighted sales", "sync", "money", "Computed: fiscal-period sales x expectation probability.", 16),
    Column("deadline", "Update deadline", "sync", "datetime", "Computed: update the row properly before this time.", 18),
    Column("last_updated", "Last updated", "sync", "datetime", "Computed: when the rep's content last changed.", 18),
    Column("reminders_sent", "Reminders sent", "sync", "count", "Computed: reminders sent in the current cycle.", 10),
    Column("problems", "Problems", "sync", "text", "Computed: what to fix in this row, one per line.", 48),
)

COLUMN_BY_FIELD: dict[str, Column] = {column.field: column for column in COLUMNS}
FIELDS: tuple[str, ...] = tuple(column.field for column in COLUMNS)

# A change in any of these is an update by the rep and restarts the fingerprint.
REP_FIELDS: tuple[str, ...] = tuple(c.field for c in COLUMNS if c.writer == "rep")
COMPUTED_FIELDS: tuple[str, ...] = tuple(c.field for c in COLUMNS if c.writer == "sync" and c.field != "deal_id")

# The checklist that helps a rep win a deal; reminders and summaries show the empty ones.
INFORMATION_FIELDS: tuple[str, ...] = (
    "customer_business",
    "target_use",
    "challenges",
    "adoption_path",
    "stakeholders",
    "competitors",
)

OUTCOMES: tuple[str, ...] = ("Won", "Lost")

TEAM_HEADERS: tuple[str, ...] = ("Name", "Email", "Manager", "Active")
TEAM_OFFICE_HEADER = "Office"  # optional Team column, used by the summary's by-office view
