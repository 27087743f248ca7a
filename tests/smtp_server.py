"""Run a real SMTP server (aiosmtpd) on 127.0.0.1 for tests and keep every message it receives.

``running_smtp_server`` starts a plain, STARTTLS or implicit-TLS (SMTPS) server, optionally
requiring AUTH, on a free port. ``make_certificate`` creates the self-signed certificate that
the TLS modes need with the ``openssl`` command line, and skips the test when it is missing.
"""

from __future__ import annotations

import asyncio

import email
import email.policy
import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal, cast

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

HOST = "127.0.0.1"
OPENSSL_TIMEOUT_SECONDS = 60

Security = Literal["none", "starttls", "ssl"]


@dataclass(frozen=True)
class Certificate:
    """A self-signed certificate for ``localhost`` and 127.0.0.1, with its unencrypted key."""

    cert_path: Path
    key_path: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_path, self.key_path)
        return context


def make_certificate(folder: Path) -> Certificate:
    """Create a self-signed certificate, valid for two days, in ``folder``.

    Skip the calling test when the openssl command is missing.
    """
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl command not found: install OpenSSL to test STARTTLS and SMTPS with a self-signed certificate")

    folder.mkdir(parents=True, exist_ok=True)
    certificate = Certificate(cert_path=folder / "localhost.crt", key_path=folder / "localhost.key")
    command = [
        openssl, "req", "-x509",
        "-newkey", "rsa:2048",
        "-nodes",
        "-subj", "/CN=localhost",
        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        "-days", "2",
        "-keyout", str(certificate.key_path),
        "-out", str(certificate.cert_path),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=OPENSSL_TIMEOUT_SECONDS)
    if result.returncode != 0:
        raise RuntimeError(
            f"openssl failed to create a self-signed certificate (exit status {result.returncode}).\n"
            f"stderr: {result.stderr}"
        )
    return certificate


@dataclass(frozen=True)
class Credentials:
    """An aiosmtpd authenticator that accepts exactly one username and password."""

    username: str
    password: str

    def __call__(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        accepted = (
            auth_data.login == self.username.encode("utf-8")
            and auth_data.password == self.password.encode("utf-8")
        )
        # handled=False lets aiosmtpd send its standard 235 or 535 reply.
        return AuthResult(success=accepted, handled=False, auth_data=auth_data)


@dataclass(frozen=True)
class ReceivedMessage:
    """One message as the server received it, with the state of its SMTP session."""

    mail_from: str
    rcpt_tos: list[str]
    content: bytes  # the DATA bytes, undecoded
    peer: tuple[str, int]  # the client's address; messages sent over one connection share it
    encrypted: bool  # true after STARTTLS or on an SMTPS connection
    login: str | None  # the AUTH username, or None without AUTH

    def parse(self) -> EmailMessage:
        return cast(EmailMessage, email.message_from_bytes(self.content, policy=email.policy.default))


@dataclass
class RecordingHandler:
    """An aiosmtpd handler that accepts every message and stores it in ``messages``."""

    messages: list[ReceivedMessage] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content
        assert content is not None, "aiosmtpd passed a message without content"
        credentials = session.auth_data
        login = credentials.login.decode("utf-8") if isinstance(credentials, LoginPassword) else None
        self.messages.append(
            ReceivedMessage(
                mail_from=envelope.mail_from or "",
                rcpt_tos=list(envelope.rcpt_tos),
                content=content,
                peer=session.peer,
                encrypted=server.transport.get_extra_info("ssl_object") is not None,
                login=login,
            )
        )
        return "250 Message accepted for delivery"


@dataclass
class ScriptedHandler(RecordingHandler):
    """A handler that answers with scripted replies before it accepts messages.

    ``data_replies`` are returned, one per message, instead of accepting it until the list is
    used up; ``rcpt_replies`` refuse the recipient addresses they name, every time.
    ``delay`` seconds pass before each message is answered, to make a run slow enough to kill.
    """

    data_replies: list[str] = field(default_factory=list)
    rcpt_replies: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    refused: list[str] = field(default_factory=list)

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]) -> str:
        if address in self.rcpt_replies:
            return self.rcpt_replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.data_replies:
            reply = self.data_replies.pop(0)
            self.refused.append(reply)
            return reply
        return await super().handle_DATA(server, session, envelope)


@dataclass(frozen=True)
class SmtpServer:
    """A running server: where to connect and what it has received so far."""

    host: str
    port: int
    handler: RecordingHandler

    @property
    def messages(self) -> list[ReceivedMessage]:
        return self.handler.messages


def free_port(host: str = HOST) -> int:
    """Return a TCP port on ``host`` that is free right now."""
    # NOTE: another process can take the port between this call and the server's bind. The
    # aiosmtpd 1.4 Controller cannot use port 0 because it connects to its configured port to
    # check that the server started.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_smtp_server(
    security: Security = "none",
    certificate: Certificate | None = None,
    credentials: Credentials | None = None,
    handler: RecordingHandler | None = None,
) -> Iterator[SmtpServer]:
    """Run an SMTP server on 127.0.0.1 and a free port until the block ends.

    ``security`` is the client's matching ``[mail.smtp] security``: "starttls" offers and
    requires STARTTLS, "ssl" speaks TLS from the first byte (SMTPS). Both need ``certificate``.
    With ``credentials``, the server offers AUTH, accepts only that username and password, and
    rejects mail without AUTH (except over SMTPS, see below).
    """
    if security != "none" and certificate is None:
        raise ValueError(f"security {security!r} needs a certificate; create one with make_certificate().")

    handler = handler or RecordingHandler()
    options: dict[str, Any] = {}
    if security == "starttls":
        assert certificate is not None
        options["tls_context"] = certificate.server_context()
        options["require_starttls"] = True
    elif security == "ssl":
        assert certificate is not None
        options["ssl_context"] = certificate.server_context()
        # aiosmtpd 1.4 only counts STARTTLS as TLS when it decides whether to offer AUTH, so an
        # SMTPS server would hide AUTH unless this check is turned off.
        options["auth_require_tls"] = False
    if credentials is not None:
        options["authenticator"] = credentials
        # NOTE: the SMTPS server offers AUTH but also accepts mail without it, because aiosmtpd
        # 1.4 warns on every connection when auth_required is set and auth_require_tls is not.
        options["auth_required"] = security != "ssl"

    port = free_port()
    controller = Controller(handler, hostname=HOST, port=port, **options)
    controller.start()
    try:
        yield SmtpServer(host=HOST, port=port, handler=handler)
    finally:
        controller.stop()
