"""``salesreg demo``: build the example register and run the whole job on it."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..demo import build_demo
from ..errors import ConfigError
from .options import now_option


@click.command("demo")
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False), default="demo")
@now_option
@click.option("--locale", type=click.Choice(["en"]), default="en", show_default=True, help="Language of e-mails and summary.")
def command(folder: Path, now_text: str | None, locale: str) -> None:
    """Build an example in FOLDER (default: ./demo) and run sync, remind and summary on it.

    The folder gets a config, a register of 60 realistic deals, the state database, an
    outbox of reminder e-mails and the summary workbook. Dates are relative to --now.
    """
    from datetime import datetime
    from zoneinfo import ZoneInfo

    register = folder / "register.xlsx"
    if register.exists():
        raise ConfigError(f"{register} already exists; remove the folder {folder} or choose another one.")
    zone = ZoneInfo("Asia/Tokyo")
    now = datetime.fromisoformat(now_text) if now_text else datetime.now(tz=zone)
    if now.tzinfo is None:
        now = now.replace(tzinfo=zone)
    run = build_demo(folder, now, locale)
    program = Path(sys.argv[0]) if sys.argv and sys.argv[0].endswith("salesreg") else Path("salesreg")
    config = run.config
    emails = sorted(config.mail.outbox.glob("*.eml"))
    final = run.final_sync.counts
    click.echo(f"Demo built in {folder} as of {now.isoformat(timespec='minutes')}:")
    click.echo(f"  register   {config.register.path}  ({final['rows']} deals, {final['rows_with_problems']} with problems)")
    click.echo(f"  state      {config.state_path}")
    click.echo(f"  outbox     {config.mail.outbox}  ({len(emails)} reminder e-mails from {len(run.reminders)} remind runs)")
    click.echo(f"  summary    {run.summary.path}")
    click.echo("Open the register and the summary in Excel or LibreOffice, or read an e-mail:")
    if emails:
        click.echo(f"  less {emails[-1]}")
    click.echo(f"Try: {program} --config {folder / 'config.toml'} status D-000019")
    click.echo(f"     {program} --config {folder / 'config.toml'} remind --dry-run")
