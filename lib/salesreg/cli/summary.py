"""``salesreg summary``: write the managers' summary workbook, print it, e-mail it."""

from __future__ import annotations

import click

from ..errors import ExitCode
from ..i18n import _, ngettext
from ..jobs import mail_summary, run_summary
from ..summary_data import fiscal_year_label
from .options import load, now_option, report, resolve_now, terminal_progress


@click.command("summary")
@now_option
@click.option("--print", "print_tables", is_flag=True, help="Also print the key tables on the terminal (also with -q).")
@click.option("--mail", is_flag=True, help="Also e-mail the workbook to the managers on the Team sheet through [mail] transport.")
@click.pass_context
def command(ctx: click.Context, now_text: str | None, print_tables: bool, mail: bool) -> None:
    """Write the summary workbook ([summary] path) with pivots and charts for managers.

    The register and the state are only read, so this runs while reps have the register open.
    With --mail, the managers are the Team members named in another member's Manager column,
    and Manager cells that are e-mail addresses. Exits with 1 when the e-mail failed, or when
    a manager could not get it: a manager without Email, or a Manager cell that is neither a
    Name on the Team sheet nor an e-mail address.
    """
    config = load(ctx)
    run = run_summary(config, resolve_now(now_text, config), progress=terminal_progress)
    count = len(run.data.deals)
    wrote = ngettext("Wrote {path} ({count} deal, {fiscal_year}).", "Wrote {path} ({count} deals, {fiscal_year}).", count)
    report(ctx, wrote.format(path=run.path, count=count, fiscal_year=fiscal_year_label(run.data.fiscal_year)))
    if print_tables:
        # pandas loads only when the summary runs, which keeps the other commands quick to start.
        from ..summary import format_summary

        click.echo()
        click.echo(format_summary(run.data, run.tables), nl=False)
    if not mail:
        return

    result = mail_summary(config, run)
    where = f"outbox {config.mail.outbox}" if config.mail.transport == "outbox" else f"SMTP {config.mail.smtp.host}"
    if result.sent:
        recipients = ", ".join(str(address) for address in result.recipients)
        report(ctx, _("Sent the summary to {recipients} through {where}.").format(recipients=recipients, where=where))
    else:
        report(ctx, _("The summary was not e-mailed through {where}.").format(where=where))
    for problem in result.problems:
        report(ctx, f"  {problem}")
    ctx.exit(int(ExitCode.OK if result.complete else ExitCode.PROBLEMS))
