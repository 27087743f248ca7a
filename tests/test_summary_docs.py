"""docs/summary.md shows the pictures that scripts/render_summary.py makes, and the README links it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SUMMARY_DOC = (ROOT / "docs" / "summary.md").read_text("utf-8")


def test_readme_links_summary_doc() -> None:
    assert "(docs/summary.md)" in (ROOT / "README.md").read_text("utf-8")


@pytest.mark.parametrize("picture", ["images/summary-overview.png", "images/summary-forecast.png"])
def test_summary_doc_shows_picture(picture: str) -> None:
    assert f"]({picture})" in SUMMARY_DOC
    assert (ROOT / "docs" / picture).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    "sheet",
    ["Overview", "Pipeline", "By office", "Forecast", "Expectation", "Freshness", "Won-Lost", "Awaiting manager",
     "Completeness", "Recent changes"],
)
def test_summary_doc_describes_sheet(sheet: str) -> None:
    from salesreg.summary.workbook import SHEETS

    assert sheet in [name for name, _, _ in SHEETS]
    assert re.search(rf"^\| \*\*{re.escape(sheet)}\*\* \|", SUMMARY_DOC, re.MULTILINE)
