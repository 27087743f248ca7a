"""Build e-mails from templates and deliver them through the configured transport.

Transports: ``outbox`` writes each message as an .eml file; ``smtp`` sends through a server
with no security, STARTTLS or implicit TLS, logging in with the password from the environment.
SMTP replies are sorted the way mail servers mean them: a temporary failure (4xx) is retried,
a permanent one (5xx) is final for that message, a quota or rate refusal stops the run, and a
login or TLS failure is a configuration error.
"""

from __future__ import annotations

import logging
import os
import re
import smtplib
import ssl
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import jinja2

from .config import MailConfig, SmtpConfig
from .errors import MailError

log = logging.getLogger(__name__)

_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x85]+")


class DeliveryError(Exception):
    """One message could not be delivered; ``code`` is the SMTP reply code when there is one."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class TemporaryFailure(DeliveryError):
    """A 4xx reply: try again later."""


class PermanentFailure(DeliveryError):
    """A 5xx reply for this message or its recipients: do not try again."""


class QuotaExceeded(DeliveryError):
    """A rate limit or sending quota refusal: stop sending for this run."""


class ServerUnavailable(DeliveryError):
    """The server cannot be reached right now: stop sending for this run, try again next run."""


@lru_cache(maxsize=8)
def _environment(override: Path | None) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = [jinja2.PackageLoader("salesreg", "templates")]
    if override is not None:
        loaders.insert(0, jinja2.FileSystemLoader(str(override)))
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(template: str, context: dict[str, Any], override: Path | None = None) -> str:
    """Render ``template`` (for example ``en/reminder.txt``), preferring the admin's folder."""
    return _environment(override).get_template(template).render(**context)


def one_line(text: str) -> str:
    """Return ``text`` on one line, so that a value typed with line breaks cannot add a header."""
    return " ".join(_LINE_BREAKS.sub(" ", text).split())


def parse_address(text: str) -> Address:
    """Return the Address in ``"Name <user@example.com>"`` or ``"user@example.com"``."""
    name, addr = parseaddr(one_line(text))
    if "@" not in addr or addr.startswith("@") or addr.endswith("@"):
        raise MailError(f"{text!r} is not an e-mail address; write it as user@example.com or \"Name <user@example.com>\".")
    username, domain = addr.rsplit("@", 1)
    return Address(display_name=one_line(name), username=username, domain=domain)


def build_message(
    sender: Address,
    to: Sequence[Address],
    cc: Sequence[Address],
    subject: str,
    text: str,
    html: str,
    message_id: str,
    date_header: Any,
) -> EmailMessage:
    """Return a multipart/alternative message with a text and an HTML part."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = list(to)
    if cc:
        message["Cc"] = list(cc)
    message["Subject"] = one_line(subject)
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
    """Write each message as ``<Message-ID>.eml`` into a folder, atomically."""

    folder: Path

    def send(self, message: EmailMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9._-]+", "_", str(message["Message-ID"]).strip("<>"))
        target = self.folder / f"{name}.eml"
        handle, temp = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(message.as_bytes())
                stream.flush()
                os.fsync(stream.fileno())
            # mkstemp creates the file for its owner only, but the outbox is read by other people too.
            os.chmod(temp, 0o666 & ~_umask())
            os.replace(temp, target)
        finally:
            if os.path.exists(temp):
                os.unlink(temp)

    def close(self) -> None:
        pass


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def classify(code: int, reply: str) -> type[DeliveryError]:
    """Return the kind of failure an SMTP reply means.

    Quota and rate refusals come as 421, as enhanced status x.7.0 / x.4.5 / x.5.3 ("too many
    messages", "daily quota"), or in the reply text; they stop the run. Other 4xx are temporary,
    other 5xx permanent.
    """
    text = reply.lower()
    enhanced = re.search(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b", reply)
    detail = (enhanced.group(2), enhanced.group(3)) if enhanced else None
    if code == 421 or detail in (("4", "5"), ("5", "3"), ("7", "0") if code < 500 else None):
        return QuotaExceeded
    if any(word in text for word in ("quota", "rate limit", "too many messages", "try again later")):
        return QuotaExceeded
    return TemporaryFailure if 400 <= code < 500 else PermanentFailure


@dataclass
class SmtpTransport:
    """Send through one SMTP connection per run, opened on the first message.

    A temporary failure is retried after each delay in ``retry_delays`` (seconds) on a fresh
    connection; then TemporaryFailure is raised so that the caller carries the message to the
    next run. ``max_per_minute`` spaces the messages out; 0 sends without waiting.
    """

    settings: SmtpConfig
    max_per_minute: int = 0
    retry_delays: tuple[float, ...] = (2.0, 10.0)
    sleep: Callable[[float], None] = time.sleep
    connection: smtplib.SMTP | None = field(default=None, init=False)
    _last_send: float = field(default=0.0, init=False)

    def where(self) -> str:
        s = self.settings
        return f"{s.host}:{s.port} ([mail.smtp] security = {s.security!r})"

    def connect(self) -> smtplib.SMTP:
        """Open, secure and log in; raise MailError naming the setting that is wrong."""
        s = self.settings
        where = self.where()
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
        except smtplib.SMTPResponseException as exc:
            self._abandon(connection)
            raise MailError(f"The SMTP server {where} refused the session: {exc.smtp_code} {_reply(exc.smtp_error)}.") from None
        except (OSError, smtplib.SMTPException) as exc:
            self._abandon(connection)
            raise ServerUnavailable(f"Cannot reach the SMTP server {where}: {exc}; check [mail.smtp] host and port, "
                                    f"or whether the server is down.") from None
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

    def check(self) -> list[str]:
        """Connect, negotiate TLS and log in without sending; return what worked, step by step."""
        s = self.settings
        steps = [f"Connected to {s.host}:{s.port}."]
        connection = self.connect()
        try:
            sock = connection.sock
            version = sock.version() if isinstance(sock, ssl.SSLSocket) else None
            if s.security == "ssl":
                steps.append(f"Implicit TLS negotiated ({version}).")
            elif s.security == "starttls":
                steps.append(f"STARTTLS negotiated ({version}).")
            else:
                steps.append("No TLS ([mail.smtp] security = \"none\"): the password and e-mails travel unencrypted.")
            steps.append(f"Logged in as {s.username!r}." if s.username else "No login ([mail.smtp] username is empty).")
            steps.append("Nothing was sent.")
        finally:
            try:
                connection.quit()
            except (smtplib.SMTPException, OSError):
                self._abandon(connection)
        return steps

    def send(self, message: EmailMessage) -> None:
        """Send ``message``; raise a DeliveryError subclass or MailError for a misconfiguration."""
        self._wait_for_rate()
        attempts = len(self.retry_delays) + 1
        for attempt in range(attempts):
            try:
                self._send_once(message)
                return
            except TemporaryFailure as exc:
                if attempt == attempts - 1:
                    raise
                delay = self.retry_delays[attempt]
                log.warning("Temporary SMTP failure for %s (%s); retrying in %.0f s.", message["Message-ID"], exc, delay)
                self.close()
                self.sleep(delay)

    def _wait_for_rate(self) -> None:
        if self.max_per_minute <= 0:
            return
        interval = 60.0 / self.max_per_minute
        wait = self._last_send + interval - time.monotonic()
        if wait > 0:
            self.sleep(wait)
        self._last_send = time.monotonic()

    def _send_once(self, message: EmailMessage) -> None:
        if self.connection is None:
            self.connection = self.connect()
        try:
            refused = self.connection.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = {addr: (code, _reply(reply)) for addr, (code, reply) in exc.recipients.items()}
            code, reply = next(iter(codes.values()))
            kind = classify(code, reply)
            raise kind(f"every recipient was refused: {_describe(codes)}", code) from None
        except smtplib.SMTPResponseException as exc:
            reply = _reply(exc.smtp_error)
            if exc.smtp_code in (530, 534, 535):
                raise MailError(f"The SMTP server {self.where()} requires a login: {exc.smtp_code} {reply}; "
                                f"set [mail.smtp] username and the password in {self.settings.password_env}.") from None
            kind = classify(exc.smtp_code, reply)
            if exc.smtp_code == 421 or isinstance(exc, smtplib.SMTPServerDisconnected):
                self._abandon(self.connection)
                self.connection = None
            raise kind(f"{exc.smtp_code} {reply}", exc.smtp_code) from None
        except smtplib.SMTPServerDisconnected as exc:
            self._abandon(self.connection)
            self.connection = None
            raise TemporaryFailure(f"the server closed the connection ({exc})") from None
        except OSError as exc:
            self._abandon(self.connection)
            self.connection = None
            raise TemporaryFailure(f"network error ({exc})") from None
        if refused:
            log.warning("Message %s was not delivered to %s.", message["Message-ID"],
                        _describe({a: (c, _reply(r)) for a, (c, r) in refused.items()}))

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.quit()
            except (smtplib.SMTPException, OSError):
                self._abandon(self.connection)
            self.connection = None


def _describe(codes: dict[str, tuple[int, str]]) -> str:
    return "; ".join(f"{addr}: {code} {reply}" for addr, (code, reply) in codes.items())


def _reply(error: bytes | str) -> str:
    return error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error)


def make_transport(settings: MailConfig) -> Transport:
    if settings.transport == "smtp":
        return SmtpTransport(settings.smtp, max_per_minute=settings.max_per_minute)
    return OutboxTransport(settings.outbox)
