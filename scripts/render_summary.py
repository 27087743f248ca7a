"""Render sheets of a summary workbook to PNG through LibreOffice, for the pictures in docs/.

LibreOffice (``soffice --headless --convert-to pdf``) exports the workbook with one PDF page
per sheet, and ``pdftoppm`` (poppler-utils) turns the pages of the chosen sheets into PNG
files named ``summary-<sheet>.png``. Without --summary, the script builds the demo (as
``salesreg demo`` does) in a temporary folder as of --now and renders its summary, so the
pictures in docs/images come out the same on every run.

    .venv/bin/python scripts/render_summary.py
    .venv/bin/python scripts/render_summary.py --summary demo/summary.xlsx --out /tmp/pictures --sheet Pipeline

Exit status: 0 done, 2 a tool is missing or failed.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "docs" / "images"
DEFAULT_SHEETS = ("Overview", "Forecast")
DEFAULT_NOW = "2026-06-01T09:00"
DEMO_TIMEZONE = "Asia/Tokyo"  # the time zone of the demo's config
DEFAULT_RESOLUTION = 110  # dots per inch of the PNG files
TIMEOUT_SECONDS = 180

# Calc's PDF export option that puts each sheet on one page as large as its used area, so
# that page N is sheet N. soffice reads filter options written as JSON since LibreOffice 7.4.
PDF_FILTER = "pdf:calc_pdf_Export:" + json.dumps({"SinglePageSheets": {"type": "boolean", "value": "true"}})


class RenderError(Exception):
    """A tool that rendering needs is missing or failed."""


def find_tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise RenderError(f"{name} not found; install {package} (for example `apt-get install {package}`).")
    return path


def run_tool(command: list[str]) -> subprocess.CompletedProcess[str]:
    """Run ``command``; raise RenderError with its output when it fails or times out."""
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        raise RenderError(f"{command[0]} timed out after {TIMEOUT_SECONDS} s: {' '.join(command)}") from None
    if result.returncode != 0:
        raise RenderError(
            f"{command[0]} failed with exit status {result.returncode}: {' '.join(command)}\n"
            f"stdout: {result.stdout}\nstderr: {result.stderr}"
        )
    return result


def export_pdf(workbook: Path, folder: Path) -> Path:
    """Convert ``workbook`` to a PDF in ``folder`` with one page per sheet and return its path."""
    soffice = shutil.which("soffice") or find_tool("libreoffice", "libreoffice-calc")
    pdf = folder / f"{workbook.stem}.pdf"
    with tempfile.TemporaryDirectory(prefix="render-summary-profile-") as profile:
        # A fresh user profile keeps this run apart from a LibreOffice that is already open.
        run_tool(
            [
                soffice,
                f"-env:UserInstallation={Path(profile).as_uri()}",
                "--headless",
                "--convert-to",
                PDF_FILTER,
                "--outdir",
                str(folder),
                str(workbook),
            ]
        )
    if not pdf.exists():
        raise RenderError(f"LibreOffice reported success but wrote no {pdf}.")
    return pdf


def page_count(pdf: Path) -> int:
    output = run_tool([find_tool("pdfinfo", "poppler-utils"), str(pdf)]).stdout
    match = re.search(r"^Pages:\s+(\d+)$", output, re.MULTILINE)
    if match is None:
        raise RenderError(f"pdfinfo printed no page count for {pdf}:\n{output}")
    return int(match.group(1))


def picture_name(sheet: str) -> str:
    """Return the PNG file name of ``sheet``, for example ``summary-awaiting-manager.png``."""
    return "summary-" + re.sub(r"[^a-z0-9]+", "-", sheet.lower()).strip("-") + ".png"


def render_sheets(workbook: Path, sheets: Sequence[str], out: Path, resolution: int = DEFAULT_RESOLUTION) -> list[Path]:
    """Render each of ``sheets`` of ``workbook`` to a PNG file in ``out`` and return their paths."""
    names = openpyxl.load_workbook(workbook, read_only=True).sheetnames
    missing = [sheet for sheet in sheets if sheet not in names]
    if missing:
        raise RenderError(f"{workbook} has no sheet {', '.join(map(repr, missing))}; its sheets are {', '.join(names)}.")
    pdftoppm = find_tool("pdftoppm", "poppler-utils")
    out.mkdir(parents=True, exist_ok=True)
    pictures = []
    with tempfile.TemporaryDirectory(prefix="render-summary-") as folder:
        pdf = export_pdf(workbook, Path(folder))
        pages = page_count(pdf)
        if pages != len(names):
            raise RenderError(
                f"The PDF of {workbook} has {pages} pages for {len(names)} sheets, so LibreOffice did not put each "
                f"sheet on one page; LibreOffice 7.4 or later is needed for the SinglePageSheets option."
            )
        for sheet in sheets:
            page = names.index(sheet) + 1
            picture = out / picture_name(sheet)
            # -singlefile writes <stem>.png instead of numbering the pages.
            command = [pdftoppm, "-png", "-r", str(resolution), "-f", str(page), "-l", str(page), "-singlefile"]
            run_tool([*command, str(pdf), str(picture.with_suffix(""))])
            pictures.append(picture)
    return pictures


def build_demo_summary(folder: Path, now: datetime) -> Path:
    """Build the demo in ``folder`` as of ``now`` and return the path of its summary workbook."""
    from salesreg.demo import build_demo

    return build_demo(folder / "demo", now).summary.path


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--summary", type=Path, help="Summary workbook to render. Default: build the demo's summary.")
    parser.add_argument(
        "--now",
        default=DEFAULT_NOW,
        help=f"Time the demo is built as of, ISO-8601, local to {DEMO_TIMEZONE} without an offset. Default: {DEFAULT_NOW}.",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"Folder of the PNG files. Default: {DEFAULT_OUT}.")
    parser.add_argument(
        "--sheet",
        action="append",
        dest="sheets",
        help=f"Sheet to render; repeat for more. Default: {', '.join(DEFAULT_SHEETS)}.",
    )
    parser.add_argument("--resolution", type=int, default=DEFAULT_RESOLUTION, help="Dots per inch. Default: %(default)s.")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    try:
        with tempfile.TemporaryDirectory(prefix="render-summary-demo-") as folder:
            summary = arguments.summary
            if summary is None:
                now = datetime.fromisoformat(arguments.now)
                if now.tzinfo is None:
                    now = now.replace(tzinfo=ZoneInfo(DEMO_TIMEZONE))
                summary = build_demo_summary(Path(folder), now)
            pictures = render_sheets(summary, arguments.sheets or DEFAULT_SHEETS, arguments.out, arguments.resolution)
    except RenderError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 2
    for picture in pictures:
        print(f"Wrote {picture}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
