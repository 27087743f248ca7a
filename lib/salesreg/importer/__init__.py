"""Import a CRM export (CSV or .xlsx) into the register, driven by a TOML mapping file.

``load_mapping`` reads and checks the mapping, ``run_import`` reads the export files, plans the
new and changed rows against the register and the last import, and writes both.
docs/import.md describes the mapping and the decisions behind the import.
"""

from __future__ import annotations

from .job import ImportResult, run_import
from .mapping import Mapping, MappingError, load_mapping
from .problems import SourceProblem, group_problems, write_problem_report
from .source import SourceFileError

__all__ = [
    "ImportResult",
    "Mapping",
    "MappingError",
    "SourceFileError",
    "SourceProblem",
    "group_problems",
    "load_mapping",
    "run_import",
    "write_problem_report",
]
