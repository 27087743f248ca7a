"""``salesreg import``: bring a CRM export into the register."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import ExitCode
from ..i18n import _, ngettext
from ..importer import ImportResult, group_problems, load_mapping, run_import, write_problem_report
from .options import dry_run_option, load, now_option, report, resolve_now

EXAMPLES_PER_GROUP = 3
REPORT_NAME = "import-problems.csv"


@click.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--mapping",
    "mapping_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="TOML file that maps the export's columns to register fields (docs/import.md).",
)
@click.option(
    "--report",
    "report_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help=f"CSV file that lists every problem found in the export. Default: {REPORT_NAME} beside the register "
    f"(not written by --dry-run).",
)
@click.option(
    "--add-deleted",
    is_flag=True,
    help="Add again the deals that were deleted from the register since an earlier import (default: leave them out).",
)
@now_option
@dry_run_option
@click.pass_context
def command(
    ctx: click.Context,
    files: tuple[Path, ...],
    mapping_path: Path,
    report_path: Path | None,
    add_deleted: bool,
    now_text: str | None,
    dry_run: bool,
) -> None:
    """Import CRM exports (CSV or .xlsx FILES) into the register as the mapping defines.

    Rows are matched by the export's ID, kept in the register's Source ID column, so a newer
    export updates rows instead of adding them twice. A row that a rep edited since the last
    import keeps the edit, and the conflict is reported. A missing register is created from the
    template. Exits with 1 when the export has problems or conflicts.
    """
    config = load(ctx)
    mapping = load_mapping(mapping_path)
    result = run_import(config, mapping, list(files), resolve_now(now_text, config), dry_run=dry_run, add_deleted=add_deleted)

    if report_path is None and not dry_run:
        report_path = config.register.path.with_name(REPORT_NAME)
    if report_path is not None:
        write_problem_report(report_path, result.problems)

    _report_counts(ctx, result, config.register.path.name, dry_run)
    _report_problems(ctx, result, report_path)
    if not dry_run:
        report(ctx, _("Next: run `salesreg sync` to assign Deal IDs and write the computed columns."))
    ctx.exit(int(ExitCode.PROBLEMS if result.problems else ExitCode.OK))


def _report_counts(ctx: click.Context, result: ImportResult, register: str, dry_run: bool) -> None:
    counts = result.counts
    sources = ", ".join(f"{table.name} ({table.encoding or 'xlsx'})" for table in result.tables)
    if dry_run:
        imported = ngettext(
            "Would import {count} row from {sources} into {register}: {new} new, {updated} updated, {unchanged} "
            "unchanged, {kept} kept a rep's edit, {conflicts} conflicts, {skipped} skipped, {deleted} deleted in the register.",
            "Would import {count} rows from {sources} into {register}: {new} new, {updated} updated, {unchanged} "
            "unchanged, {kept} kept a rep's edit, {conflicts} conflicts, {skipped} skipped, {deleted} deleted in the register.",
            counts["rows"],
        )
    else:
        imported = ngettext(
            "Imported {count} row from {sources} into {register}: {new} new, {updated} updated, {unchanged} "
            "unchanged, {kept} kept a rep's edit, {conflicts} conflicts, {skipped} skipped, {deleted} deleted in the register.",
            "Imported {count} rows from {sources} into {register}: {new} new, {updated} updated, {unchanged} "
            "unchanged, {kept} kept a rep's edit, {conflicts} conflicts, {skipped} skipped, {deleted} deleted in the register.",
            counts["rows"],
        )
    report(
        ctx,
        imported.format(
            count=counts["rows"],
            sources=sources,
            register=register,
            new=counts["new"],
            updated=counts["updated"],
            unchanged=counts["unchanged"],
            kept=counts["kept_edits"],
            conflicts=counts["conflicts"],
            skipped=counts["skipped"],
            deleted=counts["deleted"],
        ),
    )
    team = result.plan.team
    team_line = _("Team sheet: {added} people added, {filled} blank cells filled.")
    report(ctx, team_line.format(added=len(team.additions), filled=len(team.fills)))
    if result.created_register:
        if dry_run:
            created = _("{register} did not exist and would be created from the template.")
        else:
            created = _("{register} did not exist and was created from the template.")
        report(ctx, created.format(register=register))
    for notice in result.notices:
        report(ctx, _("Note: {notice}").format(notice=notice))
    if result.backup:
        report(ctx, _("Previous version kept as {name}.").format(name=result.backup.name))


def _report_problems(ctx: click.Context, result: ImportResult, report_path: Path | None) -> None:
    if not result.problems:
        report(ctx, _("No problems found in the export."))
        return
    count = len(result.problems)
    if report_path:
        heading = ngettext("{count} problem, listed in {path}:", "{count} problems, all listed in {path}:", count)
    else:
        heading = ngettext("{count} problem:", "{count} problems:", count)
    report(ctx, heading.format(count=count, path=report_path))
    for group, problems in group_problems(result.problems).items():
        report(ctx, f"  {len(problems):>6}  {group}")
        for problem in problems[:EXAMPLES_PER_GROUP]:
            report(ctx, f"          {problem.text()}")
        if len(problems) > EXAMPLES_PER_GROUP:
            report(ctx, "          " + _("and {count} more").format(count=len(problems) - EXAMPLES_PER_GROUP))
