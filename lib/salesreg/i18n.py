"""User-facing texts in the team's language: message catalogues, dates and money.

English is the source language: every message is written in English in the code, marked with
``_()`` (or ``N_()`` where a constant is translated later, at use), and looked up in the
catalogue of the current locale. The Japanese catalogues are the ``.po`` files under
``locale/ja/LC_MESSAGES/``; Babel extracts the messages and reads the files. Every ``.po`` file
of a locale is one part of its catalogue (cells, commands, summary, template), so that each
part stays a readable size.

The locale is set once per command from ``[mail] locale`` (see docs/configuration.md) and
kept in a context variable, so a test or a library caller can switch it with ``using()``.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import os
from collections.abc import Callable, Iterator
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

LOCALES: tuple[str, ...] = ("en", "ja")
DEFAULT = "en"
CATALOGUE_DIR = Path(__file__).parent / "locale"

T = TypeVar("T")
_current: contextvars.ContextVar[str] = contextvars.ContextVar("salesreg_locale", default=DEFAULT)


def set_locale(code: str) -> None:
    """Make ``code`` ("en" or "ja") the locale of every text from now on."""
    if code not in LOCALES:
        raise ValueError(f"unknown locale {code!r}; use one of {', '.join(LOCALES)}")
    _current.set(code)


def get_locale() -> str:
    return _current.get()


@contextlib.contextmanager
def using(code: str) -> Iterator[None]:
    """Use ``code`` inside the block and the previous locale after it."""
    if code not in LOCALES:
        raise ValueError(f"unknown locale {code!r}; use one of {', '.join(LOCALES)}")
    token = _current.set(code)
    try:
        yield
    finally:
        _current.reset(token)


def in_config_locale(function: Callable[..., T]) -> Callable[..., T]:
    """Run ``function(config, ...)`` in the locale of ``config.mail.locale``.

    The jobs carry this, so that a library caller (the demo, a test, a script) gets the team's
    language without setting it first, and the caller's own locale comes back afterwards.
    """

    @functools.wraps(function)
    def wrapper(config: Any, *args: Any, **kwargs: Any) -> T:
        with using(config.mail.locale):
            return function(config, *args, **kwargs)

    return wrapper


def locale_from_environment() -> str:
    """Return "ja" when LC_ALL, LC_MESSAGES or LANG names Japanese, else "en".

    Only messages printed before the configuration is read (a missing or broken config file)
    follow the environment; everything after that follows ``[mail] locale``.
    """
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        if value:
            return "ja" if value.lower().startswith("ja") else DEFAULT
    return DEFAULT


@lru_cache(maxsize=None)
def catalogue(code: str) -> dict[str, str | tuple[str, ...]]:
    """Return msgid -> translation of locale ``code``, from every .po file of that locale.

    Plural messages are keyed by their singular msgid and map to the tuple of plural forms.
    Untranslated and fuzzy entries are left out, so their English text shows.
    """
    if code == DEFAULT:
        return {}
    from babel.messages.pofile import read_po  # only a translated locale needs Babel's reader

    entries: dict[str, str | tuple[str, ...]] = {}
    for path in sorted((CATALOGUE_DIR / code / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as handle:
            for message in read_po(handle, locale=code):
                if not message.id or message.fuzzy:
                    continue
                if isinstance(message.id, tuple):
                    forms = tuple(message.string)
                    if all(forms):
                        entries[message.id[0]] = forms
                elif message.string:
                    entries[message.id] = message.string
    return entries


def gettext(message: str) -> str:
    """Return ``message`` in the current locale."""
    code = _current.get()
    if code == DEFAULT:
        return message
    found = catalogue(code).get(message)
    return found if isinstance(found, str) else message


def ngettext(singular: str, plural: str, count: int) -> str:
    """Return the form of ``singular``/``plural`` that fits ``count``, in the current locale.

    Japanese has one form for every count.
    """
    code = _current.get()
    if code != DEFAULT:
        found = catalogue(code).get(singular)
        if isinstance(found, tuple):
            return found[0]
    return singular if count == 1 else plural


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue without translating it yet (for constants)."""
    return message


_ = gettext


# ---------------------------------------------------------------------------------------------
# Dates and times as people of the locale write them. Money needs nothing per locale:
# money.format_money writes ``¥100,000`` as Japanese business text does.


def format_date(day: date) -> str:
    """``2026-06-30`` in English, ``2026年6月30日(火)`` in Japanese."""
    if isinstance(day, datetime):
        day = day.date()
    if _current.get() == "ja":
        from babel.dates import format_date as babel_date

        return babel_date(day, "y年M月d日(E)", locale="ja")
    return day.isoformat()


def format_datetime(moment: datetime) -> str:
    """``2026-06-30 18:00`` in English, ``2026年6月30日(火) 18:00`` in Japanese.

    ``moment`` is shown in its own time zone; callers convert to the configured zone first.
    """
    return f"{format_date(moment.date())} {moment:%H:%M}"
