"""LibreOffice headless opens the summary workbook, converts it to PDF, and renders it to PNG."""

from __future__ import annotations

import csv
import importlib.util
import shutil
import struct
import sys
from pathlib import Path
from types import ModuleType

import pytest

from libreoffice import convert, require_soffice
from salesreg.i18n import using
from salesreg.summary import write_summary
from test_summary import DEALS, OFFICES, build_data

pytestmark = pytest.mark.libreoffice

ROOT = Path(__file__).resolve().parent.parent
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def summary_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hand-worked summary of test_summary, with offices, so that every sheet is written."""
    path = tmp_path_factory.mktemp("summary") / "summary.xlsx"
    write_summary(build_data(DEALS, offices=OFFICES, history_days=30), path)
    return path


def load_render_script() -> ModuleType:
    """Import scripts/render_summary.py, which is a script and not part of the package."""
    spec = importlib.util.spec_from_file_location("render_summary", ROOT / "scripts" / "render_summary.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["render_summary"] = module
    spec.loader.exec_module(module)
    return module


def require_pdftoppm() -> None:
    # NOTE: this skips also under SALESREG_REQUIRE_LIBREOFFICE=1, because .ci/run installs
    # LibreOffice but not poppler-utils.
    if shutil.which("pdftoppm") is None or shutil.which("pdfinfo") is None:
        pytest.skip("pdftoppm or pdfinfo not installed: install poppler-utils to render the summary to PNG")


def png_size(path: Path) -> tuple[int, int]:
    """Return the width and height from the IHDR chunk of a PNG file."""
    header = path.read_bytes()[:24]
    assert header[:8] == PNG_SIGNATURE
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def test_summary_converts_to_pdf(summary_path: Path, tmp_path: Path) -> None:
    require_soffice()
    pdf = convert(summary_path, "pdf", tmp_path)
    assert pdf.read_bytes().startswith(b"%PDF")


def test_summary_overview_read_back(summary_path: Path, tmp_path: Path) -> None:
    require_soffice()
    # CSV filter options: comma separator, double quotes, UTF-8 (76), first sheet (Overview).
    exported = convert(summary_path, "csv:Text - txt - csv (StarCalc):44,34,76,1", tmp_path)
    rows = {row[0]: row[1] for row in csv.reader(exported.open(encoding="utf-8")) if len(row) > 1}
    assert rows["Open pipeline (fiscal-period sales)"] == "¥840,000"
    assert rows["Weighted FY2026 sales (won in full, open weighted)"] == "¥705,000"
    assert rows["Win rate in FY2026 (won ÷ closed deals)"] == "33.3%"


def test_japanese_summary_read_back(tmp_path: Path) -> None:
    require_soffice()
    path = tmp_path / "summary.xlsx"
    with using("ja"):
        write_summary(build_data(DEALS, offices=OFFICES, history_days=30), path)
    # CSV filter options as above: the first sheet (概要) in UTF-8.
    exported = convert(path, "csv:Text - txt - csv (StarCalc):44,34,76,1", tmp_path)
    rows = list(csv.reader(exported.open(encoding="utf-8")))
    assert rows[0][0] == "売上サマリー 2026年度"
    figures = {row[0]: row[1] for row in rows if len(row) > 1}
    assert figures["パイプライン（今期売上）"] == "¥840,000"
    assert figures["2026年度の受注率（受注 ÷ 受注・失注の件数）"] == "33.3%"


def test_render_one_page_per_sheet(summary_path: Path, tmp_path: Path) -> None:
    require_soffice()
    require_pdftoppm()
    render = load_render_script()
    pdf = render.export_pdf(summary_path, tmp_path)
    assert render.page_count(pdf) == 10


def test_render_overview_and_forecast(summary_path: Path, tmp_path: Path) -> None:
    require_soffice()
    require_pdftoppm()
    render = load_render_script()
    pictures = render.render_sheets(summary_path, ["Overview", "Forecast"], tmp_path, resolution=60)
    assert [picture.name for picture in pictures] == ["summary-overview.png", "summary-forecast.png"]
    for picture in pictures:
        width, height = png_size(picture)
        assert width > 300
        assert height > 200


def test_render_unknown_sheet(summary_path: Path, tmp_path: Path) -> None:
    render = load_render_script()
    with pytest.raises(render.RenderError, match="has no sheet 'Overdue'"):
        render.render_sheets(summary_path, ["Overdue"], tmp_path)
