"""The floors of the benchmark: what the libraries under salesreg need to read or rewrite a register.

Each floor runs as its own process, like a salesreg job, so both include the start of Python
and the import of their library:

- ``openpyxl``: ``load_workbook`` in full (not read-only) and ``save`` to another file, what a
  tool that rewrites the whole workbook pays;
- ``calamine``: python-calamine reading every cell of the Deals sheet into Python values;
- ``lxml``: a streaming ``lxml.etree.iterparse`` over the Deals sheet's XML that reads every
  cell's value, resolving shared strings.

    python scripts/bench_floors.py calamine register.xlsx
"""

from __future__ import annotations

import argparse
import posixpath
import zipfile
from pathlib import Path
from typing import Any

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
VALUE = f"{MAIN}v"
INLINE_STRING = f"{MAIN}is"
TEXT = f"{MAIN}t"
RELATIONSHIP_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def openpyxl_load_save(path: Path, sheet: str, out: Path) -> int:
    """Load the workbook in full, save it to ``out``, and return the number of cells of ``sheet``."""
    import openpyxl

    workbook = openpyxl.load_workbook(path)
    cells = sum(len(row) for row in workbook[sheet].iter_rows())
    workbook.save(out)
    return cells


def calamine_read(path: Path, sheet: str) -> int:
    """Read every cell of ``sheet`` with python-calamine and return the number of non-empty cells."""
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()
    return sum(1 for row in rows for value in row if value != "")


def lxml_read(path: Path, sheet: str) -> int:
    """Stream the XML of ``sheet`` with lxml, read every cell's value, and return the number of cells with one."""
    from lxml import etree

    with zipfile.ZipFile(path) as archive:
        part, strings_part = _sheet_part(archive, sheet, etree)
        strings = _shared_strings(archive, strings_part, etree) if strings_part else []
        count = 0
        with archive.open(part) as stream:
            for _, row in etree.iterparse(stream, tag=f"{MAIN}row"):
                for cell in row:
                    if _cell_value(cell, strings) is not None:
                        count += 1
                row.clear()
                # Drop the rows already read, so that memory stays flat however long the sheet is.
                while row.getprevious() is not None:
                    del row.getparent()[0]
    return count


def _cell_value(cell: Any, strings: list[str]) -> Any:
    if not len(cell):
        return None
    # The value element comes last in a cell: <v> after any formula <f>, or the inline <is>.
    last = cell[-1]
    kind = cell.get("t")
    if last.tag == INLINE_STRING:
        return "".join(last.itertext(TEXT)) or None
    if last.tag != VALUE or last.text is None:
        return None
    if kind == "s":
        return strings[int(last.text)]
    if kind in ("str", "e"):
        return last.text
    if kind == "b":
        return last.text == "1"
    return float(last.text)


def _shared_strings(archive: zipfile.ZipFile, part: str, etree: Any) -> list[str]:
    """Return the shared strings; phonetic runs (``rPh``, Japanese readings) are not part of the text."""
    strings: list[str] = []
    with archive.open(part) as stream:
        for _, item in etree.iterparse(stream, tag=f"{MAIN}si"):
            texts = item.findall(f"{MAIN}t") + item.findall(f"{MAIN}r/{MAIN}t")
            strings.append("".join(text.text or "" for text in texts))
            item.clear()
    return strings


def _sheet_part(archive: zipfile.ZipFile, sheet: str, etree: Any) -> tuple[str, str | None]:
    """Return the zip member of ``sheet`` and of the shared strings, as the workbook's relationships name them."""
    package = etree.fromstring(archive.read("_rels/.rels"))
    workbook_part = next(rel.get("Target") for rel in package if rel.get("Type", "").endswith("/officeDocument")).lstrip("/")
    folder = posixpath.dirname(workbook_part)
    rels_part = posixpath.join(folder, "_rels", posixpath.basename(workbook_part) + ".rels")
    relationships = etree.fromstring(archive.read(rels_part))

    def member(target: str) -> str:
        return target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))

    targets = {rel.get("Id"): member(rel.get("Target")) for rel in relationships}
    strings = next((member(rel.get("Target")) for rel in relationships if rel.get("Type", "").endswith("/sharedStrings")), None)
    workbook = etree.fromstring(archive.read(workbook_part))
    for element in workbook.iter(f"{MAIN}sheet"):
        if element.get("name") == sheet:
            return targets[element.get(RELATIONSHIP_ID)], strings
    raise SystemExit(f"{archive.filename} has no sheet {sheet!r}.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("floor", choices=("openpyxl", "calamine", "lxml"), help="which floor to measure")
    parser.add_argument("register", type=Path, help="the register workbook (.xlsx)")
    parser.add_argument("--sheet", default="Deals", help="the sheet to read (default: Deals)")
    parser.add_argument("--out", type=Path, help="where the openpyxl floor saves the workbook (default: NAME.openpyxl.xlsx beside it)")
    args = parser.parse_args()
    if args.floor == "openpyxl":
        out = args.out or args.register.with_name(args.register.stem + ".openpyxl.xlsx")
        count = openpyxl_load_save(args.register, args.sheet, out)
    elif args.floor == "calamine":
        count = calamine_read(args.register, args.sheet)
    else:
        count = lxml_read(args.register, args.sheet)
    print(f"{args.floor}: {count} cells")


if __name__ == "__main__":
    main()
