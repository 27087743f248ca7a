"""Build e-mails from templates and deliver them through the configured transport.

Transports: ``outbox`` writes each message as an .eml file; ``smtp`` sends through a server
with no security, STARTTLS or implicit TLS, logging in with the password from the environment.
SMTP replies are sorted the way mail servers mean them: a temporary failure (4xx) is retried,
a permanent one (5xx) is final for that message, a quota or rate refusal stops the run, and a
login or TLS failure is a configuration error.
Both transports encode the headers and the text part in ``[mail] charset`` (see ``apply_charset``).
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
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage, MIMEPart
from email.utils import format_datetime, parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import jinja2

from .config import MailConfig, SmtpConfig
from .errors import MailError
from .i18n import _

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
        raise MailError(
            _('{value} is not an e-mail address; write it as user@example.com or "Name <user@example.com>".').format(value=repr(text))
        )
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


# RFC 5322: a header line should be at most 78 characters long, and no line may exceed 998.
_HEADER_LINE_LENGTH = 78
_MAX_LINE_LENGTH = 998
_ENCODED_HEADERS = ("subject", "from", "to", "cc")


def apply_charset(message: EmailMessage, charset: str) -> None:
    """Encode the Subject, From/To/Cc display names and text part of ``message`` in ``charset``, in place.

    "utf-8" leaves the message as built: RFC 2047 encoded-words and a text part in UTF-8. With
    "iso-2022-jp", each of those parts that has a character outside ISO-2022-JP (such as ① or 髙)
    stays UTF-8 on its own, and one debug line names those parts. The HTML part stays UTF-8
    because the templates declare ``<meta charset="utf-8">``. Applying it twice changes nothing.
    """
    if charset == "utf-8":
        return

    fallbacks: list[str] = []
    headers = [
        (name, _encode_header(message, name, value, charset, fallbacks)) for name, value in message.raw_items()
    ]
    # set_raw stores a folded value unchanged, but assigning it would parse it and fold it again in UTF-8.
    for name in {name for name, _ in headers}:
        del message[name]
    for name, value in headers:
        message.set_raw(name, value)

    if not _encode_text_part(message, charset):
        fallbacks.append("the text part")
    if fallbacks:
        log.debug("Message %s: %s cannot encode %s, so those parts use UTF-8.",
                  message["Message-ID"], charset.upper(), ", ".join(fallbacks))


def _encode_header(message: EmailMessage, name: str, value: Any, charset: str, fallbacks: list[str]) -> Any:
    """Return the value to store for one header: folded encoded-words in ``charset``, or the policy's header."""
    if name.lower() not in _ENCODED_HEADERS:
        return value
    header = message.policy.header_fetch_parse(name, value)
    if str(header).isascii():
        return header
    if name.lower() == "subject":
        encoded = _encoded_words(one_line(str(header)), charset, header_name=name)
    else:
        encoded = _encode_addresses(name, header, charset, fallbacks)
    if encoded is None or not _fits(name, encoded):
        fallbacks.append(f"the {name} header")
        return header
    return encoded


def _encoded_words(text: str, charset: str, header_name: str | None = None) -> str | None:
    """Return ``text`` as RFC 2047 encoded-words folded at 76 characters, or None when ``charset`` cannot encode it.

    ``header_name`` leaves room for ``Name: `` on the first line.
    """
    try:
        return Header(text, charset, header_name=header_name).encode(linesep="\n")
    except UnicodeEncodeError:
        return None


def _encode_addresses(name: str, header: Any, charset: str, fallbacks: list[str]) -> str | None:
    """Return an address header's value with each non-ASCII display name in ``charset``.

    A display name that ``charset`` cannot encode is written in UTF-8 and added to ``fallbacks``.
    Returns None for a group or a non-ASCII address, which only the policy's folding can write.
    """
    if any(group.display_name is not None for group in header.groups):
        return None
    pieces: list[str] = []
    for address in header.addresses:
        if not address.addr_spec.isascii():
            return None
        if address.display_name.isascii():
            pieces.append(str(address))
            continue
        header_name = name if not pieces else None
        words = _encoded_words(address.display_name, charset, header_name)
        if words is None:
            fallbacks.append(f"the display name of {address.addr_spec} in {name}")
            words = _encoded_words(address.display_name, "utf-8", header_name)
            assert words is not None, "UTF-8 encodes every string"
        angle_addr = f"<{address.addr_spec}>"
        # Room for "Name: " on the first line and the comma before the next address.
        last_line = words.rsplit("\n", 1)[-1]
        fits_on_line = len(name) + 2 + len(last_line) + 1 + len(angle_addr) + 1 <= _HEADER_LINE_LENGTH
        separator = " " if fits_on_line else "\n "
        pieces.append(f"{words}{separator}{angle_addr}")
    return ",\n ".join(pieces)


def _fits(name: str, value: str) -> bool:
    """Return whether every line of ``value`` fits in 78 characters, because the policy refolds a longer one in UTF-8."""
    lines = value.split("\n")
    return len(name) + 2 + len(lines[0]) <= _HEADER_LINE_LENGTH and all(
        len(line) <= _HEADER_LINE_LENGTH for line in lines[1:]
    )


def _encode_text_part(message: EmailMessage, charset: str) -> bool:
    """Encode the text/plain body in ``charset``, or return False and leave it unchanged when ``charset`` cannot encode it."""
    part = message.get_body(preferencelist=("plain",))
    if part is None:
        return True
    text = part.get_content()
    try:
        encoded = text.encode(charset)
    except UnicodeEncodeError:
        return False
    # ISO-2022-JP is a 7-bit encoding, so the body needs no transfer encoding unless a line is too long for SMTP.
    longest = max((len(line) for line in encoded.splitlines()), default=0)
    # MIMEPart's set_content, because EmailMessage's would add a MIME-Version header to the subpart.
    MIMEPart.set_content(part, text, charset=charset, cte="7bit" if longest <= _MAX_LINE_LENGTH else "base64")
    return True


class Transport(Protocol):
    def send(self, message: EmailMessage) -> None: ...

    def close(self) -> None: ...


@dataclass
class OutboxTransport:
    """Write each message as ``<Message-ID>.eml`` into a folder, atomically."""

    folder: Path
    charset: str = "utf-8"  # [mail] charset, applied by apply_charset

    def send(self, message: EmailMessage) -> None:
        apply_charset(message, self.charset)
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
    charset: str = "utf-8"  # [mail] charset, applied by apply_charset
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
            raise MailError(
                _("SMTP login as {username} at {server} failed: {code} {reply}; "
                  "check [mail.smtp] username and the password in {variable}.").format(
                    username=repr(s.username), server=where, code=exc.smtp_code, reply=_reply(exc.smtp_error), variable=s.password_env
                )
            ) from None
        except smtplib.SMTPNotSupportedError:
            self._abandon(connection)
            raise MailError(_("{server}: the server does not offer STARTTLS or AUTH; check [mail.smtp] security.").format(server=where)) from None
        except UnicodeEncodeError:
            self._abandon(connection)
            raise MailError(
                _("The SMTP username or the password in {variable} has characters that SMTP AUTH "
                  "cannot send (only ASCII); check them.").format(variable=s.password_env)
            ) from None
        except (ssl.SSLError, smtplib.SMTPServerDisconnected) as exc:
            self._abandon(connection)
            raise MailError(
                _('TLS with {server} failed ({error}); port 465 usually needs "ssl", 587 "starttls".').format(server=where, error=exc)
            ) from None
        except MailError:
            self._abandon(connection)
            raise
        except smtplib.SMTPResponseException as exc:
            self._abandon(connection)
            raise MailError(
                _("The SMTP server {server} refused the session: {code} {reply}.").format(
                    server=where, code=exc.smtp_code, reply=_reply(exc.smtp_error)
                )
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            self._abandon(connection)
            raise ServerUnavailable(
                _("Cannot reach the SMTP server {server}: {error}; check [mail.smtp] host and port, "
                  "or whether the server is down.").format(server=where, error=exc)
            ) from None
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
                    _("[mail.smtp] username is set but the environment variable {name} is empty; "
                      "export the SMTP password in it.").format(name=s.password_env)
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
        steps = [_("Connected to {host}:{port}.").format(host=s.host, port=s.port)]
        connection = self.connect()
        try:
            sock = connection.sock
            version = sock.version() if isinstance(sock, ssl.SSLSocket) else None
            if s.security == "ssl":
                steps.append(_("Implicit TLS negotiated ({version}).").format(version=version))
            elif s.security == "starttls":
                steps.append(_("STARTTLS negotiated ({version}).").format(version=version))
            else:
                steps.append(_('No TLS ([mail.smtp] security = "none"): the password and e-mails travel unencrypted.'))
            if s.username:
                steps.append(_("Logged in as {username}.").format(username=repr(s.username)))
            else:
                steps.append(_("No login ([mail.smtp] username is empty)."))
            steps.append(_("Nothing was sent."))
        finally:
            try:
                connection.quit()
            except (smtplib.SMTPException, OSError):
                self._abandon(connection)
        return steps

    def send(self, message: EmailMessage) -> None:
        """Send ``message``; raise a DeliveryError subclass or MailError for a misconfiguration."""
        apply_charset(message, self.charset)
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
                raise MailError(
                    _("The SMTP server {server} requires a login: {code} {reply}; "
                      "set [mail.smtp] username and the password in {variable}.").format(
                        server=self.where(), code=exc.smtp_code, reply=reply, variable=self.settings.password_env
                    )
                ) from None
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
        return SmtpTransport(settings.smtp, max_per_minute=settings.max_per_minute, charset=settings.charset)
    return OutboxTransport(settings.outbox, charset=settings.charset)
