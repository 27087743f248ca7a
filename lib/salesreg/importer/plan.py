"""Decide what an import changes: new rows, updated rows, conflicts, and the Team sheet.

A register row is matched to an export row by the source ID in its Source ID cell. For each
matched row the planner compares three versions of the imported fields, as canonical text:
the record of the last import, the register's current cells and the export's new values.

| register vs record | export vs record | result |
|---|---|---|
| same | same | unchanged |
| same | changed | updated: the cells that differ are overwritten |
| edited | same | kept: the rep's edit stays, nothing to report |
| edited | changed | conflict: the rep's edit stays, and the import reports it |

A register row that already contains the export's values is unchanged in any case. Without a record
(the state file was deleted, or a rep typed the source ID) every difference is a conflict.
A row that has a record but is no longer in the register was deleted there since an earlier
import; it is added again only when the caller asks for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..i18n import _
from ..model import TeamMember
from ..parse import canonical, fold
from .convert import ImportedDeal
from .records import ImportRecord
from .team import TeamEntry


@dataclass(frozen=True)
class RegisterImage:
    """The part of the register's Deals sheet that an import compares with the export."""

    values: dict[int, dict[str, str]]  # Excel row -> imported field -> canonical text of the cell
    rows_by_source_id: dict[str, list[int]]  # source ID -> Excel rows that contain it, in sheet order
    last_row: int  # last row with content or a source ID; new rows go below it


@dataclass(frozen=True)
class NewRow:
    deal: ImportedDeal


@dataclass(frozen=True)
class RowUpdate:
    row: int
    deal: ImportedDeal
    changes: dict[str, Any]  # field -> new cell value, only the cells that differ


@dataclass(frozen=True)
class Conflict:
    row: int
    deal: ImportedDeal
    edited_fields: tuple[str, ...]  # changed in the register since the last import
    export_fields: tuple[str, ...]  # changed in the export since the last import
    has_record: bool


@dataclass(frozen=True)
class TeamFill:
    row: int
    header: str  # "Email", "Manager" or "Office"
    value: str


@dataclass
class TeamPlan:
    additions: list[TeamEntry] = field(default_factory=list)
    fills: list[TeamFill] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    @property
    def writes_office(self) -> bool:
        return any(entry.office for entry in self.additions) or any(fill.header == "Office" for fill in self.fills)


@dataclass
class ImportPlan:
    new_rows: list[NewRow] = field(default_factory=list)
    updates: list[RowUpdate] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    unchanged: int = 0
    kept_edits: int = 0  # edited in the register, unchanged in the export
    deleted: list[str] = field(default_factory=list)  # source IDs imported before, now deleted from the register
    not_in_export: list[str] = field(default_factory=list)  # source IDs in the register only
    records: list[ImportRecord] = field(default_factory=list)  # to store once the register is written
    notices: list[str] = field(default_factory=list)
    team: TeamPlan = field(default_factory=TeamPlan)

    @property
    def changes_register(self) -> bool:
        return bool(self.new_rows or self.updates or self.team.additions or self.team.fills)


def plan_import(
    deals: list[ImportedDeal],
    image: RegisterImage,
    records: dict[str, ImportRecord],
    fields: tuple[str, ...],
    now: datetime,
    add_deleted: bool = False,
) -> ImportPlan:
    """Compare the converted export with the register and the last import; change nothing.

    ``add_deleted`` adds again the rows that were deleted from the register since an earlier
    import; without it they are only listed in ``deleted``.
    """
    plan = ImportPlan()
    for deal in deals:
        new = {name: canonical(deal.values.get(name)) for name in fields}
        rows = image.rows_by_source_id.get(deal.source_id)
        if not rows and deal.source_id in records and not add_deleted:
            plan.deleted.append(deal.source_id)
            continue
        if not rows:
            plan.new_rows.append(NewRow(deal))
            plan.records.append(ImportRecord(deal.source_id, new, deal.location, now))
            continue
        if len(rows) > 1:
            others = ", ".join(str(row) for row in rows[1:])
            plan.notices.append(
                _("Source ID {source_id} is on rows {row} and {others} of the register; the import "
                  "compares and updates row {row} only. Clear the Source ID of the copied rows.").format(
                    source_id=deal.source_id, row=rows[0], others=others)
            )
        _plan_row(plan, deal, rows[0], image.values.get(rows[0], {}), new, records.get(deal.source_id), fields, now)

    exported = {deal.source_id for deal in deals}
    plan.not_in_export = [source_id for source_id in image.rows_by_source_id if source_id not in exported]
    return plan


def _plan_row(
    plan: ImportPlan,
    deal: ImportedDeal,
    row: int,
    cells: dict[str, str],
    new: dict[str, str],
    record: ImportRecord | None,
    fields: tuple[str, ...],
    now: datetime,
) -> None:
    current = {name: cells.get(name, "") for name in fields}
    imported = {name: record.values.get(name, "") for name in fields} if record else None
    refreshed = ImportRecord(deal.source_id, new, deal.location, now)

    if current == new:
        plan.unchanged += 1
        if imported != new:
            plan.records.append(refreshed)
        return
    if imported is not None and current == imported:
        changes = {name: deal.values.get(name) for name in fields if current[name] != new[name]}
        plan.updates.append(RowUpdate(row, deal, changes))
        plan.records.append(refreshed)
        return
    if imported is not None and new == imported:
        plan.kept_edits += 1
        return

    if imported is None:
        # Without a record the import cannot tell who changed what, so it names every difference.
        edited = tuple(name for name in fields if current[name] != new[name])
        changed: tuple[str, ...] = ()
    else:
        edited = tuple(name for name in fields if current[name] != imported[name])
        changed = tuple(name for name in fields if new[name] != imported[name])
    plan.conflicts.append(Conflict(row, deal, edited, changed, has_record=imported is not None))


def plan_team(entries: list[TeamEntry], members: tuple[TeamMember, ...]) -> TeamPlan:
    """Add the people the Team sheet lacks and fill its blank cells; never overwrite a typed cell."""
    plan = TeamPlan()
    by_name = {fold(member.name): member for member in members}
    for entry in entries:
        member = by_name.get(fold(entry.name))
        if member is None:
            plan.additions.append(entry)
            continue
        for header, old, new in (("Email", member.email, entry.email), ("Manager", member.manager, entry.manager),
                                 ("Office", member.office, entry.office)):
            if not new:
                continue
            if not old:
                plan.fills.append(TeamFill(member.row, header, new))
            elif fold(old) != fold(new):
                plan.notices.append(
                    _('Team row {row}, {header}: the register has "{old}" and the team file has "{new}"; '
                      'the register keeps "{old}".').format(row=member.row, header=header, old=old, new=new)
                )
    return plan
