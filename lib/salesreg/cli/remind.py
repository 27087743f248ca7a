"""``salesreg remind``: send the due reminder e-mails."""

from __future__ import annotations

import click

from ..errors import ExitCode
from ..jobs import run_remind
from ..errors import MailError
from ..mail import DeliveryError, SmtpTransport
from ..i18n import _, ngettext
from ..remind import describe
from .options import dry_run_option, load, now_option, report, resolve_now, terminal_progress


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
            text = _("[mail] transport is {transport}: e-mails are written to {outbox}; no SMTP to check.")
            report(ctx, text.format(transport=repr(config.mail.transport), outbox=config.mail.outbox))
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
    # The transport as [mail] transport names it, so it stays English in every locale.
    where = f"outbox {config.mail.outbox}" if config.mail.transport == "outbox" else f"SMTP {smtp.host}:{smtp.port}"
    for notice in run.scan.notices:
        report(ctx, _("Note: {notice}").format(notice=notice))
    if dry_run:
        count = sum(1 for due in run.plan if not due.undeliverable)
        if run.plan:
            text = ngettext("Would send {count} reminder through {where}:", "Would send {count} reminders through {where}:", count)
        else:
            text = ngettext("Would send {count} reminder through {where}.", "Would send {count} reminders through {where}.", count)
        report(ctx, text.format(count=count, where=where))
        for due in run.plan:
            report(ctx, f"  {describe(due)}")
        return
    result = run.result
    assert result is not None
    sent = ngettext(
        "Sent {count} reminder through {where}; {failed} failed, {deferred} deferred to the next run, "
        "{undeliverable} had no recipient, earlier steps skipped: {skipped}.",
        "Sent {count} reminders through {where}; {failed} failed, {deferred} deferred to the next run, "
        "{undeliverable} had no recipient, earlier steps skipped: {skipped}.",
        result.sent,
    )
    report(
        ctx,
        sent.format(
            count=result.sent,
            where=where,
            failed=result.failed,
            deferred=result.deferred,
            undeliverable=result.undeliverable,
            skipped=result.skipped,
        ),
    )
    if result.stopped:
        report(ctx, _("Sending stopped: {reason}.").format(reason=result.stopped))
    for line in result.messages:
        report(ctx, f"  {line}")
    problems = result.failed or result.deferred or result.undeliverable
    ctx.exit(int(ExitCode.PROBLEMS if problems else ExitCode.OK))
