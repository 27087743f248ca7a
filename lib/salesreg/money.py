"""Exact money: Decimal amounts rounded half up to the currency's smallest unit."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

# Digits after the decimal point of each currency's smallest unit (ISO 4217 minor units,
# with JPY, KRW and TWD billed in whole units as their markets do).
CURRENCY_UNITS: dict[str, int] = {
    "JPY": 0,
    "KRW": 0,
    "TWD": 0,
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "CNY": 2,
    "AUD": 2,
    "CAD": 2,
    "CHF": 2,
    "SGD": 2,
    "HKD": 2,
    "INR": 2,
}

CURRENCY_SYMBOLS: dict[str, str] = {
    "JPY": "¥",
    "KRW": "₩",
    "TWD": "NT$",
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "CNY": "CN¥",
    "AUD": "A$",
    "CAD": "C$",
    "CHF": "CHF ",
    "SGD": "S$",
    "HKD": "HK$",
    "INR": "₹",
}


def unit(currency: str) -> Decimal:
    """Return the smallest unit of ``currency`` as a Decimal (1 for JPY, 0.01 for USD)."""
    return Decimal(1).scaleb(-CURRENCY_UNITS[currency])


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Round ``amount`` half up to the currency's smallest unit."""
    return amount.quantize(unit(currency), rounding=ROUND_HALF_UP)


def to_cell(amount: Decimal, currency: str) -> int | float:
    """Return the number to store in a spreadsheet cell: an int for whole-unit currencies."""
    if CURRENCY_UNITS[currency] == 0:
        return int(round_money(amount, currency))
    return float(round_money(amount, currency))


def format_money(amount: Decimal, currency: str) -> str:
    """Format ``amount`` for people, for example ``¥600,000`` or ``$1,250.50``."""
    digits = CURRENCY_UNITS[currency]
    rounded = round_money(amount, currency)
    sign = "-" if rounded < 0 else ""
    return f"{sign}{CURRENCY_SYMBOLS.get(currency, currency + ' ')}{abs(rounded):,.{digits}f}"


def excel_number_format(currency: str) -> str:
    """Return an Excel number format that shows amounts in ``currency``."""
    symbol = CURRENCY_SYMBOLS.get(currency, currency + " ").replace('"', "")
    decimals = "." + "0" * CURRENCY_UNITS[currency] if CURRENCY_UNITS[currency] else ""
    return f'"{symbol}"#,##0{decimals};-"{symbol}"#,##0{decimals}'
