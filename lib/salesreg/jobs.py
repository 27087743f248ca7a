"""The scheduled jobs: validate, sync, remind and summary, each as plan then apply.

The command line calls these functions and formats their results; they never print.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import filelock

from .config import Config
from .errors import WorkbookBusy
from .fields import INFORMATION_FIELDS
from .model import Deal
from .register import RegisterSnapshot, check_not_busy, read_register, write_register
from .remind import DueReminder, RemindResult, plan_reminders, send_reminders
from .mail import Transport, make_transport
from .scan import Scan, commit_scan, scan_register
from .state import State
from .summary_data import HistoryEntry, SummaryData, SummaryDeal
from .sync import plan_changes
from .validate import TeamIndex, check_deal

log = logging.getLogger(__name__)

LOCK_TIMEOUT_SECONDS = 120


@contextmanager
def job_lock(config: Config, dry_run: bool = False) -> Iterator[None]:
    """Keep two salesreg jobs from changing the same state and register at once.

    A dry run changes nothing, so it takes no lock and leaves no lock file behind.
    """
    if dry_run:
        yield
        return
    lock_path = config.state_path.with_name(config.state_path.name + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(str(lock_path), timeout=LOCK_TIMEOUT_SECONDS)
    try:
        try:
            lock.acquire(timeout=0)
        except filelock.Timeout:
            log.warning("Another salesreg job holds %s; waiting up to %d s for it to finish.", lock_path, LOCK_TIMEOUT_SECONDS)
            lock.acquire()
        try:
            yield
        finally:
            lock.release()
    except filelock.Timeout:
        raise WorkbookBusy(
            f"Another salesreg job has held {lock_path} for {LOCK_TIMEOUT_SECONDS} s; nothing was done. "
            f"Run again when it has finished."
        ) from None


@contextmanager
def open_state(config: Config, dry_run: bool = False) -> Iterator[State]:
    """Open the state database; a dry run without one works on an empty one in memory."""
    missing = not config.state_path.exists()
    state = State(Path(":memory:") if dry_run and missing else config.state_path)
    if missing:
        state.path = config.state_path
    try:
        yield state
    finally:
        state.close()


@dataclass
class ValidateResult:
    deals: list[Deal]

    @property
    def problem_count(self) -> int:
        return sum(len(deal.problems) for deal in self.deals)


def run_validate(config: Config, now: datetime) -> ValidateResult:
    """Check every row; write nothing."""
    snapshot = read_register(config)
    team = TeamIndex(snapshot.team)
    today = now.astimezone(config.timezone).date()
    deals = [check_deal(row.row, row.values, config, team, today) for row in snapshot.rows]
    log.info("validate: %d rows checked, %d with problems, %d problems.",
             len(deals), sum(1 for d in deals if d.problems), sum(len(d.problems) for d in deals))
    return ValidateResult(deals)


@dataclass
class SyncResult:
    scan: Scan
    changes: dict[int, dict[str, Any]]
    written: bool
    backup: Path | None = None

    @property
    def counts(self) -> dict[str, int]:
        return {
            "rows": len(self.scan.deals),
            "new": self.scan.count("new"),
            "updated": self.scan.count("updated"),
            "improper": self.scan.count("improper"),
            "ids_assigned": sum(1 for d in self.scan.deals if d.assigned_id),
            "rows_with_problems": self.scan.problem_rows,
            "rows_written": len(self.changes),
        }


def run_sync(config: Config, now: datetime, dry_run: bool = False) -> SyncResult:
    """Scan the register, write new IDs and computed columns, and store the new state."""
    log.info("sync started as of %s%s.", now.isoformat(), " (dry run)" if dry_run else "")
    check_not_busy(config.register.path)
    with job_lock(config, dry_run), open_state(config, dry_run) as state:
        snapshot = read_register(config)
        scan = scan_register(config, snapshot, state, now, assign_ids=True)
        changes = plan_changes(config, snapshot, scan, state.sent_in_cycle())
        result = SyncResult(scan, changes, written=False)
        if dry_run:
            log.info("sync dry run finished: %s.", _format_counts(result.counts))
            return result
        if changes:
            result.backup = write_register(config, snapshot, changes)
            result.written = True
        commit_scan(state, scan)
        state.record_run("sync", now, datetime.now(tz=now.tzinfo), result.counts)
    for notice in scan.notices:
        log.warning(notice)
    log.info("sync finished: %s.", _format_counts(result.counts))
    return result


@dataclass
class RemindRun:
    scan: Scan
    plan: list[DueReminder]
    result: RemindResult | None  # None for a dry run

    @property
    def counts(self) -> dict[str, int]:
        counts = {"deals": len(self.scan.deals), "due": len(self.plan)}
        if self.result:
            counts |= {
                "sent": self.result.sent,
                "failed": self.result.failed,
                "deferred": self.result.deferred,
                "skipped": self.result.skipped,
                "undeliverable": self.result.undeliverable,
            }
        return counts


def run_remind(config: Config, now: datetime, dry_run: bool = False, transport: Transport | None = None) -> RemindRun:
    """Scan the register (reading only), then send each deal's due reminder."""
    log.info("remind started as of %s%s.", now.isoformat(), " (dry run)" if dry_run else "")
    with job_lock(config, dry_run), open_state(config, dry_run) as state:
        snapshot = read_register(config)
        scan = scan_register(config, snapshot, state, now, assign_ids=False)
        if not dry_run:
            commit_scan(state, scan)
        plan = plan_reminders(config, scan, state)
        if dry_run:
            run = RemindRun(scan, plan, None)
            log.info("remind dry run finished: %s.", _format_counts(run.counts))
            return run
        result = send_reminders(config, plan, state, transport or make_transport(config.mail), now)
        run = RemindRun(scan, plan, result)
        state.record_run("remind", now, datetime.now(tz=now.tzinfo), run.counts)
    for notice in scan.notices:
        log.warning(notice)
    untracked = scan.count("untracked")
    if untracked:
        log.warning("%d rows have no Deal ID yet and get no reminders until `salesreg sync` assigns one.", untracked)
    log.info("remind finished: %s.", _format_counts(run.counts))
    return run


def summary_data(config: Config, snapshot: RegisterSnapshot, scan: Scan, state: State, history_days: int = 7) -> SummaryData:
    """Return the summary's input: every tracked deal as of ``scan.now``."""
    sent = state.sent_in_cycle()
    deals = []
    for scanned in scan.deals:
        deal = scanned.deal
        deadline = scanned.deadline
        rep_name = deal.rep.name if deal.rep else (deal.rep_text or "")
        deals.append(
            SummaryDeal(
                deal_id=scanned.deal_id or f"(row {deal.row})",
                row=deal.row,
                customer=deal.customer or "",
                title=deal.title or "",
                rep=rep_name,
                stage=deal.stage or "",
                expected_close=deal.expected_close,
                outcome=deal.outcome or "",
                outcome_reason=deal.outcome_reason or "",
                expectation=deal.expectation or "",
                reviewed_on=deal.reviewed_on,
                competitors=deal.information.get("competitors") or "",
                fy_sales=scanned.fy_sales,
                weighted_sales=scanned.weighted_sales,
                monthly=scanned.monthly,
                deadline=deadline.astimezone(config.timezone) if deadline else None,
                last_updated=scanned.state.last_updated.astimezone(config.timezone) if scanned.state else None,
                reminders_sent=sent.get(scanned.deal_id or "", 0) if scanned.status in ("unchanged", "improper") else 0,
                overdue=bool(deadline and deal.is_open and not deal.is_settled and deadline < scan.now),
                problems=tuple(problem.cell_text() for problem in deal.problems),
                missing_info=tuple(config.register.headers[name] for name in deal.missing_information()),
            )
        )
    headers = config.register.headers
    history = tuple(
        HistoryEntry(at.astimezone(config.timezone), deal_id, headers.get(name, name), old, new)
        for at, deal_id, name, old, new in state.history_since(scan.now - timedelta(days=history_days))
    )
    team = TeamIndex(snapshot.team)
    return SummaryData(
        now=scan.now,
        fiscal_year=scan.fiscal_year,
        currency=config.fiscal.currency,
        reps=tuple(member.name for member in snapshot.team if member.active),
        managers={member.name: member.manager for member in team.members},
        stages=tuple(config.stages),
        ranks=dict(config.expectation),
        information_headers=tuple(headers[name] for name in INFORMATION_FIELDS),
        deals=tuple(deals),
        history=history,
        offices={member.name: member.office for member in team.members if member.office},
    )


@dataclass
class SummaryRun:
    path: Path
    data: SummaryData


def run_summary(config: Config, now: datetime) -> SummaryRun:
    """Write the managers' summary workbook; the register and the state are only read."""
    from .summary import write_summary

    log.info("summary started as of %s.", now.isoformat())
    with open_state(config, dry_run=True) as state:
        snapshot = read_register(config)
        scan = scan_register(config, snapshot, state, now, assign_ids=False)
        data = summary_data(config, snapshot, scan, state)
    write_summary(data, config.summary_path)
    log.info("summary finished: %d deals, written to %s.", len(data.deals), config.summary_path)
    return SummaryRun(config.summary_path, data)


def _format_counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{key.replace('_', ' ')} {value}" for key, value in counts.items())
