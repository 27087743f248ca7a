"""The e-mail that carries the summary workbook to the managers on the Team sheet."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import MailError
from ..i18n import _, format_date, format_datetime
from ..mail import build_message, parse_address, render
from ..model import TeamMember
from ..summary_data import SummaryData, fiscal_year_label
from ..validate import TeamIndex
from .terminal import format_value
from .workbook import sheet_names

XLSX_MAINTYPE = "application"
XLSX_SUBTYPE = "vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Recipients:
    """The managers' addresses, and a message for each manager who cannot get the e-mail."""

    addresses: tuple[Address, ...]
    problems: tuple[str, ...]


def summary_recipients(team: Iterable[TeamMember]) -> Recipients:
    """Return the managers' addresses, and a message for each manager who cannot get the e-mail.

    The managers are the Team members named (by Name or Email) in another member's Manager
    cell, and Manager cells that are e-mail addresses of people not on the Team sheet. A
    manager marked inactive gets no e-mail. Each address is listed once, whatever its case, in
    the order in which the Manager cells first name it.
    """
    index = TeamIndex(tuple(team))
    addresses: dict[str, Address] = {}
    problems: list[str] = []
    for member in index.members:
        if not member.manager:
            continue
        manager = index.find(member.manager)
        if manager is member or (manager is not None and not manager.active):
            continue

        if manager is None:
            text = member.manager
            problem = _(
                "Manager {manager} of {rep} (Team sheet row {row}) is neither a Name on the "
                "Team sheet nor an e-mail address, so the summary is not sent to them."
            ).format(manager=repr(member.manager), rep=repr(member.name), row=member.row)
        else:
            text = f"{manager.name} <{manager.email}>"
            problem = _(
                "Manager {manager} (Team sheet row {row}) has no valid Email ({email}), so "
                "the summary is not sent to them; write their address in the Email column."
            ).format(manager=repr(manager.name), row=manager.row, email=repr(manager.email))
        try:
            address = parse_address(text)
        except MailError:
            problems.append(problem)
            continue
        addresses.setdefault(address.addr_spec.casefold(), address)
    return Recipients(tuple(addresses.values()), tuple(dict.fromkeys(problems)))


def summary_mail_context(data: SummaryData, tables: dict[str, pd.DataFrame], workbook: Path) -> dict[str, Any]:
    """Return the values that the summary e-mail templates use, in the current locale."""
    overview = tables["overview"]
    # The columns Figure and Value, by position because their headers are translated.
    figures = [
        {"label": label, "value": format_value(value, data.currency)}
        for label, value in zip(overview.iloc[:, 0], overview.iloc[:, 1])
    ]
    return {
        "fiscal_year": fiscal_year_label(data.fiscal_year),
        "as_of": format_datetime(data.now),
        "as_of_date": format_date(data.now.date()),
        "timezone": str(data.now.tzinfo or ""),
        "figures": figures,
        "label_width": max(len(figure["label"]) for figure in figures) + 1,  # the label and its colon
        "file_name": workbook.name,
        "sheets": sheet_names(tables),
    }


def compose_summary_mail(
    data: SummaryData,
    tables: dict[str, pd.DataFrame],
    workbook: Path,
    sender: Address,
    to: Sequence[Address],
    locale: str,
    templates: Path | None = None,
) -> EmailMessage:
    """Return the summary e-mail: the key figures as text and HTML, and ``workbook`` attached.

    ``templates`` is a folder whose templates replace the built-in ones of the same name.
    """
    context = summary_mail_context(data, tables, workbook)
    message = build_message(
        sender=sender,
        to=to,
        cc=[],
        subject=render(f"{locale}/summary.subject.txt", context, templates),
        text=render(f"{locale}/summary.txt", context, templates),
        html=render(f"{locale}/summary.html", context, templates),
        message_id=make_msgid(idstring=f"summary.{data.now:%Y%m%dT%H%M}", domain=sender.domain or "salesreg.invalid"),
        date_header=data.now,
    )
    message.add_attachment(workbook.read_bytes(), maintype=XLSX_MAINTYPE, subtype=XLSX_SUBTYPE, filename=workbook.name)
    return message
