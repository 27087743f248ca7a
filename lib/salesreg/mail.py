"""Build reminder e-mails from templates and deliver them through the configured transport.

Transports: ``outbox`` writes each message as an .eml file; ``smtp`` sends through a server
with no security, STARTTLS or implicit TLS, logging in with the password from the environment.
"""

from __future__ import annotations

import logging
import os
import re
import smtplib
import ssl
import tempfile
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Any, Protocol

import jinja2

from .config import MailConfig, SmtpConfig
from .errors import MailError

log = logging.getLogger(__name__)

_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("salesreg", "templates"),
    autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def parse_address(text: str) -> Address:
    """Return the Address in ``"Name <user@example.com>"`` or ``"user@example.com"``."""
    name, addr = parseaddr(text)
    if "@" not in addr:
        raise MailError(f"{text!r} is not an e-mail address; write it as user@example.com or \"Name <user@example.com>\".")
    username, domain = addr.rsplit("@", 1)
    return Address(display_name=name, username=username, domain=domain)


def render(template: str, context: dict[str, Any]) -> str:
    return _ENVIRONMENT.get_template(template).render(**context)


def build_message(
    sender: Address,
    to: list[Address],
    cc: list[Address],
    subject: str,
    text: str,
    html: str,
    message_id: str,
    date_header: Any,
) -> EmailMessage:
    """Return a multipart/alternative message with a text and an HTML part."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    if cc:
        message["Cc"] = cc
    message["Subject"] = subject
    message["Message-ID"] = message_id
    message["Date"] = format_datetime(date_header)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


class Transport(Protocol):
    def send(self, message: EmailMessage) -> None: ...

    def close(self) -> None: ...


@dataclass
class OutboxTransport:
    """Write each message as ``<date>-<Message-ID>.eml`` into a folder, atomically."""

    folder: Path

    def send(self, message: EmailMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9._-]+", "_", str(message["Message-ID"]).strip("<>"))
        target = self.folder / f"{name}.eml"
        handle, temp = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(message.as_bytes())
            os.replace(temp, target)
        finally:
            if os.path.exists(temp):
                os.unlink(temp)

    def close(self) -> None:
        pass


class SmtpTransport:
    """Send through one SMTP connection per run, opened on the first message."""

    def __init__(self, settings: SmtpConfig) -> None:
        self.settings = settings
        self.connection: smtplib.SMTP | None = None

    def connect(self) -> smtplib.SMTP:
        """Open, secure and log in; raise MailError naming the setting that is wrong."""
        s = self.settings
        where = f"{s.host}:{s.port} ([mail.smtp] security = {s.security!r})"
        connection: smtplib.SMTP | None = None
        try:
            connection = self._open()
            self._secure_and_login(connection)
        except smtplib.SMTPAuthenticationError as exc:
            self._abandon(connection)
            raise MailError(f"SMTP login as {s.username!r} at {where} failed: {exc.smtp_code} {_reply(exc.smtp_error)}; "
                            f"check [mail.smtp] username and the password in {s.password_env}.") from None
        except smtplib.SMTPNotSupportedError:
            self._abandon(connection)
            raise MailError(f"{where}: the server does not offer STARTTLS or AUTH; check [mail.smtp] security.") from None
        except UnicodeEncodeError:
            self._abandon(connection)
            raise MailError(f"The SMTP username or the password in {s.password_env} has characters that SMTP AUTH "
                            f"cannot send (only ASCII); check them.") from None
        except (ssl.SSLError, smtplib.SMTPServerDisconnected) as exc:
            self._abandon(connection)
            raise MailError(f"TLS with {where} failed ({exc}); port 465 usually needs \"ssl\", 587 \"starttls\".") from None
        except MailError:
            self._abandon(connection)
            raise
        except (OSError, smtplib.SMTPException) as exc:
            self._abandon(connection)
            raise MailError(f"Cannot reach the SMTP server {where}: {exc}; check [mail.smtp] host and port.") from None
        return connection

    def _open(self) -> smtplib.SMTP:
        s = self.settings
        if s.security == "ssl":
            context = ssl.create_default_context()
            return smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_seconds, context=context)
        return smtplib.SMTP(s.host, s.port, timeout=s.timeout_seconds)

    def _secure_and_login(self, connection: smtplib.SMTP) -> None:
        s = self.settings
        connection.ehlo()
        if s.security == "starttls":
            connection.starttls(context=ssl.create_default_context())
            connection.ehlo()
        if s.username:
            password = s.password()
            if not password:
                raise MailError(
                    f"[mail.smtp] username is set but the environment variable {s.password_env} is empty; "
                    f"export the SMTP password in it."
                )
            connection.login(s.username, password)

    @staticmethod
    def _abandon(connection: smtplib.SMTP | None) -> None:
        if connection is not None:
            try:
                connection.close()
            except OSError:
                pass

    def send(self, message: EmailMessage) -> None: ...

    def close(self) -> None: ...


@dataclass
class OutboxTransport:
    """Write each message as ``<date>-<Message-ID>.eml`` into a folder, atomically."""

    folder: Path

    def send(self, message: EmailMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9._-]+", "_", str(message["Message-ID"]).strip("<>"))
        target = self.folder / f"{name}.eml"
        handle, temp = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(message.as_bytes())
            os.replace(temp, target)
        finally:
            if os.path.exists(temp):
                os.unlink(temp)

    def close(self) -> None:
        pass


class SmtpTransport:
    """Send through one SMTP connection per run, opened on the first message."""

    def __init__(self, settings: SmtpConfig) -> None:
        self.settings = settings
        self.connection: smtplib.SMTP | None = None

    def connect(self) -> smtplib.SMTP:
        s = self.settings
        where = f"{s.host}:{s.port} ([mail.smtp] security = {s.security!r})"
        context = ssl.create_default_context()
        try:
            if s.security == "ssl":
                connection: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_seconds, context=context)
            else:
                connection = smtplib.SMTP(s.host, s.port, timeout=s.timeout_seconds)
            connection.ehlo()
            if s.security == "starttls":
                connection.starttls(context=context)
                connection.ehlo()
            if s.username:
                password = s.password()
                if not password:
                    raise MailError(
                        f"[mail.smtp] username is set but the environment variable {s.password_env} is empty; "
                        f"export the SMTP password in it."
                    )
                connection.login(s.username, password)
        except smtplib.SMTPAuthenticationError as exc:
            raise MailError(f"SMTP login as {s.username!r} at {where} failed: {exc.smtp_code} {_reply(exc.smtp_error)}; "
                            f"check [mail.smtp] username and the password in {s.password_env}.") from None
        except smtplib.SMTPNotSupportedError:
            raise MailError(f"{where}: the server does not offer STARTTLS or AUTH; check [mail.smtp] security.") from None
        except (ssl.SSLError, smtplib.SMTPServerDisconnected) as exc:
            raise MailError(f"TLS with {where} failed ({exc}); port 465 usually needs \"ssl\", 587 \"starttls\".") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(f"Cannot reach the SMTP server {where}: {exc}; check [mail.smtp] host and port.") from None
        return connection

    def send(self, message: EmailMessage) -> None:
        if self.connection is None:
            self.connection = self.connect()
        self.connection.send_message(message)

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.quit()
            except smtplib.SMTPException:
                pass
            self.connection = None


def _reply(error: bytes | str) -> str:
    return error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error)


def make_transport(settings: MailConfig) -> Transport:
    if settings.transport == "smtp":
        return SmtpTransport(settings.smtp)
    return OutboxTransport(settings.outbox)
