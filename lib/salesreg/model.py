"""Typed records read from the register: team members, deals and their problems."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from .fiscal import Billing
from .i18n import _


@dataclass(frozen=True)
class TeamMember:
    row: int
    name: str
    email: str
    manager: str  # a Name on the Team sheet or an e-mail address; "" when none
    active: bool
    office: str = ""  # from the optional Office column of the Team sheet


@dataclass(frozen=True)
class Problem:
    """One thing wrong in one cell, with the Excel row and the column header."""

    row: int
    header: str
    value: Any
    message: str

    def cell_text(self) -> str:
        """Return the line written into the row's Problems cell, in the current locale.

        An English message that starts with "is " reads on from the header ("Customer is
        empty"); every other message follows a colon. Japanese always uses the colon form.
        """
        if self._continues_header():
            return _("{header} {message}").format(header=self.header, message=self.message)
        return _("{header}: {message}").format(header=self.header, message=self.message)

    def report_text(self) -> str:
        """Return the line printed in the command's report, in the current locale."""
        if self._continues_header():
            return _('Row {row}, "{header}" {message}').format(row=self.row, header=self.header, message=self.message)
        return _('Row {row}, "{header}": {message}').format(row=self.row, header=self.header, message=self.message)

    def _continues_header(self) -> bool:
        return self.message.startswith("is ")


@dataclass
class Deal:
    """One row of the Deals sheet after parsing; fields that failed to parse are None."""

    row: int
    deal_id: str | None
    customer: str | None = None
    title: str | None = None
    rep_text: str | None = None
    rep: TeamMember | None = None
    stage: str | None = None
    expected_close: date | None = None
    billing: Billing = field(default_factory=Billing)
    information: dict[str, str | None] = field(default_factory=dict)
    next_step: str | None = None
    outcome: str | None = None  # None while open, "Won" or "Lost"
    outcome_reason: str | None = None
    expectation: str | None = None
    manager_comment: str | None = None
    reviewed_on: date | None = None
    problems: list[Problem] = field(default_factory=list)
    rep_values: dict[str, str] = field(default_factory=dict)  # canonical text of every rep field

    @property
    def is_open(self) -> bool:
        return self.outcome is None

    @property
    def is_valid(self) -> bool:
        return not self.problems

    @property
    def is_settled(self) -> bool:
        """Return True for Won or Lost deals with a reason: they get no reminders."""
        return self.outcome is not None and bool(self.outcome_reason)

    def missing_information(self) -> list[str]:
        """Return the field names of the empty information fields."""
        return [name for name, value in self.information.items() if not value]
