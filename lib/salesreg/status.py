"""One deal's reminder state: its deadline, its ladder with what happened to each step, its history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .config import Config
from .deadline import reminder_steps
from .errors import SalesregError
from .i18n import _
from .state import State, to_text


@dataclass(frozen=True)
class StepStatus:
    key: str
    due: datetime
    status: str  # sent, skipped, failed, pending, deferred, due (not yet sent) or upcoming
    detail: str


@dataclass(frozen=True)
class DealStatus:
    deal_id: str
    last_updated: datetime
    cycle: int
    cycle_started: datetime
    deadline: datetime | None
    steps: tuple[StepStatus, ...]
    history: tuple[tuple[datetime, str, str, str], ...]  # changed_at, field, old, new


def deal_status(config: Config, state: State, deal_id: str, now: datetime, history_limit: int = 20) -> DealStatus:
    """Return the stored deadline, ladder and history of ``deal_id`` as of ``now``.

    Raises SalesregError when the state has no record of the deal.
    """
    known = state.deals().get(deal_id)
    if known is None:
        raise SalesregError(
            _("Deal {deal_id} is not in the state {path}; check the Deal ID, or run `salesreg sync` first.").format(
                deal_id=deal_id, path=state.path
            )
        )
    steps: list[StepStatus] = []
    if known.deadline is not None:
        recorded = state.ledger().get((deal_id, to_text(known.deadline)), {})
        horizon = max(now, known.deadline) + timedelta(days=400)
        for step in reminder_steps(known.deadline, config.reminders, config.timezone, until=horizon):
            entry = recorded.get(step.key)
            if entry is not None:
                status, detail = entry.status, entry.detail or entry.recipients or ""
            else:
                status, detail = ("due" if step.due <= now else "upcoming"), ""
            steps.append(StepStatus(step.key, step.due.astimezone(config.timezone), status, detail))
            if step.due > now:
                break
    rows = state.db.execute(
        "SELECT changed_at, field, old, new FROM history WHERE deal_id = ? ORDER BY id DESC LIMIT ?",
        (deal_id, history_limit),
    ).fetchall()
    history = tuple(
        (datetime.fromisoformat(r["changed_at"]).astimezone(config.timezone), r["field"], r["old"], r["new"]) for r in rows
    )
    return DealStatus(
        deal_id=deal_id,
        last_updated=known.last_updated.astimezone(config.timezone),
        cycle=known.cycle,
        cycle_started=known.cycle_started.astimezone(config.timezone),
        deadline=known.deadline.astimezone(config.timezone) if known.deadline else None,
        steps=tuple(steps),
        history=history,
    )
