"""The smtp transport against a real SMTP server: no security, STARTTLS with AUTH, and SMTPS."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from smtp_server import (
    Certificate,
    Credentials,
    ReceivedMessage,
    Security,
    SmtpServer,
    make_certificate,
    running_smtp_server,
)

from salesreg.config import SmtpConfig, build_config
from salesreg.demo import build_demo
from salesreg.errors import MailError
from salesreg.jobs import run_remind
from salesreg.mail import SmtpTransport, build_message, parse_address
from salesreg.remind import message_id

TOKYO = ZoneInfo("Asia/Tokyo")
NOW = datetime(2026, 7, 2, 19, 0, tzinfo=TOKYO)
DEADLINE = datetime(2026, 6, 30, 18, 0, tzinfo=TOKYO)

SENDER = "Sales register <sales-register@example.com>"
REP = "山田 太郎 <taro.yamada@example.com>"
MANAGER = "鈴木 花子 <hanako.suzuki@example.com>"
SUBJECT = "[Sales register] Overdue: update deal D-000001 株式会社さくら – 基幹システム刷新 (2 days overdue)"
TEXT = (
    "Hello 山田 太郎,\n"
    "\n"
    "The information of your deal D-000001 was due for an update 2026-06-30 18:00 (Asia/Tokyo)\n"
    "and is now 2 days overdue.\n"
    "\n"
    "  Deal:     基幹システム刷新\n"
    "  Customer: 株式会社さくら\n"
)
HTML = (
    "<p>Hello 山田 太郎,</p>\n"
    "<p>The information of your deal <b>D-000001</b> (株式会社さくら – 基幹システム刷新) "
    "is 2 days overdue.</p>\n"
)

USERNAME = "sales-register@example.com"
PASSWORD = "Kp7-rt2-wQ9x"
PASSWORD_ENV = "SALESREG_SMTP_PASSWORD"
TIMEOUT_SECONDS = 10


def smtp_settings(
    folder: Path,
    server: SmtpServer,
    security: Security,
    username: str = "",
    timeout_seconds: int = TIMEOUT_SECONDS,
) -> SmtpConfig:
    """Return ``[mail.smtp]`` for ``server`` as ``build_config`` reads it from config.toml."""
    smtp = {
        "host": server.host,
        "port": server.port,
        "security": security,
        "username": username,
        "password_env": PASSWORD_ENV,
        "timeout_seconds": timeout_seconds,
    }
    return build_config({"mail": {"transport": "smtp", "smtp": smtp}}, folder).mail.smtp


def reminder_message() -> EmailMessage:
    sender = parse_address(SENDER)
    return build_message(
        sender=sender,
        to=[parse_address(REP)],
        cc=[parse_address(MANAGER)],
        subject=SUBJECT,
        text=TEXT,
        html=HTML,
        message_id=message_id("D-000001", DEADLINE, "after-2d", sender),
        date_header=NOW,
    )


def send_all(settings: SmtpConfig, messages: list[EmailMessage]) -> None:
    """Send ``messages`` in one run, as ``send_reminders`` does, and close the connection."""
    transport = SmtpTransport(settings)
    try:
        for message in messages:
            transport.send(message)
    finally:
        transport.close()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def trusted_certificate(certificate: Certificate, monkeypatch: pytest.MonkeyPatch) -> Certificate:
    """Make ``ssl.create_default_context()`` trust the test certificate."""
    # OpenSSL reads SSL_CERT_FILE each time a context loads its default verify paths, which
    # SmtpTransport does on every connect.
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate.cert_path))
    return certificate


@pytest.fixture
def starttls_server(trusted_certificate: Certificate, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    """A server that requires STARTTLS and AUTH, with the right password in the environment."""
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    with running_smtp_server("starttls", trusted_certificate, Credentials(USERNAME, PASSWORD)) as server:
        yield server


@pytest.fixture
def plain_server() -> Iterator[SmtpServer]:
    with running_smtp_server("none") as server:
        yield server


@dataclasses.dataclass(frozen=True)
class Delivery:
    security: Security
    sent: EmailMessage
    received: list[ReceivedMessage]

    def parsed(self) -> EmailMessage:
        return self.received[0].parse()


@pytest.fixture(scope="module", params=["none", "starttls", "ssl"])
def delivery(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Delivery:
    """Send one reminder with each security mode and keep what the server received.

    "none" sends without AUTH. "starttls" and "ssl" log in as USERNAME with the password from
    PASSWORD_ENV and trust the self-signed certificate through SSL_CERT_FILE.
    """
    security: Security = request.param
    sent = reminder_message()
    with pytest.MonkeyPatch.context() as monkeypatch:
        if security == "none":
            with running_smtp_server("none") as server:
                send_all(smtp_settings(tmp_path_factory.mktemp("config"), server, security), [sent])
        else:
            certificate: Certificate = request.getfixturevalue("certificate")
            monkeypatch.setenv("SSL_CERT_FILE", str(certificate.cert_path))
            monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
            with running_smtp_server(security, certificate, Credentials(USERNAME, PASSWORD)) as server:
                settings = smtp_settings(tmp_path_factory.mktemp("config"), server, security, USERNAME)
                send_all(settings, [sent])
    return Delivery(security, sent, server.messages)


def test_server_receives_one_message(delivery: Delivery) -> None:
    assert len(delivery.received) == 1


def test_subject_decodes(delivery: Delivery) -> None:
    assert delivery.parsed()["Subject"] == SUBJECT


def test_to_display_name_decodes(delivery: Delivery) -> None:
    (rep,) = delivery.parsed()["To"].addresses
    assert rep.display_name == "山田 太郎"
    assert rep.addr_spec == "taro.yamada@example.com"


def test_cc_display_name_decodes(delivery: Delivery) -> None:
    (manager,) = delivery.parsed()["Cc"].addresses
    assert manager.display_name == "鈴木 花子"
    assert manager.addr_spec == "hanako.suzuki@example.com"


def test_message_id_unchanged(delivery: Delivery) -> None:
    assert delivery.parsed()["Message-ID"] == "<D-000001.20260630T1800+0900.after-2d@example.com>"


def test_text_part_matches(delivery: Delivery) -> None:
    text_part = delivery.parsed().get_body(preferencelist=("plain",))
    assert text_part is not None
    assert text_part.get_content() == TEXT


def test_html_part_matches(delivery: Delivery) -> None:
    html_part = delivery.parsed().get_body(preferencelist=("html",))
    assert html_part is not None
    assert html_part.get_content() == HTML


def test_envelope_sender(delivery: Delivery) -> None:
    assert delivery.received[0].mail_from == "sales-register@example.com"


def test_envelope_recipients(delivery: Delivery) -> None:
    assert delivery.received[0].rcpt_tos == ["taro.yamada@example.com", "hanako.suzuki@example.com"]


def test_encryption_follows_security(delivery: Delivery) -> None:
    assert delivery.received[0].encrypted is (delivery.security != "none")


def test_login_follows_security(delivery: Delivery) -> None:
    expected = None if delivery.security == "none" else USERNAME
    assert delivery.received[0].login == expected


def test_one_connection_per_run(starttls_server: SmtpServer, tmp_path: Path) -> None:
    first = reminder_message()
    second = reminder_message()
    second.replace_header("Message-ID", message_id("D-000002", DEADLINE, "after-2d", parse_address(SENDER)))

    send_all(smtp_settings(tmp_path, starttls_server, "starttls", USERNAME), [first, second])

    assert len(starttls_server.messages) == 2
    assert starttls_server.messages[0].peer == starttls_server.messages[1].peer


def test_wrong_password_rejected(
    starttls_server: SmtpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = "Zt4-wrong-Lq8"
    monkeypatch.setenv(PASSWORD_ENV, wrong)
    settings = smtp_settings(tmp_path, starttls_server, "starttls", USERNAME)

    with pytest.raises(MailError) as caught:
        send_all(settings, [reminder_message()])

    text = str(caught.value)
    assert USERNAME in text
    assert PASSWORD_ENV in text
    assert wrong not in text
    assert starttls_server.messages == []


def test_missing_password_names_variable(
    starttls_server: SmtpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PASSWORD_ENV)
    settings = smtp_settings(tmp_path, starttls_server, "starttls", USERNAME)

    with pytest.raises(MailError) as caught:
        send_all(settings, [reminder_message()])

    assert PASSWORD_ENV in str(caught.value)
    assert starttls_server.messages == []


def test_starttls_not_offered(plain_server: SmtpServer, tmp_path: Path) -> None:
    settings = smtp_settings(tmp_path, plain_server, "starttls")

    with pytest.raises(MailError) as caught:
        send_all(settings, [reminder_message()])

    assert "security" in str(caught.value)
    assert plain_server.messages == []


def test_ssl_against_plain_server(plain_server: SmtpServer, tmp_path: Path) -> None:
    settings = smtp_settings(tmp_path, plain_server, "ssl")

    with pytest.raises(MailError) as caught:
        send_all(settings, [reminder_message()])

    assert "security = 'ssl'" in str(caught.value)
    assert plain_server.messages == []


def test_starttls_against_smtps_server(trusted_certificate: Certificate, tmp_path: Path) -> None:
    # The SMTPS server waits for a TLS handshake while the client waits for a greeting, so
    # the client gives up when its timeout ends.
    with running_smtp_server("ssl", trusted_certificate) as server:
        settings = smtp_settings(tmp_path, server, "starttls", timeout_seconds=1)
        with pytest.raises(MailError) as caught:
            send_all(settings, [reminder_message()])

    assert 'needs "ssl"' in str(caught.value)
    assert server.messages == []


def test_untrusted_certificate_rejected(
    certificate: Certificate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)

    with running_smtp_server("starttls", certificate, Credentials(USERNAME, PASSWORD)) as server:
        settings = smtp_settings(tmp_path, server, "starttls", USERNAME)
        with pytest.raises(MailError) as caught:
            send_all(settings, [reminder_message()])

    assert "CERTIFICATE_VERIFY_FAILED" in str(caught.value)
    assert server.messages == []


def test_remind_job_sends_over_smtp(starttls_server: SmtpServer, tmp_path: Path) -> None:
    demo = build_demo(tmp_path / "demo", NOW)
    smtp = smtp_settings(tmp_path, starttls_server, "starttls", USERNAME)
    mail = dataclasses.replace(demo.config.mail, transport="smtp", smtp=smtp, max_per_minute=0)
    config = dataclasses.replace(demo.config, mail=mail)

    # One day after the demo's last run, the next 24-hour repeat of each overdue deal is due.
    run = run_remind(config, NOW + timedelta(days=1))

    assert run.result is not None
    expected_ids = {due.message_id for due in run.plan if not due.undeliverable}
    received_ids = {message.parse()["Message-ID"] for message in starttls_server.messages}
    assert run.result.sent > 0
    assert run.result.failed == 0
    assert len(starttls_server.messages) == run.result.sent
    assert received_ids == expected_ids
    for message in starttls_server.messages:
        parsed = message.parse()
        headers = parsed.get_all("To", []) + parsed.get_all("Cc", [])
        header_recipients = [address.addr_spec for header in headers for address in header.addresses]
        assert message.rcpt_tos == header_recipients
