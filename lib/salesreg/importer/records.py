"""Import records in the state database: what the last import wrote for each source ID.

A later import compares a row's current cells with this record to tell a rep's edit from the
import's own values. Deleting the state file loses the records. The next import then treats
every changed row as edited by a rep, so it reports the row instead of overwriting it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from ..scan import fingerprint
from ..state import State, from_text, to_text

_SCHEMA = """
CREATE TABLE IF NOT EXISTS imports (
    source_id TEXT PRIMARY KEY,
    imported_values TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    source TEXT NOT NULL,
    imported_at TEXT NOT NULL
)
"""


@dataclass(frozen=True)
class ImportRecord:
    source_id: str
    values: dict[str, str]  # field -> canonical text of the cell as the import wrote it
    source: str  # file and line the values came from
    imported_at: datetime


def load_records(state: State) -> dict[str, ImportRecord]:
    """Return every import record by source ID; an empty dict before the first import."""
    exists = state.db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'imports'").fetchone()
    if not exists:
        return {}
    rows = state.db.execute("SELECT source_id, imported_values, source, imported_at FROM imports").fetchall()
    return {
        row["source_id"]: ImportRecord(row["source_id"], json.loads(row["imported_values"]), row["source"], from_text(row["imported_at"]))
        for row in rows
    }


def store_records(state: State, records: list[ImportRecord]) -> None:
    """Insert or replace ``records`` in one transaction."""
    state.db.execute(_SCHEMA)
    with state.transaction() as db:
        db.executemany(
            """INSERT INTO imports VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (source_id) DO UPDATE SET imported_values = excluded.imported_values,
                 fingerprint = excluded.fingerprint, source = excluded.source, imported_at = excluded.imported_at""",
            [
                (
                    record.source_id,
                    json.dumps(record.values, ensure_ascii=False, sort_keys=True),
                    fingerprint(record.values),
                    record.source,
                    to_text(record.imported_at),
                )
                for record in records
            ],
        )
