"""Plan the cells ``sync`` writes: new Deal IDs and the computed columns of every row.

In a register with the Settings sheet, the sales columns contain live formulas. Sync keeps
them, stores the engine's amounts as their cached results, puts back a formula over which a rep
typed a value, and moves the Settings cells to the fiscal year that contains today.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from .config import Config
from .formulas import (
    FORMULA_FIELDS,
    FORMULA_INPUTS,
    FY_START,
    MONEY_DIGITS,
    SETTINGS,
    SETTINGS_FIRST_ROW,
    SETTINGS_VALUE_COLUMN,
    accepted_formulas,
    cached_results,
    formula_cells,
    is_overwritten_message,
    overwritten_message,
    settings_cell,
    text_input_message,
    settings_values,
)
from .i18n import get_locale
from .money import to_cell
from .parse import EXCEL_CELL_LIMIT, canonical
from .register import FormulaCells, RegisterSnapshot
from .scan import Scan, ScannedDeal
from .xlsx_patch import CachedFormula, excel_serial

log = logging.getLogger(__name__)


def computed_values(config: Config, scanned: ScannedDeal, reminders_sent: int, notices: list[str] | None = None) -> dict[str, Any]:
    """Return the value of every computed column of one deal, as the cell should hold it.

    ``notices`` are extra lines for the Problems cell after the deal's problems.
    """
    currency = config.fiscal.currency
    state = scanned.state
    problems = "\n".join([problem.cell_text() for problem in scanned.deal.problems] + (notices or []))
    if len(problems) > EXCEL_CELL_LIMIT:
        problems = problems[: EXCEL_CELL_LIMIT - 1] + "…"
    return {
        "fy_sales": to_cell(scanned.fy_sales, currency),
        "weighted_sales": None if scanned.weighted_sales is None else to_cell(scanned.weighted_sales, currency),
        "deadline": _local_minute(state.deadline, config) if state and state.deadline else None,
        "last_updated": _local_minute(state.last_updated, config) if state else None,
        "reminders_sent": reminders_sent,
        "problems": problems or None,
    }


def _local_minute(moment: datetime, config: Config) -> datetime:
    """Return ``moment`` as a naive local time to the minute, since Excel cells carry no zone."""
    return moment.astimezone(config.timezone).replace(tzinfo=None, second=0, microsecond=0)


def plan_changes(
    config: Config,
    snapshot: RegisterSnapshot,
    scan: Scan,
    sent_in_cycle: dict[str, int],
    formulas: FormulaCells | None = None,
) -> dict[int, dict[str, Any]]:
    """Return Excel row -> field -> new value for every cell whose content differs.

    When ``formulas`` shows that the register has the sales formulas, a sales cell gets a
    CachedFormula where its formula or cached result differs. Otherwise it gets a plain value.
    """
    current = {row.row: row.values for row in snapshot.rows}
    keep_formulas = formulas is not None and formulas.has_formulas
    changes: dict[int, dict[str, Any]] = {}
    for scanned in scan.deals:
        if scanned.deal_id is None:
            continue
        unchanged_cycle = scanned.state is not None and scanned.status in ("unchanged", "improper")
        sent = sent_in_cycle.get(scanned.deal_id, 0) if unchanged_cycle else 0
        before = current.get(scanned.deal.row, {})
        formula_changes: dict[str, CachedFormula] = {}
        notices: list[str] = []
        if keep_formulas:
            assert formulas is not None
            formula_changes, notices = _plan_formulas(config, snapshot, scanned, before, formulas)
        wanted = computed_values(config, scanned, sent, notices)
        if keep_formulas:
            for name in FORMULA_FIELDS:
                wanted.pop(name, None)
        if scanned.assigned_id:
            wanted["deal_id"] = scanned.deal_id
        row_changes: dict[str, Any] = {name: value for name, value in wanted.items() if not _same(before.get(name), value)}
        row_changes.update(formula_changes)
        if row_changes:
            changes[scanned.deal.row] = row_changes
    return changes


def _plan_formulas(
    config: Config, snapshot: RegisterSnapshot, scanned: ScannedDeal, before: dict[str, Any], formulas: FormulaCells
) -> tuple[dict[str, CachedFormula], list[str]]:
    """Return the formula cells of one deal row that need writing, and its Problems notices.

    A cell that contains the right formula and cached result is left out. A cell that contains
    a value or another formula gets the formula back, and the notice names what it contained.
    The notice stays in the Problems cell until the rep next edits the row.
    """
    row = scanned.deal.row
    # A cell keeps the formula of any locale's template. A restored cell gets the team's locale's formula.
    expected_formulas = formula_cells(row, snapshot.columns, get_locale())
    accepted = accepted_formulas(row, snapshot.columns)
    results = cached_results(scanned.fy_sales, scanned.weighted_sales, config.fiscal.currency)
    changes: dict[str, CachedFormula] = {}
    notices: list[str] = []
    for name in FORMULA_FIELDS:
        if name not in snapshot.columns:
            continue
        header = snapshot.headers.get(name) or config.register.headers[name]
        existing = formulas.formulas.get((row, name))
        old_value = before.get(name)
        text = expected_formulas[name].removeprefix("=")
        result = results[name]
        if existing in accepted[name]:
            if not _same_result(formulas.results.get((row, name), (None, "n")), result):
                changes[name] = CachedFormula(text, result, keep_formula=True)
            continue
        changes[name] = CachedFormula(text, result)
        typed = existing if existing is not None else old_value
        if typed is not None and typed != "":
            notices.append(overwritten_message(header, typed))
    if not notices and scanned.status == "unchanged":
        # Keep the notices of an earlier sync until the rep edits the row again.
        notices = [line for line in str(before.get("problems") or "").split("\n") if _is_overwritten_notice(line, snapshot, config)]
    return changes, notices + _text_input_notices(config, snapshot, scanned, before)


def _text_input_notices(config: Config, snapshot: RegisterSnapshot, scanned: ScannedDeal, before: dict[str, Any]) -> list[str]:
    """Return a Problems notice for each formula input that the rep typed as text and salesreg could read.

    salesreg reads "2万" or "2026/10/01" typed as text, but a spreadsheet formula counts text as 0
    (or as no end), so the live sales would differ from salesreg's once the file is recalculated.
    The notice does not make the row invalid. It stays while the cell contains text.
    """
    failed = {problem.header for problem in scanned.deal.problems}
    notices = []
    for name in FORMULA_INPUTS:
        value = before.get(name)
        header = snapshot.headers.get(name) or config.register.headers[name]
        if isinstance(value, str) and value.strip() and header not in failed:
            notices.append(text_input_message(header, value))
    return notices


def _is_overwritten_notice(line: str, snapshot: RegisterSnapshot, config: Config) -> bool:
    headers = [snapshot.headers.get(name) or config.register.headers[name] for name in FORMULA_FIELDS]
    return any(is_overwritten_message(line, header) for header in headers)


def _same_result(cached: tuple[str | None, str], new: int | float | Decimal | str) -> bool:
    """Return whether a cell's cached result (text and ``t`` type) is the planned one."""
    text, kind = cached
    if isinstance(new, str):
        return kind == "str" and text == new
    return kind == "n" and _same_number_text(text, _number_text(new))


def plan_settings(config: Config, today: date, formulas: FormulaCells) -> dict[str, dict[str, Any]]:
    """Return sheet -> coordinate -> value for the Settings cells, when the fiscal year turned.

    The fiscal year has turned when the cell behind FYStart or MoneyDigits differs from what
    ``settings_values`` gives for ``today``. Then every Settings value is written. Return {}
    when nothing differs or the register has no Settings sheet.
    """
    if not formulas.has_formulas:
        return {}
    sheet, coordinate = formulas.names[FY_START]
    if coordinate != settings_cell(FY_START).replace("$", ""):
        log.warning(
            "The defined name %s points at %s!%s, not at %s of the Settings sheet that salesreg made; "
            "sync leaves the fiscal year settings alone.", FY_START, sheet, coordinate, settings_cell(FY_START))
        return {}
    values = settings_values(config, today)
    first_month = values["First month"]
    assert isinstance(first_month, date)
    expected = {
        FY_START: excel_serial(first_month, formulas.date1904),
        MONEY_DIGITS: str(values["Money decimals"]),
    }
    differs = False
    for name, expected_text in expected.items():
        cached, _kind = formulas.settings.get(name, (None, "n"))
        differs = differs or not _same_number_text(cached, expected_text)
    if not differs:
        return {}
    # NOTE: only FYStart and MoneyDigits are compared, so a currency change between two
    # currencies with the same decimals leaves the Currency label as it was.
    cells = {
        f"{SETTINGS_VALUE_COLUMN}{row}": values[setting.label]
        for row, setting in enumerate(SETTINGS, start=SETTINGS_FIRST_ROW)
    }
    return {sheet: cells}


def _number_text(value: int | float | Decimal) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def _same_number_text(cached: str | None, expected: str) -> bool:
    try:
        return cached is not None and Decimal(cached) == Decimal(expected)
    except ArithmeticError:
        return False


def _same(old: Any, new: Any) -> bool:
    if old is None or new is None:
        return (old is None or old == "") and (new is None or new == "")
    if isinstance(new, (int, float, Decimal)) and isinstance(old, (int, float, Decimal)) and not isinstance(old, bool):
        return _decimal(old) == _decimal(new)
    if isinstance(new, datetime) and isinstance(old, datetime):
        # Excel stores times as fractions of a day, so 18:00 can read back as 17:59:59.9999.
        return (old + timedelta(seconds=30)).replace(second=0, microsecond=0) == new
    return canonical(old) == canonical(new)


def _decimal(number: int | float | Decimal) -> Decimal:
    # repr() gives the shortest text that round-trips, so 0.1 compares as 0.1.
    return Decimal(repr(number)) if isinstance(number, float) else Decimal(number)
