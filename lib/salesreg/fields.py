"""The columns of the Deals sheet: header text, field name, who writes it and its kind.

Header and help texts are English and marked for the catalogue: the template translates them
at use. Words that the reader must recognise in a register of any locale (outcomes, Team sheet
headers) are fixed tables per locale instead, because they are data, not messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .i18n import N_

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
    Column("deal_id", N_("Deal ID"), "sync", "text", N_("Assigned by salesreg; leave blank on a new deal."), 11),
    Column("customer", N_("Customer"), "rep", "text", N_("Customer company name (required)."), 22),
    Column("title", N_("Deal"), "rep", "text", N_("Short name of the deal (required)."), 26),
    Column("rep", N_("Rep"), "rep", "choice", N_("Your name or e-mail as on the Team sheet (required)."), 16),
    Column("stage", N_("Stage"), "rep", "choice", N_("Pick the current stage from the list."), 14),
    Column("expected_close", N_("Expected close"), "rep", "date", N_("Date you expect to close; required while open."), 14),
    Column("monthly_price", N_("Monthly price"), "rep", "money", N_("Monthly recurring price, 0 or more."), 14),
    Column("service_start", N_("Service start"), "rep", "date", N_("First billed month (the whole month counts)."), 14),
    Column("contract_months", N_("Contract months"), "rep", "count", N_("Whole months, 1 or more; blank = runs on."), 10),
    Column("one_time_fee", N_("One-time fee"), "rep", "money", N_("Billed in the service start month, 0 or more."), 14),
    Column("customer_business", N_("Customer business"), "rep", "text", N_("What the customer's business is."), 30),
    Column("target_use", N_("Target use"), "rep", "text", N_("What the customer will use the product for."), 30),
    Column("challenges", N_("Challenges"), "rep", "text", N_("The customer's problems to solve."), 30),
    Column("adoption_path", N_("Path to adoption"), "rep", "text", N_("Schedule and actions until adoption."), 30),
    Column("stakeholders", N_("Stakeholders"), "rep", "text", N_("Who decides, who influences, how they relate."), 30),
    Column("competitors", N_("Competitors"), "rep", "text", N_("Competing products or services."), 24),
    Column("next_step", N_("Next step"), "rep", "text", N_("Your next action and its date."), 28),
    Column("outcome", N_("Outcome"), "rep", "choice", N_("Blank while open; Won or Lost when closed."), 10),
    Column("outcome_reason", N_("Outcome reason"), "rep", "text", N_("Why the deal was won or lost (required when closed)."), 28),
    Column("expectation", N_("Expectation"), "manager", "choice", N_("Manager's rank A-D; drives weighted sales."), 12),
    Column("manager_comment", N_("Manager comment"), "manager", "text", N_("Manager's note to the rep."), 28),
    Column("reviewed_on", N_("Reviewed on"), "manager", "date", N_("Date the manager examined the outcome."), 14),
    Column("fy_sales", N_("Fiscal-period sales"), "sync", "money", N_("Computed: sales inside the current fiscal year."), 16),
    Column("weighted_sales", N_("Weighted sales"), "sync", "money", N_("Computed: fiscal-period sales x expectation probability."), 16),
    Column("deadline", N_("Update deadline"), "sync", "datetime", N_("Computed: update the row properly before this time."), 18),
    Column("last_updated", N_("Last updated"), "sync", "datetime", N_("Computed: when the rep's content last changed."), 18),
    Column("reminders_sent", N_("Reminders sent"), "sync", "count", N_("Computed: reminders sent in the current cycle."), 10),
    Column("problems", N_("Problems"), "sync", "text", N_("Computed: what to fix in this row, one per line."), 48),
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

# The words for each outcome in the Outcome column of a register of each locale. The reader
# maps the words of every locale to the internal "Won" and "Lost", whatever the team's locale.
OUTCOME_WORDS: dict[str, dict[str, str]] = {
    "en": {"Won": "Won", "Lost": "Lost"},
    "ja": {"Won": "受注", "Lost": "失注"},
}

TEAM_HEADERS: tuple[str, ...] = ("Name", "Email", "Manager", "Active")
TEAM_OFFICE_HEADER = "Office"  # optional Team column, used by the summary's by-office view

# The Team sheet's header texts in a register of each locale, by their English header. The
# reader accepts the texts of every locale, and the template writes those of its own.
TEAM_HEADER_WORDS: dict[str, dict[str, str]] = {
    "en": {"Name": "Name", "Email": "Email", "Manager": "Manager", "Active": "Active", "Office": "Office"},
    "ja": {"Name": "氏名", "Email": "メールアドレス", "Manager": "上長", "Active": "在籍", "Office": "拠点"},
}


def outcome_words(outcome: str) -> tuple[str, ...]:
    """Return every word that means ``outcome`` ("Won" or "Lost") in some locale's register."""
    return tuple(words[outcome] for words in OUTCOME_WORDS.values())


def team_header_words(header: str) -> tuple[str, ...]:
    """Return every header text of the Team column ``header`` (English, such as "Name")."""
    return tuple(words[header] for words in TEAM_HEADER_WORDS.values())
