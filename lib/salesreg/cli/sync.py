"""``salesreg sync``: assign Deal IDs and write the computed columns."""

from __future__ import annotations

import click

from ..jobs import run_sync
from .options import report, dry_run_option, load, now_option, resolve_now, terminal_progress


@click.command("sync")
@now_option
@dry_run_option
@click.pass_context
def command(ctx: click.Context, now_text: str | None, dry_run: bool) -> None:
    """Validate every row, assign missing Deal IDs and write the computed columns.

    Also records which rows the reps changed (field-level history) and starts a new update
    deadline for every proper update. Exits with 3 and writes nothing while the workbook is
    open for editing.
    """
    config = load(ctx)
    result = run_sync(config, resolve_now(now_text, config), dry_run=dry_run, reuse_unchanged=True, progress=terminal_progress)
    counts = result.counts
    if dry_run:
        verb = "Would write"
    elif result.written:
        verb = "Wrote"
    else:
        verb = "Nothing to write in"
    report(ctx, 
        f"{verb} {config.register.path.name}: {counts['rows']} deals, {counts['new']} new, "
        f"{counts['updated']} updated properly, {counts['improper']} updated improperly, "
        f"{counts['ids_assigned']} Deal IDs assigned, {counts['rows_written']} rows changed, "
        f"{counts['rows_with_problems']} rows with problems."
    )
    for notice in result.notices:
        report(ctx, f"Note: {notice}")
    if dry_run:
        for row, values in sorted(result.changes.items()):
            fields = ", ".join(config.register.headers[name] for name in values)
            report(ctx, f"  row {row}: {fields}")
    for line in result.problem_lines:
        report(ctx, f"  {line}")
    if result.backup:
        report(ctx, f"Previous version kept as {result.backup.name}.")
