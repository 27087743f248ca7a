"""Compare the register with the state: which deals are new, updated properly or improperly.

``scan_register`` decides and returns a Scan; ``commit_scan`` stores it. Both ``sync`` and
``remind`` scan, so a proper update stops reminders even before the next sync writes the row.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from .config import Config
from .deadline import compute_deadline
from .fields import COMPUTED_FIELDS, FIELDS, REP_FIELDS
from .fiscal import FiscalYear, Month, fiscal_sales, fiscal_year_of, monthly_sales, weighted_sales
from .i18n import _
from .model import Deal, Problem
from .progress import Progress, no_progress
from .register import RegisterSnapshot
from .state import DealState, State, StoredRow
from .validate import TeamIndex, check_deal, parse_text_quietly

DEAL_ID_PATTERN = re.compile(r"^D-(\d+)$")

# The cells kept in the state for each deal: everything but the computed columns.
STORED_FIELDS: tuple[str, ...] = tuple(name for name in FIELDS if name not in COMPUTED_FIELDS)
MAX_DELETED_NOTICES = 20  # one notice per deleted deal up to this many, then one for the rest

Status = Literal["new", "updated", "improper", "unchanged", "untracked"]


@dataclass
class ScannedDeal:
    deal: Deal
    deal_id: str | None  # None: no ID yet and this scan may not assign one
    assigned_id: bool
    status: Status
    changed_fields: list[str]
    state: DealState | None
    fy_sales: Decimal
    weighted_sales: Decimal | None  # None: open and not ranked
    fiscal_year: FiscalYear

    @property
    def deadline(self) -> datetime | None:
        return self.state.deadline if self.state else None

    @property
    def monthly(self) -> dict[Month, Decimal]:
        """Return the amount billed in each month of the fiscal year.

        Computed on each access, because only the summary needs it, and twelve amounts per
        deal kept for every deal of a large register take about 2 KB each.
        """
        return monthly_sales(self.deal.billing, self.fiscal_year)


@dataclass(frozen=True)
class DeletedDeal:
    deal_id: str
    row: int  # the Excel row where a scan last saw it


@dataclass
class Scan:
    now: datetime
    today: date
    fiscal_year: FiscalYear
    team: TeamIndex
    deals: list[ScannedDeal]
    notices: list[str] = field(default_factory=list)
    history: list[tuple[str, str, str, str, datetime]] = field(default_factory=list)
    highest_number: int = 0
    deleted: list[DeletedDeal] = field(default_factory=list)  # deals this scan found gone from the register
    rows_to_store: list[tuple[str, int, dict[str, Any], str]] = field(default_factory=list)  # (deal ID, row, cells, hash)

    def count(self, status: Status) -> int:
        return sum(1 for scanned in self.deals if scanned.status == status)

    @property
    def problem_rows(self) -> int:
        return sum(1 for scanned in self.deals if scanned.deal.problems)


def fingerprint(rep_values: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(rep_values, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def format_deal_id(number: int) -> str:
    return f"D-{number:06d}"


def scan_register(
    config: Config,
    snapshot: RegisterSnapshot,
    state: State,
    now: datetime,
    assign_ids: bool,
    track_deletions: bool = False,
    progress: Progress = no_progress,
    only_ids: set[str] | None = None,
) -> Scan:
    """Check every row and decide its new state as of ``now`` (zone-aware); store nothing.

    With ``track_deletions`` (sync), deals that are in the state but no longer in the
    register are listed in ``Scan.deleted``, with a notice and a history entry each. With
    ``only_ids``, only the rows with those Deal IDs are checked and listed.
    """
    zone = config.timezone
    today = now.astimezone(zone).date()
    year = fiscal_year_of(now.astimezone(zone), config.fiscal.start_month, config.fiscal.label)
    team = TeamIndex(snapshot.team)
    # Stored rep values are read only for the deals whose fingerprint changed (see _scan_deal).
    known = state.deals(only_ids, with_rep_values=False)
    scan = Scan(now=now, today=today, fiscal_year=year, team=team, deals=[])

    numbers = [int(m.group(1)) for row in snapshot.rows if (m := DEAL_ID_PATTERN.match(str(row.values.get("deal_id") or "").strip()))]
    scan.highest_number = max([state.highest_deal_number(), *numbers])
    if state.created and any(row.values.get("deal_id") for row in snapshot.rows):
        scan.notices.append(
            _(
                "State file {path} was new: reminder history is lost and every deal starts a new "
                "update cycle from now. No deal content was lost; the register is the source of truth."
            ).format(path=state.path)
        )

    seen_ids: dict[str, int] = {}
    stored = state.deal_rows()
    rows = snapshot.rows
    if only_ids is not None:
        rows = tuple(row for row in rows if parse_text_quietly(row.values.get("deal_id")) in only_ids)
    for row in progress(rows, _("Checking rows")):
        deal = check_deal(row.row, row.values, config, team, today, headers=snapshot.headers)
        deal_id, assigned = _identify(deal, seen_ids, scan, assign_ids, config.register.headers["deal_id"])
        scan.deals.append(_scan_deal(config, deal, deal_id, assigned, known, scan, year, state))
        if deal_id is not None:
            _note_row(scan, stored, deal_id, row.row, row.values)
    if track_deletions:
        _note_deleted(config, scan, known, stored, seen_ids)
    return scan


def _identify(deal: Deal, seen_ids: dict[str, int], scan: Scan, assign_ids: bool, header: str) -> tuple[str | None, bool]:
    """Return the deal's ID and whether this scan assigned it.

    Of rows that share a Deal ID (a copied row), the first keeps it. With ``assign_ids``
    every later one gets a new ID and a problem in its Problems cell that names the first row.
    """
    deal_id = deal.deal_id
    copied_from: tuple[str, int] | None = None
    if deal_id is not None and deal_id in seen_ids:
        if assign_ids:
            notice = _("Row {row}: Deal ID {deal_id} is already used by row {first_row}; this row gets a new ID.")
        else:
            notice = _(
                "Row {row}: Deal ID {deal_id} is already used by row {first_row}; run sync to give this row its own ID."
            )
        scan.notices.append(notice.format(row=deal.row, deal_id=deal_id, first_row=seen_ids[deal_id]))
        copied_from = (deal_id, seen_ids[deal_id])
        deal_id = None
    if deal_id is None and assign_ids:
        scan.highest_number += 1
        deal_id = format_deal_id(scan.highest_number)
        deal.deal_id = deal_id
        seen_ids[deal_id] = deal.row
        if copied_from is not None:
            old_id, first_row = copied_from
            message = _(
                "{old_id} was also in row {first_row}, so this row got the new ID {deal_id}. "
                "If this row is a copy of that deal, delete it."
            ).format(old_id=old_id, first_row=first_row, deal_id=deal_id)
            deal.problems.append(Problem(deal.row, header, old_id, message))
        return deal_id, True
    if deal_id is not None:
        seen_ids[deal_id] = deal.row
    return deal_id, False


def _note_row(scan: Scan, stored: dict[str, StoredRow], deal_id: str, row: int, values: dict[str, Any]) -> None:
    """Queue the row's cells for the state when they or the row number changed, or the deal is back."""
    cells = {name: values.get(name) for name in STORED_FIELDS}
    cells["deal_id"] = deal_id
    content_hash = hashlib.sha1(repr([cells[name] for name in STORED_FIELDS]).encode()).hexdigest()
    previous = stored.get(deal_id)
    if previous is not None and previous.deleted_at is not None:
        scan.notices.append(_("Deal {deal_id} is back in the register, in row {row}.").format(deal_id=deal_id, row=row))
        scan.history.append((deal_id, "row", "deleted", str(row), scan.now))
    elif previous is not None and (previous.content_hash, previous.row) == (content_hash, row):
        return
    scan.rows_to_store.append((deal_id, row, cells, content_hash))


def _note_deleted(config: Config, scan: Scan, known: dict[str, DealState], stored: dict[str, StoredRow], present: dict[str, int]) -> None:
    """List the deals that are in the state, not marked deleted yet, and missing from the register."""
    gone = sorted(
        deal_id
        for deal_id in set(known) | set(stored)
        if deal_id not in present and not (deal_id in stored and stored[deal_id].deleted_at is not None)
    )
    for deal_id in gone:
        row = stored[deal_id].row if deal_id in stored else 0
        scan.deleted.append(DeletedDeal(deal_id, row))
        scan.history.append((deal_id, "row", str(row) if row else "", "deleted", scan.now))
    for deleted in scan.deleted[:MAX_DELETED_NOTICES]:
        if deleted.row:
            notice = _(
                "Deal {deal_id}, last seen in row {row}, is no longer in {register}; its last content is kept "
                "in the state. To put it back as a new row, run `salesreg restore {deal_id}`."
            )
        else:
            notice = _(
                "Deal {deal_id} is no longer in {register}; its last content is kept "
                "in the state. To put it back as a new row, run `salesreg restore {deal_id}`."
            )
        scan.notices.append(notice.format(deal_id=deleted.deal_id, row=deleted.row, register=config.register.path.name))
    if len(scan.deleted) > MAX_DELETED_NOTICES:
        rest = [deleted.deal_id for deleted in scan.deleted[MAX_DELETED_NOTICES:]]
        scan.notices.append(
            _(
                "{count} more deals are no longer in {register} ({first} to {last}); "
                "`salesreg restore DEAL_ID` puts any of them back."
            ).format(count=len(rest), register=config.register.path.name, first=rest[0], last=rest[-1])
        )


def _scan_deal(
    config: Config,
    deal: Deal,
    deal_id: str | None,
    assigned: bool,
    known: dict[str, DealState],
    scan: Scan,
    year: FiscalYear,
    state: State,
) -> ScannedDeal:
    amount = fiscal_sales(deal.billing, year)
    weighted = _weighted(config, deal, amount)
    if deal_id is None:
        return ScannedDeal(deal, None, False, "untracked", [], None, amount, weighted, year)

    seen_at = scan.now
    fp = fingerprint(deal.rep_values)
    previous = known.get(deal_id)
    if previous is None:
        new_state = DealState(
            deal_id=deal_id,
            fingerprint=fp,
            rep_values=deal.rep_values,
            first_seen=seen_at,
            last_updated=seen_at,
            cycle=1,
            cycle_started=seen_at,
            deadline=None if deal.is_settled else compute_deadline(seen_at, deal.expected_close, config.deadline, config.timezone),
        )
        return ScannedDeal(deal, deal_id, assigned, "new", [], new_state, amount, weighted, year)

    if previous.fingerprint == fp:
        return ScannedDeal(deal, deal_id, assigned, "unchanged", [], previous, amount, weighted, year)

    previous_values = state.rep_values(deal_id)
    changed = [name for name in REP_FIELDS if previous_values.get(name, "") != deal.rep_values.get(name, "")]
    for name in changed:
        scan.history.append((deal_id, name, previous_values.get(name, ""), deal.rep_values.get(name, ""), seen_at))

    proper = deal.is_valid
    if deal.is_settled:
        cycle, deadline, status = previous.cycle + 1, None, "updated"
    elif proper or previous.deadline is None:
        deadline = compute_deadline(seen_at, deal.expected_close, config.deadline, config.timezone)
        cycle, status = previous.cycle + 1, "updated" if proper else "improper"
    else:
        cycle, deadline, status = previous.cycle, previous.deadline, "improper"

    cycle_started = seen_at if cycle != previous.cycle else previous.cycle_started
    new_state = DealState(deal_id, fp, deal.rep_values, previous.first_seen, seen_at, cycle, cycle_started, deadline)
    return ScannedDeal(deal, deal_id, assigned, status, changed, new_state, amount, weighted, year)  # type: ignore[arg-type]


def _weighted(config: Config, deal: Deal, amount: Decimal) -> Decimal | None:
    """Return weighted sales: Won counts in full, Lost as 0, open deals by their rank."""
    if deal.outcome == "Won":
        return amount
    if deal.outcome == "Lost":
        return Decimal(0)
    if deal.expectation is None:
        return None
    return weighted_sales(amount, config.expectation[deal.expectation], config.fiscal.currency)


def commit_scan(state: State, scan: Scan) -> None:
    """Store the new deal states, rows, deletions, the highest deal number and the history in one transaction."""
    with state.transaction() as db:
        for scanned in scan.deals:
            if scanned.state is not None and scanned.status != "unchanged":
                state.upsert_deal(db, scanned.state)
        for deal_id, row, cells, content_hash in scan.rows_to_store:
            state.store_deal_row(db, deal_id, row, cells, content_hash)
        for deleted in scan.deleted:
            state.mark_deleted(db, deleted.deal_id, deleted.row, scan.now)
        state.add_history(db, scan.history)
        state.set_highest_deal_number(db, scan.highest_number)
