"""Put a deal that was deleted from the register back as a new row.

Every scan keeps the last cells of each deal's row in the state (``deal_rows``). Restoring
writes those cells, with the deal's own ID, into the first row below the last deal; the next
sync fills the computed columns again. A deal known only from a state made before salesreg
kept whole rows gets back its rep-edited columns.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from .atomic import RegisterChanged
from .config import Config
from .errors import SalesregError, WorkbookError
from .fields import COLUMN_BY_FIELD
from .i18n import _
from .jobs import RETRY_PAUSE_SECONDS, WRITE_ATTEMPTS, job_lock, open_state
from .parse import clean_text
from .register import check_not_busy, read_register, with_backup_hint, write_register
from .scan import STORED_FIELDS, format_deal_id
from .state import State

log = logging.getLogger(__name__)

MAX_LISTED_IDS = 10  # deleted deals named in the message for an unknown ID
DATE_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}$")  # how the state keeps a date of a rep field


class RestoreError(SalesregError):
    """The deal cannot be restored: unknown to the state, or still in the register."""


@dataclass
class RestoreResult:
    deal_id: str
    row: int  # the Excel row the deal was written to
    backup: Path | None
    rep_columns_only: bool  # the state had only the rep-edited columns of this deal


def normalize_deal_id(text: str) -> str:
    """Return ``text`` as a Deal ID: "D-000123", "d-123" and "123" all give D-000123."""
    cleaned = text.strip().upper()
    digits = re.fullmatch(r"(?:D-?)?(\d+)", cleaned)
    if digits:
        return format_deal_id(int(digits.group(1)))
    return cleaned


def run_restore(config: Config, deal_id: str, now: datetime) -> RestoreResult:
    """Write the last stored cells of ``deal_id`` into a new row and mark the deal as present.

    Raise RestoreError when the deal is not in the state or still in the register. Raise
    WorkbookBusy when the register is locked or keeps being saved; nothing is written then.
    """
    deal_id = normalize_deal_id(deal_id)
    path = config.register.path
    check_not_busy(path, config.register.stale_lock_hours)
    with job_lock(config), open_state(config) as state:
        cells, rep_columns_only = _last_cells(state, deal_id)
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                snapshot = read_register(config)
            except WorkbookError as exc:
                raise with_backup_hint(exc, path) from None
            present = [row.row for row in snapshot.rows if clean_text(row.values.get("deal_id")) == deal_id]
            if present:
                raise RestoreError(
                    _("Deal {deal_id} is already in row {row} of {register}; nothing was restored.").format(
                        deal_id=deal_id, row=present[0], register=path.name
                    )
                )
            row = snapshot.last_row + 1
            try:
                backup = write_register(config, snapshot, {row: cells})
                break
            except RegisterChanged:
                if attempt == WRITE_ATTEMPTS:
                    raise
                log.warning("%s was saved by someone else during restore; reading it again.", path)
                time.sleep(RETRY_PAUSE_SECONDS * attempt)
        with state.transaction() as db:
            # An empty hash makes the next scan store the cells as that scan reads them.
            state.store_deal_row(db, deal_id, row, cells, content_hash="")
            state.add_history(db, [(deal_id, "row", "deleted", str(row), now)])
    log.info("Restored deal %s to row %d of %s.", deal_id, row, path)
    return RestoreResult(deal_id, row, backup, rep_columns_only)


def _last_cells(state: State, deal_id: str) -> tuple[dict[str, Any], bool]:
    """Return the cells to write for ``deal_id`` and whether only the rep's columns were known."""
    content = state.deal_content(deal_id)
    if content:
        cells = {name: value for name, value in content.items() if name in STORED_FIELDS}
        cells["deal_id"] = deal_id
        return cells, False
    known = state.deals().get(deal_id)
    if known is None:
        deleted = sorted(
            (stored.deleted_at, name) for name, stored in state.deal_rows().items() if stored.deleted_at is not None
        )
        listed = ", ".join(name for _when, name in deleted[-MAX_LISTED_IDS:]) or _("none")
        raise RestoreError(
            _(
                "Deal {deal_id} is not in the state file {path}, so there is nothing to restore; only deals "
                "that a sync has seen can be restored. Recently deleted deals: {deleted}."
            ).format(deal_id=deal_id, path=state.path, deleted=listed)
        )
    cells = {name: _typed_value(name, text) for name, text in known.rep_values.items() if text}
    cells["deal_id"] = deal_id
    return cells, True


def _typed_value(name: str, text: str) -> Any:
    """Turn the canonical text that the state keeps for a rep field back into a cell value."""
    kind = COLUMN_BY_FIELD[name].kind
    if kind == "date" and DATE_TEXT.match(text):
        return date.fromisoformat(text)
    if kind in ("money", "count"):
        try:
            number = Decimal(text)
        except InvalidOperation:
            return text
        return int(number) if number == number.to_integral_value() else float(number)
    return text
