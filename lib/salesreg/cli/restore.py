"""``salesreg restore``: put a deleted deal back into the register."""

from __future__ import annotations

from datetime import datetime

import click

from ..i18n import _
from ..restore import run_restore
from .options import load, report


@click.command("restore")
@click.argument("deal_id")
@click.pass_context
def command(ctx: click.Context, deal_id: str) -> None:
    """Put the deal DEAL_ID (for example D-000123) back into the register as a new row.

    The row gets the cells the deal had when a sync last saw it, below the last deal. The
    next sync fills its computed columns again. Exits with 2 when the deal is not in the
    state file or still in the register, and with 3, writing nothing, while the workbook is
    open for editing.
    """
    config = load(ctx)
    result = run_restore(config, deal_id, datetime.now(tz=config.timezone))
    restored = _("Restored {deal_id} to row {row} of {register}; the next sync fills its computed columns.")
    report(ctx, restored.format(deal_id=result.deal_id, row=result.row, register=config.register.path.name))
    if result.rep_columns_only:
        report(ctx, _("Note: the state kept only the rep's columns of this deal, so the manager's columns are empty."))
    if result.backup:
        report(ctx, _("Previous version kept as {name}.").format(name=result.backup.name))
