"""Plan the cells ``sync`` writes: new Deal IDs and the computed columns of every row."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from .config import Config
from .money import to_cell
from .parse import EXCEL_CELL_LIMIT, canonical
from .register import RegisterSnapshot
from .scan import Scan, ScannedDeal


def computed_values(config: Config, scanned: ScannedDeal, reminders_sent: int) -> dict[str, Any]:
    """Return the value of every computed column of one deal, as the cell should hold it."""
    currency = config.fiscal.currency
    state = scanned.state
    problems = "\n".join(problem.cell_text() for problem in scanned.deal.problems)
    if len(problems) > EXCEL_CELL_LIMIT:
        problems = problems[: EXCEL_CELL_LIMIT - 1] + "…"
    return {
        "fy_sales": to_cell(scanned.fy_sales, currency),
        "weighted_sales": None if scanned.weighted_sales is None else to_cell(scanned.weighted_sales, currency),
        "deadline": _local_minute(state.deadline, config) if state and state.deadline else None,
        "last_updated": _local_minute(state.last_updated, config) if state else None,
        "reminders_sent": reminders_sent,
        "problems": problems or None,
    }


def _local_minute(moment: datetime, config: Config) -> datetime:
    """Return ``moment`` as a naive local time to the minute, since Excel cells carry no zone."""
    return moment.astimezone(config.timezone).replace(tzinfo=None, second=0, microsecond=0)


def plan_changes(config: Config, snapshot: RegisterSnapshot, scan: Scan, sent_in_cycle: dict[str, int]) -> dict[int, dict[str, Any]]:
    """Return Excel row -> field -> new value for every cell whose content differs."""
    current = {row.row: row.values for row in snapshot.rows}
    changes: dict[int, dict[str, Any]] = {}
    for scanned in scan.deals:
        if scanned.deal_id is None:
            continue
        unchanged_cycle = scanned.state is not None and scanned.status in ("unchanged", "improper")
        sent = sent_in_cycle.get(scanned.deal_id, 0) if unchanged_cycle else 0
        wanted = computed_values(config, scanned, sent)
        if scanned.assigned_id:
            wanted["deal_id"] = scanned.deal_id
        before = current.get(scanned.deal.row, {})
        row_changes = {name: value for name, value in wanted.items() if not _same(before.get(name), value)}
        if row_changes:
            changes[scanned.deal.row] = row_changes
    return changes


def _same(old: Any, new: Any) -> bool:
    if old is None or new is None:
        return (old is None or old == "") and (new is None or new == "")
    if isinstance(new, (int, float, Decimal)) and isinstance(old, (int, float, Decimal)) and not isinstance(old, bool):
        return Decimal(repr(old) if isinstance(old, float) else old) == Decimal(repr(new) if isinstance(new, float) else new)
    if isinstance(new, datetime) and isinstance(old, datetime):
        # Excel stores times as fractions of a day, so 18:00 can read back as 17:59:59.9999.
        return (old + timedelta(seconds=30)).replace(second=0, microsecond=0) == new
    return canonical(old) == canonical(new)
