"""Turn spreadsheet cell values into typed values, or into a message that says what to enter.

Every parser takes the raw value that openpyxl returns (str, int, float, bool, date, datetime
or None) and either returns the typed value or raises CellError with a message that shows the
value and the expected form.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from openpyxl.utils.datetime import from_excel

from .money import CURRENCY_UNITS

EXCEL_ERRORS = frozenset({"#N/A", "#DIV/0!", "#REF!", "#VALUE!", "#NAME?", "#NUM!", "#NULL!", "#GETTING_DATA", "#SPILL!", "#CALC!"})

# Excel cells hold at most this many characters; longer text is cut when written back.
EXCEL_CELL_LIMIT = 32767

_ISO_DATE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_KANJI_DATE = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$")
_SPACES = "\u00a0\u2007\u202f\u3000"


class CellError(ValueError):
    """A cell value that cannot be used; the message shows the value and what to enter."""


def show(value: Any) -> str:
    """Return ``value`` quoted the way messages show it, cut to a readable length."""
    if isinstance(value, datetime):
        text = value.isoformat(sep=" ")
    elif isinstance(value, date):
        text = value.isoformat()
    else:
        text = str(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f'"{text}"'


def check_error_value(value: Any) -> None:
    """Raise CellError when ``value`` is an Excel error such as #N/A."""
    if isinstance(value, str) and value.strip() in EXCEL_ERRORS:
        raise CellError(f"{show(value)} is an Excel error value; fix the formula or type the value.")


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and clean_text(value) == "")


def clean_text(value: Any) -> str:
    """Return the cell as text without surrounding spaces (the ideographic space included)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip(" \t\r\n" + _SPACES)


def parse_text(value: Any) -> str | None:
    check_error_value(value)
    text = clean_text(value)
    return text or None


def parse_date(value: Any) -> date | None:
    """Return the date in ``value``; a date-time rounds to the nearest second first."""
    check_error_value(value)
    if is_blank(value):
        return None
    if isinstance(value, datetime):
        # Excel stores midnight as a float that can land a hair before it (23:59:59.9998).
        rounded = value + timedelta(microseconds=500_000)
        return rounded.replace(microsecond=0).date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        raise CellError(f"{show(value)} is not a date; use YYYY-MM-DD or a date cell.")
    if isinstance(value, (int, float)):
        if 1 <= value < 2958466:
            return parse_date(from_excel(value))
        raise CellError(f"{show(value)} is not a date serial number; use YYYY-MM-DD or a date cell.")
    text = unicodedata.normalize("NFKC", clean_text(value))
    for pattern in (_ISO_DATE, _KANJI_DATE):
        match = pattern.match(text)
        if match:
            year, month, day = (int(group) for group in match.groups()[:3])
            try:
                return date(year, month, day)
            except ValueError:
                raise CellError(f"{show(value)} is not a real date; check the day and month.") from None
    raise CellError(f"{show(value)} is not a date; use YYYY-MM-DD or a date cell.")


def parse_money(value: Any, currency: str) -> Decimal | None:
    """Return the amount in ``value`` as an exact Decimal of at most the currency's digits, ≥ 0."""
    check_error_value(value)
    if is_blank(value):
        return None
    if isinstance(value, bool):
        raise CellError(f"{show(value)} is not an amount; type a number such as 100000.")
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, float):
        # repr() gives the shortest text that round-trips, so 0.1 stays 0.1.
        amount = Decimal(repr(value))
    else:
        text = unicodedata.normalize("NFKC", clean_text(value))
        text = text.replace(",", "").replace("¥", "").replace("円", "").replace("$", "").replace(" ", "")
        text = text.removeprefix(currency).removesuffix(currency)
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise CellError(f"{show(value)} is not an amount; type a number such as 100000.") from None
        if not amount.is_finite():
            raise CellError(f"{show(value)} is not an amount; type a number such as 100000.")
    if amount < 0:
        raise CellError(f"{show(value)} is negative; amounts must be 0 or more.")
    digits = CURRENCY_UNITS[currency]
    if amount != amount.quantize(Decimal(1).scaleb(-digits)):
        unit_text = "whole units" if digits == 0 else f"at most {digits} decimals"
        raise CellError(f"{show(value)} has more decimals than {currency} allows; use {unit_text}.")
    return amount


def parse_count(value: Any) -> int | None:
    """Return a whole number ≥ 1, or None for a blank cell."""
    check_error_value(value)
    if is_blank(value):
        return None
    if isinstance(value, bool):
        raise CellError(f"{show(value)} is not a whole number; type 1 or more, or leave it blank.")
    try:
        number = Decimal(unicodedata.normalize("NFKC", clean_text(value)))
    except InvalidOperation:
        raise CellError(f"{show(value)} is not a whole number; type 1 or more, or leave it blank.") from None
    if not number.is_finite() or number != number.to_integral_value() or number < 1:
        raise CellError(f"{show(value)} is not a whole number of 1 or more; type 1 or more, or leave it blank.")
    return int(number)


def canonical(value: Any) -> str:
    """Return a stable text form of a raw cell for fingerprints and history."""
    if isinstance(value, datetime):
        if value.hour == value.minute == value.second == 0 and value.microsecond == 0:
            return value.date().isoformat()
        return value.replace(microsecond=0).isoformat(sep=" ")
    if isinstance(value, float):
        return format(Decimal(repr(value)).normalize(), "f") if math.isfinite(value) else repr(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return clean_text(value)


def fold(text: str) -> str:
    """Return ``text`` folded for matching: full-width to half-width, case-insensitive, spaces joined."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())
