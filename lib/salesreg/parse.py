"""Turn spreadsheet cell values into typed values, or into a message that says what to enter.

Every parser takes the value that the register reader returns for a cell (str, int, float,
bool, date, datetime, time, None, or an UnreadableCell) and either returns the typed value or
raises CellError with a message that shows the value and what to enter instead.
docs/cells.md lists what each kind of cell accepts.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from openpyxl.utils.datetime import WINDOWS_EPOCH, from_excel

from .i18n import _, format_date, get_locale
from .money import CURRENCY_SYMBOLS, CURRENCY_UNITS

EXCEL_ERRORS = frozenset({"#N/A", "#DIV/0!", "#REF!", "#VALUE!", "#NAME?", "#NUM!", "#NULL!", "#GETTING_DATA", "#SPILL!", "#CALC!"})

# Excel cells hold at most this many characters; longer text is cut when written back.
EXCEL_CELL_LIMIT = 32767

# Excel keeps numbers as binary doubles and shows at most 15 significant digits of them.
EXCEL_DIGITS = 15

# Dates outside these years are typing mistakes in a deal register (a 5 typed into a date cell
# is 1900-01-05), so they are problems rather than values.
FIRST_DATE = date(1950, 1, 1)
LAST_DATE = date(2199, 12, 31)

_EDGE_SPACE = re.compile(r"^[\s\u200b\ufeff]+|[\s\u200b\ufeff]+$")
# Excel saves a carriage return as _x000D_ and a literal "_x" as _x005F_x; openpyxl 3.1 keeps them.
_EXCEL_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
_LINE_BREAK = re.compile(r"[ \t]*(?:\r\n|\r|\n)[ \t]*|\t")


class CellError(ValueError):
    """A cell value that cannot be used; the message shows the value and what to enter."""


@dataclass(frozen=True)
class UnreadableCell:
    """A cell whose content cannot be used as a value, such as a formula without a saved result.

    ``value`` is what the cell reads as: None for a formula without a saved result, the
    top-left value for a merged range. ``shown`` is the text that messages quote, and
    ``message`` is the problem text that every parser raises as CellError.
    """

    value: Any
    shown: str
    message: str

    def __str__(self) -> str:
        return clean_text(self.value)


# ---------------------------------------------------------------------------------------------
# Text


def show(value: Any) -> str:
    """Return ``value`` quoted the way messages show it, cut to a readable length."""
    if isinstance(value, UnreadableCell):
        text = value.shown
    elif isinstance(value, datetime) and value == datetime.combine(value.date(), datetime.min.time()):
        text = value.date().isoformat()
    elif isinstance(value, datetime):
        text = value.isoformat(sep=" ")
    elif isinstance(value, date):
        text = value.isoformat()
    elif isinstance(value, float) and math.isfinite(value):
        text = format(Decimal(repr(value)).normalize(), "f")
    elif isinstance(value, str):
        text = clean_text(value)
    else:
        text = str(value)
    text = " ".join(text.split())
    if len(text) > 60:
        text = text[:57] + "..."
    return f'"{text}"'


def show_list(items: Iterable[str]) -> str:
    """Return ``items`` as one list in a message: "Lead, Qualified" in English, "見込み、要件確認" in Japanese."""
    # Translators: the separator between the items of a list inside a message, such as the stages to pick from.
    return _(", ").join(items)


def reject_unusable(value: Any) -> None:
    """Raise CellError for an Excel error value such as #N/A and for an UnreadableCell."""
    if isinstance(value, UnreadableCell):
        raise CellError(value.message)
    if isinstance(value, str) and clean_text(value) in EXCEL_ERRORS:
        raise CellError(_("{value} is an Excel error value; fix the formula or type the value.").format(value=show(value)))


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and clean_text(value) == "")


def clean_text(value: Any) -> str:
    """Return the cell as text without surrounding spaces, with every line break as ``\\n``.

    Spaces include the no-break space, the ideographic space U+3000 and the zero-width space.
    Excel's ``_xHHHH_`` escapes are undone.
    """
    if value.__class__ is str:
        return _clean_string(value)
    if isinstance(value, UnreadableCell):
        value = value.value
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
    return _clean_string(str(value))


# Registers repeat the same texts (reps, stages, customers) in many rows and every row is
# cleaned several times, so the results are kept. Each entry costs about the text's size twice.
@lru_cache(maxsize=1 << 16)
def _clean_string(text: str) -> str:
    if "_x" in text:
        text = _EXCEL_ESCAPE.sub(lambda match: chr(int(match.group(1), 16)), text)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _EDGE_SPACE.sub("", text)


def parse_text(value: Any) -> str | None:
    """Return the text of a cell that may hold several lines, or None for a blank cell."""
    if value is None:
        return None
    reject_unusable(value)
    text = clean_text(value)
    if len(text) > EXCEL_CELL_LIMIT:
        raise CellError(
            _("is too long: {length} characters, and an Excel cell can contain at most {limit}; shorten it.").format(
                length=f"{len(text):,}", limit=f"{EXCEL_CELL_LIMIT:,}"
            )
        )
    return text or None


def parse_line(value: Any) -> str | None:
    """Return the text of a one-line cell (a name, a choice), with line breaks and tabs as spaces."""
    text = parse_text(value)
    if text is None:
        return None
    return _LINE_BREAK.sub(" ", text)


def canonical(value: Any) -> str:
    """Return a stable text form of a raw cell for fingerprints and history."""
    if value.__class__ is str:
        return _clean_string(value)
    if value is None:
        return ""
    if isinstance(value, UnreadableCell):
        value = value.value
    if isinstance(value, datetime):
        if value.hour == value.minute == value.second == 0 and value.microsecond == 0:
            return value.date().isoformat()
        return value.replace(microsecond=0).isoformat(sep=" ")
    if isinstance(value, float):
        return format(Decimal(repr(value)).normalize(), "f") if math.isfinite(value) else repr(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return clean_text(value)


@lru_cache(maxsize=1 << 14)
def fold(text: str) -> str:
    """Return ``text`` folded for matching: full-width to half-width, case-insensitive, spaces joined."""
    return " ".join(unicodedata.normalize("NFKC", text).replace("\u200b", "").casefold().split())


# ---------------------------------------------------------------------------------------------
# Dates

_TIME = r"(?:[ t](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?"
_YEAR_FIRST = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})" + _TIME)
_KANJI = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日?")
_ERA = re.compile(r"(昭和|平成|令和|[shr])(\d{1,2}|元)[年./-](\d{1,2})[月./-](\d{1,2})日?")
_DAY_MONTH_YEAR = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})")
_TWO_DIGIT_YEAR = re.compile(r"\d{1,2}[-/.]\d{1,2}[-/.]\d{1,2}")
_NO_YEAR = re.compile(r"\d{1,2}[-/.]\d{1,2}|\d{1,2}月\d{1,2}日?")
_WEEKDAY_SUFFIX = re.compile(r"\s*\(\s*([^()]{1,3})\s*\)$")
# A space only separates the date from a time of day; anywhere else it is dropped.
_TIME_SPACE = re.compile(r"\d \d{1,2}:\d{2}")

# Japanese eras since 1926: name, Latin initial, first day. An era ends the day before the next
# begins; earlier eras end before FIRST_DATE anyway.
_ERAS: tuple[tuple[str, str, date], ...] = (
    ("昭和", "s", date(1926, 12, 25)),
    ("平成", "h", date(1989, 1, 8)),
    ("令和", "r", date(2019, 5, 1)),
)

_WEEKDAYS = {
    **{name: index for index, name in enumerate("月火水木金土日")},
    **{name: index for index, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))},
}


def parse_date(value: Any) -> date | None:
    """Return the date in ``value``; a date-time rounds to the nearest second first.

    A number is an Excel date serial number of the 1900 date system, or a date written as
    YYYYMMDD; the register reader has already turned serial numbers of a 1904-system
    workbook into date-times.
    """
    reject_unusable(value)
    if is_blank(value):
        return None
    if isinstance(value, datetime):
        return _checked_date(_nearest_second(value).date(), value)
    if isinstance(value, date):
        return _checked_date(value, value)
    if isinstance(value, bool):
        raise _not_a_date(value)
    if isinstance(value, (int, float)):
        return _date_from_number(value)
    return _date_from_text(value)


def serial_to_datetime(serial: float, epoch: datetime = WINDOWS_EPOCH) -> datetime | None:
    """Return the date-time of an Excel serial number, or None when it is no plausible date.

    ``epoch`` is the workbook's date system: 1899-12-30 for the 1900 system, 1904-01-01 for
    the 1904 system.
    """
    if not math.isfinite(serial) or serial < 1:
        return None
    try:
        moment = from_excel(serial, epoch)
    except (OverflowError, ValueError):
        return None
    if not isinstance(moment, datetime) or not FIRST_DATE <= _nearest_second(moment).date() <= LAST_DATE:
        return None
    return moment


def _nearest_second(moment: datetime) -> datetime:
    # Excel stores a date-time as a fraction of a day, so midnight can read back as 23:59:59.9998.
    return (moment + timedelta(microseconds=500_000)).replace(microsecond=0)


def _checked_date(day: date, value: Any) -> date:
    if not FIRST_DATE <= day <= LAST_DATE:
        raise CellError(
            _("{value} is outside the years {first} to {last}; check the year, or type the date as YYYY-MM-DD.").format(
                value=show(value), first=FIRST_DATE.year, last=LAST_DATE.year
            )
        )
    return day


def _date_from_number(value: int | float) -> date:
    if float(value).is_integer() and 19000101 <= value <= 29991231:
        # A date typed as the number YYYYMMDD, as many business systems export it.
        number = int(value)
        try:
            return _checked_date(date(number // 10000, number // 100 % 100, number % 100), value)
        except ValueError:
            pass
    moment = serial_to_datetime(float(value))
    if moment is None:
        raise CellError(
            _("{value} is a number, not a date; type the date as YYYY-MM-DD or use a date cell.").format(value=show(value))
        )
    return _nearest_second(moment).date()


def _date_from_text(value: Any) -> date:
    text = unicodedata.normalize("NFKC", clean_text(value)).casefold()
    weekday_match = _WEEKDAY_SUFFIX.search(text)
    if weekday_match:
        text = text[: weekday_match.start()]
    text = " ".join(text.split())
    if not _TIME_SPACE.search(text):
        text = text.replace(" ", "")

    day = _date_from_clear_text(text, value)
    if weekday_match:
        _check_weekday(day, weekday_match.group(1).strip(), value)
    return _checked_date(day, value)



def _date_from_clear_text(text: str, value: Any) -> date:
    match = _YEAR_FIRST.fullmatch(text) or _KANJI.fullmatch(text)
    if match:
        return _date_with_time(match.groups(), value)
    if len(text) == 8 and text.isdigit():
        return _date_from_number(int(text))
    match = _ERA.fullmatch(text)
    if match:
        return _era_date(*match.groups(), value=value)
    match = _DAY_MONTH_YEAR.fullmatch(text)
    if match:
        return _day_month_date(*match.groups(), value=value)
    if _TWO_DIGIT_YEAR.fullmatch(text):
        raise CellError(_("{value} has a two-digit year; type the whole date as YYYY-MM-DD.").format(value=show(value)))
    if _NO_YEAR.fullmatch(text):
        raise CellError(_("{value} has no year; type the whole date as YYYY-MM-DD.").format(value=show(value)))
    raise _not_a_date(value)


def _not_a_date(value: Any) -> CellError:
    return CellError(_("{value} is not a date; use YYYY-MM-DD or a date cell.").format(value=show(value)))


def _real_date(year: int, month: int, day: int, value: Any) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise CellError(_("{value} is not a real date; check the day and month.").format(value=show(value))) from None


def _date_with_time(groups: tuple[str | None, ...], value: Any) -> date:
    year, month, day = (int(group) for group in groups[:3] if group is not None)
    day_value = _real_date(year, month, day, value)
    if len(groups) <= 3 or groups[3] is None:
        return day_value
    hour, minute = int(groups[3]), int(groups[4] or 0)
    second = int(groups[5] or 0)
    fraction = Decimal("0." + groups[6]) if groups[6] else Decimal(0)
    if hour > 23 or minute > 59 or second > 59:
        raise CellError(_("{value} has an impossible time of day; type the date as YYYY-MM-DD.").format(value=show(value)))
    moment = datetime(year, month, day, hour, minute, second) + timedelta(seconds=float(fraction))
    return _nearest_second(moment).date()


def _era_date(era: str, era_year: str, month: str, day: str, value: Any) -> date:
    index = next(position for position, entry in enumerate(_ERAS) if era in entry[:2])
    name, _initial, first_day = _ERAS[index]
    is_current = index + 1 == len(_ERAS)
    # The first year of an era (元年) is the calendar year of its first day.
    year = first_day.year + (1 if era_year == "元" else int(era_year)) - 1
    result = _real_date(year, int(month), int(day), value)
    last_day = LAST_DATE if is_current else _ERAS[index + 1][2] - timedelta(days=1)
    if not first_day <= result <= last_day:
        if is_current:
            message = _("{value} is not a date of the {era} era, which runs from {first} on; type the date as YYYY-MM-DD.")
        else:
            message = _(
                "{value} is not a date of the {era} era, which runs from {first} to {last}; type the date as YYYY-MM-DD."
            )
        raise CellError(
            message.format(value=show(value), era=name, first=format_date(first_day), last=format_date(last_day))
        )
    return result


def _day_month_date(first: str, second: str, year: str, value: Any) -> date:
    """Read D/M/YYYY or M/D/YYYY when only one reading is a real date, or both are the same day."""
    readings = set()
    for day, month in ((first, second), (second, first)):
        try:
            readings.add(date(int(year), int(month), int(day)))
        except ValueError:
            continue
    if len(readings) == 1:
        return readings.pop()
    if not readings:
        raise _not_a_date(value)
    one, other = sorted(readings)
    raise CellError(
        _("{value} can be read as {one} or as {other}; type the date as YYYY-MM-DD.").format(
            value=show(value), one=format_date(one), other=format_date(other)
        )
    )


def _check_weekday(day: date, written: str, value: Any) -> None:
    expected = _WEEKDAYS.get(written.rstrip("."))
    if expected is None:
        raise _not_a_date(value)
    if expected != day.weekday():
        raise CellError(
            _("{value} names the wrong day of the week: {date} is a {weekday}; check the date and type it as YYYY-MM-DD.").format(
                value=show(value), date=format_date(day), weekday=_weekday_name(day)
            )
        )


def _weekday_name(day: date) -> str:
    """Return the day's weekday spelled out in the current locale: "Tuesday", "火曜日"."""
    if get_locale() == "en":
        return day.strftime("%A")
    from babel.dates import format_date as babel_date

    return babel_date(day, "EEEE", locale=get_locale())


# ---------------------------------------------------------------------------------------------
# Money

# Japanese number units: 10万 is 100,000 and 1億2,000万 is 120,000,000. 千 is left out, because
# it also multiplies inside a group (1千万 is 10,000,000), which this reader does not take apart.
_JAPANESE_UNITS: tuple[tuple[str, int], ...] = (("兆", 10**12), ("億", 10**8), ("万", 10**4))
_GROUPED_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+|\d+(?:\.\d+)?e[+-]?\d+")
_NEGATIVE_SIGNS = ("-", "▲", "△", "\u2212", "\u2012", "\u2013", "\ufe63")
_DIGIT_GAP = re.compile(r"(?<=\d)\s+(?=\d)")

# Currency signs and words, and the currencies they can mean. The ISO code of every currency
# in CURRENCY_UNITS is recognised too.
_CURRENCY_MARKS: dict[str, tuple[str, ...]] = {
    "円": ("JPY",),
    "¥": ("JPY", "CNY"),
    "\\": ("JPY",),  # Japanese fonts draw the yen sign at the code point of the backslash
    "元": ("CNY",),
    "US$": ("USD",),
    "$": ("USD", "AUD", "CAD", "SGD", "HKD", "TWD"),
    "€": ("EUR",),
    "£": ("GBP",),
    "₩": ("KRW",),
    "₹": ("INR",),
    "ドル": ("USD", "AUD", "CAD", "SGD", "HKD", "TWD"),
}


def parse_money(value: Any, currency: str) -> Decimal | None:
    """Return the amount in ``value`` as an exact Decimal of at most the currency's decimals, ≥ 0.

    A number cell counts by the 15 significant digits that Excel shows. Text may carry
    thousands separators, the currency's sign or code, and the Japanese units 万, 億 and 兆.
    """
    reject_unusable(value)
    if is_blank(value):
        return None
    if isinstance(value, bool):
        raise _not_an_amount(value)
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise _not_an_amount(value)
        amount = Decimal(format(value, f".{EXCEL_DIGITS}g"))
    else:
        amount = _amount_from_text(value, currency)
    if amount < 0:
        raise CellError(_("{value} is negative; type an amount of 0 or more.").format(value=show(value)))
    digits = CURRENCY_UNITS[currency]
    if amount.scaleb(digits) >= 10**EXCEL_DIGITS:
        raise CellError(
            _("{value} has more than {digits} digits, more than Excel can store exactly; check the amount.").format(
                value=show(value), digits=EXCEL_DIGITS
            )
        )
    if amount != amount.quantize(Decimal(1).scaleb(-digits)):
        if digits == 0:
            message = _("{value} has more decimals than {currency} allows; type a whole number, such as 100000.")
        else:
            message = _("{value} has more decimals than {currency} allows; type at most {digits} decimals.")
        raise CellError(message.format(value=show(value), currency=currency, digits=digits))
    return amount + 0  # turns a negative zero into 0


def _not_an_amount(value: Any) -> CellError:
    return CellError(_("{value} is not an amount; type a number such as 100000.").format(value=show(value)))


def _not_an_amount_in_units(value: Any) -> CellError:
    return CellError(_("{value} is not an amount; type a number such as 100000, or 10万.").format(value=show(value)))


def _amount_from_text(value: Any, currency: str) -> Decimal:
    text = unicodedata.normalize("NFKC", clean_text(value))
    text = _DIGIT_GAP.sub(",", text)
    text = "".join(text.split())
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1]
    for sign in _NEGATIVE_SIGNS:
        if text.startswith(sign):
            negative, text = True, text[len(sign) :]
            break
    text = _strip_currency(text, currency, value)
    if text[:1] in _NEGATIVE_SIGNS:
        negative, text = True, text[1:]
    amount = _japanese_amount(text, value) if any(unit in text for unit, _ in _JAPANESE_UNITS) else _plain_amount(text, value)
    return -amount if negative else amount


def _currency_marks() -> dict[str, tuple[str, ...]]:
    """Return every currency mark with the currencies it can mean, longest mark first."""
    marks = dict(_CURRENCY_MARKS)
    for code in CURRENCY_UNITS:
        marks[code] = (code,)
        symbol = CURRENCY_SYMBOLS.get(code, "").strip()
        if symbol and symbol not in marks:
            marks[symbol] = (code,)
    return {mark: marks[mark] for mark in sorted(marks, key=len, reverse=True)}


_MARKS = _currency_marks()


def _strip_currency(text: str, currency: str, value: Any) -> str:
    """Remove one currency sign or code before or after the number; raise for another currency's."""
    upper = text.upper()
    for mark, currencies in _MARKS.items():
        key = mark.upper()
        if upper.startswith(key):
            rest = text[len(mark) :]
        elif upper.endswith(key):
            rest = text[: len(text) - len(mark)]
        else:
            continue
        if currency not in currencies:
            raise CellError(
                _('{value} has the currency sign "{mark}", but this register\'s amounts are in {currency}; '
                  "type the amount in {currency}.").format(value=show(value), mark=mark, currency=currency)
            )
        return rest
    return text


def _plain_amount(text: str, value: Any) -> Decimal:
    if not _GROUPED_NUMBER.fullmatch(text.lower()):
        if re.fullmatch(r"[\d,.]+", text):
            raise CellError(
                _(
                    "{value} is not an amount: commas may only separate thousands (100,000) and a point "
                    "marks decimals; type a number such as 100000."
                ).format(value=show(value))
            )
        raise _not_an_amount(value)
    return Decimal(text.replace(",", ""))


def _japanese_amount(text: str, value: Any) -> Decimal:
    """Return the amount of text such as 10万, 1.5万 or 1億2,000万; each later part stays below its unit."""
    total = Decimal(0)
    rest = text
    limit: int | None = None
    for unit, size in _JAPANESE_UNITS:
        if unit not in rest:
            continue
        part, rest = rest.split(unit, 1)
        number = _plain_amount(part, value) if part else None
        if number is None or (limit is not None and (number >= limit // size or number != int(number))):
            raise _not_an_amount_in_units(value)
        total += number * size
        limit = size
    if rest:
        number = _plain_amount(rest, value)
        if limit is not None and (number >= limit or number != int(number)):
            raise _not_an_amount_in_units(value)
        total += number
    return total


# ---------------------------------------------------------------------------------------------
# Counts

_MONTHS_WORD = re.compile(r"(?:ヶ月|か月|カ月|ヵ月|ケ月|箇月|個月)間?$|\s*(?:months?|mos?)\.?$", re.IGNORECASE)


def parse_count(value: Any) -> int | None:
    """Return a whole number ≥ 1, or None for a blank cell; "12ヶ月" and "12 months" are 12."""
    reject_unusable(value)
    if is_blank(value):
        return None
    if isinstance(value, bool):
        raise _not_a_count(value)
    if isinstance(value, float):
        text = format(value, f".{EXCEL_DIGITS}g") if math.isfinite(value) else "nan"
    else:
        text = _MONTHS_WORD.sub("", unicodedata.normalize("NFKC", clean_text(value))).strip()
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise _not_a_count(value) from None
    if not number.is_finite() or number != number.to_integral_value() or number < 1:
        raise CellError(
            _("{value} is not a whole number of 1 or more; type 1 or more, or leave it blank.").format(value=show(value))
        )
    return int(number)


def _not_a_count(value: Any) -> CellError:
    return CellError(_("{value} is not a whole number; type 1 or more, or leave it blank.").format(value=show(value)))
