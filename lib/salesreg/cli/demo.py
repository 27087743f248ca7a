"""``salesreg demo``: build the example register and run the whole job on it."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..demo import build_demo
from ..errors import ConfigError
from ..i18n import _, ngettext, set_locale
from .options import now_option


@click.command("demo")
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False), default="demo")
@now_option
@click.option("--locale", type=click.Choice(["en", "ja"]), default="en", show_default=True, help="Language of the register, e-mails, summary and messages.")
def command(folder: Path, now_text: str | None, locale: str) -> None:
    """Build an example in FOLDER (default: ./demo) and run sync, remind and summary on it.

    The folder gets a config, a register of 60 realistic deals, the state database, an
    outbox of reminder e-mails and the summary workbook. Dates are relative to --now.
    """
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    set_locale(locale)  # the demo speaks the language it is built in
    register = folder / "register.xlsx"
    if register.exists():
        raise ConfigError(
            _("{register} already exists; remove the folder {folder} or choose another one.").format(register=register, folder=folder)
        )
    zone = ZoneInfo("Asia/Tokyo")
    now = datetime.fromisoformat(now_text) if now_text else datetime.now(tz=zone)
    if now.tzinfo is None:
        now = now.replace(tzinfo=zone)
    run = build_demo(folder, now, locale)
    program = Path(sys.argv[0]) if sys.argv and sys.argv[0].endswith("salesreg") else Path("salesreg")
    config = run.config
    emails = sorted(config.mail.outbox.glob("*.eml"))
    final = run.final_sync.counts
    click.echo(_("Demo built in {folder} as of {time}:").format(folder=folder, time=now.isoformat(timespec="minutes")))
    registered = ngettext(
        "  register   {path}  ({count} deal, {problems} with problems)",
        "  register   {path}  ({count} deals, {problems} with problems)",
        final["rows"],
    )
    click.echo(registered.format(path=config.register.path, count=final["rows"], problems=final["rows_with_problems"]))
    click.echo(_("  state      {path}").format(path=config.state_path))
    outbox = ngettext(
        "  outbox     {path}  ({count} reminder e-mail from {runs} remind runs)",
        "  outbox     {path}  ({count} reminder e-mails from {runs} remind runs)",
        len(emails),
    )
    click.echo(outbox.format(path=config.mail.outbox, count=len(emails), runs=len(run.reminders)))
    click.echo(_("  summary    {path}").format(path=run.summary.path))
    click.echo(_("Open the register and the summary in Excel or LibreOffice, or read an e-mail:"))
    if emails:
        click.echo(f"  less {emails[-1]}")
    click.echo(_("Try: {program} --config {config} status D-000019").format(program=program, config=folder / "config.toml"))
    # The demo's own remind ran at --now, so the next e-mails fall due the evening after.
    evening = (now + timedelta(days=1)).replace(hour=18, minute=30, second=0, microsecond=0)
    click.echo(f"     {program} --config {folder / 'config.toml'} remind --dry-run --now {evening.isoformat(timespec='minutes')}")
