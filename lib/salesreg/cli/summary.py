"""``salesreg summary``: write the managers' summary workbook."""

from __future__ import annotations

import click

from ..jobs import run_summary
from .options import report, load, now_option, resolve_now


@click.command("summary")
@now_option
@click.pass_context
def command(ctx: click.Context, now_text: str | None) -> None:
    """Write the summary workbook ([summary] path) with pivots and charts for managers.

    The register and the state are only read, so this runs while reps have the register open.
    """
    config = load(ctx)
    run = run_summary(config, resolve_now(now_text, config))
    report(ctx, f"Wrote {run.path} ({len(run.data.deals)} deals, {run.data.fiscal_year.name}).")
