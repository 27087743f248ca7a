"""``salesreg import``: bring a CRM export into the register."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import ExitCode
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
        report(ctx, "Next: run `salesreg sync` to assign Deal IDs and write the computed columns.")
    ctx.exit(int(ExitCode.PROBLEMS if result.problems else ExitCode.OK))


def _report_counts(ctx: click.Context, result: ImportResult, register: str, dry_run: bool) -> None:
    counts = result.counts
    sources = ", ".join(f"{table.name} ({table.encoding or 'xlsx'})" for table in result.tables)
    verb = "Would import" if dry_run else "Imported"
    report(
        ctx,
        f"{verb} {counts['rows']} rows from {sources} into {register}: {counts['new']} new, "
        f"{counts['updated']} updated, {counts['unchanged']} unchanged, {counts['kept_edits']} kept a rep's edit, "
        f"{counts['conflicts']} conflicts, {counts['skipped']} skipped, {counts['deleted']} deleted in the register.",
    )
    team = result.plan.team
    report(ctx, f"Team sheet: {len(team.additions)} people added, {len(team.fills)} blank cells filled.")
    if result.created_register:
        report(ctx, f"{register} did not exist and {'would be' if dry_run else 'was'} created from the template.")
    for notice in result.notices:
        report(ctx, f"Note: {notice}")
    if result.backup:
        report(ctx, f"Previous version kept as {result.backup.name}.")


def _report_problems(ctx: click.Context, result: ImportResult, report_path: Path | None) -> None:
    if not result.problems:
        report(ctx, "No problems found in the export.")
        return
    where = f", all listed in {report_path}" if report_path else ""
    report(ctx, f"{len(result.problems)} problems{where}:")
    for group, problems in group_problems(result.problems).items():
        report(ctx, f"  {len(problems):>6}  {group}")
        for problem in problems[:EXAMPLES_PER_GROUP]:
            report(ctx, f"          {problem.text()}")
        if len(problems) > EXAMPLES_PER_GROUP:
            report(ctx, f"          and {len(problems) - EXAMPLES_PER_GROUP} more")
