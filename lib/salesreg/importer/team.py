"""The team file of an export: who sells, who manages them, in which office, and their e-mail."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from ..i18n import _
from ..parse import clean_text, fold
from .mapping import PLACEHOLDER, TeamSpec
from .problems import SourceProblem, line_ref
from .source import SourceTable, read_table


@dataclass(frozen=True)
class TeamEntry:
    name: str
    email: str  # "" when the file has none and no pattern applies
    manager: str
    office: str
    line: int  # line in the team file; 0 for a manager who has no line of their own


def load_team(spec: TeamSpec) -> tuple[list[TeamEntry], list[SourceProblem]]:
    """Read the team file into one entry per person; managers get their own entry when asked.

    A manager who leads people in several offices gets the office of the first of them.
    """
    table = read_table(spec.file, spec.options)
    columns = [name for name in (spec.name, spec.manager, spec.office, spec.email_column) if name]
    table.require_columns(columns, _("[team] of the mapping"))

    entries: dict[str, TeamEntry] = {}
    for row in table.rows:
        name = clean_text(row.values.get(spec.name))
        if name == "":
            table.problems.append(table.problem(row.line, spec.name, "", _("{column} is blank in the team file").format(column=spec.name),
                                                _("{column} is blank; the line is skipped.").format(column=spec.name)))
            continue
        if fold(name) in entries:
            first = entries[fold(name)].line
            table.problems.append(
                table.problem(row.line, spec.name, name, _("{column} appears twice in the team file").format(column=spec.name),
                              _('{column} "{value}" appears again (first on {first}); the first line is used.').format(
                                  column=spec.name, value=name, first=line_ref(table.line_word, first)))
            )
            continue
        email = clean_text(row.values.get(spec.email_column)) if spec.email_column else ""
        if email == "" and spec.email_pattern:
            email = _email_or_problem(spec, name, table, row.line)
        entries[fold(name)] = TeamEntry(
            name=name,
            email=email,
            manager=clean_text(row.values.get(spec.manager)) if spec.manager else "",
            office=clean_text(row.values.get(spec.office)) if spec.office else "",
            line=row.line,
        )

    if spec.add_managers:
        for entry in list(entries.values()):
            if entry.manager and fold(entry.manager) not in entries:
                email = _email_or_problem(spec, entry.manager, table, entry.line) if spec.email_pattern else ""
                entries[fold(entry.manager)] = TeamEntry(entry.manager, email, "", entry.office, 0)
    return list(entries.values()), table.problems


def _email_or_problem(spec: TeamSpec, name: str, table: SourceTable, line: int) -> str:
    """Return the address made from ``email_pattern``, or "" after recording why none can be made."""
    email = email_from_pattern(spec.email_pattern, name)
    if email is not None:
        return email
    table.problems.append(
        table.problem(
            line, spec.name, name, _("e-mail addresses that email_pattern cannot make"),
            _('no e-mail address can be made for "{name}" from email_pattern {pattern}, because the '
              "name has no Latin letters or digits; type the address on the Team sheet.").format(
                name=name, pattern=repr(spec.email_pattern)),
        )
    )
    return ""


def email_from_pattern(pattern: str, name: str) -> str | None:
    """Return ``pattern`` with {first}, {last} and {name} made from ``name``, or None when a part is empty.

    Each part is the name's words in lower case, with accents removed and every character other
    than a-z, 0-9 and "-" dropped: "Mei-Mei Johns" gives first "mei-mei", last "johns" and name
    "mei-mei.johns".
    """
    words = [_slug(word) for word in name.split()]
    words = [word for word in words if word]
    if not words:
        return None
    parts = {"first": words[0], "last": words[-1], "name": ".".join(words)}
    return PLACEHOLDER.sub(lambda match: parts[match.group(1)], pattern)


def _slug(word: str) -> str:
    plain = unicodedata.normalize("NFKD", word)
    plain = "".join(char for char in plain if not unicodedata.combining(char))
    return re.sub(r"[^a-z0-9-]", "", plain.lower()).strip("-")
