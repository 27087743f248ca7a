"""Rebuild the register template that `salesreg init` copies.

Run it after changing the columns, the default configuration or the template code, and commit
the new sheets/template.xlsx: tests/test_template.py fails while the committed file is stale.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from salesreg.template import build_template

REPOSITORY = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = REPOSITORY / "sheets" / "template.xlsx"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the register template workbook with the default configuration.")
    parser.add_argument(
        "output",
        nargs="?",
        type=Path,
        default=DEFAULT_OUTPUT,
        help="path of the .xlsx file to write (default: sheets/template.xlsx in the repository)",
    )
    args = parser.parse_args(argv)
    build_template(args.output)
    print(f"Wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
