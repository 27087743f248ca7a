"""Live formulas for the Deals sheet's fiscal-period sales and weighted sales.

The formulas compute in Excel and LibreOffice what ``salesreg.fiscal`` computes in Python, so a
rep's amounts change while the rep types. They read the fiscal year and the currency's decimals
from the Settings sheet through defined names, and the rank probabilities from the Lists sheet.
They use only functions that Excel 2007 and LibreOffice both know (no LET, LAMBDA or XLOOKUP).

Month arithmetic: d = months from the fiscal year's first month to the service start month
(0 … 11 inside the year, negative before it). Billed months inside the year are
MAX(0, MIN(11, d + N − 1, or 11 when N is blank) − MAX(0, d) + 1), and the one-time fee counts
when 0 ≤ d ≤ 11. A blank or non-date service start gives 0, and a blank price or fee counts as 0.

NOTE: the formulas count number and date cells only. An amount or date typed as text ("10万",
"2026年10月1日") is 0 for the formula but parsed by the engine, so the two differ until the rep
types a number. The same holds for values the engine rejects (a negative price, 1.5 months): the
row's Problems cell lists them, and the formula still computes with what was typed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from openpyxl.utils import get_column_letter

from .config import Config
from .fields import COLUMNS, COLUMN_BY_FIELD, OUTCOME_WORDS
from .fiscal import FiscalYear, fiscal_year_of
from .i18n import DEFAULT, LOCALES, N_, _, using
from .money import CURRENCY_UNITS, to_cell
from .parse import show

# The columns that contain formulas. Every other computed column contains a value that sync writes.
FORMULA_FIELDS: tuple[str, ...] = ("fy_sales", "weighted_sales")
# The rep columns that the fiscal-period sales formula reads as numbers and dates.
FORMULA_INPUTS: tuple[str, ...] = ("monthly_price", "service_start", "contract_months", "one_time_fee")

SETTINGS_SHEET = N_("Settings")  # translated when the template names the sheet

# Defined names that the formulas read. FY_START and MONEY_DIGITS point at Settings cells,
# and the two lists are the Lists sheet's rank and probability columns.
FY_START = "FYStart"
MONEY_DIGITS = "MoneyDigits"
EXPECTATION_LIST = "ExpectationList"
PROBABILITY_LIST = "ProbabilityList"

# Default column numbers (1-based) of the fields, in the template's order.
TEMPLATE_COLUMNS: dict[str, int] = {column.field: index for index, column in enumerate(COLUMNS, start=1)}


@dataclass(frozen=True)
class Setting:
    """One row of the Settings sheet: its label, the defined name of its value cell, and help.

    ``label`` and ``help`` are English, and the template writes their translations into the sheet.
    """

    label: str
    name: str | None
    help: str


# Settings rows in order, from row 2 down. Column B contains the values.
SETTINGS: tuple[Setting, ...] = (
    Setting(N_("Fiscal year"), None, N_("The fiscal year that the sales columns count.")),
    Setting(N_("First month"), FY_START, N_("First day of the fiscal year; the formulas count 12 months from it.")),
    Setting(N_("Last month"), None, N_("First day of the fiscal year's last month.")),
    Setting(N_("Currency"), None, N_("Currency of the money columns.")),
    Setting(N_("Money decimals"), MONEY_DIGITS, N_("Decimals of the currency's smallest unit; sales round to it.")),
)
SETTINGS_VALUE_COLUMN = "B"
SETTINGS_FIRST_ROW = 2


def settings_cell(name: str) -> str:
    """Return the absolute coordinate (``$B$3``) of the Settings value cell behind defined name ``name``."""
    for row, setting in enumerate(SETTINGS, start=SETTINGS_FIRST_ROW):
        if setting.name == name:
            return f"${SETTINGS_VALUE_COLUMN}${row}"
    raise KeyError(f"{name!r} is not a defined name of the Settings sheet; use {FY_START} or {MONEY_DIGITS}.")


def settings_values(config: Config, today: date) -> dict[str, str | date | int]:
    """Return the Settings sheet's values by label for the fiscal year that contains ``today``.

    ``today`` is a local date in the configured time zone. Sync writes these values again when
    the fiscal year turns, so that the formulas count the new year.
    """
    year = current_fiscal_year(config, today)
    return {
        "Fiscal year": year.name,
        "First month": year.start.first_day(),
        "Last month": year.end.first_day(),
        "Currency": config.fiscal.currency,
        "Money decimals": CURRENCY_UNITS[config.fiscal.currency],
    }


def current_fiscal_year(config: Config, today: date) -> FiscalYear:
    """Return the fiscal year that contains the local date ``today``."""
    return fiscal_year_of(today, config.fiscal.start_month, config.fiscal.label)


def formula_cells(row: int, columns: Mapping[str, int] | None = None, locale: str = DEFAULT) -> dict[str, str]:
    """Return the formula text, with its leading "=", of each formula field in Excel row ``row``.

    ``columns`` maps field names to 1-based column numbers as the register has them; the
    template's order applies when it is None. ``locale`` chooses the outcome words that the
    weighted sales formula compares: "en" compares Won and Lost only, as every English register
    has it, and "ja" compares 受注 and 失注 and the English words too, so that it fits
    a register of either language. Raise KeyError naming a field that ``columns`` lacks.
    """
    positions = TEMPLATE_COLUMNS if columns is None else columns

    def cell(field: str) -> str:
        if field not in positions:
            raise KeyError(
                f"The column map has no column for {field!r} ({COLUMN_BY_FIELD[field].header}); "
                f"pass the register's column of every field that the formulas read."
            )
        return f"{get_column_letter(positions[field])}{row}"

    return {
        "fy_sales": "=" + _fy_sales(cell("monthly_price"), cell("service_start"), cell("contract_months"), cell("one_time_fee")),
        "weighted_sales": "=" + _weighted_sales(cell("fy_sales"), cell("outcome"), cell("expectation"), locale),
    }


def accepted_formulas(row: int, columns: Mapping[str, int] | None = None) -> dict[str, tuple[str, ...]]:
    """Return every formula text of each formula field in row ``row`` that sync leaves in place.

    These are the formulas of every locale's template, so that a register keeps its formulas
    when the team's locale changes.
    """
    variants = [formula_cells(row, columns, code) for code in LOCALES]
    return {field: tuple(dict.fromkeys(variant[field] for variant in variants)) for field in FORMULA_FIELDS}


def _fy_sales(price: str, start: str, months: str, fee: str) -> str:
    # Months from the fiscal year's first month to the service start month.
    offset = f"((YEAR({start})-YEAR({FY_START}))*12+MONTH({start})-MONTH({FY_START}))"
    last = f"MIN(11,IF(ISNUMBER({months}),{offset}+{months}-1,11))"
    billed = f"MAX(0,{last}-MAX(0,{offset})+1)"
    one_time = f"IF(AND({offset}>=0,{offset}<=11),N({fee}),0)"
    # ROUND only removes binary floating-point noise: price and fee already have at most the
    # currency's decimals, so the exact sum has no more.
    return f"IF(ISNUMBER({start}),ROUND(N({price})*{billed}+{one_time},{MONEY_DIGITS}),0)"


def _weighted_sales(fy_sales: str, outcome: str, rank: str, locale: str) -> str:
    # Excel's ROUND rounds half away from zero, which is half up for the non-negative amounts
    # here, as salesreg.money.round_money does. An unknown rank gives "" like a blank one.
    probability = f"INDEX({PROBABILITY_LIST},MATCH(TRIM({rank}),{EXPECTATION_LIST},0))"
    ranked = f'IFERROR(ROUND({fy_sales}*{probability},{MONEY_DIGITS}),"")'
    won = _is_outcome(outcome, "Won", locale)
    lost = _is_outcome(outcome, "Lost", locale)
    return f'IF({won},{fy_sales},IF({lost},0,IF(TRIM({rank})="","",{ranked})))'


def _is_outcome(cell: str, outcome: str, locale: str) -> str:
    """Return a condition that is true when ``cell`` contains a word for ``outcome`` in ``locale``'s template."""
    if locale == DEFAULT:
        return f'TRIM({cell})="{OUTCOME_WORDS[DEFAULT][outcome]}"'
    words = (OUTCOME_WORDS[locale][outcome], OUTCOME_WORDS[DEFAULT][outcome])
    return "OR(" + ",".join(f'TRIM({cell})="{word}"' for word in words) + ")"


def cached_results(fy_sales: Decimal, weighted_sales: Decimal | None, currency: str) -> dict[str, int | float | str]:
    """Return the values to store as the formula cells' cached results, by field.

    A weighted sales of None (an open deal without a rank) is the empty text that the formula
    returns, so the writer stores it as a string result (``t="str"``).
    """
    return {
        "fy_sales": to_cell(fy_sales, currency),
        "weighted_sales": "" if weighted_sales is None else to_cell(weighted_sales, currency),
    }


def overwritten_message(header: str, value: object) -> str:
    """Return the Problems line for a formula cell in which a rep typed a value, in the current locale."""
    return _(
        '"{header}" held the typed value {value} in place of its formula; sync restored the formula. '
        "Change the price, dates or rank columns instead, and the formula recomputes."
    ).format(header=header, value=repr(value))


def text_input_message(header: str, value: str) -> str:
    """Return the Problems line for a formula input that a rep typed as text, in the current locale."""
    return _(
        "{header}: {value} is typed as text, which the sheet's formulas count as 0 or as no end; "
        "type it as a number or a date, so that the spreadsheet shows the sales that salesreg computes."
    ).format(header=header, value=show(value))


def is_overwritten_message(line: str, header: str) -> bool:
    """Return whether a Problems line is an ``overwritten_message`` for the column ``header``.

    The line may be in any locale, because the team's locale may have changed since sync wrote it.
    """
    # The text before the value is the prefix; a marker that no header contains shows where the value starts.
    marker = "\x00"
    for code in LOCALES:
        with using(code):
            prefix = overwritten_message(header, marker).split(repr(marker), 1)[0]
        # A translation that puts the value before the header gives a prefix without the header,
        # which would match the notices of every column.
        if header in prefix and line.startswith(prefix):
            return True
    return False
