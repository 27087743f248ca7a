"""``salesreg sync``: assign Deal IDs and write the computed columns."""

from __future__ import annotations

import click

from ..i18n import _, ngettext
from ..jobs import run_sync
from ..parse import show_list
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
        line = ngettext(
            "Would write {register}: {count} deal, {new} new, {updated} updated properly, {improper} updated "
            "improperly, {ids} Deal IDs assigned, {changed} rows changed, {problems} rows with problems.",
            "Would write {register}: {count} deals, {new} new, {updated} updated properly, {improper} updated "
            "improperly, {ids} Deal IDs assigned, {changed} rows changed, {problems} rows with problems.",
            counts["rows"],
        )
    elif result.written:
        line = ngettext(
            "Wrote {register}: {count} deal, {new} new, {updated} updated properly, {improper} updated "
            "improperly, {ids} Deal IDs assigned, {changed} rows changed, {problems} rows with problems.",
            "Wrote {register}: {count} deals, {new} new, {updated} updated properly, {improper} updated "
            "improperly, {ids} Deal IDs assigned, {changed} rows changed, {problems} rows with problems.",
            counts["rows"],
        )
    else:
        line = ngettext(
            "Nothing to write in {register}: {count} deal, {new} new, {updated} updated properly, {improper} updated "
            "improperly, {ids} Deal IDs assigned, {changed} rows changed, {problems} rows with problems.",
            "Nothing to write in {register}: {count} deals, {new} new, {updated} updated properly, {improper} updated "
            "improperly, {ids} Deal IDs assigned, {changed} rows changed, {problems} rows with problems.",
            counts["rows"],
        )
    report(
        ctx,
        line.format(
            register=config.register.path.name,
            count=counts["rows"],
            new=counts["new"],
            updated=counts["updated"],
            improper=counts["improper"],
            ids=counts["ids_assigned"],
            changed=counts["rows_written"],
            problems=counts["rows_with_problems"],
        ),
    )
    for notice in result.notices:
        report(ctx, _("Note: {notice}").format(notice=notice))
    if dry_run:
        for row, values in sorted(result.changes.items()):
            fields = show_list(config.register.headers[name] for name in values)
            report(ctx, "  " + _("row {row}: {columns}").format(row=row, columns=fields))
    for line in result.problem_lines:
        report(ctx, f"  {line}")
    if result.backup:
        report(ctx, _("Previous version kept as {name}.").format(name=result.backup.name))
