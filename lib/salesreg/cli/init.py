"""``salesreg init``: create a config and an empty register from the template."""

from __future__ import annotations

from datetime import datetime
from importlib.resources import files
from pathlib import Path

import click

from ..config import load_config
from ..errors import ConfigError
from ..template import build_template


@click.command("init")
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False), default=".")
def command(folder: Path) -> None:
    """Create config.toml and an empty register.xlsx in FOLDER (default: here).

    Existing files are never overwritten.
    """
    folder.mkdir(parents=True, exist_ok=True)
    config_path = folder / "config.toml"
    register_path = folder / "register.xlsx"
    existing = [path for path in (config_path, register_path) if path.exists()]
    if existing:
        raise ConfigError(
            f"{' and '.join(str(p) for p in existing)} {'exists' if len(existing) == 1 else 'exist'} already; nothing was created. "
            f"Choose an empty folder or move the files away."
        )
    config_path.write_text(files("salesreg").joinpath("resources/config.toml").read_text("utf-8"), "utf-8")
    # The new register's Settings sheet starts in the fiscal year of today in the configured zone.
    config = load_config(config_path)
    build_template(register_path, config=config, today=datetime.now(config.timezone).date())
    click.echo(f"Created {config_path} and {register_path}.")
    click.echo("Next: add your team on the Team sheet, then run `salesreg sync` from that folder.")
