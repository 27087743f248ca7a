"""Turn export rows into register values, collecting every problem with its file and line.

A row with a problem is still imported: the field concerned stays blank, and the register's
own checks ask the rep to fill it in. Only a row without a source ID, or with the ID of an
earlier row, is skipped, because a later import could not match it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ..config import Config
from ..fields import COLUMN_BY_FIELD, OUTCOMES
from ..i18n import N_, _, ngettext
from ..money import to_cell
from ..parse import EXCEL_CELL_LIMIT, CellError, clean_text, fold, is_blank, parse_count, parse_date, parse_money, show
from .lookup import Lookup, LookupResult
from .mapping import PLACEHOLDER, FieldRule, Mapping, ValueMap, ValueSpec
from .problems import SourceProblem, place
from .source import SourceRow, SourceTable


# The problem group of export values that a register field of each kind cannot take.
_KIND_GROUPS = {
    "date": N_("{column} values that are not a valid date"),
    "money": N_("{column} values that are not a valid amount"),
    "count": N_("{column} values that are not a valid whole number"),
    "choice": N_("{column} values that are not a valid choice"),
    "text": N_("{column} values that are not a valid text"),
}


@dataclass
class ImportedDeal:
    """One export row as register cell values."""

    source_id: str
    file: str
    line_word: str
    line: int
    values: dict[str, Any]  # every imported field -> cell value (str, date, int, float) or None

    @property
    def location(self) -> str:
        return f"{self.file}, {self.line_word} {self.line}"


@dataclass
class Conversion:
    deals: list[ImportedDeal] = field(default_factory=list)
    problems: list[SourceProblem] = field(default_factory=list)
    skipped_rows: int = 0


def convert_tables(
    tables: Iterable[SourceTable],
    mapping: Mapping,
    lookups: dict[str, Lookup],
    config: Config,
    known_reps: set[str] | None,
) -> Conversion:
    """Convert every row of every export table, in file order.

    ``known_reps`` are the folded names and e-mails of the team; None skips the check of the
    rep column.
    """
    converter = _Converter(mapping, lookups, config, known_reps)
    first_seen: dict[str, str] = {}
    result = Conversion()
    for table in tables:
        for row in table.rows:
            source_id = clean_text(row.values.get(mapping.source.id_column))
            id_column = mapping.source.id_column
            if source_id == "":
                result.problems.append(
                    table.problem(row.line, id_column, "", _("{column} is blank").format(column=id_column),
                                  _("{column} is blank; the row is skipped, because a later import could not match it.").format(
                                      column=id_column))
                )
                result.skipped_rows += 1
                continue
            if source_id in first_seen:
                result.problems.append(
                    table.problem(row.line, id_column, source_id, _("{column} appears twice").format(column=id_column),
                                  _('{column} "{value}" appears again (first in {first}); this row is skipped.').format(
                                      column=id_column, value=source_id, first=first_seen[source_id]))
                )
                result.skipped_rows += 1
                continue
            first_seen[source_id] = place(table.name, table.line_word, row.line)
            deal, problems = converter.convert(table, row, source_id)
            result.deals.append(deal)
            result.problems.extend(problems)
    return result


class _Converter:
    def __init__(self, mapping: Mapping, lookups: dict[str, Lookup], config: Config, known_reps: set[str] | None) -> None:
        self.mapping = mapping
        self.lookups = lookups
        self.config = config
        self.known_reps = known_reps
        self.outcome_column = self._outcome_column()

    def _outcome_column(self) -> str | None:
        """Return the export column that decides whether a deal is open, if the mapping has one."""
        for value_map in self.mapping.value_maps:
            if "outcome" in value_map.fields:
                return value_map.column
        rule = self.mapping.fields.get("outcome")
        if rule is not None:
            columns = rule.value.source_columns(self.mapping.lookups)
            return columns[0] if columns else None
        return None

    def convert(self, table: SourceTable, row: SourceRow, source_id: str) -> tuple[ImportedDeal, list[SourceProblem]]:
        problems: list[SourceProblem] = []
        hits = {name: self._look_up(lookup, table, row, problems) for name, lookup in self.lookups.items()}

        values: dict[str, Any] = {}
        for value_map in self.mapping.value_maps:
            values.update(self._map_values(value_map, table, row, problems))
        # One invalid export value feeds several fields at times (close_date: Expected close and
        # Service start), so it becomes one problem that names every field it leaves empty.
        invalid: dict[tuple[str, str], tuple[str, list[str]]] = {}
        for name, rule in self.mapping.fields.items():
            raw = self._evaluate(rule.value, row, hits)
            try:
                values[name] = self._to_cell(rule, raw, table, row, problems)
            except CellError as exc:
                values[name] = None
                invalid.setdefault((self._column_of(rule), clean_text(raw)), (str(exc), []))[1].append(name)
        for (column, value), (message, names) in invalid.items():
            shown = [self._header(name) for name in names]
            if len(shown) == 1:
                headers = shown[0]
            else:
                headers = _("{headers} and {last}").format(headers=", ".join(shown[:-1]), last=shown[-1])
            group = _(_KIND_GROUPS.get(COLUMN_BY_FIELD[names[0]].kind, _KIND_GROUPS["text"])).format(column=column)
            stays = ngettext(
                "{column} {message} The register's {headers} stays empty.",
                "{column} {message} The register's {headers} stay empty.",
                len(names),
            )
            problems.append(table.problem(row.line, column, value, group,
                                          stays.format(column=column, message=message, headers=headers)))

        invalid_fields = {name for _, names in invalid.values() for name in names}
        for name, rule in self.mapping.fields.items():
            if values[name] is None and name not in invalid_fields and not self._blank_allowed(rule, values):
                problems.append(self._blank_problem(rule, values, table, row))
        self._check_rep(values, table, row, problems)
        deal = ImportedDeal(source_id, table.name, table.line_word, row.line,
                            {name: values.get(name) for name in self.mapping.imported_fields})
        return deal, problems

    # lookups and values

    def _look_up(self, lookup: Lookup, table: SourceTable, row: SourceRow, problems: list[SourceProblem]) -> SourceRow | None:
        spec = lookup.spec
        column = spec.source_column
        value = clean_text(row.values.get(column))
        result: LookupResult = lookup.find(value)
        if result.match in ("exact", "blank"):
            return result.row
        names = {"column": column, "value": value, "label": spec.label, "file": lookup.table.name, "lookup": spec.name}

        if result.match == "missing":
            problems.append(table.problem(
                row.line, column, value, _("{column} not in the {label}").format(**names),
                _('{column} "{value}" is not in the {label} ({file}); add it there or correct the export. '
                  "Values taken from the {label} stay blank.").format(**names),
            ))
            return None

        names["candidates"] = ", ".join(f'"{key}"' for key in result.candidates)
        if result.match == "close":
            problems.append(table.problem(
                row.line, column, value, _("{column} differs from the {label} only in spacing or case (used)").format(**names),
                _('{column} "{value}" is not in the {label} ({file}), but {candidates} differs from it only in spacing or '
                  "case; the mapping allows such a match (close_match = true), so {candidates} was used.").format(**names),
            ))
            return result.row

        if result.match == "ambiguous":
            problems.append(table.problem(
                row.line, column, value, _("{column} matches several {label} entries").format(**names),
                _('{column} "{value}" is not in the {label} ({file}), and {candidates} all differ from it only in spacing '
                  "or case; correct the export or the {label}. Values taken from the {label} stay blank.").format(**names),
            ))
            return None

        problems.append(table.problem(
            row.line, column, value, _("{column} differs from the {label} only in spacing or case (not used)").format(**names),
            _('{column} "{value}" is not in the {label} ({file}); {candidates} differs from it only in spacing or case. '
              "Correct the export, or set close_match = true in [lookups.{lookup}] to use it. Values taken from the "
              "{label} stay blank.").format(**names),
        ))
        return None

    def _map_values(self, value_map: ValueMap, table: SourceTable, row: SourceRow, problems: list[SourceProblem]) -> dict[str, Any]:
        blank: dict[str, Any] = {name: None for name in value_map.fields}
        value = clean_text(row.values.get(value_map.column))
        entry = value_map.find(value)
        if entry is None:
            names = {
                "column": value_map.column,
                "value": value,
                "known": ", ".join(f'"{key}"' for key in value_map.entries),
                "headers": ", ".join(self._header(name) for name in value_map.fields),
            }
            if value == "":
                text = _("{column} is blank; the mapping's [values.{column}] knows {known}. "
                         "{headers} stay blank; add the value to the mapping.")
            else:
                text = _('{column} "{value}" is not mapped; the mapping\'s [values.{column}] knows {known}. '
                         "{headers} stay blank; add the value to the mapping.")
            problems.append(table.problem(
                row.line, value_map.column, value, _("{column} values the mapping does not know").format(**names),
                text.format(**names),
            ))
            return blank
        for name, text in entry.items():
            blank[name] = self._choice(name, text) if text else None
        return blank

    def _evaluate(self, spec: ValueSpec, row: SourceRow, hits: dict[str, SourceRow | None]) -> Any:
        if spec.constant is not None:
            value: Any = spec.constant
        elif spec.template is not None:
            value = self._fill_template(spec.template, row, hits)
        elif spec.lookup is not None:
            hit = hits[spec.lookup]
            value = hit.values.get(spec.column or "") if hit else None
        else:
            value = row.values.get(spec.column or "")
        if is_blank(value) and spec.if_blank is not None:
            return self._evaluate(spec.if_blank, row, hits)
        return value

    def _fill_template(self, template: str, row: SourceRow, hits: dict[str, SourceRow | None]) -> str:
        """Return the template with each {column} filled, or "" when any of them is blank."""
        parts: dict[str, str] = {}
        for name in PLACEHOLDER.findall(template):
            prefix, _, column = name.partition(".")
            if column and prefix in hits:
                hit = hits[prefix]
                value = clean_text(hit.values.get(column)) if hit else ""
            else:
                value = clean_text(row.values.get(name))
            if value == "":
                return ""
            parts[name] = value
        return PLACEHOLDER.sub(lambda match: parts[match.group(1)], template)

    # register types

    def _to_cell(self, rule: FieldRule, raw: Any, table: SourceTable, row: SourceRow, problems: list[SourceProblem]) -> Any:
        """Return ``raw`` as the register cell stores it; raise CellError for a value of the wrong kind."""
        if is_blank(raw):
            return None
        kind = COLUMN_BY_FIELD[rule.field].kind
        if kind == "date":
            return self._date(raw)
        if kind == "money":
            amount = parse_money(raw, self.config.fiscal.currency)
            return None if amount is None else to_cell(amount, self.config.fiscal.currency)
        if kind == "count":
            return parse_count(raw)
        if kind == "choice" and rule.field != "rep":
            return self._choice(rule.field, clean_text(raw), strict=True)
        return self._text(rule, raw, table, row, problems)

    def _date(self, raw: Any) -> date | None:
        date_format = self.mapping.source.date_format
        if date_format and isinstance(raw, str):
            try:
                return datetime.strptime(raw.strip(), date_format).date()
            except ValueError:
                raise CellError(
                    _("{value} is not a date in the format {format} that [source] date_format names.").format(
                        value=show(raw), format=repr(date_format))
                ) from None
        return parse_date(raw)

    def _choice(self, name: str, text: str, strict: bool = False) -> str | None:
        """Return the configured spelling of a stage, outcome or rank; raise CellError for another value."""
        choices = {"stage": list(self.config.stages), "outcome": list(OUTCOMES), "expectation": list(self.config.expectation)}
        if name not in choices:
            return text
        for choice in choices[name]:
            if fold(choice) == fold(text):
                return choice
        if not strict:
            return text  # checked against the config when the mapping was loaded
        raise CellError(
            _("{value} is not one of {choices}; map it in [values] of the mapping.").format(
                value=show(text), choices=", ".join(choices[name]))
        )

    def _text(self, rule: FieldRule, raw: Any, table: SourceTable, row: SourceRow, problems: list[SourceProblem]) -> str | None:
        text = clean_text(raw)
        if len(text) > EXCEL_CELL_LIMIT:
            column = self._column_of(rule)
            problems.append(table.problem(
                row.line, column, raw, _("{column} values longer than an Excel cell").format(column=column),
                _("{column} has {length} characters, more than the {limit} an Excel cell holds; "
                  "the register keeps the first {kept} and an ellipsis.").format(
                    column=column, length=len(text), limit=EXCEL_CELL_LIMIT, kept=EXCEL_CELL_LIMIT - 1),
            ))
            text = text[: EXCEL_CELL_LIMIT - 1] + "…"
        return text or None

    # required values and the rep

    def _blank_allowed(self, rule: FieldRule, values: dict[str, Any]) -> bool:
        if rule.required == "always":
            return False
        if rule.required == "open":
            return values.get("outcome") is not None
        return True

    def _blank_problem(self, rule: FieldRule, values: dict[str, Any], table: SourceTable, row: SourceRow) -> SourceProblem:
        column = self._column_of(rule)
        header = self._header(rule.field)
        if rule.required == "always":
            return table.problem(row.line, column, "", _("{column} is blank").format(column=column),
                                 _("{column} is blank; the register's {header} stays empty until the rep fills it in.").format(
                                     column=column, header=header))
        group = _("open deals without {column}").format(column=column)
        if self.outcome_column:
            text = _('{column} is blank, but the deal is open ({outcome_column} "{outcome}"); the register\'s {header} '
                     "stays empty until the rep enters it.")
        else:
            text = _("{column} is blank, but the deal is open; the register's {header} stays empty until the rep enters it.")
        outcome = clean_text(row.values.get(self.outcome_column)) if self.outcome_column else ""
        return table.problem(
            row.line, column, "", group,
            text.format(column=column, outcome_column=self.outcome_column, outcome=outcome, header=header),
        )

    def _check_rep(self, values: dict[str, Any], table: SourceTable, row: SourceRow, problems: list[SourceProblem]) -> None:
        rep = values.get("rep")
        if rep is None or self.known_reps is None or fold(rep) in self.known_reps:
            return
        column = self._column_of(self.mapping.fields["rep"]) if "rep" in self.mapping.fields else "rep"
        if self.mapping.team:
            text = _('{column} "{rep}" is not in {team_file} or the register\'s Team sheet; the deal is imported, and '
                     "sync reports its rep until the person is added to the Team sheet.")
        else:
            text = _('{column} "{rep}" is not in the register\'s Team sheet; the deal is imported, and sync reports its '
                     "rep until the person is added to the Team sheet.")
        team_file = self.mapping.team.file.name if self.mapping.team else ""
        problems.append(table.problem(
            row.line, column, rep, _("{column} not on the team").format(column=column),
            text.format(column=column, rep=rep, team_file=team_file),
        ))

    # names for messages

    def _column_of(self, rule: FieldRule) -> str:
        columns = rule.value.source_columns(self.mapping.lookups)
        return columns[0] if columns else self._header(rule.field)

    def _header(self, name: str) -> str:
        return self.config.register.headers[name]

