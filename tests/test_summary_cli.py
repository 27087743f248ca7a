"""``salesreg summary`` on real files: --print on the terminal, --mail through the outbox and SMTP.

Every register here has the same two deals as of 2026-06-01 09:00 Tokyo time, in fiscal year
April 2026 - March 2027:

| row | rep         | stage | rank | monthly price, start | fiscal-period sales | weighted |
|-----|-------------|-------|------|----------------------|---------------------|----------|
| 2   | Aiko Tanaka | Lead  | A    | 100,000, 2026-10     | 600,000             | 480,000  |
| 3   | Ben Carter  | Lead  | -    | 50,000, 2026-12      | 200,000             | -        |
"""

from __future__ import annotations

import email
import email.policy
import io
import logging
from collections.abc import Iterator
from datetime import date
from email.message import EmailMessage
from pathlib import Path
from typing import cast

import openpyxl
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from helpers import at, make_register, valid_deal, write_config
from smtp_server import HOST, free_port, running_smtp_server

from salesreg.config import load_config
from salesreg.jobs import mail_summary, run_summary
from salesreg.model import TeamMember
from salesreg.summary import summary_recipients

NOW = "2026-06-01T09:00"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

TEAM = (
    ("Aiko Tanaka", "aiko@example.com", "Kenji Mori", "Yes"),
    ("Ben Carter", "ben@example.com", "sales-lead@example.com", "Yes"),
    ("Chiara Rossi", "chiara@example.com", "Kenji Mori", "Yes"),
    ("Kenji Mori", "kenji@example.com", "", "Yes"),
)
DEALS = [
    valid_deal(expected_close=date(2026, 9, 30), expectation="A"),
    valid_deal(customer="Kitano Foods", rep="Ben Carter", expected_close=date(2026, 9, 30),
               monthly_price=50_000, service_start=date(2026, 12, 1)),
]


def make_folder(folder: Path, team: tuple[tuple[str, str, str, str], ...] = TEAM, config_text: str = "") -> Path:
    make_register(folder / "register.xlsx", DEALS, team)
    return write_config(folder, config_text)


def outbox_messages(folder: Path) -> list[EmailMessage]:
    return [
        cast(EmailMessage, email.message_from_bytes(path.read_bytes(), policy=email.policy.default))
        for path in sorted((folder / "outbox").glob("*.eml"))
    ]


def attachment_sheets(message: EmailMessage) -> list[str]:
    """Open the attached workbook with openpyxl and return its sheet names."""
    attachments = list(message.iter_attachments())
    assert len(attachments) == 1
    content = attachments[0].get_content()
    return openpyxl.load_workbook(io.BytesIO(content)).sheetnames


# --print


def test_print_shows_key_tables(tmp_path: Path, run_cli) -> None:
    make_folder(tmp_path)
    result = run_cli("summary", "--now", NOW, "--print")
    assert result.exit_code == 0, result.output
    assert "Key figures" in result.output
    assert "Sales forecast by month" in result.output


def test_print_key_figures(tmp_path: Path, run_cli) -> None:
    make_folder(tmp_path)
    lines = run_cli("summary", "--now", NOW, "--print").output.splitlines()
    figures = {line.rsplit(None, 1)[0]: line.rsplit(None, 1)[1] for line in lines if line.startswith("Open pipeline (")}
    assert figures == {"Open pipeline (fiscal-period sales)": "¥800,000", "Open pipeline (weighted sales)": "¥480,000"}


def test_print_rep_without_deals(tmp_path: Path, run_cli) -> None:
    make_folder(tmp_path)
    output = run_cli("summary", "--now", NOW, "--print").output
    pipeline = output.split("Open pipeline by rep")[1].split("Open pipeline by stage")[0]
    assert [line.split() for line in pipeline.splitlines() if line.startswith("Chiara")] == [
        ["Chiara", "Rossi", "0", "¥0", "¥0"]
    ]


def test_print_leaves_out_manager(tmp_path: Path, run_cli) -> None:
    make_folder(tmp_path)
    output = run_cli("summary", "--now", NOW, "--print").output
    assert "Kenji Mori" not in output


def test_print_quiet_still_prints(tmp_path: Path, run_cli) -> None:
    make_folder(tmp_path)
    result = run_cli("-q", "summary", "--now", NOW, "--print")
    assert "Wrote" not in result.output
    assert "Key figures" in result.output


def test_print_writes_workbook(tmp_path: Path, run_cli) -> None:
    make_folder(tmp_path)
    run_cli("summary", "--now", NOW, "--print")
    assert openpyxl.load_workbook(tmp_path / "summary.xlsx").sheetnames[0] == "Overview"


def test_offices_from_team_sheet(tmp_path: Path, run_cli) -> None:
    make_folder(tmp_path)
    book = openpyxl.load_workbook(tmp_path / "register.xlsx")
    team = book["Team"]
    for row, office in enumerate(["Office", "Tokyo", "Osaka", "Nagoya"], start=1):
        team.cell(row=row, column=5, value=office)
    book.save(tmp_path / "register.xlsx")
    output = run_cli("summary", "--now", NOW, "--print").output
    offices = output.split("Open pipeline and won deals by office")[1].split("Sales forecast")[0]
    assert [line.split()[:3] for line in offices.splitlines() if line[:1].isupper()][1:] == [
        ["Tokyo", "1", "¥600,000"],
        ["Osaka", "1", "¥200,000"],
        ["Nagoya", "0", "¥0"],
        ["Total", "2", "¥800,000"],
    ]


# --mail through the outbox


def test_mail_outbox(tmp_path: Path, run_cli) -> None:
    make_folder(tmp_path)
    result = run_cli("summary", "--now", NOW, "--mail")
    assert result.exit_code == 0, result.output
    assert "Sent the summary to Kenji Mori <kenji@example.com>, sales-lead@example.com" in result.output
    assert len(outbox_messages(tmp_path)) == 1


def test_mail_recipients(tmp_path: Path, run_cli) -> None:
    make_folder(tmp_path)
    run_cli("summary", "--now", NOW, "--mail")
    message = outbox_messages(tmp_path)[0]
    assert [address.addr_spec for address in message["To"].addresses] == ["kenji@example.com", "sales-lead@example.com"]


def test_mail_subject(tmp_path: Path, run_cli) -> None:
    make_folder(tmp_path)
    run_cli("summary", "--now", NOW, "--mail")
    assert outbox_messages(tmp_path)[0]["Subject"] == "[Sales register] Sales summary FY2026 as of 2026-06-01"


def test_mail_text_has_figures(tmp_path: Path, run_cli) -> None:
    make_folder(tmp_path)
    run_cli("summary", "--now", NOW, "--mail")
    body = outbox_messages(tmp_path)[0].get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "Open pipeline (fiscal-period sales):" in text
    assert "¥800,000" in text


def test_mail_html_has_figures(tmp_path: Path, run_cli) -> None:
    make_folder(tmp_path)
    run_cli("summary", "--now", NOW, "--mail")
    body = outbox_messages(tmp_path)[0].get_body(("html",))
    assert body is not None
    row = '<tr><th align="left">Open pipeline (fiscal-period sales)</th><td align="right">¥800,000</td></tr>'
    assert row in body.get_content()


def test_mail_attachment_opens(tmp_path: Path, run_cli) -> None:
    make_folder(tmp_path)
    run_cli("summary", "--now", NOW, "--mail")
    message = outbox_messages(tmp_path)[0]
    attachment = next(message.iter_attachments())
    assert attachment.get_content_type() == XLSX_TYPE
    assert attachment.get_filename() == "summary.xlsx"
    assert attachment_sheets(message)[:3] == ["Overview", "Pipeline", "Forecast"]


def test_mail_attachment_is_written_file(tmp_path: Path, run_cli) -> None:
    make_folder(tmp_path)
    run_cli("summary", "--now", NOW, "--mail")
    attachment = next(outbox_messages(tmp_path)[0].iter_attachments())
    assert attachment.get_content() == (tmp_path / "summary.xlsx").read_bytes()


def test_mail_logs_one_line(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    config = load_config(make_folder(tmp_path))
    run = run_summary(config, at(NOW))
    with caplog.at_level(logging.INFO, logger="salesreg"):
        result = mail_summary(config, run)
    assert result.complete
    sent = [record for record in caplog.records if record.getMessage().startswith("Sent summary e-mail")]
    assert len(sent) == 1
    assert "kenji@example.com" in sent[0].getMessage()


def test_mail_manager_problems_exit_1(tmp_path: Path, run_cli) -> None:
    team = (
        ("Aiko Tanaka", "aiko@example.com", "Kenji Mori", "Yes"),
        ("Ben Carter", "ben@example.com", "Nobody Known", "Yes"),
        ("Chiara Rossi", "chiara@example.com", "Mika Sato", "Yes"),
        ("Kenji Mori", "kenji@example.com", "", "Yes"),
        ("Mika Sato", "", "", "Yes"),
    )
    make_folder(tmp_path, team)
    result = run_cli("summary", "--now", NOW, "--mail")
    assert result.exit_code == 1
    assert "'Nobody Known' of 'Ben Carter' (Team sheet row 3) is neither a Name" in result.output
    assert "Manager 'Mika Sato' (Team sheet row 6) has no valid Email ('')" in result.output
    assert [a.addr_spec for a in outbox_messages(tmp_path)[0]["To"].addresses] == ["kenji@example.com"]


def test_mail_without_managers(tmp_path: Path, run_cli) -> None:
    team = (("Aiko Tanaka", "aiko@example.com", "", "Yes"), ("Ben Carter", "ben@example.com", "", "Yes"))
    make_folder(tmp_path, team)
    result = run_cli("summary", "--now", NOW, "--mail")
    assert result.exit_code == 1
    assert "no manager with an e-mail address is on the Team sheet" in result.output
    assert not (tmp_path / "outbox").exists()


# Who the managers are.


def member(row: int, name: str, email_address: str, manager: str = "", active: bool = True) -> TeamMember:
    return TeamMember(row=row, name=name, email=email_address, manager=manager, active=active)


@pytest.mark.parametrize(
    ("team", "expected"),
    [
        pytest.param(
            (member(2, "Rep", "rep@example.com", "Boss"), member(3, "Boss", "boss@example.com")),
            ["boss@example.com"],
            id="named-manager",
        ),
        pytest.param(
            (member(2, "Rep", "rep@example.com", "Lead <lead@example.com>"),),
            ["lead@example.com"],
            id="manager-cell-is-address",
        ),
        pytest.param(
            (member(2, "Rep", "rep@example.com", "boss@example.com"), member(3, "Boss", "BOSS@example.com")),
            ["BOSS@example.com"],
            id="address-of-a-member",
        ),
        pytest.param(
            (
                member(2, "Rep", "rep@example.com", "Boss"),
                member(3, "Other", "other@example.com", "boss@EXAMPLE.com"),
                member(4, "Boss", "boss@example.com"),
            ),
            ["boss@example.com"],
            id="listed-once",
        ),
        pytest.param(
            (member(2, "Rep", "rep@example.com", "Boss"), member(3, "Boss", "boss@example.com", active=False)),
            [],
            id="inactive-manager",
        ),
        pytest.param((member(2, "Solo", "solo@example.com", "Solo"),), [], id="own-manager"),
        pytest.param((member(2, "Rep", "rep@example.com"),), [], id="no-manager"),
    ],
)
def test_recipients(team: tuple[TeamMember, ...], expected: list[str]) -> None:
    assert [address.addr_spec for address in summary_recipients(team).addresses] == expected


def test_recipients_invalid_email() -> None:
    found = summary_recipients((member(2, "Rep", "rep@example.com", "Boss"), member(3, "Boss", "boss-at-example")))
    assert found.addresses == ()
    assert found.problems == (
        "Manager 'Boss' (Team sheet row 3) has no valid Email ('boss-at-example'), so the summary is not sent to "
        "them; write their address in the Email column.",
    )


def test_recipients_unknown_name() -> None:
    found = summary_recipients((member(2, "Rep", "rep@example.com", "Nobody"),))
    assert found.problems == (
        "Manager 'Nobody' of 'Rep' (Team sheet row 2) is neither a Name on the Team sheet nor an e-mail address, "
        "so the summary is not sent to them.",
    )


# --mail through a real SMTP server on 127.0.0.1


def smtp_config(port: int) -> str:
    return f'[mail]\ntransport = "smtp"\n[mail.smtp]\nhost = "{HOST}"\nport = {port}\nsecurity = "none"\ntimeout_seconds = 10\n'


def test_mail_smtp(tmp_path: Path, run_cli) -> None:
    with running_smtp_server("none") as server:
        make_folder(tmp_path, config_text=smtp_config(server.port))
        result = run_cli("summary", "--now", NOW, "--mail")
    assert result.exit_code == 0, result.output
    assert [message.rcpt_tos for message in server.messages] == [["kenji@example.com", "sales-lead@example.com"]]
    assert attachment_sheets(server.messages[0].parse())[0] == "Overview"


class RejectingHandler:
    """An aiosmtpd handler that rejects every recipient as unknown."""

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]) -> str:
        return "550 5.1.1 No such user"


@pytest.fixture
def rejecting_server() -> Iterator[int]:
    port = free_port()
    controller = Controller(RejectingHandler(), hostname=HOST, port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def test_mail_smtp_rejected(tmp_path: Path, run_cli, rejecting_server: int) -> None:
    make_folder(tmp_path, config_text=smtp_config(rejecting_server))
    result = run_cli("summary", "--now", NOW, "--mail")
    assert result.exit_code == 1
    assert "The summary was not e-mailed" in result.output
    assert "550" in result.output


def test_mail_smtp_unreachable(tmp_path: Path, run_cli) -> None:
    make_folder(tmp_path, config_text=smtp_config(free_port()))
    result = run_cli("summary", "--now", NOW, "--mail")
    assert result.exit_code == 1
    assert "Cannot reach the SMTP server" in result.output
    assert (tmp_path / "summary.xlsx").exists()


def test_mail_smtp_settings_invalid(tmp_path: Path, run_cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SALESREG_SMTP_PASSWORD", raising=False)
    with running_smtp_server("none") as server:
        make_folder(tmp_path, config_text=smtp_config(server.port) + 'username = "sales-register"\n')
        result = run_cli("summary", "--now", NOW, "--mail")
    assert result.exit_code == 2
    assert "the environment variable SALESREG_SMTP_PASSWORD is empty" in result.output
    assert server.messages == []
