"""Parse and check every row of the Deals sheet, collecting all problems of all rows."""

from __future__ import annotations

from functools import cached_property

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from email.utils import parseaddr
from typing import Any

from .config import Config
from .fields import FIELDS, INFORMATION_FIELDS, OUTCOMES, REP_FIELDS, outcome_words
from .fiscal import Billing
from .i18n import N_, _
from .model import Deal, Problem, TeamMember
from .parse import (
    CellError,
    UnreadableCell,
    canonical,
    fold,
    parse_count,
    parse_date,
    parse_line,
    parse_money,
    parse_text,
    show,
    show_list,
)

# The message for a closed deal without an outcome reason, by outcome. Each is one sentence,
# so that a translation can name the reason by its own word (受注理由, 失注理由).
_REASON_MISSING = {
    "Won": N_("is empty, but the deal is Won; write why it was won."),
    "Lost": N_("is empty, but the deal is Lost; write why it was lost."),
}


@dataclass(frozen=True)
class TeamIndex:
    """Team members found by Name or Email, ignoring case and full-width forms."""

    members: tuple[TeamMember, ...]

    def find(self, text: str) -> TeamMember | None:
        """Return the first member that ``text`` names, or None."""
        found = self.matches(text)
        return found[0] if found else None

    def matches(self, text: str) -> list[TeamMember]:
        """Return every member whose Name or Email is ``text``.

        Matching ignores case, full-width forms and runs of spaces, and reads the address
        inside ``Name <address>``. When that finds nobody, spaces are ignored altogether, so
        that "田中愛子" finds "田中 愛子".
        """
        if text in self._found:
            return list(self._found[text])
        key = fold(text)
        _name, address = parseaddr(text)
        keys = {key, fold(address)} if "<" in text and "@" in address else {key}
        positions = {index for k in keys for index in self._by_key.get(k, ())}
        if not positions:
            positions = set(self._by_compact.get(key.replace(" ", ""), ()))
        found = [self.members[index] for index in sorted(positions)]
        self._found[text] = tuple(found)
        return found

    @cached_property
    def _by_key(self) -> dict[str, list[int]]:
        """Folded Name and Email -> member positions, built once, because every row looks a rep up."""
        index: dict[str, list[int]] = {}
        for position, member in enumerate(self.members):
            for key in {fold(member.name), fold(member.email)} - {""}:
                index.setdefault(key, []).append(position)
        return index

    @cached_property
    def _by_compact(self) -> dict[str, list[int]]:
        index: dict[str, list[int]] = {}
        for position, member in enumerate(self.members):
            for key in {fold(member.name).replace(" ", ""), fold(member.email)} - {""}:
                index.setdefault(key, []).append(position)
        return index

    @cached_property
    def _found(self) -> dict[str, tuple[TeamMember, ...]]:
        return {}

    def closest_name(self, text: str) -> str | None:
        """Return the Team Name most like ``text``, for a "did you mean" hint, or None."""
        names = {fold(member.name): member.name for member in self.members if member.name}
        close = difflib.get_close_matches(fold(text), list(names), n=1, cutoff=0.75)
        return names[close[0]] if close else None

    def manager_of(self, member: TeamMember) -> TeamMember | None:
        """Return the manager as a Team member, or None when the Manager cell is an e-mail or blank."""
        if not member.manager:
            return None
        return self.find(member.manager)


class _RowChecker:
    def __init__(self, row: int, values: dict[str, Any], config: Config, headers: Mapping[str, str]) -> None:
        self.row = row
        self.values = values
        self.config = config
        self.headers = headers
        self.problems: list[Problem] = []

    def header(self, field: str) -> str:
        return self.headers.get(field) or self.config.register.headers[field]

    def add(self, field: str, message: str) -> None:
        self.problems.append(Problem(self.row, self.header(field), self.values.get(field), message))

    def failed(self, field: str) -> bool:
        header = self.header(field)
        return any(problem.header == header for problem in self.problems)

    def read(self, field: str, parser: Callable[[Any], Any]) -> Any:
        try:
            return parser(self.values.get(field))
        except CellError as exc:
            self.add(field, str(exc))
            return None


def check_deal(
    row: int,
    values: dict[str, Any],
    config: Config,
    team: TeamIndex,
    today: date,
    headers: Mapping[str, str] | None = None,
) -> Deal:
    """Parse one row into a Deal and record every problem in it; ``today`` is the local date.

    ``headers`` maps fields to the header texts of the register's columns, so that problems
    name the columns as the register shows them. Without it, problems use the configured headers.
    """
    checker = _RowChecker(row, values, config, headers or {})
    currency = config.fiscal.currency
    deal = Deal(row=row, deal_id=parse_text_quietly(values.get("deal_id")))
    deal.rep_values = {name: canonical(values.get(name)) for name in REP_FIELDS}

    deal.customer = checker.read("customer", parse_line)
    deal.title = checker.read("title", parse_line)
    for name in ("customer", "title"):
        if getattr(deal, name) is None and not checker.failed(name):
            checker.add(name, _("is empty; type the {what} name.").format(what=checker.header(name).lower()))

    _check_rep(checker, deal, team)
    _check_stage(checker, deal)

    deal.outcome = _check_outcome(checker)
    deal.outcome_reason = checker.read("outcome_reason", parse_text)
    if deal.outcome and not deal.outcome_reason:
        checker.add("outcome_reason", _(_REASON_MISSING[deal.outcome]))

    deal.expected_close = checker.read("expected_close", parse_date)
    if deal.is_open and deal.expected_close is None and not checker.failed("expected_close"):
        checker.add("expected_close", _("is empty; type the date you expect to close the deal (YYYY-MM-DD)."))
    elif deal.is_open and deal.expected_close is not None and deal.expected_close < today:
        checker.add(
            "expected_close",
            _(
                "{value} is in the past; enter the new expected close date, or close the deal as Won or Lost."
            ).format(value=show(deal.expected_close)),
        )

    deal.billing = Billing(
        monthly_price=checker.read("monthly_price", lambda v: parse_money(v, currency)),
        service_start=checker.read("service_start", parse_date),
        contract_months=checker.read("contract_months", parse_count),
        one_time_fee=checker.read("one_time_fee", lambda v: parse_money(v, currency)),
    )
    has_amount = bool(deal.billing.monthly_price) or bool(deal.billing.one_time_fee)
    if has_amount and deal.billing.service_start is None and not checker.failed("service_start"):
        checker.add("service_start", _("is empty; type the date billing starts so that sales can be computed."))

    deal.information = {name: checker.read(name, parse_text) for name in INFORMATION_FIELDS}
    if deal.is_open and deal.stage in config.stages:
        for name in config.stages[deal.stage]:
            if not deal.information.get(name) and not checker.failed(name):
                checker.add(name, _('is empty, but stage "{stage}" needs it; fill it in.').format(stage=deal.stage))

    deal.next_step = checker.read("next_step", parse_text)
    deal.expectation = _check_expectation(checker)
    deal.manager_comment = checker.read("manager_comment", parse_text)
    deal.reviewed_on = checker.read("reviewed_on", parse_date)

    # Deal ID and the computed columns are not parsed above, but a merged range there is still
    # the rep's to undo.
    for name in FIELDS:
        value = values.get(name)
        if isinstance(value, UnreadableCell) and not checker.failed(name):
            checker.add(name, value.message)

    deal.problems = checker.problems
    return deal


def parse_text_quietly(value: Any) -> str | None:
    """Return a Deal ID cell as one line of text, or None when it contains none."""
    if isinstance(value, UnreadableCell):
        value = value.value
    try:
        return parse_line(value)
    except CellError:
        return None


def _check_rep(checker: _RowChecker, deal: Deal, team: TeamIndex) -> None:
    deal.rep_text = checker.read("rep", parse_line)
    if deal.rep_text is None:
        if not checker.failed("rep"):
            checker.add("rep", _("is empty; pick your name from the list (a Name or Email on the Team sheet)."))
        return
    found = team.matches(deal.rep_text)
    if not found:
        close = team.closest_name(deal.rep_text)
        if close:
            message = _(
                "{value} is not on the Team sheet (did you mean {close}?); pick a Name from the list or add the rep to Team."
            )
        else:
            message = _("{value} is not on the Team sheet; pick a Name from the list or add the rep to Team.")
        checker.add("rep", message.format(value=show(deal.rep_text), close=show(close or "")))
        return
    if len(found) > 1:
        checker.add(
            "rep",
            _(
                "{value} matches {count} people on the Team sheet (rows {rows}); type the rep's e-mail address instead."
            ).format(value=show(deal.rep_text), count=len(found), rows=show_list(str(member.row) for member in found)),
        )
        return
    member = found[0]
    deal.rep = member
    if not member.active:
        checker.add(
            "rep", _("{value} is inactive on the Team sheet; hand the deal to an active rep.").format(value=show(member.name))
        )


def _check_stage(checker: _RowChecker, deal: Deal) -> None:
    stages = list(checker.config.stages)
    text = checker.read("stage", parse_line)
    if text is None:
        if not checker.failed("stage"):
            checker.add("stage", _("is empty; pick one of: {choices}.").format(choices=show_list(stages)))
        return
    for stage in stages:
        if fold(stage) == fold(text):
            deal.stage = stage
            return
    checker.add("stage", _("{value} is not a stage; pick one of: {choices}.").format(value=show(text), choices=show_list(stages)))


def _check_outcome(checker: _RowChecker) -> str | None:
    text = checker.read("outcome", parse_line)
    if text is None:
        return None
    for outcome in OUTCOMES:
        # Won/Lost and 受注/失注 mean the same in a register of either locale.
        if any(fold(word) == fold(text) for word in outcome_words(outcome)):
            return outcome
    checker.add(
        "outcome", _("{value} is not an outcome; leave it blank while open, or pick Won or Lost.").format(value=show(text))
    )
    return None


def _check_expectation(checker: _RowChecker) -> str | None:
    text = checker.read("expectation", parse_line)
    if text is None:
        return None
    ranks = list(checker.config.expectation)
    for rank in ranks:
        if fold(rank) == fold(text):
            return rank
    checker.add("expectation", _("{value} is not a rank; pick one of: {choices}.").format(value=show(text), choices=show_list(ranks)))
    return None
