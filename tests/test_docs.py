"""The docs stay honest: every command and config key is documented."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from salesreg.cli import main
from salesreg.config import DEFAULTS

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text("utf-8")
CONFIGURATION = (ROOT / "docs" / "configuration.md").read_text("utf-8")


def config_keys(schema: dict, prefix: str = "") -> list[str]:
    keys = []
    for key, value in schema.items():
        if key == "*":
            continue
        if isinstance(value, dict):
            nested = config_keys(value, f"{prefix}{key}.")
            keys.extend(nested or [f"{prefix}{key}"])
        else:
            keys.append(f"{prefix}{key}")
    return keys


@pytest.mark.parametrize("name", sorted(main.commands))
def test_command_has_help(name: str) -> None:
    result = CliRunner().invoke(main, [name, "--help"])
    assert result.exit_code == 0
    assert len(main.commands[name].help or "") > 20


@pytest.mark.parametrize("name", sorted(main.commands))
def test_command_in_readme(name: str) -> None:
    assert f"salesreg {name}" in README


@pytest.mark.parametrize("key", config_keys(DEFAULTS))
def test_config_key_documented(key: str) -> None:
    assert f"`{key}" in CONFIGURATION


def test_exit_statuses_in_help() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert "3  the workbook is busy" in result.output


def test_readme_first_screen_has_both_commands() -> None:
    first_screen = "\n".join(README.splitlines()[:25])
    assert "make demo" in first_screen
    assert "make test" in first_screen
