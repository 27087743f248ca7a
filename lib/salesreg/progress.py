"""Progress reporting for long loops of the jobs, without the library printing anything.

A job takes a ``Progress``: a function that gets the items of a loop and a label and returns
the items to loop over. The command line passes one that shows a progress bar on a terminal
(salesreg.cli.options.terminal_progress). The default, ``no_progress``, returns the items as
they are, so runs under cron print nothing extra.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

Progress = Callable[[Sequence[Any], str], Iterable[Any]]


def no_progress(items: Sequence[Any], label: str) -> Iterable[Any]:
    """Return ``items`` unchanged."""
    return items
