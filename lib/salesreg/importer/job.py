"""The import job: read the export, plan against the register, then write the register and the records."""

from __future__ import annotations

import dataclasses
import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ..config import Config
from ..i18n import _
from ..jobs import job_lock, open_state
from ..model import TeamMember
from ..parse import fold
from ..register import check_not_busy
from ..template import build_template
from .convert import convert_tables
from .lookup import Lookup, load_lookup
from .mapping import PLACEHOLDER, Mapping, MappingError, check_mapping_against_config
from .plan import Conflict, ImportPlan, plan_import, plan_team
from .problems import SourceProblem
from .records import load_records, store_records
from .source import SourceTable, read_table
from .team import TeamEntry, load_team
from .workbook import build_import, open_register_for_import, save_register

log = logging.getLogger(__name__)


@dataclass
class ImportResult:
    tables: list[SourceTable]
    plan: ImportPlan
    problems: list[SourceProblem]
    skipped_rows: int
    created_register: bool  # the register did not exist and was made from the template
    written: bool
    backup: Path | None = None
    notices: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return {
            "rows": sum(len(table.rows) for table in self.tables),
            "new": len(self.plan.new_rows),
            "updated": len(self.plan.updates),
            "unchanged": self.plan.unchanged,
            "conflicts": len(self.plan.conflicts),
            "kept_edits": self.plan.kept_edits,
            "skipped": self.skipped_rows,
            "deleted": len(self.plan.deleted),
            "problems": len(self.problems),
            "team_added": len(self.plan.team.additions),
        }


def run_import(
    config: Config, mapping: Mapping, files: list[Path], now: datetime, dry_run: bool = False, add_deleted: bool = False
) -> ImportResult:
    """Import ``files`` (CSV or .xlsx exports) into the register as ``mapping`` defines.

    Rows deleted from the register since an earlier import stay deleted unless ``add_deleted``.

    Every file is read and checked before the register is touched, so a file that cannot be
    read stops the import with nothing written. Raises MappingError, SourceFileError,
    WorkbookError or WorkbookBusy (exit status 2 or 3).
    """
    log.info("import started as of %s%s: %s.", now.isoformat(), " (dry run)" if dry_run else "",
             ", ".join(str(path) for path in files))
    check_mapping_against_config(mapping, config)
    _check_id_header(mapping, config)

    lookups = {name: load_lookup(spec, _lookup_columns(mapping, name)) for name, spec in mapping.lookups.items()}
    entries, team_problems = load_team(mapping.team) if mapping.team else ([], [])
    tables = [_read_export(path, mapping) for path in files]
    problems = [problem for lookup in lookups.values() for problem in lookup.table.problems]
    problems += team_problems
    problems += [problem for table in tables for problem in table.problems]

    if not dry_run:
        check_not_busy(config.register.path, config.register.stale_lock_hours)
    with job_lock(config), open_state(config, dry_run) as state, _register(config) as (register_config, created):
        fields = mapping.imported_fields
        target = open_register_for_import(register_config, mapping.source.id_header, fields)
        team_plan = plan_team(entries, target.snapshot.team)
        known_reps = _known_reps(target.snapshot.team, entries)
        conversion = convert_tables(tables, mapping, lookups, config, known_reps)
        problems += conversion.problems

        plan = plan_import(conversion.deals, target.image, load_records(state), fields, now, add_deleted)
        plan.team = team_plan
        problems += [_conflict_problem(conflict, mapping, config) for conflict in plan.conflicts]
        result = ImportResult(tables, plan, problems, conversion.skipped_rows, created, written=False,
                              notices=plan.notices + team_plan.notices + _row_notices(plan, mapping))
        if dry_run:
            log.info("import dry run finished: %s.", _format_counts(result.counts))
            return result
        if plan.changes_register:
            content, layout_notices = build_import(target, plan, register_config, mapping.source.id_header, fields)
            result.notices += layout_notices
            result.backup = save_register(config, target, content, created)
            result.written = True
        store_records(state, plan.records)
    if plan.conflicts:
        log.warning("import: %d rows edited in the register since the last import kept the edit (source IDs %s).",
                    len(plan.conflicts), _some([conflict.deal.source_id for conflict in plan.conflicts]))
    log.info("import finished: %s.", _format_counts(result.counts))
    return result


def _row_notices(plan: ImportPlan, mapping: Mapping) -> list[str]:
    notices = []
    header = mapping.source.id_header
    if plan.deleted:
        text = _(
            "{count} deals imported earlier were deleted from the register and are not added again "
            "({source_ids}); run the import with --add-deleted to bring them back."
        )
        notices.append(text.format(count=len(plan.deleted), source_ids=_some(plan.deleted)))
    if plan.not_in_export:
        text = _(
            "{count} register rows have a {header} that these export files lack ({source_ids}); they are kept as they are."
        )
        notices.append(text.format(count=len(plan.not_in_export), header=header, source_ids=_some(plan.not_in_export)))
    return notices


def _some(source_ids: list[str], limit: int = 5) -> str:
    """Return up to ``limit`` source IDs for a message, and how many more there are."""
    shown = ", ".join(source_ids[:limit])
    if len(source_ids) > limit:
        return _("{source_ids} and {count} more").format(source_ids=shown, count=len(source_ids) - limit)
    return shown


def _conflict_problem(conflict: Conflict, mapping: Mapping, config: Config) -> SourceProblem:
    deal = conflict.deal
    headers = config.register.headers
    edited = ", ".join(headers[name] for name in conflict.edited_fields)
    if conflict.has_record:
        changed = ", ".join(headers[name] for name in conflict.export_fields)
        message = _(
            "register row {row} was edited since the last import ({edited}), and the export changed "
            "{changed}; the register keeps the edit. Compare the two and update the row by hand."
        ).format(row=conflict.row, edited=edited, changed=changed)
    else:
        message = _(
            "register row {row} differs from the export ({edited}), and the state file has no record "
            "of an earlier import to tell who changed it; the register keeps its values."
        ).format(row=conflict.row, edited=edited)
    return SourceProblem(deal.file, deal.line_word, deal.line, mapping.source.id_column, deal.source_id,
                         _("rows edited in the register since the last import (kept)"), message)


def _check_id_header(mapping: Mapping, config: Config) -> None:
    header = mapping.source.id_header
    for name, text in config.register.headers.items():
        if fold(text) == fold(header):
            raise MappingError(
                _("{path}: source.id_header = {header} is the header of the register field {field}; "
                  "choose another header, such as \"Source ID\".").format(path=mapping.path, header=repr(header), field=name)
            )


def _lookup_columns(mapping: Mapping, name: str) -> list[str]:
    """Return the columns of lookup ``name`` that the mapping's fields and templates read."""
    columns: list[str] = []
    pending = [rule.value for rule in mapping.fields.values()]
    while pending:
        spec = pending.pop()
        if spec.lookup == name and spec.column:
            columns.append(spec.column)
        if spec.template:
            for placeholder in PLACEHOLDER.findall(spec.template):
                prefix, _, column = placeholder.partition(".")
                if prefix == name and column:
                    columns.append(column)
        if spec.if_blank:
            pending.append(spec.if_blank)
    return list(dict.fromkeys(columns))


def _read_export(path: Path, mapping: Mapping) -> SourceTable:
    table = read_table(path, mapping.source.options)
    table.require_columns(mapping.export_columns(), _("the mapping"))
    log.info("read %s: %d rows, %s.", path, len(table.rows), table.encoding or "xlsx")
    return table


def _known_reps(members: tuple[TeamMember, ...], entries: list[TeamEntry]) -> set[str]:
    known = {fold(member.name) for member in members} | {fold(member.email) for member in members if member.email}
    known |= {fold(entry.name) for entry in entries} | {fold(entry.email) for entry in entries if entry.email}
    return known


@contextmanager
def _register(config: Config) -> Iterator[tuple[Config, bool]]:
    """Yield the config of the register to read and whether that register is a new template.

    A missing register is built from the template in a temporary folder. The import writes
    the result to the configured path, so a failed import leaves no half-made register there.
    """
    if config.register.path.exists():
        yield config, False
        return
    with tempfile.TemporaryDirectory() as folder:
        temporary = Path(folder) / config.register.path.name
        build_template(temporary, config)
        yield dataclasses.replace(config, register=dataclasses.replace(config.register, path=temporary)), True


def _format_counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{key.replace('_', ' ')} {value}" for key, value in counts.items())
