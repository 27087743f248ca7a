"""``salesreg remind``: send the due reminder e-mails."""

from __future__ import annotations

import click

from ..errors import ExitCode
from ..jobs import run_remind
from ..remind import describe
from .options import report, dry_run_option, load, now_option, resolve_now


@click.command("remind")
@now_option
@dry_run_option
@click.pass_context
def command(ctx: click.Context, now_text: str | None, dry_run: bool) -> None:
    """Send each deal's due reminder: at most one e-mail per deal per run.

    The ladder comes from [reminders]; steps that were missed while no run happened are
    recorded as skipped, and only the latest due step is sent. Exits with 1 when an
    e-mail failed or had nobody to go to.
    """
    config = load(ctx)
    run = run_remind(config, resolve_now(now_text, config), dry_run=dry_run)
    where = "outbox " + str(config.mail.outbox) if config.mail.transport == "outbox" else f"SMTP {config.mail.smtp.host}"
    if dry_run:
        report(ctx, f"Would send {len(run.plan)} reminders through {where}:")
        for due in run.plan:
            report(ctx, f"  {describe(due)}")
        return
    result = run.result
    assert result is not None
    report(ctx, 
        f"Sent {result.sent} reminders through {where}; {result.failed} failed, "
        f"{result.undeliverable} had no recipient, {result.skipped} earlier steps skipped."
    )
    for line in result.messages:
        report(ctx, f"  {line}")
    ctx.exit(int(ExitCode.PROBLEMS if result.failed or result.undeliverable else ExitCode.OK))
