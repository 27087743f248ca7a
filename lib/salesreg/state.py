"""The SQLite state beside the register: what the workbook cannot hold.

Per deal: the fingerprint and canonical values of the rep-edited fields, the last update, the
current reminder cycle and its deadline. A ledger of reminder steps keyed by deal, deadline and
step, so a step is recorded once. Field-level history. The last cells of every deal's row,
so that a deal deleted from the register can be put back. Times are stored as UTC ISO-8601 text.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS deals (
    deal_id TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    rep_values TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_updated TEXT NOT NULL,
    cycle INTEGER NOT NULL,
    cycle_started TEXT NOT NULL,
    deadline TEXT
);
CREATE TABLE IF NOT EXISTS reminders (
    deal_id TEXT NOT NULL,
    deadline TEXT NOT NULL,
    step TEXT NOT NULL,
    cycle INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'skipped', 'failed', 'deferred')),
    due TEXT NOT NULL,
    message_id TEXT,
    recipients TEXT,
    recorded_at TEXT NOT NULL,
    detail TEXT,
    PRIMARY KEY (deal_id, deadline, step)
);
CREATE TABLE IF NOT EXISTS history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    deal_id TEXT NOT NULL,
    field TEXT NOT NULL,
    old TEXT,
    new TEXT,
    changed_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS history_by_time ON history (changed_at);
CREATE TABLE IF NOT EXISTS deal_rows (
    deal_id TEXT PRIMARY KEY,
    row INTEGER NOT NULL,
    content TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    deleted_at TEXT
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    command TEXT NOT NULL,
    as_of TEXT NOT NULL,
    started_at TEXT NOT NULL,
    counts TEXT
);
"""


@dataclass(frozen=True)
class StoredRow:
    row: int  # the Excel row where a scan last saw the deal
    content_hash: str
    deleted_at: datetime | None  # when a sync first missed the deal; None while it is in the register


def encode_cells(values: dict[str, Any]) -> str:
    """Return cell values as JSON that keeps their types: [kind, text] per field."""
    encoded: dict[str, list[str]] = {}
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool):
            encoded[name] = ["bool", "1" if value else "0"]
        elif isinstance(value, int):
            encoded[name] = ["int", str(value)]
        elif isinstance(value, float):
            encoded[name] = ["float", repr(value)]
        elif isinstance(value, datetime):
            encoded[name] = ["datetime", value.isoformat()]
        elif isinstance(value, date):
            encoded[name] = ["date", value.isoformat()]
        elif isinstance(value, time):
            encoded[name] = ["time", value.isoformat()]
        else:
            encoded[name] = ["text", str(value)]
    return json.dumps(encoded, ensure_ascii=False, sort_keys=True)


def decode_cells(text: str) -> dict[str, Any]:
    """Return the cell values that ``encode_cells`` stored."""
    readers: dict[str, Any] = {
        "bool": lambda value: value == "1",
        "int": int,
        "float": float,
        "datetime": datetime.fromisoformat,
        "date": date.fromisoformat,
        "time": time.fromisoformat,
        "text": str,
    }
    return {name: readers[kind](value) for name, (kind, value) in json.loads(text).items()}


def to_text(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to the state store")
    return moment.astimezone(timezone.utc).isoformat()


def from_text(text: str) -> datetime:
    return datetime.fromisoformat(text)


@dataclass(frozen=True)
class DealState:
    deal_id: str
    fingerprint: str
    rep_values: dict[str, str]
    first_seen: datetime
    last_updated: datetime
    cycle: int
    cycle_started: datetime
    deadline: datetime | None


@dataclass(frozen=True)
class LedgerEntry:
    deal_id: str
    deadline: datetime
    step: str
    cycle: int
    status: str
    due: datetime
    message_id: str | None
    recipients: str | None
    recorded_at: datetime
    detail: str | None


class State:
    """An open state database. Use ``transaction()`` for every change."""

    def __init__(self, path: Path) -> None:
        self.path = path
        in_memory = str(path) == ":memory:"
        self.created = in_memory or not path.exists()
        if not in_memory:
            path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path), timeout=30, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)
        self.db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run a block in one write transaction; roll back on any exception."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # deals

    def deals(self, only: set[str] | None = None, with_rep_values: bool = True) -> dict[str, DealState]:
        """Return every deal's state, or those of the deal IDs in ``only``.

        Without ``with_rep_values``, each state's ``rep_values`` is empty, which saves about
        2 KB per deal; ``rep_values`` reads them for one deal.
        """
        rows = self.db.execute("SELECT * FROM deals").fetchall()
        return {
            row["deal_id"]: _deal_state(row, with_rep_values) for row in rows if only is None or row["deal_id"] in only
        }

    def rep_values(self, deal_id: str) -> dict[str, str]:
        """Return the stored canonical values of a deal's rep fields, or {} for an unknown deal."""
        row = self.db.execute("SELECT rep_values FROM deals WHERE deal_id = ?", (deal_id,)).fetchone()
        return dict(json.loads(row["rep_values"])) if row else {}

    def upsert_deal(self, db: sqlite3.Connection, deal: DealState) -> None:
        db.execute(
            """INSERT INTO deals VALUES (?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (deal_id) DO UPDATE SET fingerprint = excluded.fingerprint,
                 rep_values = excluded.rep_values, last_updated = excluded.last_updated,
                 cycle = excluded.cycle, cycle_started = excluded.cycle_started,
                 deadline = excluded.deadline""",
            (
                deal.deal_id,
                deal.fingerprint,
                json.dumps(deal.rep_values, ensure_ascii=False, sort_keys=True),
                to_text(deal.first_seen),
                to_text(deal.last_updated),
                deal.cycle,
                to_text(deal.cycle_started),
                to_text(deal.deadline) if deal.deadline else None,
            ),
        )

    # the last content of each deal's row, kept so that a deleted deal can be restored

    def deal_rows(self) -> dict[str, StoredRow]:
        rows = self.db.execute("SELECT deal_id, row, content_hash, deleted_at FROM deal_rows").fetchall()
        return {
            row["deal_id"]: StoredRow(row["row"], row["content_hash"], from_text(row["deleted_at"]) if row["deleted_at"] else None)
            for row in rows
        }

    def deal_content(self, deal_id: str) -> dict[str, Any] | None:
        """Return the last stored cells (field -> value) of a deal's row, or None."""
        row = self.db.execute("SELECT content FROM deal_rows WHERE deal_id = ?", (deal_id,)).fetchone()
        return decode_cells(row["content"]) if row else None

    def store_deal_row(self, db: sqlite3.Connection, deal_id: str, row: int, content: dict[str, Any], content_hash: str) -> None:
        """Store the row and cells where a deal is now; this also marks it as present in the register."""
        db.execute(
            """INSERT INTO deal_rows VALUES (?, ?, ?, ?, NULL)
               ON CONFLICT (deal_id) DO UPDATE SET row = excluded.row, content = excluded.content,
                 content_hash = excluded.content_hash, deleted_at = NULL""",
            (deal_id, row, encode_cells(content), content_hash),
        )

    def mark_deleted(self, db: sqlite3.Connection, deal_id: str, row: int, at: datetime) -> None:
        """Record that a deal is no longer in the register; a deal without stored cells gets an empty row."""
        db.execute(
            """INSERT INTO deal_rows VALUES (?, ?, '{}', '', ?)
               ON CONFLICT (deal_id) DO UPDATE SET deleted_at = excluded.deleted_at""",
            (deal_id, row, to_text(at)),
        )

    # meta values

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row["value"]) if row else None

    def set_meta(self, db: sqlite3.Connection, key: str, value: str) -> None:
        db.execute("INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))

    def change_marks(self) -> tuple[int, int, int]:
        """Return (deals, last history entry id, highest deal number): these grow whenever a scan changes a deal."""
        deals = self.db.execute("SELECT COUNT(*) FROM deals").fetchone()[0]
        history = self.db.execute("SELECT COALESCE(MAX(id), 0) FROM history").fetchone()[0]
        return int(deals), int(history), self.highest_deal_number()

    # deal numbers

    def highest_deal_number(self) -> int:
        row = self.db.execute("SELECT value FROM meta WHERE key = 'highest_deal_number'").fetchone()
        return int(row["value"]) if row else 0

    def set_highest_deal_number(self, db: sqlite3.Connection, number: int) -> None:
        db.execute(
            "INSERT INTO meta VALUES ('highest_deal_number', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (str(number),),
        )

    # history

    def add_history(self, db: sqlite3.Connection, entries: list[tuple[str, str, str, str, datetime]]) -> None:
        db.executemany(
            "INSERT INTO history (deal_id, field, old, new, changed_at) VALUES (?, ?, ?, ?, ?)",
            [(deal_id, name, old, new, to_text(at)) for deal_id, name, old, new, at in entries],
        )

    def history_since(self, since: datetime) -> list[tuple[datetime, str, str, str, str]]:
        rows = self.db.execute(
            "SELECT changed_at, deal_id, field, old, new FROM history WHERE changed_at >= ? ORDER BY changed_at DESC, id DESC",
            (to_text(since),),
        ).fetchall()
        return [(from_text(r["changed_at"]), r["deal_id"], r["field"], r["old"], r["new"]) for r in rows]

    # reminder ledger

    def ledger(self) -> dict[tuple[str, str], dict[str, LedgerEntry]]:
        """Return the ledger grouped by (deal ID, deadline text) and then by step."""
        grouped: dict[tuple[str, str], dict[str, LedgerEntry]] = {}
        for row in self.db.execute("SELECT * FROM reminders").fetchall():
            entry = _ledger_entry(row)
            grouped.setdefault((entry.deal_id, row["deadline"]), {})[entry.step] = entry
        return grouped

    def settled_steps(self, statuses: tuple[str, ...]) -> dict[tuple[str, str], set[str]]:
        """Return the steps recorded with one of ``statuses``, by (deal ID, deadline text).

        Lighter than ``ledger``: a remind reads every step ever skipped, which are hundreds of
        thousands on a large register after some months.
        """
        marks = ", ".join("?" for _ in statuses)
        steps: dict[tuple[str, str], set[str]] = {}
        query = f"SELECT deal_id, deadline, step FROM reminders WHERE status IN ({marks})"
        for deal_id, deadline, step in self.db.execute(query, statuses):
            steps.setdefault((deal_id, deadline), set()).add(step)
        return steps

    def open_deadlines(self) -> list[tuple[str, datetime, datetime]]:
        """Return (deal ID, deadline, cycle start) of every deal with a deadline that is not marked deleted."""
        rows = self.db.execute(
            """SELECT d.deal_id, d.deadline, d.cycle_started FROM deals d
               LEFT JOIN deal_rows r ON r.deal_id = d.deal_id
               WHERE d.deadline IS NOT NULL AND r.deleted_at IS NULL"""
        )
        return [(deal_id, from_text(deadline), from_text(started)) for deal_id, deadline, started in rows]

    def sent_in_cycle(self) -> dict[str, int]:
        """Return how many reminders each deal was sent in its current cycle."""
        rows = self.db.execute(
            """SELECT r.deal_id, COUNT(*) AS sent FROM reminders r JOIN deals d
               ON r.deal_id = d.deal_id AND r.cycle = d.cycle
               WHERE r.status IN ('sent', 'pending') GROUP BY r.deal_id"""
        ).fetchall()
        return {row["deal_id"]: row["sent"] for row in rows}

    def record_run(self, command: str, as_of: datetime, started_at: datetime, counts: dict[str, int]) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO runs (command, as_of, started_at, counts) VALUES (?, ?, ?, ?)",
                (command, to_text(as_of), to_text(started_at), json.dumps(counts, sort_keys=True)),
            )


def _deal_state(row: sqlite3.Row, with_rep_values: bool = True) -> DealState:
    return DealState(
        deal_id=row["deal_id"],
        fingerprint=row["fingerprint"],
        rep_values=json.loads(row["rep_values"]) if with_rep_values else {},
        first_seen=from_text(row["first_seen"]),
        last_updated=from_text(row["last_updated"]),
        cycle=row["cycle"],
        cycle_started=from_text(row["cycle_started"]),
        deadline=from_text(row["deadline"]) if row["deadline"] else None,
    )


def _ledger_entry(row: sqlite3.Row) -> LedgerEntry:
    return LedgerEntry(
        deal_id=row["deal_id"],
        deadline=from_text(row["deadline"]),
        step=row["step"],
        cycle=row["cycle"],
        status=row["status"],
        due=from_text(row["due"]),
        message_id=row["message_id"],
        recipients=row["recipients"],
        recorded_at=from_text(row["recorded_at"]),
        detail=row["detail"],
    )
