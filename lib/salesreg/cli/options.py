"""Options and helpers shared by several commands."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from ..config import Config, load_config
from ..errors import ConfigError
from ..i18n import _, set_locale

F = TypeVar("F", bound=Callable[..., Any])

now_option = click.option(
    "--now",
    "now_text",
    metavar="ISO-8601",
    help="Act as of this time, e.g. 2026-06-30T17:05 (local time of [time] timezone unless an offset is given). Default: the current time.",
)

dry_run_option = click.option(
    "--dry-run", is_flag=True, help="Change nothing and send nothing; print what would happen."
)


def load(ctx: click.Context) -> Config:
    """Load the configuration named by the global --config option and switch to its locale."""
    path: Path = ctx.obj["config_path"]
    config = load_config(path)
    set_locale(config.mail.locale)
    return config


def resolve_now(text: str | None, config: Config) -> datetime:
    """Return --now as a zone-aware datetime; a time without offset is local to the configured zone."""
    if not text:
        return datetime.now(tz=config.timezone)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            _("--now {value} is not an ISO-8601 time; use for example 2026-06-30T17:05 or 2026-06-30T17:05+09:00.").format(
                value=repr(text)
            )
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=config.timezone)
    return moment.astimezone(config.timezone)


def is_interactive() -> bool:
    """Return True when stderr is a terminal (progress bars); False under cron."""
    return sys.stderr is not None and sys.stderr.isatty()


# A loop shows its progress bar only once it has run this long, so quick runs print nothing extra.
PROGRESS_DELAY_SECONDS = 1.0


def terminal_progress(items: Sequence[Any], label: str) -> Iterable[Any]:
    """Return ``items`` with a progress bar on stderr, when stderr is a terminal.

    The bar appears once the loop has run PROGRESS_DELAY_SECONDS. Without a terminal (under
    cron, or with the output going to a file) the items come back unchanged.
    """
    if not is_interactive():
        return items
    return _delayed_progressbar(items, label)


def _delayed_progressbar(items: Sequence[Any], label: str) -> Iterator[Any]:
    started = time.monotonic()
    bar: Any = None
    try:
        for done, item in enumerate(items):
            if bar is None and time.monotonic() - started >= PROGRESS_DELAY_SECONDS:
                bar = click.progressbar(length=len(items), label=label, file=sys.stderr)
                bar.__enter__()
                bar.update(done)
            yield item
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)


def report(ctx: click.Context, text: str) -> None:
    """Print a line of the command's report unless -q was given."""
    if not ctx.find_root().obj.get("quiet"):
        click.echo(text)
