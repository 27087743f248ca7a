"""``salesreg status DEAL_ID``: a deal's deadline, reminder ladder and recent history."""

from __future__ import annotations

import re

import click

from ..i18n import N_, _, format_datetime
from ..jobs import open_state
from ..status import deal_status
from .options import load, now_option, report, resolve_now

# The states of a reminder step as the state file stores them, and their words in the report.
STEP_STATES = {
    "sent": N_("sent"),
    "skipped": N_("skipped"),
    "failed": N_("failed"),
    "pending": N_("pending"),
    "deferred": N_("deferred"),
    "due": N_("due"),
    "upcoming": N_("upcoming"),
}


@click.command("status")
@click.argument("deal_id")
@now_option
@click.pass_context
def command(ctx: click.Context, deal_id: str, now_text: str | None) -> None:
    """Show DEAL_ID's update deadline and cycle, each reminder step and what happened to it, and its history.

    Step states: sent, skipped (superseded by a later step), failed (refused for good),
    pending (handed to the mail server by a run that did not finish; sent again next run),
    deferred (to be tried again next run), due and upcoming.
    """
    config = load(ctx)
    now = resolve_now(now_text, config)
    with open_state(config, dry_run=True) as state:
        status = deal_status(config, state, deal_id.strip(), now)
    report(ctx, _("Deal {deal_id}").format(deal_id=status.deal_id))
    report(ctx, "  " + _("last updated   {time}").format(time=format_datetime(status.last_updated)))
    cycle = _("cycle          {cycle}, started {time}")
    report(ctx, "  " + cycle.format(cycle=status.cycle, time=format_datetime(status.cycle_started)))
    if status.deadline is None:
        report(ctx, "  " + _("deadline       none (the deal is won or lost with a reason: no reminders)"))
    else:
        deadline = _("deadline       {time} ({zone})")
        report(ctx, "  " + deadline.format(time=format_datetime(status.deadline), zone=config.timezone.key))
        report(ctx, _("Reminder steps:"))
        for step in status.steps:
            detail = f"  {_shown_detail(step.detail)}" if step.detail else ""
            shown = _(STEP_STATES[step.status]) if step.status in STEP_STATES else step.status
            report(ctx, f"  {step.key:<12} {format_datetime(step.due)}  {shown}{detail}")
    report(ctx, _("Recent changes:") if status.history else _("No recorded changes."))
    for changed_at, name, old, new in status.history:
        header = config.register.headers.get(name, name)
        report(ctx, f"  {format_datetime(changed_at)}  {header}: {old!r} -> {new!r}")


def _shown_detail(detail: str) -> str:
    """Return a ledger detail for people: the state keeps it in English, as remind recorded it.

    Only the detail of a skipped step is salesreg's own text; the others quote the SMTP server.
    """
    superseded = re.fullmatch(r"superseded by (\S+)", detail)
    if superseded:
        return _("superseded by {step}").format(step=superseded.group(1))
    return detail
