"""``[mail] charset``: Japanese headers and text parts on the wire, sent to a real SMTP server.

Each message is sent through the configured transport to aiosmtpd on 127.0.0.1. The raw bytes
show which charset each encoded-word and the text part use. Parsing them back with the default
policy must give the original subject, display names and texts.
"""

from __future__ import annotations

import dataclasses
import email
import email.policy
import logging
import re
import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from smtp_server import ReceivedMessage, SmtpServer, running_smtp_server

from salesreg.config import build_config, load_config
from salesreg.demo import build_demo
from salesreg.errors import ConfigError
from salesreg.jobs import run_remind
from salesreg.mail import apply_charset, build_message, make_transport, parse_address
from salesreg.remind import message_id

TOKYO = ZoneInfo("Asia/Tokyo")
NOW = datetime(2026, 7, 2, 19, 0, tzinfo=TOKYO)
DEADLINE = datetime(2026, 6, 30, 18, 0, tzinfo=TOKYO)

SENDER = "営業台帳 <sales-register@example.com>"
REP = "田中 愛子 <aiko.tanaka@example.com>"
MANAGER = "鈴木 花子 <hanako.suzuki@example.com>"
SUBJECT = "[営業台帳] 案件「新規導入」の更新期限が2日過ぎています: 株式会社さくら"
TEXT = (
    "田中 愛子 さん\n"
    "\n"
    "案件 D-000001「新規導入」の情報は 2026-06-30 18:00 (Asia/Tokyo) までに更新する予定でした。\n"
    "\n"
    "  顧客: 株式会社さくら\n"
)
HTML = "<p>田中 愛子 さん</p>\n<p>案件 <b>D-000001</b>「新規導入」の更新期限が2日過ぎています。</p>\n"

CHARSETS = ["utf-8", "iso-2022-jp"]
ISO_2022_JP_ESCAPE = b"\x1b$B"  # switches ISO-2022-JP from ASCII to JIS X 0208


@dataclasses.dataclass(frozen=True)
class Reminder:
    """The texts of one reminder, as ``compose`` passes them to ``build_message``."""

    subject: str = SUBJECT
    sender: str = SENDER
    to: tuple[str, ...] = (REP,)
    cc: tuple[str, ...] = (MANAGER,)
    text: str = TEXT
    html: str = HTML

    def build(self, deal_id: str = "D-000001") -> EmailMessage:
        sender = parse_address(self.sender)
        return build_message(
            sender=sender,
            to=[parse_address(text) for text in self.to],
            cc=[parse_address(text) for text in self.cc],
            subject=self.subject,
            text=self.text,
            html=self.html,
            message_id=message_id(deal_id, DEADLINE, "after-2d", sender),
            date_header=NOW,
        )


def mail_settings(folder: Path, server: SmtpServer | None, charset: str | None) -> dict:
    """Return the ``[mail]`` table that sends to ``server``, or writes an outbox without one."""
    mail: dict = {} if charset is None else {"charset": charset}
    if server is not None:
        mail["transport"] = "smtp"
        mail["smtp"] = {"host": server.host, "port": server.port, "security": "none", "timeout_seconds": 10}
    else:
        mail["outbox"] = str(folder / "outbox")
    return mail


def send(folder: Path, server: SmtpServer, charset: str | None, messages: list[EmailMessage]) -> list[ReceivedMessage]:
    """Send ``messages`` through the transport that config.toml with ``charset`` configures."""
    config = build_config({"mail": mail_settings(folder, server, charset)}, folder)
    transport = make_transport(config.mail)
    try:
        for message in messages:
            transport.send(message)
    finally:
        transport.close()
    return server.messages


def header_lines(content: bytes) -> list[bytes]:
    """Return the top-level header lines of ``content``, folded as sent, with CRLF or LF line ends."""
    head = content.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
    return head.split(b"\n")


def raw_headers(content: bytes) -> dict[str, str]:
    """Return the top-level headers of ``content`` as sent, unfolded and not decoded."""
    unfolded = re.sub(r"\n[ \t]", " ", b"\n".join(header_lines(content)).decode("ascii"))
    headers: dict[str, str] = {}
    for line in unfolded.split("\n"):
        name, value = line.split(":", 1)
        headers[name.lower()] = value.strip()
    return headers


def word_charsets(value: str) -> list[str]:
    """Return the charset of each RFC 2047 encoded-word in a raw header value, lowercased."""
    return [charset.lower() for charset in re.findall(r"=\?([^?*]+)(?:\*[^?]*)?\?[bBqQ]\?", value)]


def address_charsets(value: str) -> dict[str, list[str]]:
    """Return address -> the charsets of its display name's encoded-words in a raw address header."""
    return {addr: word_charsets(phrase) for phrase, addr in re.findall(r"([^,<]*)<([^>]+)>", value)}


def parse(content: bytes) -> EmailMessage:
    message = email.message_from_bytes(content, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def text_part(message: EmailMessage) -> EmailMessage:
    part = message.get_body(preferencelist=("plain",))
    assert isinstance(part, EmailMessage), "the message has no text/plain part"
    return part


def decoded_text(part: EmailMessage) -> str:
    """Return the decoded text of ``part`` with LF line ends.

    SMTP carries CRLF line ends, and the parser keeps them in a 7bit part but not in a base64 one.
    """
    return part.get_content().replace("\r\n", "\n")


def html_part(message: EmailMessage) -> EmailMessage:
    part = message.get_body(preferencelist=("html",))
    assert isinstance(part, EmailMessage), "the message has no text/html part"
    return part


def raw_text_part(content: bytes) -> bytes:
    """Return the undecoded body of the text/plain part as sent, with LF line ends."""
    content = content.replace(b"\r\n", b"\n")
    start = content.index(b"Content-Type: text/plain")
    body_start = content.index(b"\n\n", start) + 2
    return content[body_start:content.index(b"\n--", body_start)]


def expected_charset(text: str) -> str:
    """Return the charset that ``[mail] charset = "iso-2022-jp"`` should give a part with ``text``."""
    try:
        text.encode("iso-2022-jp")
    except UnicodeEncodeError:
        return "utf-8"
    return "iso-2022-jp"


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    with running_smtp_server("none") as running:
        yield running


@dataclasses.dataclass(frozen=True)
class Sent:
    charset: str
    received: ReceivedMessage

    @property
    def raw(self) -> dict[str, str]:
        return raw_headers(self.received.content)

    @property
    def parsed(self) -> EmailMessage:
        return parse(self.received.content)


@pytest.fixture(scope="module", params=CHARSETS)
def sent(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Sent:
    """Send one Japanese reminder with each charset and keep what the server received."""
    charset: str = request.param
    with running_smtp_server("none") as running:
        (received,) = send(tmp_path_factory.mktemp("config"), running, charset, [Reminder().build()])
    return Sent(charset, received)


def test_default_charset_is_utf8(tmp_path: Path) -> None:
    assert build_config({}, tmp_path).mail.charset == "utf-8"


def test_invalid_charset_names_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        build_config({"mail": {"charset": "shift_jis"}}, tmp_path, source=Path("config.toml"))
    message = str(caught.value)
    assert "mail.charset" in message
    assert "'shift_jis'" in message
    assert '"utf-8", "iso-2022-jp"' in message


def test_subject_words_use_charset(sent: Sent) -> None:
    charsets = word_charsets(sent.raw["subject"])
    assert charsets
    assert set(charsets) == {sent.charset}


def test_from_name_uses_charset(sent: Sent) -> None:
    assert address_charsets(sent.raw["from"]) == {"sales-register@example.com": [sent.charset]}


def test_to_name_uses_charset(sent: Sent) -> None:
    assert address_charsets(sent.raw["to"]) == {"aiko.tanaka@example.com": [sent.charset]}


def test_cc_name_uses_charset(sent: Sent) -> None:
    assert address_charsets(sent.raw["cc"]) == {"hanako.suzuki@example.com": [sent.charset]}


def test_subject_round_trips(sent: Sent) -> None:
    assert sent.parsed["Subject"] == SUBJECT


def test_display_names_round_trip(sent: Sent) -> None:
    parsed = sent.parsed
    (sender,) = parsed["From"].addresses
    (rep,) = parsed["To"].addresses
    (manager,) = parsed["Cc"].addresses
    assert (sender.display_name, sender.addr_spec) == ("営業台帳", "sales-register@example.com")
    assert (rep.display_name, rep.addr_spec) == ("田中 愛子", "aiko.tanaka@example.com")
    assert (manager.display_name, manager.addr_spec) == ("鈴木 花子", "hanako.suzuki@example.com")


def test_text_part_charset(sent: Sent) -> None:
    assert text_part(sent.parsed).get_content_charset() == sent.charset


def test_text_part_bytes(sent: Sent) -> None:
    part = text_part(sent.parsed)
    body = raw_text_part(sent.received.content)
    if sent.charset == "iso-2022-jp":
        assert part["Content-Transfer-Encoding"] == "7bit"
        assert ISO_2022_JP_ESCAPE in body
        assert body.isascii()
    else:
        assert ISO_2022_JP_ESCAPE not in body


def test_text_part_round_trips(sent: Sent) -> None:
    assert decoded_text(text_part(sent.parsed)) == TEXT


def test_html_part_stays_utf8(sent: Sent) -> None:
    part = html_part(sent.parsed)
    assert part.get_content_charset() == "utf-8"
    assert decoded_text(part) == HTML


def test_other_headers_unchanged(sent: Sent) -> None:
    parsed = sent.parsed
    assert parsed["Message-ID"] == "<D-000001.20260630T1800+0900.after-2d@example.com>"
    assert parsed["Date"] == "Thu, 02 Jul 2026 19:00:00 +0900"
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed["MIME-Version"] == "1.0"


def test_envelope_unchanged(sent: Sent) -> None:
    assert sent.received.mail_from == "sales-register@example.com"
    assert sent.received.rcpt_tos == ["aiko.tanaka@example.com", "hanako.suzuki@example.com"]


def test_header_lines_within_78(sent: Sent) -> None:
    assert max(len(line) for line in header_lines(sent.received.content)) <= 78


# Python's iso-2022-jp codec refuses both: ① is an NEC special character and 髙 an IBM
# extension, neither in JIS X 0208.
@pytest.mark.parametrize("character", ["①", "髙"])
def test_subject_falls_back_to_utf8(server: SmtpServer, tmp_path: Path, character: str) -> None:
    subject = f"案件「新規導入」の更新期限 {character}"

    (received,) = send(tmp_path, server, "iso-2022-jp", [Reminder(subject=subject).build()])

    raw = raw_headers(received.content)
    assert set(word_charsets(raw["subject"])) == {"utf-8"}
    assert address_charsets(raw["to"]) == {"aiko.tanaka@example.com": ["iso-2022-jp"]}
    parsed = parse(received.content)
    assert parsed["Subject"] == subject
    assert text_part(parsed).get_content_charset() == "iso-2022-jp"
    assert decoded_text(text_part(parsed)) == TEXT


@pytest.mark.parametrize("character", ["①", "髙"])
def test_display_name_falls_back_to_utf8(server: SmtpServer, tmp_path: Path, character: str) -> None:
    rep = f"{character}橋 一郎 <ichiro.takahashi@example.com>"
    reminder = Reminder(to=(REP, rep))

    (received,) = send(tmp_path, server, "iso-2022-jp", [reminder.build()])

    raw = raw_headers(received.content)
    assert address_charsets(raw["to"]) == {
        "aiko.tanaka@example.com": ["iso-2022-jp"],
        "ichiro.takahashi@example.com": ["utf-8"],
    }
    assert set(word_charsets(raw["subject"])) == {"iso-2022-jp"}
    parsed = parse(received.content)
    names = [(address.display_name, address.addr_spec) for address in parsed["To"].addresses]
    assert names == [("田中 愛子", "aiko.tanaka@example.com"), (f"{character}橋 一郎", "ichiro.takahashi@example.com")]
    assert received.rcpt_tos == ["aiko.tanaka@example.com", "ichiro.takahashi@example.com", "hanako.suzuki@example.com"]


@pytest.mark.parametrize("character", ["①", "髙"])
def test_text_part_falls_back_to_utf8(server: SmtpServer, tmp_path: Path, character: str) -> None:
    text = TEXT + f"  担当: {character}橋\n"

    (received,) = send(tmp_path, server, "iso-2022-jp", [Reminder(text=text).build()])

    parsed = parse(received.content)
    assert text_part(parsed).get_content_charset() == "utf-8"
    assert decoded_text(text_part(parsed)) == text
    assert ISO_2022_JP_ESCAPE not in raw_text_part(received.content)
    assert set(word_charsets(raw_headers(received.content)["subject"])) == {"iso-2022-jp"}
    assert parsed["Subject"] == SUBJECT


def test_fallback_logged_without_texts(
    server: SmtpServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    subject = "案件「新規導入」の更新期限 ①"
    text = "髙橋 一郎 さん\n"
    caplog.set_level(logging.DEBUG, logger="salesreg.mail")

    send(tmp_path, server, "iso-2022-jp", [Reminder(subject=subject, text=text).build()])

    records = [record for record in caplog.records if "ISO-2022-JP" in record.getMessage()]
    assert len(records) == 1
    line = records[0].getMessage()
    assert records[0].levelno == logging.DEBUG
    assert "<D-000001.20260630T1800+0900.after-2d@example.com>" in line
    assert "the Subject header" in line
    assert "the text part" in line
    assert "the To header" not in line
    assert subject not in line
    assert "髙橋" not in line


def test_no_fallback_logs_nothing(server: SmtpServer, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="salesreg.mail")

    send(tmp_path, server, "iso-2022-jp", [Reminder().build()])

    assert [record for record in caplog.records if "ISO-2022-JP" in record.getMessage()] == []


def test_long_subject_folds_in_iso_2022_jp(server: SmtpServer, tmp_path: Path) -> None:
    subject = "案件「新規導入」の更新期限 " * 6 + "(2 days overdue)"

    (received,) = send(tmp_path, server, "iso-2022-jp", [Reminder(subject=subject).build()])

    assert max(len(line) for line in header_lines(received.content)) <= 78
    charsets = word_charsets(raw_headers(received.content)["subject"])
    assert len(charsets) > 1
    assert set(charsets) == {"iso-2022-jp"}
    assert parse(received.content)["Subject"] == subject.strip()


def test_line_break_in_subject_adds_no_header(server: SmtpServer, tmp_path: Path) -> None:
    subject = "案件の更新期限\r\nBcc: intruder@example.com"

    (received,) = send(tmp_path, server, "iso-2022-jp", [Reminder(subject=subject).build()])

    parsed = parse(received.content)
    assert parsed["Bcc"] is None
    assert parsed["Subject"] == "案件の更新期限 Bcc: intruder@example.com"
    assert received.rcpt_tos == ["aiko.tanaka@example.com", "hanako.suzuki@example.com"]


def test_ascii_subject_stays_plain(server: SmtpServer, tmp_path: Path) -> None:
    subject = "[Sales register] Update deal D-000001"

    (received,) = send(tmp_path, server, "iso-2022-jp", [Reminder(subject=subject).build()])

    assert raw_headers(received.content)["subject"] == subject


def test_two_messages_one_connection(server: SmtpServer, tmp_path: Path) -> None:
    messages = [Reminder().build("D-000001"), Reminder(subject="更新期限 ①").build("D-000002")]

    received = send(tmp_path, server, "iso-2022-jp", messages)

    assert [parse(message.content)["Subject"] for message in received] == [SUBJECT, "更新期限 ①"]
    assert received[0].peer == received[1].peer


def test_applying_twice_changes_nothing() -> None:
    message = Reminder(to=(REP, "髙橋 一郎 <ichiro.takahashi@example.com>")).build()
    apply_charset(message, "iso-2022-jp")
    once = message.as_bytes()

    apply_charset(message, "iso-2022-jp")

    assert message.as_bytes() == once


def test_outbox_eml_uses_charset(tmp_path: Path) -> None:
    config = build_config({"mail": mail_settings(tmp_path, None, "iso-2022-jp")}, tmp_path)
    message = Reminder().build()
    workbook = b"PK\x03\x04 summary workbook bytes"
    message.add_attachment(workbook, maintype="application", subtype="octet-stream", filename="集計.xlsx")

    make_transport(config.mail).send(message)

    (written,) = (tmp_path / "outbox").iterdir()
    assert written.name == "D-000001.20260630T1800_0900.after-2d_example.com.eml"
    content = written.read_bytes()
    assert set(word_charsets(raw_headers(content)["subject"])) == {"iso-2022-jp"}
    parsed = parse(content)
    assert parsed["Subject"] == SUBJECT
    assert text_part(parsed).get_content_charset() == "iso-2022-jp"
    assert decoded_text(text_part(parsed)) == TEXT
    (attachment,) = parsed.iter_attachments()
    assert attachment.get_filename() == "集計.xlsx"
    assert attachment.get_content() == workbook


def test_remind_job_same_texts_in_both_charsets(tmp_path: Path) -> None:
    """Run ``remind`` on two copies of the demo, one per charset; the decoded e-mails must match."""
    demo = build_demo(tmp_path / "utf-8", NOW)
    shutil.copytree(demo.folder, tmp_path / "iso-2022-jp")
    later = NOW + timedelta(days=1)  # the next 24-hour repeat of each overdue deal is due

    received: dict[str, dict[str, ReceivedMessage]] = {}
    for charset in CHARSETS:
        config = load_config(tmp_path / charset / "config.toml")
        with running_smtp_server("none") as running:
            settings = build_config({"mail": mail_settings(tmp_path, running, charset)}, tmp_path).mail
            mail = dataclasses.replace(settings, outbox=config.mail.outbox, max_per_minute=0)
            run = run_remind(dataclasses.replace(config, mail=mail), later)
        assert run.result is not None
        assert run.result.failed == 0
        received[charset] = {parse(message.content)["Message-ID"]: message for message in running.messages}

    assert received["utf-8"]
    assert received["iso-2022-jp"].keys() == received["utf-8"].keys()
    for key, utf8_message in received["utf-8"].items():
        expected = parse(utf8_message.content)
        actual = parse(received["iso-2022-jp"][key].content)
        raw = raw_headers(received["iso-2022-jp"][key].content)

        assert actual["Subject"] == expected["Subject"], key
        for name in ("From", "To", "Cc"):
            assert str(actual[name]) == str(expected[name]), (key, name)
        assert decoded_text(text_part(actual)) == decoded_text(text_part(expected)), key
        assert decoded_text(html_part(actual)) == decoded_text(html_part(expected)), key

        if not actual["Subject"].isascii():
            assert set(word_charsets(raw["subject"])) == {expected_charset(actual["Subject"])}, key
        for address in actual["To"].addresses:
            charsets = address_charsets(raw["to"])[address.addr_spec]
            expected_charsets = [] if address.display_name.isascii() else [expected_charset(address.display_name)]
            assert sorted(set(charsets)) == expected_charsets, (key, address.addr_spec)
        assert text_part(actual).get_content_charset() == expected_charset(decoded_text(text_part(expected))), key
