"""Problems found in source files, each with its file and line, and the CSV report of them."""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..i18n import N_, _

REPORT_HEADER = (N_("File"), N_("Line"), N_("Column"), N_("Value"), N_("Problem"), N_("Message"))


@dataclass(frozen=True)
class SourceProblem:
    """One thing wrong in one row of a source file, in the words of that file's columns."""

    file: str  # file name as the user sees it
    line_word: str  # "line" for CSV, "row" for .xlsx
    line: int  # 0 when the problem concerns no single row
    column: str  # the source column, "" when the whole row is concerned
    value: str
    group: str  # the kind of problem, used to count and group the report, e.g. "account is blank"
    message: str

    def text(self) -> str:
        """Return the line printed in the command's report."""
        if self.line:
            return f"{place(self.file, self.line_word, self.line)}: {self.message}"
        return f"{self.file}: {self.message}"


def line_ref(line_word: str, line: int) -> str:
    """Return "line 4" (CSV) or "row 4" (.xlsx) in the current locale."""
    if line_word == "line":
        return _("line {line}").format(line=line)
    return _("row {line}").format(line=line)


def place(file: str, line_word: str, line: int) -> str:
    """Return "export.csv, line 4" or "export.xlsx, row 4" in the current locale."""
    if line_word == "line":
        return _("{file}, line {line}").format(file=file, line=line)
    return _("{file}, row {line}").format(file=file, line=line)


def group_problems(problems: Iterable[SourceProblem]) -> dict[str, list[SourceProblem]]:
    """Return the problems by group, the largest group first and in file order within a group."""
    groups: dict[str, list[SourceProblem]] = {}
    for problem in problems:
        groups.setdefault(problem.group, []).append(problem)
    return dict(sorted(groups.items(), key=lambda item: -len(item[1])))


def write_problem_report(path: Path, problems: Iterable[SourceProblem]) -> None:
    """Write every problem as one CSV row (UTF-8 with BOM, so that Excel opens it as UTF-8)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow([_(title) for title in REPORT_HEADER])
    for problem in problems:
        writer.writerow((problem.file, problem.line or "", problem.column, problem.value, problem.group, problem.message))
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(buffer.getvalue().encode("utf-8-sig"))
        os.chmod(temp_name, 0o644)  # mkstemp makes the file private, but the team reads the report
        os.replace(temp_name, path)
    finally:
        if os.path.exists(temp_name):
            os.unlink(temp_name)
