"""Load and check the TOML mapping that defines how a CRM export becomes register rows.

A mapping has these tables (docs/import.md shows a complete one):

- ``[source]``: the export's ID column, encoding, delimiter, sheet, header row and date format;
- ``[fields]``: register field = where its value comes from (an export column, a column of a
  lookup, a template or a constant), optionally with a fallback and a required rule;
- ``[values.COLUMN]``: a value map from the values of one export column to several register
  fields, such as a CRM stage to our Stage, Outcome and Outcome reason;
- ``[lookups.NAME]``: a second file whose rows are found by an export column (a price list);
- ``[team]``: the file that fills the Team sheet (name, manager, office, e-mail).

Paths are relative to the mapping file. Unknown keys are errors that name the key.
"""

from __future__ import annotations

import codecs
import difflib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ..i18n import N_, _
from ..config import Config
from ..errors import ConfigError
from ..fields import COLUMNS, OUTCOMES
from ..parse import fold

# Register fields that an import may fill: the rep's and the manager's columns. Deal ID and the
# computed columns belong to sync.
IMPORTABLE_FIELDS: tuple[str, ...] = tuple(column.field for column in COLUMNS if column.writer in ("rep", "manager"))

DEFAULT_ID_HEADER = "Source ID"

Required = Literal["never", "always", "open"]
REQUIRED_CHOICES: tuple[str, ...] = ("never", "always", "open")

# "{name}" in a template: an export column, or "{lookup.column}" for a column of a lookup row.
PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
EMAIL_PLACEHOLDERS: tuple[str, ...] = ("first", "last", "name")

_SOURCE_KEYS = ("id_column", "id_header", "encoding", "delimiter", "sheet", "header_row", "date_format")
_LOOKUP_KEYS = ("file", "key", "source_column", "label", "close_match", "encoding", "delimiter", "sheet", "header_row")
_TEAM_KEYS = (
    "file", "name", "manager", "office", "email_column", "email_pattern", "add_managers",
    "encoding", "delimiter", "sheet", "header_row",
)
_VALUE_SPEC_KEYS = ("column", "lookup", "template", "value", "if_blank")
_FIELD_KEYS = (*_VALUE_SPEC_KEYS, "required")
_TOP_KEYS = ("source", "fields", "values", "lookups", "team")


class MappingError(ConfigError):
    """The mapping file is missing, not valid TOML, or has a wrong key or value."""


@dataclass(frozen=True)
class FileOptions:
    """How to read one CSV or .xlsx file."""

    encoding: str = "auto"  # "auto": UTF-8 with or without BOM, else CP932
    delimiter: str = ","
    sheet: str = ""  # .xlsx only; "" = the first sheet
    header_row: int = 1


@dataclass(frozen=True)
class SourceSpec:
    id_column: str
    id_header: str  # header of the register column that keeps the source ID
    options: FileOptions
    date_format: str  # strptime format; "" = the register's own date forms (ISO first)


@dataclass(frozen=True)
class ValueSpec:
    """The source of one value: exactly one of column, template and constant is set.

    With ``lookup`` set, ``column`` is a column of the lookup file's matching row; otherwise it
    is a column of the export. ``if_blank`` is used when this value is blank.
    """

    column: str | None = None
    lookup: str | None = None
    template: str | None = None
    constant: str | None = None
    if_blank: ValueSpec | None = None

    def source_columns(self, lookups: dict[str, LookupSpec]) -> list[str]:
        """Return the export columns this value reads, fallbacks included, in order."""
        columns: list[str] = []
        if self.column is not None:
            columns.append(lookups[self.lookup].source_column if self.lookup else self.column)
        if self.template is not None:
            for name in PLACEHOLDER.findall(self.template):
                prefix = name.split(".", 1)[0]
                columns.append(lookups[prefix].source_column if "." in name and prefix in lookups else name)
        if self.if_blank is not None:
            columns.extend(self.if_blank.source_columns(lookups))
        return list(dict.fromkeys(columns))


@dataclass(frozen=True)
class FieldRule:
    field: str
    value: ValueSpec
    required: Required


@dataclass(frozen=True)
class ValueMap:
    """Register field values for each value of one export column, such as a CRM stage."""

    column: str
    entries: dict[str, dict[str, str]]  # source value as written -> field -> register value
    fields: tuple[str, ...]  # every field that some entry sets; the others get a blank

    def find(self, value: str) -> dict[str, str] | None:
        """Return the entry for ``value``, ignoring case, width and repeated spaces."""
        key = fold(value)
        for source_value, entry in self.entries.items():
            if fold(source_value) == key:
                return entry
        return None


@dataclass(frozen=True)
class LookupSpec:
    name: str
    file: Path
    key: str  # key column of the lookup file
    source_column: str  # export column whose value is looked up
    label: str  # how messages name the file, e.g. "price list"
    close_match: bool  # use a key that differs only in spacing or case
    options: FileOptions


@dataclass(frozen=True)
class TeamSpec:
    file: Path
    name: str
    manager: str
    office: str
    email_column: str
    email_pattern: str  # "" = no e-mail addresses are made up
    add_managers: bool
    options: FileOptions


@dataclass(frozen=True)
class Mapping:
    path: Path
    source: SourceSpec
    fields: dict[str, FieldRule]
    value_maps: tuple[ValueMap, ...]
    lookups: dict[str, LookupSpec]
    team: TeamSpec | None

    @property
    def imported_fields(self) -> tuple[str, ...]:
        """Return every register field this mapping writes, in register column order."""
        names = set(self.fields)
        for value_map in self.value_maps:
            names.update(value_map.fields)
        return tuple(name for name in IMPORTABLE_FIELDS if name in names)

    def export_columns(self) -> list[str]:
        """Return every export column the mapping reads, so a missing one stops the import early."""
        columns = [self.source.id_column]
        for rule in self.fields.values():
            columns.extend(rule.value.source_columns(self.lookups))
        columns.extend(value_map.column for value_map in self.value_maps)
        columns.extend(lookup.source_column for lookup in self.lookups.values())
        return list(dict.fromkeys(columns))


def load_mapping(path: Path) -> Mapping:
    """Read and check the mapping at ``path``; raise MappingError naming the key that is wrong."""
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise MappingError(_("Mapping file {path} not found; pass the mapping with --mapping PATH.").format(path=path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(_("{path}: not valid TOML ({error}); fix the line it names.").format(path=path, error=exc)) from None
    except OSError as exc:
        raise MappingError(_("{path}: cannot be read ({reason}).").format(path=path, reason=exc.strerror)) from None
    return build_mapping(data, path)


def build_mapping(data: dict[str, Any], path: Path) -> Mapping:
    """Check ``data`` (the parsed TOML) and return the Mapping; relative paths are from ``path``'s folder."""
    reader = _Reader(str(path))
    base = path.resolve().parent
    reader.check_keys(data, _TOP_KEYS, "")

    source_table = reader.table(data, "source")
    reader.check_keys(source_table, _SOURCE_KEYS, "source.")
    if "id_column" not in source_table:
        raise MappingError(
            _("{path}: [source] lacks id_column; name the export column that contains the CRM's unique ID "
              "of each deal, for example id_column = \"opportunity_id\".").format(path=path)
        )
    source = SourceSpec(
        id_column=reader.text("source.id_column", source_table["id_column"]),
        id_header=reader.text("source.id_header", source_table.get("id_header", DEFAULT_ID_HEADER)),
        options=_file_options(reader, source_table, "source."),
        date_format=reader.text("source.date_format", source_table.get("date_format", "")),
    )

    lookups = {
        name: _lookup(reader, name, reader.as_table(table, f"lookups.{name}"), base)
        for name, table in reader.table(data, "lookups").items()
    }
    team = _team(reader, reader.table(data, "team"), base) if "team" in data else None

    fields: dict[str, FieldRule] = {}
    for name, spec in reader.table(data, "fields").items():
        key = f"fields.{name}"
        if name not in IMPORTABLE_FIELDS:
            raise reader.unknown(key, name, list(IMPORTABLE_FIELDS), what="register field")
        fields[name] = _field_rule(reader, key, name, spec, lookups)

    value_maps = tuple(
        _value_map(reader, column, reader.as_table(table, f"values.{column}"))
        for column, table in reader.table(data, "values").items()
    )
    _check_fields_set_once(reader, fields, value_maps)
    if not fields and not value_maps:
        raise MappingError(
            _("{path}: [fields] is empty; map at least one register field, for example customer = \"account\".").format(path=path)
        )
    return Mapping(path, source, fields, value_maps, lookups, team)


def check_mapping_against_config(mapping: Mapping, config: Config) -> None:
    """Raise MappingError when a value map names a stage or rank that the config does not have."""
    reader = _Reader(str(mapping.path))
    allowed: dict[str, list[str]] = {
        "stage": list(config.stages),
        "outcome": list(OUTCOMES),
        "expectation": list(config.expectation),
    }
    for value_map in mapping.value_maps:
        for source_value, entry in value_map.entries.items():
            for name, value in entry.items():
                if name not in allowed or value == "":
                    continue
                if not any(fold(choice) == fold(value) for choice in allowed[name]):
                    key = f"values.{value_map.column}.{source_value}.{name}"
                    if name == "stage":
                        text = _("{path}: {key} = {value} is not in the [stages] of the config ({choices}); "
                                 "use one of them or add it to the config.")
                    else:
                        text = _("{path}: {key} = {value} is not in the {field} choices ({choices}); "
                                 "use one of them or add it to the config.")
                    raise MappingError(text.format(path=mapping.path, key=key, value=repr(value), field=name,
                                                   choices=", ".join(allowed[name])))


def _file_options(reader: _Reader, table: dict[str, Any], prefix: str) -> FileOptions:
    encoding = reader.text(f"{prefix}encoding", table.get("encoding", "auto"))
    if encoding != "auto":
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise MappingError(
                _("{where}: {key} = {value} is not an encoding Python knows; "
                  "use \"auto\", \"utf-8\", \"utf-8-sig\" or \"cp932\".").format(
                    where=reader.where, key=f"{prefix}encoding", value=repr(encoding))
            ) from None
    delimiter = reader.text(f"{prefix}delimiter", table.get("delimiter", ","))
    if len(delimiter) != 1:
        raise reader.fail(f"{prefix}delimiter", delimiter, _('one character, for example "," or ";"'))
    return FileOptions(
        encoding=encoding,
        delimiter=delimiter,
        sheet=reader.text(f"{prefix}sheet", table.get("sheet", "")),
        header_row=reader.integer(f"{prefix}header_row", table.get("header_row", 1), 1, 1000),
    )


def _lookup(reader: _Reader, name: str, table: dict[str, Any], base: Path) -> LookupSpec:
    prefix = f"lookups.{name}."
    reader.check_keys(table, _LOOKUP_KEYS, prefix)
    for key in ("file", "key", "source_column"):
        if key not in table:
            raise MappingError(
                _("{where}: [lookups.{name}] lacks {key}; docs/import.md shows a complete lookup.").format(
                    where=reader.where, name=name, key=key)
            )
    file = reader.text(f"{prefix}file", table["file"])
    return LookupSpec(
        name=name,
        file=_resolve(base, file),
        key=reader.text(f"{prefix}key", table["key"]),
        source_column=reader.text(f"{prefix}source_column", table["source_column"]),
        label=reader.text(f"{prefix}label", table.get("label", Path(file).name)),
        close_match=reader.boolean(f"{prefix}close_match", table.get("close_match", False)),
        options=_file_options(reader, table, prefix),
    )


def _team(reader: _Reader, table: dict[str, Any], base: Path) -> TeamSpec:
    reader.check_keys(table, _TEAM_KEYS, "team.")
    for key in ("file", "name"):
        if key not in table:
            raise MappingError(
                _("{where}: [team] lacks {key}; docs/import.md shows a complete [team] table.").format(where=reader.where, key=key)
            )
    pattern = reader.text("team.email_pattern", table.get("email_pattern", ""))
    for name in PLACEHOLDER.findall(pattern):
        if name not in EMAIL_PLACEHOLDERS:
            raise reader.unknown("team.email_pattern", name, list(EMAIL_PLACEHOLDERS), what="placeholder")
    if pattern and pattern.count("@") != 1:
        raise reader.fail("team.email_pattern", pattern, _('an address pattern such as "{first}.{last}@example.com"'))
    return TeamSpec(
        file=_resolve(base, reader.text("team.file", table["file"])),
        name=reader.text("team.name", table["name"]),
        manager=reader.text("team.manager", table.get("manager", "")),
        office=reader.text("team.office", table.get("office", "")),
        email_column=reader.text("team.email_column", table.get("email_column", "")),
        email_pattern=pattern,
        add_managers=reader.boolean("team.add_managers", table.get("add_managers", True)),
        options=_file_options(reader, table, "team."),
    )


def _field_rule(reader: _Reader, key: str, name: str, spec: Any, lookups: dict[str, LookupSpec]) -> FieldRule:
    if isinstance(spec, str):
        return FieldRule(name, ValueSpec(column=spec), "never")
    if not isinstance(spec, dict):
        raise reader.fail(key, spec, _('an export column in quotes or a table such as { column = "account" }'))
    reader.check_keys(spec, _FIELD_KEYS, f"{key}.")
    required = reader.text(f"{key}.required", spec.get("required", "never"))
    if required not in REQUIRED_CHOICES:
        raise reader.fail(f"{key}.required", required, _("one of {choices}").format(choices=", ".join(f'"{c}"' for c in REQUIRED_CHOICES)))
    value_spec = {k: v for k, v in spec.items() if k != "required"}
    return FieldRule(name, _value_spec(reader, key, value_spec, lookups), required)  # type: ignore[arg-type]


def _value_spec(reader: _Reader, key: str, spec: Any, lookups: dict[str, LookupSpec]) -> ValueSpec:
    if isinstance(spec, str):
        return ValueSpec(column=spec)
    if not isinstance(spec, dict):
        raise reader.fail(key, spec, _('an export column in quotes or a table such as { column = "account" }'))
    reader.check_keys(spec, _VALUE_SPEC_KEYS, f"{key}.")

    sources = [name for name in ("column", "template", "value") if name in spec]
    if len(sources) != 1:
        raise MappingError(
            _("{where}: {key} needs exactly one of column, template and value (it has {found}).").format(
                where=reader.where, key=key, found=", ".join(sources) or _("none"))
        )

    lookup = reader.text(f"{key}.lookup", spec["lookup"]) if "lookup" in spec else None
    if lookup is not None:
        if "column" not in spec:
            raise MappingError(
                _("{where}: {key}.lookup needs a column of that lookup, for example column = \"sales_price\".").format(
                    where=reader.where, key=key)
            )
        if lookup not in lookups:
            raise reader.unknown(f"{key}.lookup", lookup, list(lookups), what="lookup")

    template = reader.text(f"{key}.template", spec["template"]) if "template" in spec else None
    if template is not None:
        names = PLACEHOLDER.findall(template)
        if not names:
            raise reader.fail(f"{key}.template", template, _('text with at least one {column}, such as "{product} for {account}"'))
    constant = spec.get("value")
    if constant is not None and (isinstance(constant, bool) or not isinstance(constant, (str, int, float))):
        raise reader.fail(f"{key}.value", constant, _("a text or a number"))

    fallback = _value_spec(reader, f"{key}.if_blank", spec["if_blank"], lookups) if "if_blank" in spec else None
    return ValueSpec(
        column=reader.text(f"{key}.column", spec["column"]) if "column" in spec else None,
        lookup=lookup,
        template=template,
        constant=None if constant is None else str(constant),
        if_blank=fallback,
    )


def _value_map(reader: _Reader, column: str, table: dict[str, Any]) -> ValueMap:
    entries: dict[str, dict[str, str]] = {}
    fields: list[str] = []
    for source_value, entry in table.items():
        key = f"values.{column}.{source_value}"
        if not isinstance(entry, dict) or not entry:
            raise reader.fail(key, entry, _('a table of register fields, such as { stage = "Engaging", outcome = "Won" }'))
        values: dict[str, str] = {}
        for name, value in entry.items():
            if name not in IMPORTABLE_FIELDS:
                raise reader.unknown(f"{key}.{name}", name, list(IMPORTABLE_FIELDS), what="register field")
            values[name] = reader.text(f"{key}.{name}", value)
            if name not in fields:
                fields.append(name)
        entries[source_value] = values
    if not entries:
        raise MappingError(
            _("{where}: [values.{column}] is empty; map at least one value of {column}.").format(where=reader.where, column=column)
        )
    seen: dict[str, str] = {}
    for value in entries:
        if fold(value) in seen:
            raise MappingError(
                _("{where}: [values.{column}] maps {first} and {second}, which export values match alike because case "
                  "and width are ignored; keep one.").format(
                    where=reader.where, column=column, first=repr(seen[fold(value)]), second=repr(value))
            )
        seen[fold(value)] = value
    return ValueMap(column, entries, tuple(fields))


def _check_fields_set_once(reader: _Reader, fields: dict[str, FieldRule], value_maps: tuple[ValueMap, ...]) -> None:
    owners: dict[str, str] = {name: f"[fields] {name}" for name in fields}
    for value_map in value_maps:
        for name in value_map.fields:
            owner = f"[values.{value_map.column}]"
            if name in owners:
                raise MappingError(
                    _("{where}: register field {field} is set by both {first} and {second}; keep one.").format(
                        where=reader.where, field=repr(name), first=owners[name], second=owner)
                )
            owners[name] = owner


def _join_sentences(first: str, second: str) -> str:
    """Return two sentences as one text; a Japanese full stop needs no space after it."""
    if not second:
        return first
    return first + ("" if first.endswith("。") else " ") + second


def _resolve(base: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


# The message for an unknown value, by the kind of value that _Reader.unknown names.
_UNKNOWN = {
    "key": N_("{where}: unknown key {value} at {key}."),
    "lookup": N_("{where}: unknown lookup {value} at {key}."),
    "register field": N_("{where}: unknown register field {value} at {key}."),
    "placeholder": N_("{where}: unknown placeholder {value} at {key}."),
}


class _Reader:
    """Typed access to mapping values; every error names the file and the dotted key."""

    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, key: str, value: Any, expected: str) -> MappingError:
        """Return the error for an invalid value; ``expected`` is a translated description of valid ones."""
        text = _("{where}: {key} = {value} is invalid; expected {expected}.")
        return MappingError(text.format(where=self.where, key=key, value=repr(value), expected=expected))

    def unknown(self, key: str, value: str, known: list[str], what: str = "key") -> MappingError:
        close = difflib.get_close_matches(value, known, n=1)
        if close:
            hint = _("Did you mean {match}?").format(match=repr(close[0]))
        elif known:
            hint = _("Valid: {values}.").format(values=", ".join(known))
        else:
            hint = ""
        text = _(_UNKNOWN[what]).format(where=self.where, value=repr(value), key=key)
        return MappingError(_join_sentences(text, hint))

    def check_keys(self, table: dict[str, Any], known: tuple[str, ...], prefix: str) -> None:
        for key in table:
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1)
                if close:
                    hint = _("Did you mean {match}?").format(match=repr(prefix + close[0]))
                else:
                    hint = _("Valid: {values}.").format(values=", ".join(prefix + k for k in known))
                text = _("{where}: unknown key {value}.").format(where=self.where, value=repr(prefix + key))
                raise MappingError(_join_sentences(text, hint))

    def table(self, data: dict[str, Any], key: str) -> dict[str, Any]:
        """Return the table ``data[key]``, or an empty one when the key is absent."""
        return self.as_table(data.get(key, {}), key)

    def as_table(self, value: Any, key: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise MappingError(
                _("{where}: [{table}] must be a table, not {value}.").format(where=self.where, table=key, value=repr(value))
            )
        return value

    def text(self, key: str, value: Any) -> str:
        if not isinstance(value, str):
            raise self.fail(key, value, _("a string in quotes"))
        return value

    def integer(self, key: str, value: Any, low: int, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.fail(key, value, _("a whole number from {low} to {high}").format(low=low, high=high))
        return value

    def boolean(self, key: str, value: Any) -> bool:
        if not isinstance(value, bool):
            raise self.fail(key, value, _("true or false"))
        return value
