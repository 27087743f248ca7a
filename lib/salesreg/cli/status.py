"""``salesreg status DEAL_ID``: a deal's deadline, reminder ladder and recent history."""

from __future__ import annotations

import click

from ..jobs import open_state
from ..status import deal_status
from .options import load, now_option, report, resolve_now


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
    fmt = "%Y-%m-%d %H:%M"
    report(ctx, f"Deal {status.deal_id}")
    report(ctx, f"  last updated   {status.last_updated.strftime(fmt)}")
    report(ctx, f"  cycle          {status.cycle}, started {status.cycle_started.strftime(fmt)}")
    if status.deadline is None:
        report(ctx, "  deadline       none (the deal is won or lost with a reason: no reminders)")
    else:
        report(ctx, f"  deadline       {status.deadline.strftime(fmt)} ({config.timezone.key})")
        report(ctx, "Reminder steps:")
        for step in status.steps:
            detail = f"  {step.detail}" if step.detail else ""
            report(ctx, f"  {step.key:<12} {step.due.strftime(fmt)}  {step.status}{detail}")
    report(ctx, "Recent changes:" if status.history else "No recorded changes.")
    for changed_at, name, old, new in status.history:
        header = config.register.headers.get(name, name)
        report(ctx, f"  {changed_at.strftime(fmt)}  {header}: {old!r} -> {new!r}")
