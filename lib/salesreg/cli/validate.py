"""``salesreg validate``: check every row and list the problems."""

from __future__ import annotations

import click

from ..errors import ExitCode
from ..i18n import ngettext
from ..jobs import run_validate
from .options import report, load, now_option, resolve_now


@click.command("validate")
@now_option
@click.pass_context
def command(ctx: click.Context, now_text: str | None) -> None:
    """Check every row of the register and list its problems; write nothing.

    Exits with 1 when any row has a problem.
    """
    config = load(ctx)
    result = run_validate(config, resolve_now(now_text, config))
    bad_rows = [deal for deal in result.deals if deal.problems]
    checked = ngettext(
        "{register}, sheet {sheet}: {count} row checked, {problems} with problems.",
        "{register}, sheet {sheet}: {count} rows checked, {problems} with problems.",
        len(result.deals),
    )
    report(
        ctx,
        checked.format(
            register=config.register.path.name, sheet=config.register.sheet, count=len(result.deals), problems=len(bad_rows)
        ),
    )
    for deal in bad_rows:
        for problem in deal.problems:
            report(ctx, problem.report_text())
    ctx.exit(int(ExitCode.PROBLEMS if bad_rows else ExitCode.OK))
