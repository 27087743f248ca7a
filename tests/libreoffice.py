"""Run LibreOffice headless from tests: find ``soffice`` and convert a file with it."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
TIMEOUT_SECONDS = 120

# CI sets this so that a missing LibreOffice fails the run instead of skipping its tests.
REQUIRED = os.environ.get("SALESREG_REQUIRE_LIBREOFFICE") == "1"


def require_soffice() -> str:
    """Return the path of ``soffice``, or skip the calling test when LibreOffice is missing."""
    if SOFFICE is None:
        if REQUIRED:
            pytest.fail("LibreOffice (soffice) not installed, but SALESREG_REQUIRE_LIBREOFFICE=1 requires it")
        pytest.skip("LibreOffice (soffice) not installed: install it to check that workbooks open in a real office suite")
    return SOFFICE


def convert(path: Path, fmt: str, outdir: Path) -> Path:
    """Convert ``path`` with ``soffice --convert-to fmt`` into ``outdir`` and return the new file.

    ``fmt`` is LibreOffice's target, such as ``"csv"`` or ``"pdf"``, optionally followed by
    ``:filter:options``. Each call uses a fresh user profile, so parallel runs do not collide.
    Raise RuntimeError when the conversion fails or times out.
    """
    soffice = require_soffice()
    outdir.mkdir(parents=True, exist_ok=True)
    extension = fmt.split(":", 1)[0]
    output = outdir / f"{path.stem}.{extension}"

    with tempfile.TemporaryDirectory(prefix="salesreg-soffice-") as profile:
        command = [
            soffice,
            f"-env:UserInstallation={Path(profile).as_uri()}",
            "--headless",
            "--convert-to",
            fmt,
            "--outdir",
            str(outdir),
            str(path),
        ]
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"LibreOffice timed out after {TIMEOUT_SECONDS} s converting {path} to {fmt}.") from None

    if result.returncode != 0 or not output.exists():
        raise RuntimeError(
            f"LibreOffice failed to convert {path} to {fmt} (exit status {result.returncode}, "
            f"expected {output}).\nstdout: {result.stdout}\nstderr: {result.stderr}"
        )
    return output
