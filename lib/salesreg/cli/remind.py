"""``salesreg remind``: send the due reminder e-mails."""

from __future__ import annotations

import click

from ..errors import ExitCode
from ..jobs import run_remind
from ..errors import MailError
from ..mail import DeliveryError, SmtpTransport
from ..remind import describe
from .options import dry_run_option, load, now_option, plural, report, resolve_now, terminal_progress


@click.command("remind")
@now_option
@dry_run_option
@click.option("--check-smtp", is_flag=True, help="Only connect to [mail.smtp], negotiate TLS and log in; send nothing.")
@click.pass_context
def command(ctx: click.Context, now_text: str | None, dry_run: bool, check_smtp: bool) -> None:
    """Send each deal's due reminder: at most one e-mail per deal per run.

    The ladder comes from [reminders]; steps that were missed while no run happened are
    recorded as skipped, and only the latest due step is sent. Exits with 1 when an e-mail
    failed, was deferred to the next run, or had no recipient.
    """
    config = load(ctx)
    if check_smtp:
        if config.mail.transport != "smtp":
            report(ctx, f"[mail] transport is {config.mail.transport!r}: e-mails are written to {config.mail.outbox}; no SMTP to check.")
            return
        try:
            lines = SmtpTransport(config.mail.smtp).check()
        except DeliveryError as exc:
            raise MailError(str(exc)) from None
        for line in lines:
            report(ctx, line)
        return

    run = run_remind(config, resolve_now(now_text, config), dry_run=dry_run, progress=terminal_progress, reuse_unchanged=True)
    smtp = config.mail.smtp
    where = f"outbox {config.mail.outbox}" if config.mail.transport == "outbox" else f"SMTP {smtp.host}:{smtp.port}"
    for notice in run.scan.notices:
        report(ctx, f"Note: {notice}")
    if dry_run:
        count = sum(1 for due in run.plan if not due.undeliverable)
        report(ctx, f"Would send {plural(count, 'reminder')} through {where}" + (":" if run.plan else "."))
        for due in run.plan:
            report(ctx, f"  {describe(due)}")
        return
    result = run.result
    assert result is not None
    report(
        ctx,
        f"Sent {plural(result.sent, 'reminder')} through {where}; {result.failed} failed, {result.deferred} deferred "
        f"to the next run, {result.undeliverable} had no recipient, {plural(result.skipped, 'earlier step')} skipped.",
    )
    if result.stopped:
        report(ctx, f"Sending stopped: {result.stopped}.")
    for line in result.messages:
        report(ctx, f"  {line}")
    problems = result.failed or result.deferred or result.undeliverable
    ctx.exit(int(ExitCode.PROBLEMS if problems else ExitCode.OK))
