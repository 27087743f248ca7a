"""Exceptions and exit statuses shared by the library and the command line."""

from __future__ import annotations

from enum import IntEnum

from .i18n import get_locale


class ExitCode(IntEnum):
    """Exit statuses of every ``salesreg`` command."""

    OK = 0
    PROBLEMS = 1  # done, but rows have problems (validate) or e-mails failed (remind)
    USAGE = 2  # usage or configuration error
    BUSY = 3  # the workbook is open for editing or locked; nothing was written


class SalesregError(Exception):
    """Base of every error that the command line reports as ``Error: ...``.

    ``locale`` is the language the message was written in, so that the ``Error:`` prefix matches it.
    """

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, *args: object) -> None:
        super().__init__(*args)
        self.locale = get_locale()


class ConfigError(SalesregError):
    """The configuration file is missing, unreadable or has a wrong key or value."""


class WorkbookError(SalesregError):
    """The register file cannot be used: not an xlsx, corrupt, or missing a sheet or header."""


class WorkbookBusy(SalesregError):
    """The register is open for editing or locked by another program."""

    exit_code = ExitCode.BUSY


class MailError(SalesregError):
    """The mail transport is misconfigured or the server cannot be reached."""
