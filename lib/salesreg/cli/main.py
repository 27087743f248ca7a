"""The ``salesreg`` group: global options, logging and error reporting."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import click

from ..errors import ExitCode, SalesregError
from ..i18n import _, locale_from_environment, set_locale, using
from . import demo, import_, init, remind, restore, status, summary, sync, validate

EXIT_CODES_HELP = """\b
Exit status:
  0  done
  1  done, but rows have problems (validate, import) or some e-mails failed
     (remind, summary --mail)
  2  usage or configuration error
  3  the workbook is busy (open for editing or locked) and nothing was written"""


class SalesregGroup(click.Group):
    """A group that reports SalesregError as ``Error: ...`` with its exit status."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SalesregError as exc:
            logging.getLogger("salesreg").debug("stopped by %r", exc)
            with using(exc.locale):
                click.echo(_("Error: {message}").format(message=exc), err=True)
            ctx.exit(int(exc.exit_code))


def configure_logging(verbose: int, quiet: int, log_file: Path | None) -> None:
    """Log warnings to stderr (-v: progress lines, -vv: debug; -q: errors only) and INFO to --log-file."""
    level = max(logging.DEBUG, logging.WARNING + 10 * (quiet - verbose))
    root = logging.getLogger("salesreg")
    root.setLevel(min(level, logging.INFO) if log_file else level)
    root.handlers.clear()
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setLevel(level)
    stderr.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    root.addHandler(stderr)
    if log_file:
        try:
            handler = logging.FileHandler(log_file, encoding="utf-8")
        except OSError as exc:
            raise click.BadParameter(
                _("{path} cannot be opened for appending: {reason}.").format(path=log_file, reason=exc.strerror),
                param_hint="--log-file",
            )
        handler.setLevel(logging.INFO)
        # ISO 8601 with the machine's UTC offset, so log lines compare with the "as of" times they print.
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s", "%Y-%m-%dT%H:%M:%S%z"))
        root.addHandler(handler)


@click.group(cls=SalesregGroup, epilog=EXIT_CODES_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="SALESREG_CONFIG",
    default="config.toml",
    show_default=True,
    help="Configuration file (also read from SALESREG_CONFIG). Relative paths in it are relative to its folder.",
)
@click.option("-v", "--verbose", count=True, help="Log run and e-mail lines to stderr (-vv: debug output).")
@click.option("-q", "--quiet", count=True, help="Print no report and log only errors: for cron, with --log-file.")
@click.option("--log-file", type=click.Path(path_type=Path, dir_okay=False), help="Also append INFO logs to this file (for cron).")
@click.version_option(package_name="salesreg")
@click.pass_context
def main(ctx: click.Context, config_path: Path, verbose: int, quiet: int, log_file: Path | None) -> None:
    """Keep a sales team's Excel deal register fresh.

    A typical schedule runs `sync` every hour, `remind` every 15 minutes and `summary`
    once a day. Try `salesreg demo` to see the whole job on an example register.
    """
    configure_logging(verbose, quiet, log_file)
    set_locale(locale_from_environment())  # until a command reads [mail] locale
    ctx.obj = {"config_path": config_path, "quiet": quiet > 0}


for command in (init.command, validate.command, sync.command, remind.command, status.command, summary.command, demo.command, import_.command, restore.command):
    main.add_command(command)
