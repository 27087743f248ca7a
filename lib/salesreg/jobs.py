"""The scheduled jobs: validate, sync, remind and summary, each as plan then apply.

The command line calls these functions and formats their results; they never print.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.headerregistry import Address
from pathlib import Path
from typing import Any

import filelock

from . import __version__
from .config import Config
from .atomic import RegisterChanged
from .errors import MailError, WorkbookBusy, WorkbookError
from .fields import INFORMATION_FIELDS
from .i18n import _, in_config_locale
from .model import Deal, TeamMember
from .progress import Progress, no_progress
from .register import (
    RegisterSnapshot,
    check_not_busy,
    read_formula_cells,
    read_register,
    register_digest,
    with_backup_hint,
    write_register,
)
from .deadline import ReminderStep, latest_reminder_step
from .remind import SETTLED, DueReminder, RemindResult, needs_sending, plan_reminders, send_reminders
from .mail import DeliveryError, Transport, make_transport, parse_address
from .scan import Scan, commit_scan, scan_register
from .state import State, to_text
from .summary_data import RECENT_CHANGE_DAYS, HistoryEntry, SummaryData, SummaryDeal
from .sync import plan_changes, plan_settings
from .fiscal import fiscal_year_of
from .validate import TeamIndex, check_deal

log = logging.getLogger(__name__)

LOCK_TIMEOUT_SECONDS = 120
# Reads and writes of one sync before it gives up on a register that others keep saving.
WRITE_ATTEMPTS = 3
RETRY_PAUSE_SECONDS = 0.5  # before the second attempt; twice that before the third


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
            _("Another salesreg job has held {path} for {seconds} s; nothing was done. Run again when it has finished.").format(
                path=lock_path, seconds=LOCK_TIMEOUT_SECONDS
            )
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


@in_config_locale
def run_validate(config: Config, now: datetime) -> ValidateResult:
    """Check every row; write nothing."""
    snapshot = read_register(config)
    team = TeamIndex(snapshot.team)
    today = now.astimezone(config.timezone).date()
    deals = [check_deal(row.row, row.values, config, team, today, headers=snapshot.headers) for row in snapshot.rows]
    log.info("validate: %d rows checked, %d with problems, %d problems.",
             len(deals), sum(1 for d in deals if d.problems), sum(len(d.problems) for d in deals))
    return ValidateResult(deals)


# The meta key under which a sync stores what a later sync of the same inputs would report.
LAST_SYNC_KEY = "last_sync"


@dataclass
class SyncResult:
    scan: Scan | None  # None when the run reused the last sync's result (see run_sync)
    changes: dict[int, dict[str, Any]]
    written: bool
    backup: Path | None = None
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)  # sheet -> coordinate -> value
    reused: dict[str, Any] | None = None  # the stored result of the last sync, when this run reused it

    @property
    def notices(self) -> list[str]:
        return self.scan.notices if self.scan is not None else []

    @property
    def problem_lines(self) -> list[str]:
        """Return the report line of every problem, row by row."""
        if self.scan is None:
            assert self.reused is not None
            return [line for lines in self.reused["problems"] for line in lines]
        return [problem.report_text() for scanned in self.scan.deals for problem in scanned.deal.problems]

    @property
    def counts(self) -> dict[str, int]:
        if self.scan is None:
            assert self.reused is not None
            return {
                "rows": self.reused["rows"],
                "new": 0,
                "updated": 0,
                "improper": 0,
                "ids_assigned": 0,
                "rows_with_problems": sum(1 for lines in self.reused["problems"] if lines),
                "rows_written": 0,
            }
        return {
            "rows": len(self.scan.deals),
            "new": self.scan.count("new"),
            "updated": self.scan.count("updated"),
            "improper": self.scan.count("improper"),
            "ids_assigned": sum(1 for d in self.scan.deals if d.assigned_id),
            "rows_with_problems": self.scan.problem_rows,
            "rows_written": len(self.changes),
        }


@in_config_locale
def run_sync(
    config: Config,
    now: datetime,
    dry_run: bool = False,
    reuse_unchanged: bool = False,
    progress: Progress = no_progress,
) -> SyncResult:
    """Scan the register, write new IDs and computed columns, and store the new state.

    When someone saves the register between this run's read and its write, the write is
    dropped and the register read again, up to WRITE_ATTEMPTS times. After that the run
    raises RegisterChanged (exit status 3) and stores nothing.

    With ``reuse_unchanged``, a run whose inputs are those of the last sync (see
    _sync_inputs) neither reads nor writes the register: it returns the last sync's counts
    and problems, which a full run would find again, with ``scan`` None.
    """
    log.info("sync started as of %s%s.", now.isoformat(), " (dry run)" if dry_run else "")
    path = config.register.path
    check_not_busy(path, config.register.stale_lock_hours)
    first_snapshot: RegisterSnapshot | None = None
    if not config.state_path.exists():
        # A first run checks the register before it creates the state, so a bad file leaves nothing behind.
        # The first attempt below uses this read; read_formula_cells and write_register raise
        # RegisterChanged when the file changed since.
        try:
            first_snapshot = read_register(config)
        except WorkbookError as exc:
            raise with_backup_hint(exc, path) from None
    with job_lock(config, dry_run), open_state(config, dry_run) as state:
        if reuse_unchanged and not dry_run and not state.created:
            reused = _reusable_sync(config, state, now)
            if reused is not None:
                result = SyncResult(None, {}, written=False, reused=reused)
                state.record_run("sync", now, datetime.now(tz=now.tzinfo), result.counts)
                log.info("sync finished without reading the register, which is unchanged since the last sync: %s.",
                         _format_counts(result.counts))
                return result
        written_digests: list[str] = []
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                snapshot = first_snapshot or read_register(config)
            except WorkbookError as exc:
                raise with_backup_hint(exc, path) from None
            first_snapshot = None
            try:
                # Read right after the snapshot, so that a save in between is less likely.
                formulas = read_formula_cells(config, snapshot)
                scan = scan_register(config, snapshot, state, now, assign_ids=True, track_deletions=True, progress=progress)
                changes = plan_changes(config, snapshot, scan, state.sent_in_cycle(), formulas)
                settings = plan_settings(config, scan.today, formulas)
                result = SyncResult(scan, changes, written=False, settings=settings)
                if dry_run or not (changes or settings):
                    break
                if settings:
                    log.info("The fiscal year turned; writing the Settings cells %s.", settings)
                # The write needs no cell values of the read, and on a large register they take
                # about 1 KB per row, so they are let go before the write's own memory peak.
                snapshot = dataclasses.replace(snapshot, rows=())
                del formulas
                result.backup = write_register(config, snapshot, changes, settings, written_digests)
            except RegisterChanged:
                if attempt == WRITE_ATTEMPTS:
                    raise RegisterChanged(
                        _("{path} was saved by someone else {count} times while sync ran; nothing was written. Run again later.").format(
                            path=path, count=WRITE_ATTEMPTS
                        )
                    ) from None
                log.warning("%s was saved by someone else during sync; reading it again (attempt %d of %d).",
                            path, attempt + 1, WRITE_ATTEMPTS)
                time.sleep(RETRY_PAUSE_SECONDS * attempt)
                continue
            result.written = True
            break
        if dry_run:
            log.info("sync dry run finished: %s.", _format_counts(result.counts))
            return result
        commit_scan(state, scan)
        state.record_run("sync", now, datetime.now(tz=now.tzinfo), result.counts)
        _store_sync(config, state, now, snapshot, scan, written_digests[-1] if result.written else snapshot.digest)
    for notice in scan.notices:
        log.warning(notice)
    log.info("sync finished: %s.", _format_counts(result.counts))
    return result


def _config_digest(config: Config) -> str:
    # The config file's own path is left out, because cron may name it absolutely and a
    # person relatively.
    settings = repr(dataclasses.replace(config, source=None))
    if config.source is not None:
        # Paths count relative to the config's folder, so that a copied or moved folder of
        # config, register and state still matches. Only the file name of the register is
        # in the reports.
        settings = settings.replace(str(config.source.resolve().parent), "<config folder>")
    return hashlib.sha256(settings.encode()).hexdigest()


def _sync_inputs(config: Config, state: State, now: datetime, register: str) -> str:
    """Return a digest of everything a sync's result depends on, given the register's SHA-256.

    That is the register's bytes, the configuration, the local date (problems such as an
    Expected close in the past, and the fiscal year), the deal states and the reminders sent
    in each deal's cycle, and the salesreg version. Any scan that changes a deal adds a deal,
    a history entry or a deal number, which change_marks counts.
    """
    inputs = {
        "remind": _remind_inputs(config, state, register),  # the version, register, config and deal states
        "today": now.astimezone(config.timezone).date().isoformat(),
        "sent": sorted(state.sent_in_cycle().items()),
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def _store_sync(config: Config, state: State, now: datetime, snapshot: RegisterSnapshot, scan: Scan, register: str) -> None:
    """Store what a sync of the register now saved (SHA-256 ``register``) would report.

    A scan of the register this sync wrote finds the same problems, except a problem in the
    Deal ID column of a row that got a new ID: the copied ID it names, or a formula there,
    is gone. Then nothing is stored, and the next sync reads the register in full.
    """
    deal_id_headers = {config.register.headers["deal_id"], snapshot.headers.get("deal_id")}
    problems: list[list[str]] = []
    for scanned in scan.deals:
        if scanned.assigned_id and any(problem.header in deal_id_headers for problem in scanned.deal.problems):
            with state.transaction() as db:
                db.execute("DELETE FROM meta WHERE key = ?", (LAST_SYNC_KEY,))
            return
        problems.append([problem.report_text() for problem in scanned.deal.problems])
    stored = {
        "inputs": _sync_inputs(config, state, now, register),
        "remind_inputs": _remind_inputs(config, state, register),
        "rows": len(scan.deals),
        "problems": problems,
    }
    with state.transaction() as db:
        state.set_meta(db, LAST_SYNC_KEY, json.dumps(stored, ensure_ascii=False))


def _remind_inputs(config: Config, state: State, register: str) -> str:
    """Return a digest of what decides whether a deal of an unchanged register gets a reminder.

    On the register's bytes as the last sync left them, every deal scans as unchanged, so its
    deadline and cycle start are those in the state, and a deal without a deadline is Won or
    Lost with a reason. The local date and the ledger are read by the remind itself.
    """
    inputs = {
        "version": __version__,
        "register": register,
        "config": _config_digest(config),
        "state": state.change_marks(),
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class _DueInUnchanged:
    """The deals with a reminder due in a register that is as the last sync left it."""

    register: str  # SHA-256 of the register's bytes
    deal_count: int
    deal_ids: set[str]


def _due_in_unchanged(config: Config, state: State, now: datetime) -> _DueInUnchanged | None:
    """Return the deals with a reminder due, or None when the register changed since the last sync.

    On the unchanged register, every deal scans as unchanged, so the state's deadline and
    cycle start decide what plan_reminders finds due, by the same tests.
    """
    text = state.meta(LAST_SYNC_KEY)
    if text is None:
        return None
    stored: dict[str, Any] = json.loads(text)
    register = register_digest(config.register.path)
    if register is None or stored.get("remind_inputs") != _remind_inputs(config, state, register):
        return None
    settled_steps = state.settled_steps(SETTLED)
    due: set[str] = set()
    latest_steps: dict[datetime, ReminderStep | None] = {}  # many deals share a deadline
    for deal_id, deadline, cycle_started in state.open_deadlines():
        if deadline not in latest_steps:
            latest_steps[deadline] = latest_reminder_step(deadline, config.reminders, config.timezone, until=now)
        latest = latest_steps[deadline]
        if latest is None:
            continue
        settled = settled_steps.get((deal_id, to_text(deadline)), set())
        if needs_sending(latest, settled, cycle_started):
            due.add(deal_id)
    return _DueInUnchanged(register, int(stored["rows"]), due)


def _reusable_sync(config: Config, state: State, now: datetime) -> dict[str, Any] | None:
    """Return the last sync's stored result when this sync's inputs are the same, else None."""
    text = state.meta(LAST_SYNC_KEY)
    if text is None:
        return None
    register = register_digest(config.register.path)
    if register is None:
        return None  # the full read reports why the file cannot be read
    stored: dict[str, Any] = json.loads(text)
    if stored.get("inputs") != _sync_inputs(config, state, now, register):
        return None
    return stored


@dataclass
class RemindRun:
    scan: Scan  # without deals when the run did not read the register (see run_remind)
    plan: list[DueReminder]
    result: RemindResult | None  # None for a dry run
    deal_count: int | None = None  # the register's deals, when the run did not read the register

    @property
    def counts(self) -> dict[str, int]:
        deals = len(self.scan.deals) if self.deal_count is None else self.deal_count
        counts = {"deals": deals, "due": len(self.plan)}
        if self.result:
            counts |= {
                "sent": self.result.sent,
                "failed": self.result.failed,
                "deferred": self.result.deferred,
                "skipped": self.result.skipped,
                "undeliverable": self.result.undeliverable,
            }
        return counts


@in_config_locale
def run_remind(
    config: Config,
    now: datetime,
    dry_run: bool = False,
    transport: Transport | None = None,
    progress: Progress = no_progress,
    reuse_unchanged: bool = False,
) -> RemindRun:
    """Scan the register (reading only), then send each deal's due reminder.

    With ``reuse_unchanged``, a run on a register that is as the last sync left it (see
    _due_in_unchanged) checks only the rows of the deals with a reminder due, and does not
    read the register when there are none. Its scan lists only those deals, and
    ``RemindRun.deal_count`` gives the register's count.
    """
    log.info("remind started as of %s%s.", now.isoformat(), " (dry run)" if dry_run else "")
    with job_lock(config, dry_run), open_state(config, dry_run) as state:
        unchanged = _due_in_unchanged(config, state, now) if reuse_unchanged and not dry_run and not state.created else None
        if unchanged is not None and not unchanged.deal_ids:
            zone = config.timezone
            year = fiscal_year_of(now.astimezone(zone), config.fiscal.start_month, config.fiscal.label)
            empty = Scan(now=now, today=now.astimezone(zone).date(), fiscal_year=year, team=TeamIndex(()), deals=[])
            run = RemindRun(empty, [], RemindResult(due=[]), unchanged.deal_count)
            state.record_run("remind", now, datetime.now(tz=now.tzinfo), run.counts)
            log.info("remind finished without reading the register, which is unchanged since the last sync: %s.",
                     _format_counts(run.counts))
            return run
        snapshot = read_register(config)
        deal_count = None
        only_ids = None
        # A save between the check above and this read shows as another digest: then every row is checked.
        if unchanged is not None and snapshot.digest == unchanged.register:
            deal_count, only_ids = unchanged.deal_count, unchanged.deal_ids
        scan = scan_register(config, snapshot, state, now, assign_ids=False, progress=progress, only_ids=only_ids)
        if not dry_run:
            commit_scan(state, scan)
        plan = plan_reminders(config, scan, state)
        if dry_run:
            run = RemindRun(scan, plan, None)
            log.info("remind dry run finished: %s.", _format_counts(run.counts))
            return run
        result = send_reminders(config, plan, state, transport or make_transport(config.mail), now, progress)
        run = RemindRun(scan, plan, result, deal_count)
        state.record_run("remind", now, datetime.now(tz=now.tzinfo), run.counts)
    for notice in scan.notices:
        log.warning(notice)
    untracked = scan.count("untracked")
    if untracked:
        log.warning("%d rows have no Deal ID yet and get no reminders until `salesreg sync` assigns one.", untracked)
    log.info("remind finished: %s.", _format_counts(run.counts))
    return run


def summary_data(
    config: Config, snapshot: RegisterSnapshot, scan: Scan, state: State, history_days: int = RECENT_CHANGE_DAYS
) -> SummaryData:
    """Return the summary's input: every tracked deal as of ``scan.now``, and ``history_days`` days of history."""
    sent = state.sent_in_cycle()
    deals = []
    for scanned in scan.deals:
        deal = scanned.deal
        deadline = scanned.deadline
        rep_name = deal.rep.name if deal.rep else (deal.rep_text or "")
        deals.append(
            SummaryDeal(
                deal_id=scanned.deal_id or _("(row {row})").format(row=deal.row),
                row=deal.row,
                customer=deal.customer or "",
                title=deal.title or "",
                rep=rep_name,
                stage=deal.stage or "",
                expected_close=deal.expected_close,
                outcome=deal.outcome or "",
                outcome_reason=deal.outcome_reason or "",
                # The register has no close date, so a Won or Lost deal closed on its Expected close.
                closed_on=deal.expected_close if deal.outcome else None,
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
    # A manager is no rep, so a manager without deals gets no row in the rep tables. A manager
    # who has deals still gets one, as any rep text on a deal does.
    managers = set()
    for member in team.members:
        manager = team.manager_of(member)
        if manager is not None and manager is not member:
            managers.add(manager.name)

    return SummaryData(
        now=scan.now,
        fiscal_year=scan.fiscal_year,
        currency=config.fiscal.currency,
        reps=tuple(member.name for member in snapshot.team if member.active and member.name not in managers),
        managers={member.name: member.manager for member in team.members},
        stages=tuple(config.stages),
        ranks=dict(config.expectation),
        information_headers=tuple(headers[name] for name in INFORMATION_FIELDS),
        deals=tuple(deals),
        history=history,
        history_days=history_days,
        offices={member.name: member.office for member in team.members if member.office},
    )


@dataclass
class SummaryRun:
    path: Path
    data: SummaryData
    tables: dict[str, Any]  # table name -> pandas DataFrame, as summary_tables returns them
    team: tuple[TeamMember, ...]


@in_config_locale
def run_summary(config: Config, now: datetime, progress: Progress = no_progress) -> SummaryRun:
    """Write the managers' summary workbook; the register and the state are only read."""
    # pandas and XlsxWriter load only for this job, which keeps the other commands quick to start.
    from .summary import summary_tables, write_summary

    log.info("summary started as of %s.", now.isoformat())
    with open_state(config, dry_run=True) as state:
        snapshot = read_register(config)
        scan = scan_register(config, snapshot, state, now, assign_ids=False, progress=progress)
        data = summary_data(config, snapshot, scan, state)
    tables = summary_tables(data)
    write_summary(data, config.summary_path, tables)
    log.info("summary finished: %d deals, written to %s.", len(data.deals), config.summary_path)
    return SummaryRun(config.summary_path, data, tables, snapshot.team)


@dataclass
class SummaryMailResult:
    recipients: list[Address]
    sent: bool
    problems: list[str] = field(default_factory=list)  # managers who got no e-mail, and why; a failed delivery

    @property
    def complete(self) -> bool:
        """Return True when the e-mail went out and every manager on the Team sheet was among its recipients."""
        return self.sent and not self.problems


@in_config_locale
def mail_summary(config: Config, run: SummaryRun, transport: Transport | None = None) -> SummaryMailResult:
    """Send the summary workbook of ``run`` to the managers on the Team sheet in one e-mail.

    A delivery error of the message (including an SMTP server that cannot be reached) is
    logged and returned as a failure. ``MailError`` (wrong mail settings, for example a failed
    SMTP login) is logged and raised.
    """
    from .summary import compose_summary_mail, summary_recipients

    found = summary_recipients(run.team)
    for problem in found.problems:
        log.warning("%s", problem)
    result = SummaryMailResult(list(found.addresses), sent=False, problems=list(found.problems))
    if not found.addresses:
        log.error("The summary was not e-mailed: no manager with an e-mail address is on the %s sheet.", config.register.team_sheet)
        text = _(
            "The summary was not e-mailed: no manager with an e-mail address is on the {sheet} sheet. "
            "Name each rep's manager in the Manager column and give the manager an Email."
        )
        result.problems.append(text.format(sheet=config.register.team_sheet))
        return result

    sender = parse_address(config.mail.sender)
    message = compose_summary_mail(
        run.data, run.tables, run.path, sender, found.addresses, config.mail.locale, config.mail.templates
    )
    recipients = ", ".join(str(address) for address in found.addresses)
    transport = transport or make_transport(config.mail)
    try:
        transport.send(message)
    except MailError as exc:
        log.error("Summary e-mail %s to %s failed: %s", message["Message-ID"], recipients, exc)
        raise
    except (DeliveryError, OSError) as exc:
        log.error("Summary e-mail %s to %s failed: %s", message["Message-ID"], recipients, exc)
        text = _("Summary e-mail {message_id} to {recipients} failed: {error}")
        result.problems.append(text.format(message_id=message["Message-ID"], recipients=recipients, error=exc))
        return result
    finally:
        transport.close()
    result.sent = True
    log.info("Sent summary e-mail %s to %s.", message["Message-ID"], recipients)
    return result


def _format_counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{key.replace('_', ' ')} {value}" for key, value in counts.items())
