"""verify_workbook: the written file is read back, in chunks, before it replaces the register."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import POSITIONS, make_register, valid_deal
from salesreg import xlsx_patch
from salesreg.errors import WorkbookError
from salesreg.xlsx_patch import PatchResult, patch_workbook, verify_workbook

DEALS = [valid_deal(customer=f"Customer {number}") for number in range(40)]


@pytest.fixture(params=[1 << 22, 700], ids=["one-chunk", "many-chunks"])
def chunk_bytes(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(xlsx_patch, "CHUNK_BYTES", request.param)
    return int(request.param)


def patched(tmp_path: Path) -> tuple[bytes, Path, PatchResult]:
    original = make_register(tmp_path / "register.xlsx", DEALS).read_bytes()
    edits = {row: {POSITIONS["deal_id"]: f"D-{row:06d}", POSITIONS["problems"]: f"note {row}"} for row in range(2, 42)}
    written = tmp_path / "written.xlsx"
    with written.open("wb") as stream:
        result = patch_workbook(original, stream, "Deals", edits)
    return original, written, result


def test_written_file_verifies(tmp_path: Path, chunk_bytes: int) -> None:
    original, written, result = patched(tmp_path)
    assert len(result.written_cells) == 80
    verify_workbook(written, original, result)


def test_wrong_cell_is_found(tmp_path: Path, chunk_bytes: int) -> None:
    original, written, result = patched(tmp_path)
    key = (41, POSITIONS["problems"])
    result.written_cells[key] = result.written_cells[key].replace(b"note 41", b"note 99")
    with pytest.raises(WorkbookError, match="did not read back as written"):
        verify_workbook(written, original, result)


def test_missing_row_is_found(tmp_path: Path, chunk_bytes: int) -> None:
    original, written, result = patched(tmp_path)
    result.written_cells[(500, 1)] = b'<c r="A500"'
    with pytest.raises(WorkbookError, match="A500 did not read back"):
        verify_workbook(written, original, result)
