"""Lookup files: rows found by the value of an export column, such as a product in a price list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from ..i18n import _
from ..parse import clean_text, fold
from .mapping import LookupSpec
from .problems import line_ref
from .source import SourceRow, SourceTable, read_table

Match = Literal["exact", "close", "close_rejected", "ambiguous", "missing", "blank"]


def squeeze(text: str) -> str:
    """Return ``text`` folded for a close match: case, width and every space ignored."""
    return "".join(fold(text).split())


@dataclass(frozen=True)
class LookupResult:
    match: Match
    row: SourceRow | None  # the row to use: set for "exact" and "close"
    candidates: tuple[str, ...] = ()  # keys that differ from the value only in spacing or case


@dataclass
class Lookup:
    spec: LookupSpec
    table: SourceTable
    by_key: dict[str, SourceRow]  # key as written, without surrounding spaces
    by_squeezed_key: dict[str, list[str]]

    def find(self, value: Any) -> LookupResult:
        """Find the row whose key is ``value``, or differs from it only in spacing or case."""
        text = clean_text(value)
        if text == "":
            return LookupResult("blank", None)
        row = self.by_key.get(text)
        if row is not None:
            return LookupResult("exact", row)
        candidates = tuple(self.by_squeezed_key.get(squeeze(text), ()))
        if not candidates:
            return LookupResult("missing", None)
        if len(candidates) > 1:
            return LookupResult("ambiguous", None, candidates)
        if not self.spec.close_match:
            return LookupResult("close_rejected", None, candidates)
        return LookupResult("close", self.by_key[candidates[0]], candidates)


def load_lookup(spec: LookupSpec, columns: list[str]) -> Lookup:
    """Read the lookup file and index it by its key column; ``columns`` are the ones the mapping reads.

    A key that appears twice keeps its first row and becomes a problem of the later line.
    """
    table = read_table(spec.file, spec.options)
    table.require_columns([spec.key, *columns], _("[lookups.{name}] of the mapping").format(name=spec.name))
    by_key: dict[str, SourceRow] = {}
    by_squeezed_key: dict[str, list[str]] = {}
    for row in table.rows:
        key = clean_text(row.values.get(spec.key))
        if key == "":
            table.problems.append(
                table.problem(row.line, spec.key, "", _("{column} is blank in the {label}").format(column=spec.key, label=spec.label),
                              _("{column} is blank; this row of the {label} is not used.").format(column=spec.key, label=spec.label))
            )
            continue
        if key in by_key:
            table.problems.append(
                table.problem(
                    row.line, spec.key, key, _("{column} appears twice in the {label}").format(column=spec.key, label=spec.label),
                    _('{column} "{value}" appears again (first on {first}); the first row is used.').format(
                        column=spec.key, value=key, first=line_ref(table.line_word, by_key[key].line)),
                )
            )
            continue
        by_key[key] = row
        by_squeezed_key.setdefault(squeeze(key), []).append(key)
    return Lookup(spec, table, by_key, by_squeezed_key)
