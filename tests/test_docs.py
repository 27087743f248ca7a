"""The docs stay honest: every command and config key is documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from salesreg.cli import main
from salesreg.config import DEFAULTS

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text("utf-8")
README_JA_PATH = ROOT / "README.ja.md"
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


def read_readme_ja() -> str:
    assert README_JA_PATH.is_file(), "README.ja.md is missing beside README.md"
    return README_JA_PATH.read_text("utf-8")


def test_readme_ja_first_screen_has_both_commands() -> None:
    first_screen = "\n".join(read_readme_ja().splitlines()[:25])
    assert "make demo" in first_screen
    assert "make test" in first_screen


def test_readme_ja_links_english_readme() -> None:
    assert "](README.md)" in read_readme_ja()


def test_readme_ja_has_same_sections() -> None:
    english_sections = [line for line in README.splitlines() if line.startswith("## ")]
    japanese_sections = [line for line in read_readme_ja().splitlines() if line.startswith("## ")]
    assert len(japanese_sections) == len(english_sections)


@pytest.mark.parametrize("target", sorted(set(re.findall(r"\]\(([^)]+)\)", README)) - {"README.ja.md"}))
def test_readme_ja_keeps_link(target: str) -> None:
    assert f"]({target})" in read_readme_ja()


@pytest.mark.parametrize("command", sorted(set(re.findall(r"^\| `(salesreg \w+)", README, re.MULTILINE))))
def test_readme_ja_names_command(command: str) -> None:
    assert command in read_readme_ja()
