"""Extract the messages of lib/salesreg and bring the translated catalogues up to date.

Run it after adding or changing a message in the code (``make catalogue``):

- writes ``lib/salesreg/locale/salesreg.pot``, every message with where it is used;
- for each translated locale (``ja``), adds each new message with an empty translation to the
  part of the catalogue of its first source file. A message whose code moved moves to that
  part, and a message that the code no longer has is dropped. Translations are kept.

Then fill every empty ``msgstr`` in ``lib/salesreg/locale/ja/LC_MESSAGES/*.po``;
``tests/test_catalogue.py`` fails while one is empty or missing.

Usage: python scripts/update_catalogue.py [--check]
  --check  change nothing; exit 1 and list what is out of date.
"""

from __future__ import annotations

import argparse
import datetime
import io
import sys
from collections.abc import Iterable
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po, write_po

# Fixed header dates, so that the files change only when a message does.
STAMP = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "lib" / "salesreg"
LOCALE_DIR = PACKAGE / "locale"
TRANSLATED = ("ja",)

# The part of a locale's catalogue that contains the messages of each source file; the first match wins.
PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("summary", ("summary/", "summary_data.py")),
    ("template", ("template.py", "fields.py", "formulas.py")),
    ("cells", ("parse.py", "validate.py", "register.py", "xlsx_patch.py", "atomic.py", "model.py", "scan.py", "sync.py")),
    ("commands", ("",)),
)


def part_of(filename: str) -> str:
    """Return the catalogue part of a source file given relative to lib/salesreg."""
    for part, prefixes in PARTS:
        if any(filename.startswith(prefix) for prefix in prefixes):
            return part
    raise AssertionError("the last part takes every file")


HEADER = {
    "project": "salesreg",
    "version": "0.1",
    "copyright_holder": "the salesreg developers",
    "msgid_bugs_address": "",
    "last_translator": "the salesreg developers",
    "charset": "utf-8",
    "creation_date": STAMP,
    "revision_date": STAMP,
}


def extract() -> Catalog:
    """Return every message marked in lib/salesreg with _(), N_() or ngettext(), with its places."""
    catalog = Catalog(locale=None, **HEADER)
    found = extract_from_dir(
        PACKAGE,
        method_map=[("**/locale/**", "ignore"), ("**.py", "python")],
        keywords=DEFAULT_KEYWORDS,
        comment_tags=("Translators:",),
        strip_comment_tags=True,
    )
    for filename, lineno, message, comments, context in found:
        catalog.add(message, locations=[(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def read_part(path: Path, locale: str) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def read_locale(locale: str) -> dict[str, Catalog]:
    """Return part name -> catalogue of one translated locale."""
    folder = LOCALE_DIR / locale / "LC_MESSAGES"
    return {path.stem: read_part(path, locale) for path in sorted(folder.glob("*.po"))}


def key(message_id: str | tuple[str, ...]) -> str:
    return message_id[0] if isinstance(message_id, tuple) else message_id


def render(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_po(out, catalog, width=100, omit_header=False, sort_output=False, include_previous=False)
    return out.getvalue()


def updated_parts(source: Catalog, locale: str) -> dict[str, Catalog]:
    """Return the parts of ``locale`` as they should be for the messages in ``source``."""
    old: dict[str, object] = {}
    for part in read_locale(locale).values():
        for message in part:
            if message.id:
                old[key(message.id)] = message
    parts = {name: Catalog(locale=locale, domain=name, language_team=f"{locale} <>", **HEADER) for name, _ in PARTS}
    for message in source:
        if not message.id:
            continue
        filename = message.locations[0][0]
        previous = old.get(key(message.id))
        string = previous.string if previous is not None and previous.id == message.id else ("", "") if isinstance(message.id, tuple) else ""
        flags = previous.flags if previous is not None and previous.id == message.id else set()
        parts[part_of(filename)].add(
            message.id,
            string,
            locations=message.locations,
            auto_comments=message.auto_comments,
            flags=flags,
            context=message.context,
        )
    return parts


def stale(source: Catalog) -> list[str]:
    """Return what differs between the committed files and what this script would write."""
    problems = []
    pot = LOCALE_DIR / "salesreg.pot"
    if not pot.exists() or _messages(read_part(pot, None)) != _messages(source):
        problems.append(f"{pot.relative_to(ROOT)} lists other messages than the code has")
    for locale in TRANSLATED:
        current = read_locale(locale)
        for name, catalog in updated_parts(source, locale).items():
            have = current.get(name)
            if have is None or _messages(have) != _messages(catalog):
                problems.append(f"locale/{locale}/LC_MESSAGES/{name}.po holds other messages than the code has")
    return problems


def _messages(catalog: Catalog) -> set[tuple]:
    return {(message.id, message.context) for message in catalog if message.id}


def write(source: Catalog) -> Iterable[Path]:
    pot = LOCALE_DIR / "salesreg.pot"
    pot.write_bytes(render(source))
    yield pot
    for locale in TRANSLATED:
        folder = LOCALE_DIR / locale / "LC_MESSAGES"
        folder.mkdir(parents=True, exist_ok=True)
        for name, catalog in updated_parts(source, locale).items():
            path = folder / f"{name}.po"
            path.write_bytes(render(catalog))
            yield path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 when out of date")
    args = parser.parse_args(argv)
    source = extract()
    if args.check:
        problems = stale(source)
        for line in problems:
            print(line)
        return 1 if problems else 0
    for path in write(source):
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
