"""The managers' summary workbook: pivot tables of the deals, with native Excel charts.

``summary_tables`` computes every table from one ``SummaryData`` snapshot and does no I/O.
``write_summary`` lays the tables out with XlsxWriter and replaces the target file atomically.
``format_summary`` renders the key tables as text for the terminal, and
``compose_summary_mail`` builds the e-mail that carries the workbook to the managers whom
``summary_recipients`` finds on the Team sheet.

Modules: ``frame`` (the deals as a DataFrame, pivot helpers), ``tables``, ``outcomes`` and
``hygiene`` (the tables), ``sheet``, ``charts`` and ``workbook`` (the XlsxWriter layout),
``terminal`` (text output) and ``message`` (the e-mail).
"""

from __future__ import annotations

from .message import compose_summary_mail, summary_recipients
from .tables import summary_tables
from .terminal import format_summary
from .workbook import sheet_names, write_summary

__all__ = [
    "compose_summary_mail",
    "format_summary",
    "sheet_names",
    "summary_recipients",
    "summary_tables",
    "write_summary",
]
