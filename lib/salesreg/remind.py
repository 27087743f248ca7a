"""Decide which reminder is due for each deal, then record, send and record again.

Each deal gets at most one reminder per run: the latest step of its ladder that is due and not
yet settled for its deadline. Earlier unsettled steps are recorded as skipped, so a scheduler
that was down sends one catch-up e-mail instead of a burst.

Delivery protocol, per message: (1) in one transaction, record the skipped steps and claim the
step as ``pending``; (2) hand the message to the transport; (3) record ``sent``, ``failed``
(permanent refusal) or ``deferred`` (temporary refusal, quota, misconfiguration). Runs hold the
job lock, so no two runs deliver at once. A run that dies between (1) and (3) leaves the step
``pending``, and the next run sends it again with the same Message-ID: a step is never lost,
and the one window in which it can arrive twice (the server accepted it, the process died
before step 3) yields a duplicate that mail clients recognise by its Message-ID.
"""

from __future__ import annotations

import hashlib
import math
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from typing import Any

from .config import Config
from .deadline import ReminderStep, reminder_steps
from .errors import MailError
from .i18n import _, format_date, format_datetime
from .mail import (
    DeliveryError,
    PermanentFailure,
    QuotaExceeded,
    ServerUnavailable,
    Transport,
    build_message,
    one_line,
    parse_address,
    render,
)
from .model import TeamMember
from .progress import Progress, no_progress
from .scan import Scan, ScannedDeal
from .state import State, to_text
from .validate import TeamIndex

log = logging.getLogger(__name__)

SETTLED = ("sent", "skipped", "failed")  # pending and deferred steps are sent again


@dataclass
class DueReminder:
    """The step due for one deal, and who gets it."""

    scanned: ScannedDeal
    step: ReminderStep
    skipped: list[ReminderStep]
    message_id: str
    to: list[Address] = field(default_factory=list)
    cc: list[Address] = field(default_factory=list)
    routed_because: str = ""  # why the reminder goes to someone other than the rep
    undeliverable: str | None = None  # why no recipient could be found

    @property
    def deal_id(self) -> str:
        assert self.scanned.deal_id is not None
        return self.scanned.deal_id

    @property
    def deadline(self) -> datetime:
        deadline = self.scanned.deadline
        assert deadline is not None
        return deadline


@dataclass
class Delivery:
    """One e-mail: a single deal's reminder, or a digest of several for the same recipient."""

    items: list[DueReminder]
    message_id: str

    @property
    def to(self) -> list[Address]:
        return self.items[0].to

    @property
    def cc(self) -> list[Address]:
        seen: dict[str, Address] = {}
        for item in self.items:
            for address in item.cc:
                seen.setdefault(address.addr_spec.lower(), address)
        primary = {address.addr_spec.lower() for address in self.to}
        return [address for key, address in seen.items() if key not in primary]

    def recipients(self) -> str:
        return ", ".join(str(address) for address in self.to + self.cc)


@dataclass
class RemindResult:
    due: list[DueReminder]
    sent: int = 0
    failed: int = 0
    deferred: int = 0
    skipped: int = 0
    undeliverable: int = 0
    stopped: str | None = None  # why sending stopped early in this run
    messages: list[str] = field(default_factory=list)


def message_id(deal_id: str, deadline: datetime, step: str, sender: Address) -> str:
    """Return the deterministic Message-ID of one step of one deadline of one deal."""
    stamp = deadline.strftime("%Y%m%dT%H%M%z")
    return f"<{deal_id}.{stamp}.{step}@{sender.domain or 'salesreg.invalid'}>"


def digest_message_id(items: Sequence[DueReminder], sender: Address) -> str:
    """Return a Message-ID that is the same whenever the same steps are sent together."""
    key = "\n".join(sorted(item.message_id for item in items))
    return f"<digest.{hashlib.sha256(key.encode()).hexdigest()[:20]}@{sender.domain or 'salesreg.invalid'}>"


def needs_sending(latest: ReminderStep, settled: set[str], cycle_started: datetime) -> bool:
    """Return whether a deal's latest due step still needs an e-mail.

    It does not when the ledger settled it, or when it is a "before" step that fell due before
    the deal's cycle started, which would be noise right after an update.
    """
    if latest.key in settled:
        return False
    return not (latest.kind == "before" and latest.due < cycle_started)


def plan_reminders(config: Config, scan: Scan, state: State) -> list[DueReminder]:
    """Return the reminder due for each deal as of ``scan.now``; changes nothing."""
    sender = parse_address(config.mail.sender)
    settled_steps = state.settled_steps(SETTLED)
    ladders: dict[datetime, list[ReminderStep]] = {}  # many deals share a deadline; steps are frozen
    plan: list[DueReminder] = []
    for scanned in scan.deals:
        deal_state = scanned.state
        if deal_state is None or deal_state.deadline is None or scanned.deal.is_settled:
            continue
        steps = ladders.get(deal_state.deadline)
        if steps is None:
            steps = reminder_steps(deal_state.deadline, config.reminders, config.timezone, until=scan.now)
            ladders[deal_state.deadline] = steps
        if not steps:
            continue
        settled = settled_steps.get((scanned.deal_id or "", to_text(deal_state.deadline)), set())
        latest = steps[-1]
        if not needs_sending(latest, settled, deal_state.cycle_started):
            continue
        due = DueReminder(
            scanned=scanned,
            step=latest,
            skipped=[step for step in steps[:-1] if step.key not in settled],
            message_id=message_id(scanned.deal_id or "", deal_state.deadline, latest.key, sender),
        )
        route(config, due, scan.team)
        plan.append(due)
    return plan


def route(config: Config, due: DueReminder, team: TeamIndex) -> None:
    """Set who receives ``due``: the rep, or a manager when the rep cannot act on it."""
    deal = due.scanned.deal
    rep = deal.rep or (team.find(deal.rep_text) if deal.rep_text else None)
    rep_address = _member_address(rep) if rep is not None else None
    if rep is not None and rep.active and rep_address is not None:
        due.to = [rep_address]
        cc_from = config.reminders.cc_manager_from_overdue
        if cc_from and due.step.overdue_number >= cc_from:
            due.cc = _manager_addresses(rep, team)
        return

    # A reason is a clause: the e-mails and the --dry-run lines put "because" before it.
    if rep is None and deal.rep_text:
        reason = _("its rep {rep} is not on the Team sheet").format(rep=repr(deal.rep_text))
    elif rep is None:
        reason = _("it has no rep")
    elif not rep.active:
        reason = _("its rep {rep} is inactive on the Team sheet").format(rep=rep.name)
    else:
        reason = _("its rep {rep} has no valid e-mail address on the Team sheet").format(rep=rep.name)
    fallback = _manager_addresses(rep, team) if rep is not None else []
    if not fallback and config.reminders.unassigned_to:
        fallback = [parse_address(config.reminders.unassigned_to)]
    if not fallback:
        fallback = [address for member in team_managers(team) if (address := _member_address(member))]
    if not fallback:
        due.undeliverable = _("{reason}, and no manager with an e-mail address is on the Team sheet").format(reason=reason)
        return
    due.to = fallback
    due.routed_because = reason


def team_managers(team: TeamIndex) -> list[TeamMember]:
    """Return the members that some other member names as Manager, in sheet order."""
    named = {member.manager for member in team.members if member.manager}
    managers = [member for member in team.members if any(team.find(text) is member for text in named)]
    return managers


def _manager_addresses(rep: TeamMember, team: TeamIndex) -> list[Address]:
    if not rep.manager:
        return []
    manager = team.manager_of(rep)
    text = f"{manager.name} <{manager.email}>" if manager and manager.email else rep.manager
    try:
        return [parse_address(text)]
    except MailError:
        log.warning("Manager %r of rep %r has no e-mail address on the Team sheet.", rep.manager, rep.name)
        return []


def _member_address(member: TeamMember) -> Address | None:
    try:
        return parse_address(f"{member.name} <{member.email}>") if member.email else None
    except MailError:
        return None


def group_deliveries(config: Config, plan: list[DueReminder]) -> list[Delivery]:
    """Return one delivery per reminder, or with ``digest`` one per primary recipient."""
    sender = parse_address(config.mail.sender)
    deliverable = [due for due in plan if not due.undeliverable]
    if not config.reminders.digest:
        return [Delivery([due], due.message_id) for due in deliverable]
    groups: dict[tuple[str, ...], list[DueReminder]] = {}
    for due in deliverable:
        key = tuple(sorted(address.addr_spec.lower() for address in due.to))
        groups.setdefault(key, []).append(due)
    return [
        Delivery(items, items[0].message_id if len(items) == 1 else digest_message_id(items, sender))
        for items in groups.values()
    ]


def compose(config: Config, delivery: Delivery, now: datetime) -> EmailMessage:
    """Return the e-mail of ``delivery``, rendered in the configured locale."""
    locale = config.mail.locale
    override = config.mail.templates
    if len(delivery.items) == 1:
        context = reminder_context(config, delivery.items[0], now)
        name = "reminder"
    else:
        context = digest_context(config, delivery, now)
        name = "digest"
    return build_message(
        sender=parse_address(config.mail.sender),
        to=delivery.to,
        cc=delivery.cc,
        subject=render(f"{locale}/{name}.subject.txt", context, override),
        text=render(f"{locale}/{name}.txt", context, override),
        html=render(f"{locale}/{name}.html", context, override),
        message_id=delivery.message_id,
        date_header=now,
    )


def time_left(deadline: datetime, now: datetime) -> dict[str, Any]:
    """Return the time left until (``before``) or passed since the deadline, in a readable unit.

    Before the deadline the amount is rounded, so 55 minutes reads "an hour". After it, the
    amount is rounded down, so 2 days and 1 hour reads "2 days overdue".
    """
    before = now < deadline
    seconds = abs((deadline - now).total_seconds())
    if before:
        if seconds >= 20 * 3600:
            unit, amount = "day", max(1, round(seconds / 86400))
        elif seconds >= 50 * 60:
            unit, amount = "hour", max(1, round(seconds / 3600))
        else:
            unit, amount = "minute", max(1, math.ceil(seconds / 60))
    elif seconds >= 86400:
        unit, amount = "day", int(seconds // 86400)
    elif seconds >= 3600:
        unit, amount = "hour", int(seconds // 3600)
    else:
        unit, amount = "minute", max(1, int(seconds // 60))
    return {"before": before, "unit": unit, "amount": amount}


def reminder_context(config: Config, due: DueReminder, now: datetime) -> dict[str, Any]:
    """Return the template variables of one deal's reminder sent at ``now``."""
    deal = due.scanned.deal
    local = due.deadline.astimezone(config.timezone)
    problem_headers = {problem.header for problem in deal.problems}
    missing = [config.register.headers[name] for name in deal.missing_information()]
    return {
        "rep_name": one_line(due.to[0].display_name) if due.to and not due.routed_because else one_line(deal.rep_text or ""),
        "recipient_name": one_line(due.to[0].display_name or due.to[0].addr_spec) if due.to else "",
        "routed_because": due.routed_because,
        "deal": {
            "deal_id": due.deal_id,
            "title": one_line(deal.title or ""),
            "customer": one_line(deal.customer or ""),
            "stage": deal.stage or "",
            "expected_close": format_date(deal.expected_close) if deal.expected_close else "",
            "row": deal.row,
        },
        "deadline": f"{format_datetime(local)} ({config.timezone.key})",
        "step": {"key": due.step.key} | time_left(due.deadline, now),
        "problems": [problem.cell_text() for problem in deal.problems],
        "missing": [header for header in missing if header not in problem_headers],
        "register": config.register.path.name,
        "register_link": config.mail.register_link,
        "sheet": config.register.sheet,
        "cc_manager": bool(due.cc),
    }


def digest_context(config: Config, delivery: Delivery, now: datetime) -> dict[str, Any]:
    """Return the template variables of a digest listing several deals."""
    items = [reminder_context(config, due, now) for due in delivery.items]
    first = delivery.to[0]
    return {
        "recipient_name": one_line(first.display_name or first.addr_spec),
        "items": items,
        "overdue": sum(1 for item in items if not item["step"]["before"]),
        "register": config.register.path.name,
        "register_link": config.mail.register_link,
        "sheet": config.register.sheet,
        "cc_manager": bool(delivery.cc),
    }


def send_reminders(
    config: Config,
    plan: list[DueReminder],
    state: State,
    transport: Transport,
    now: datetime,
    progress: Progress = no_progress,
) -> RemindResult:
    """Record, send and record again every due reminder; return the counts.

    Raises MailError (after recording the message as deferred) when the transport is
    misconfigured, so the run stops once with one clear message.
    """
    result = RemindResult(due=plan)
    for due in plan:
        if due.undeliverable:
            result.undeliverable += 1
            text = _("Row {row}: reminder {step} for {deal_id} not sent: {reason}.")
            result.messages.append(
                text.format(row=due.scanned.deal.row, step=due.step.key, deal_id=due.deal_id, reason=due.undeliverable)
            )
            log.error("Row %d: reminder %s for %s not sent: %s.", due.scanned.deal.row, due.step.key, due.deal_id, due.undeliverable)
    try:
        for delivery in progress(group_deliveries(config, plan), _("Sending reminders")):
            if not _deliver(config, delivery, state, transport, now, result):
                break
    finally:
        transport.close()
    return result


def _deliver(config: Config, delivery: Delivery, state: State, transport: Transport, now: datetime, result: RemindResult) -> bool:
    """Send one delivery; return False when sending must stop for this run."""
    delivery.items = _claim(state, delivery, now, result)
    if not delivery.items:
        return True
    message = compose(config, delivery, now)
    deals = ", ".join(f"{item.deal_id} {item.step.key}" for item in delivery.items)
    try:
        transport.send(message)
    except MailError:
        _finish(state, delivery, "deferred", "stopped: mail settings need fixing")
        raise
    except (QuotaExceeded, ServerUnavailable) as exc:
        _finish(state, delivery, "deferred", str(exc))
        result.deferred += len(delivery.items)
        if isinstance(exc, QuotaExceeded):
            stopped = _("the server refused more e-mails for now ({error}); the rest stay due for the next run")
        else:
            stopped = _("{error}; the reminders stay due for the next run")
        result.stopped = stopped.format(error=exc)
        log.error("Reminder %s (%s) to %s deferred, sending stopped: %s", delivery.message_id, deals, delivery.recipients(), exc)
        return False
    except DeliveryError as exc:
        permanent = isinstance(exc, PermanentFailure)
        _finish(state, delivery, "failed" if permanent else "deferred", str(exc))
        if permanent:
            result.failed += len(delivery.items)
        else:
            result.deferred += len(delivery.items)
        outcome = "failed permanently" if permanent else "deferred to the next run"
        log.log(logging.ERROR if permanent else logging.WARNING, "Reminder %s (%s) to %s %s: %s",
                delivery.message_id, deals, delivery.recipients(), outcome, exc)
        if permanent:
            text = _("Reminder {message_id} ({deals}) to {recipients} failed permanently: {error}")
        else:
            text = _("Reminder {message_id} ({deals}) to {recipients} deferred to the next run: {error}")
        result.messages.append(text.format(message_id=delivery.message_id, deals=deals, recipients=delivery.recipients(), error=exc))
        return True
    _finish(state, delivery, "sent", None)
    result.sent += len(delivery.items)
    log.info("Sent reminder %s (%s) to %s.", delivery.message_id, deals, delivery.recipients())
    return True


def _claim(state: State, delivery: Delivery, now: datetime, result: RemindResult) -> list[DueReminder]:
    """Record skipped steps and claim each item's step as pending; return the items claimed."""
    claimed: list[DueReminder] = []
    with state.transaction() as db:
        for item in delivery.items:
            deadline, cycle = to_text(item.deadline), item.scanned.state.cycle if item.scanned.state else 0
            for step in item.skipped:
                db.execute(
                    """INSERT INTO reminders VALUES (?, ?, ?, ?, 'skipped', ?, NULL, NULL, ?, ?)
                       ON CONFLICT (deal_id, deadline, step) DO UPDATE SET status = 'skipped',
                         recorded_at = excluded.recorded_at, detail = excluded.detail
                       WHERE reminders.status IN ('pending', 'deferred')""",
                    (item.deal_id, deadline, step.key, cycle, to_text(step.due), to_text(now), f"superseded by {item.step.key}"),
                )
                result.skipped += 1
            cursor = db.execute(
                """INSERT INTO reminders VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?, NULL)
                   ON CONFLICT (deal_id, deadline, step) DO UPDATE SET status = 'pending',
                     message_id = excluded.message_id, recipients = excluded.recipients,
                     recorded_at = excluded.recorded_at
                   WHERE reminders.status IN ('pending', 'deferred')""",
                (item.deal_id, deadline, item.step.key, cycle, to_text(item.step.due), delivery.message_id,
                 delivery.recipients(), to_text(now)),
            )
            if cursor.rowcount == 1:
                claimed.append(item)
            else:
                log.info("Reminder %s for %s is already settled; not sent again.", item.step.key, item.deal_id)
    return claimed


def _finish(state: State, delivery: Delivery, status: str, detail: str | None) -> None:
    with state.transaction() as db:
        for item in delivery.items:
            db.execute(
                "UPDATE reminders SET status = ?, detail = ? WHERE deal_id = ? AND deadline = ? AND step = ?",
                (status, detail, item.deal_id, to_text(item.deadline), item.step.key),
            )


def describe(due: DueReminder) -> str:
    """Return one line for the report and for --dry-run."""
    deal = due.scanned.deal
    if due.undeliverable:
        text = _("{deal_id} (row {row}): {step} to nobody: {reason}")
        return text.format(deal_id=due.deal_id, row=deal.row, step=due.step.key, reason=due.undeliverable)
    # The optional parts are appended to the line, each with its own punctuation.
    cc = _(", cc {addresses}").format(addresses=", ".join(str(a) for a in due.cc)) if due.cc else ""
    routed = _(" (because {reason})").format(reason=due.routed_because) if due.routed_because else ""
    skipped = _("; skips {steps}").format(steps=", ".join(s.key for s in due.skipped)) if due.skipped else ""
    text = _("{deal_id} (row {row}, {title}): {step} to {to}{cc}{routed}{skipped}")
    return text.format(
        deal_id=due.deal_id,
        row=deal.row,
        title=repr(one_line(deal.title or "")),
        step=due.step.key,
        to=", ".join(str(a) for a in due.to),
        cc=cc,
        routed=routed,
        skipped=skipped,
    )
