"""Decide which reminder is due for each deal, then record and send it.

Each deal gets at most one e-mail per run: the latest step of its ladder that is due and not
yet recorded for its deadline. Earlier unrecorded steps are recorded as skipped, so a
scheduler that was down sends one catch-up e-mail instead of a burst. A step is recorded as
pending before it is sent, so a run that dies mid-send never sends the same step again.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from typing import Any

from .config import Config
from .deadline import ReminderStep, reminder_steps
from .errors import MailError
from .fields import COLUMN_BY_FIELD
from .mail import Transport, build_message, parse_address, render
from .scan import Scan, ScannedDeal
from .state import State, to_text
from .validate import TeamIndex

log = logging.getLogger(__name__)


@dataclass
class DueReminder:
    scanned: ScannedDeal
    step: ReminderStep
    skipped: list[ReminderStep]
    message_id: str
    to: list[Address] = field(default_factory=list)
    cc: list[Address] = field(default_factory=list)
    undeliverable: str | None = None  # why nobody can receive it

    @property
    def deal_id(self) -> str:
        assert self.scanned.deal_id is not None
        return self.scanned.deal_id


@dataclass
class RemindResult:
    due: list[DueReminder]
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    undeliverable: int = 0
    messages: list[str] = field(default_factory=list)


def message_id(deal_id: str, deadline: datetime, step: str, sender: Address) -> str:
    """Return the deterministic Message-ID of one step of one deadline of one deal."""
    stamp = deadline.strftime("%Y%m%dT%H%M%z")
    return f"<{deal_id}.{stamp}.{step}@{sender.domain or 'salesreg.invalid'}>"


def plan_reminders(config: Config, scan: Scan, state: State) -> list[DueReminder]:
    """Return the reminder due for each deal as of ``scan.now``; changes nothing."""
    sender = parse_address(config.mail.sender)
    ledger = state.ledger()
    plan: list[DueReminder] = []
    for scanned in scan.deals:
        deal_state = scanned.state
        if deal_state is None or deal_state.deadline is None or scanned.deal.is_settled:
            continue
        steps = reminder_steps(deal_state.deadline, config.reminders, config.timezone, until=scan.now)
        if not steps:
            continue
        recorded = ledger.get((scanned.deal_id or "", to_text(deal_state.deadline)), {})
        latest = steps[-1]
        if latest.key in recorded:
            continue
        # A "before" step that fell due before this cycle started is noise right after an update.
        if latest.kind == "before" and latest.due < deal_state.cycle_started:
            continue
        skipped = [step for step in steps[:-1] if step.key not in recorded]
        due = DueReminder(
            scanned=scanned,
            step=latest,
            skipped=skipped,
            message_id=message_id(scanned.deal_id or "", deal_state.deadline, latest.key, sender),
        )
        _address(config, due, scan.team)
        plan.append(due)
    return plan


def _address(config: Config, due: DueReminder, team: TeamIndex) -> None:
    deal = due.scanned.deal
    rep = deal.rep or (team.find(deal.rep_text) if deal.rep_text else None)
    if rep is None or not rep.email:
        who = repr(deal.rep_text) if deal.rep_text else "no rep"
        due.undeliverable = f"the deal has {who}, and no e-mail address for it is on the Team sheet"
        return
    try:
        due.to = [parse_address(f"{rep.name} <{rep.email}>")]
    except MailError as exc:
        due.undeliverable = str(exc)
        return
    cc_from = config.reminders.cc_manager_from_overdue
    if cc_from and due.step.overdue_number >= cc_from and rep.manager:
        manager = team.manager_of(rep)
        text = f"{manager.name} <{manager.email}>" if manager and manager.email else rep.manager
        try:
            due.cc = [parse_address(text)]
        except MailError:
            log.warning("Manager %r of rep %r has no e-mail address; the reminder for %s is not copied.",
                        rep.manager, rep.name, due.deal_id)


def compose(config: Config, due: DueReminder, now: datetime) -> EmailMessage:
    """Return the reminder e-mail for ``due``, rendered in the configured locale."""
    locale = config.mail.locale
    context = reminder_context(config, due)
    subject = " ".join(render(f"{locale}/reminder.subject.txt", context).split())
    return build_message(
        sender=parse_address(config.mail.sender),
        to=due.to,
        cc=due.cc,
        subject=subject,
        text=render(f"{locale}/reminder.txt", context),
        html=render(f"{locale}/reminder.html", context),
        message_id=due.message_id,
        date_header=now,
    )


def reminder_context(config: Config, due: DueReminder) -> dict[str, Any]:
    deal = due.scanned.deal
    deadline = due.scanned.deadline
    assert deadline is not None
    local = deadline.astimezone(config.timezone)
    minutes = abs(int((due.step.due - deadline).total_seconds() // 60))
    return {
        "rep_name": due.to[0].display_name if due.to else (deal.rep_text or ""),
        "deal": {
            "deal_id": due.deal_id,
            "title": deal.title or "",
            "customer": deal.customer or "",
            "stage": deal.stage or "",
            "expected_close": deal.expected_close.isoformat() if deal.expected_close else "",
            "row": deal.row,
        },
        "deadline": local.strftime("%Y-%m-%d %H:%M") + f" ({config.timezone.key})",
        "step": {"key": due.step.key, "before": due.step.kind == "before", "minutes": minutes},
        "problems": [problem.cell_text() for problem in deal.problems],
        "missing": [config.register.headers[name] for name in deal.missing_information()],
        "register": config.register.path.name,
        "sheet": config.register.sheet,
        "cc_manager": bool(due.cc),
    }


def send_reminders(config: Config, plan: list[DueReminder], state: State, transport: Transport, now: datetime) -> RemindResult:
    """Record each due step, send it, and record the result; return the counts."""
    result = RemindResult(due=plan)
    try:
        for due in plan:
            _send_one(config, due, state, transport, now, result)
    finally:
        transport.close()
    return result


def _send_one(config: Config, due: DueReminder, state: State, transport: Transport, now: datetime, result: RemindResult) -> None:
    deadline = due.scanned.deadline
    assert deadline is not None and due.scanned.state is not None
    if due.undeliverable:
        result.undeliverable += 1
        text = f"Row {due.scanned.deal.row}: reminder {due.step.key} for {due.deal_id} not sent: {due.undeliverable}."
        result.messages.append(text)
        log.error(text)
        return

    cycle = due.scanned.state.cycle
    recipients = ", ".join(str(a) for a in due.to + due.cc)
    try:
        with state.transaction() as db:
            for step in due.skipped:
                db.execute(
                    "INSERT OR IGNORE INTO reminders VALUES (?, ?, ?, ?, 'skipped', ?, NULL, NULL, ?, ?)",
                    (due.deal_id, to_text(deadline), step.key, cycle, to_text(step.due), to_text(now), f"superseded by {due.step.key}"),
                )
            db.execute(
                "INSERT INTO reminders VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?, NULL)",
                (due.deal_id, to_text(deadline), due.step.key, cycle, to_text(due.step.due), due.message_id, recipients, to_text(now)),
            )
    except sqlite3.IntegrityError:
        log.info("Reminder %s for %s was already recorded by another run; not sent again.", due.step.key, due.deal_id)
        return
    result.skipped += len(due.skipped)

    message = compose(config, due, now)
    try:
        transport.send(message)
    except MailError:
        _finish(state, due, deadline, "failed", "transport not usable")
        raise
    except Exception as exc:  # noqa: BLE001 - any delivery error fails this message only
        result.failed += 1
        _finish(state, due, deadline, "failed", f"{exc.__class__.__name__}: {exc}")
        text = f"Reminder {due.step.key} for {due.deal_id} to {recipients} failed: {exc}"
        result.messages.append(text)
        log.error(text)
        return
    _finish(state, due, deadline, "sent", None)
    result.sent += 1
    log.info("Sent reminder %s for %s to %s (%s).", due.step.key, due.deal_id, recipients, due.message_id)


def _finish(state: State, due: DueReminder, deadline: datetime, status: str, detail: str | None) -> None:
    with state.transaction() as db:
        db.execute(
            "UPDATE reminders SET status = ?, detail = ? WHERE deal_id = ? AND deadline = ? AND step = ?",
            (status, detail, due.deal_id, to_text(deadline), due.step.key),
        )


def describe(due: DueReminder) -> str:
    """Return one line for the report and for --dry-run."""
    deal = due.scanned.deal
    to = ", ".join(str(a) for a in due.to) or "(nobody)"
    cc = f", cc {', '.join(str(a) for a in due.cc)}" if due.cc else ""
    skipped = f"; skips {', '.join(s.key for s in due.skipped)}" if due.skipped else ""
    header = COLUMN_BY_FIELD["title"].header
    return f"{due.deal_id} (row {deal.row}, {header} {deal.title!r}): {due.step.key} to {to}{cc}{skipped}"
