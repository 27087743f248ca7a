"""Rebuild the register templates that `salesreg init` starts from, one per locale.

Run it after changing the columns, the default configuration, the template code or the
template's Japanese texts, and commit the new sheets/template.xlsx and sheets/template.ja.xlsx:
tests/test_template.py and tests/test_template_ja.py fail while a committed file is stale.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from salesreg.template import build_template, locale_config

REPOSITORY = Path(__file__).resolve().parent.parent
DEFAULT_FOLDER = REPOSITORY / "sheets"

# File name of each locale's template. The English one is built from the built-in defaults,
# the Japanese one from the config that `salesreg init --locale ja` writes.
TEMPLATE_NAMES = {"en": "template.xlsx", "ja": "template.ja.xlsx"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the register template workbooks, English and Japanese.")
    parser.add_argument(
        "folder",
        nargs="?",
        type=Path,
        default=DEFAULT_FOLDER,
        help="folder to write template.xlsx and template.ja.xlsx into (default: sheets/ in the repository)",
    )
    args = parser.parse_args(argv)
    for locale, name in TEMPLATE_NAMES.items():
        output = args.folder / name
        build_template(output, None if locale == "en" else locale_config(locale))
        print(f"Wrote {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
