from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from salesreg.cli import main
from salesreg.i18n import set_locale


@pytest.fixture
def run_cli(tmp_path: Path):
    """Run ``salesreg`` with --config tmp_path/config.toml; return the click Result."""
    runner = CliRunner()

    def run(*args: str, config: Path | None = None):
        config_path = config or tmp_path / "config.toml"
        return runner.invoke(main, ["--config", str(config_path), *args], catch_exceptions=False)

    return run


@pytest.fixture(autouse=True)
def _no_config_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SALESREG_CONFIG", raising=False)
    os.environ.setdefault("TZ", "UTC")
    # Messages printed before the config is read follow LANG; the tests expect English there.
    for name in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")


@pytest.fixture(autouse=True)
def _english_after_each_test():
    """A command run in-process sets the locale of its config; the next test starts in English."""
    yield
    set_locale("en")
