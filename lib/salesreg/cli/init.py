"""``salesreg init``: create a config and an empty register from the template."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from ..config import load_config
from ..errors import ConfigError
from ..i18n import DEFAULT, LOCALES, _, set_locale, using
from ..template import build_template, config_text


@click.command("init")
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False), default=".")
@click.option(
    "--locale",
    type=click.Choice(LOCALES),
    default=DEFAULT,
    show_default=True,
    help="Language of the new register and config: sheet names, headers, drop-downs, guide and [mail] locale.",
)
def command(folder: Path, locale: str) -> None:
    """Create config.toml and an empty register.xlsx in FOLDER (default: here).

    Existing files are never overwritten.
    """
    set_locale(locale)  # init speaks the language of the register it creates
    folder.mkdir(parents=True, exist_ok=True)
    config_path = folder / "config.toml"
    register_path = folder / "register.xlsx"
    existing = [path for path in (config_path, register_path) if path.exists()]
    if len(existing) == 2:
        raise ConfigError(
            _("{config} and {register} exist already; nothing was created. Choose an empty folder or move the files away.").format(
                config=config_path, register=register_path
            )
        )
    if existing:
        raise ConfigError(
            _("{path} exists already; nothing was created. Choose an empty folder or move the file away.").format(path=existing[0])
        )
    config_path.write_text(config_text(locale), "utf-8")
    # The new register's Settings sheet starts in the fiscal year of today in the configured zone.
    config = load_config(config_path)
    build_template(register_path, config=config, today=datetime.now(config.timezone).date())
    # From here on the new config decides the language, as it does for every other command.
    with using(config.mail.locale):
        click.echo(_("Created {config} and {register}.").format(config=config_path, register=register_path))
        click.echo(
            _("Next: add your team on the {sheet} sheet, then run `salesreg sync` from that folder.").format(sheet=config.register.team_sheet)
        )
