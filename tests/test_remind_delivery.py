"""Reminder delivery against real SMTP servers on 127.0.0.1 that refuse in the ways servers do."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from salesreg.config import load_config
from salesreg.jobs import run_remind, run_sync
from salesreg.mail import SmtpTransport

from helpers import at, setup_folder, valid_deal
from smtp_server import Credentials, ScriptedHandler, make_certificate, running_smtp_server

SYNC_AT = "2026-06-20T09:00"
OVERDUE_AT = "2026-07-02T19:00"  # after-2d of the 2026-06-30 18:00 deadline is due


def smtp_config(port: int, extra: str = "") -> str:
    return (
        f'[mail]\ntransport = "smtp"\nmax_per_minute = 0\n{extra}\n'
        f'[mail.smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\ntimeout_seconds = 5\n'
    )


def ledger(folder: Path) -> dict[tuple[str, str], str]:
    with sqlite3.connect(folder / "salesreg-state.sqlite") as db:
        return {(d, s): status for d, s, status in db.execute("SELECT deal_id, step, status FROM reminders")}


def prepare(folder: Path, port: int, deals=None, extra: str = ""):
    deals = deals or [valid_deal(), valid_deal(customer="Kitano Foods", rep="Ben Carter")]
    config = setup_folder(folder, deals, smtp_config(port, extra))
    run_sync(config, at(SYNC_AT))
    return config


def quick(config) -> SmtpTransport:
    return SmtpTransport(config.mail.smtp, retry_delays=(0.01, 0.01))


def test_temporary_failure_retried_in_run(tmp_path: Path) -> None:
    handler = ScriptedHandler(data_replies=["450 4.2.0 Mailbox busy, try again"])
    with running_smtp_server(handler=handler) as server:
        config = prepare(tmp_path, server.port)
        run = run_remind(config, at(OVERDUE_AT), transport=quick(config))
    assert run.result.sent == 2
    assert len(server.messages) == 2
    assert handler.refused == ["450 4.2.0 Mailbox busy, try again"]


def test_temporary_failure_carried_to_next_run(tmp_path: Path) -> None:
    handler = ScriptedHandler(data_replies=["451 4.3.0 Local error"] * 3)
    with running_smtp_server(handler=handler) as server:
        config = prepare(tmp_path, server.port, deals=[valid_deal()])
        first = run_remind(config, at(OVERDUE_AT), transport=quick(config))
        assert first.result.deferred == 1
        assert ledger(tmp_path)[("D-000001", "after-2d")] == "deferred"
        second = run_remind(config, at("2026-07-02T19:15"), transport=quick(config))
    assert second.result.sent == 1
    assert ledger(tmp_path)[("D-000001", "after-2d")] == "sent"
    assert len(server.messages) == 1


def test_permanent_failure_not_retried(tmp_path: Path) -> None:
    handler = ScriptedHandler(rcpt_replies={"aiko@example.com": "550 5.1.1 No such user"})
    with running_smtp_server(handler=handler) as server:
        config = prepare(tmp_path, server.port)
        first = run_remind(config, at(OVERDUE_AT), transport=quick(config))
        second = run_remind(config, at("2026-07-02T19:15"), transport=quick(config))
    assert first.result.failed == 1
    assert first.result.sent == 1
    assert any("550 5.1.1 No such user" in line for line in first.result.messages)
    assert ledger(tmp_path)[("D-000001", "after-2d")] == "failed"
    assert second.plan == []


@pytest.mark.parametrize(
    "reply",
    [
        pytest.param("421 4.7.0 Too many connections, closing", id="421-closing"),
        pytest.param("550 5.4.5 Daily user sending quota exceeded", id="5.4.5-daily-quota"),
        pytest.param("452 4.5.3 Too many recipients this hour", id="452-rate"),
    ],
)
def test_quota_refusal_stops_run(tmp_path: Path, reply: str) -> None:
    handler = ScriptedHandler(data_replies=[reply])
    with running_smtp_server(handler=handler) as server:
        config = prepare(tmp_path, server.port)
        first = run_remind(config, at(OVERDUE_AT), transport=quick(config))
        assert first.result.stopped is not None
        assert first.result.sent == 0
        assert server.messages == []
        second = run_remind(config, at("2026-07-02T19:15"), transport=quick(config))
    assert second.result.sent == 2
    assert len(server.messages) == 2


def test_login_failure_stops_with_setting(tmp_path: Path, run_cli, monkeypatch: pytest.MonkeyPatch) -> None:
    certificate = make_certificate(tmp_path / "cert")
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate.cert_path))
    monkeypatch.setenv("SALESREG_SMTP_PASSWORD", "wrong")
    with running_smtp_server("starttls", certificate, Credentials("sales", "right")) as server:
        text = smtp_config(server.port).replace('security = "none"', 'security = "starttls"\nusername = "sales"')
        config = setup_folder(tmp_path, [valid_deal()], text)
        run_sync(config, at(SYNC_AT))
        result = run_cli("remind", "--now", OVERDUE_AT)
    assert result.exit_code == 2
    assert "535" in result.output
    assert "SALESREG_SMTP_PASSWORD" in result.output
    assert "wrong" not in result.output
    assert ledger(tmp_path)[("D-000001", "after-2d")] == "deferred"


def test_check_smtp_reports_steps(tmp_path: Path, run_cli, monkeypatch: pytest.MonkeyPatch) -> None:
    certificate = make_certificate(tmp_path / "cert")
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate.cert_path))
    monkeypatch.setenv("SALESREG_SMTP_PASSWORD", "right")
    with running_smtp_server("starttls", certificate, Credentials("sales", "right")) as server:
        text = smtp_config(server.port).replace('security = "none"', 'security = "starttls"\nusername = "sales"')
        setup_folder(tmp_path, [valid_deal()], text)
        result = run_cli("remind", "--check-smtp")
        assert server.messages == []
    assert result.exit_code == 0, result.output
    assert "STARTTLS negotiated (TLSv1." in result.output
    assert "Logged in as 'sales'." in result.output
    assert "Nothing was sent." in result.output


def test_check_smtp_wrong_port(tmp_path: Path, run_cli) -> None:
    with running_smtp_server() as server:
        port = server.port
    setup_folder(tmp_path, [valid_deal()], smtp_config(port))
    result = run_cli("remind", "--check-smtp")
    assert result.exit_code == 2
    assert "Cannot reach the SMTP server 127.0.0.1" in result.output


def test_digest_lists_all_deals_of_rep(tmp_path: Path) -> None:
    deals = [valid_deal(), valid_deal(customer="Kitano Foods"), valid_deal(customer="Minato Clinic", rep="Ben Carter")]
    with running_smtp_server() as server:
        config = prepare(tmp_path, server.port, deals=deals, extra="")
        config_text = (tmp_path / "config.toml").read_text() + "\n[reminders]\ndigest = true\n"
        (tmp_path / "config.toml").write_text(config_text)
        config = load_config(tmp_path / "config.toml")
        run = run_remind(config, at(OVERDUE_AT), transport=quick(config))
    assert run.result.sent == 3
    assert len(server.messages) == 2
    aiko = [m.parse() for m in server.messages if m.rcpt_tos == ["aiko@example.com"]][0]
    assert str(aiko["Subject"]) == "[Sales register] 2 deals need an update (2 overdue)"
    body = aiko.get_body(preferencelist=("plain",)).get_content()
    assert "D-000001" in body
    assert "D-000002" in body


def test_inactive_rep_goes_to_manager(tmp_path: Path) -> None:
    with running_smtp_server() as server:
        config = prepare(tmp_path, server.port, deals=[valid_deal()])
        # The rep leaves after the deal was registered: the deal is now invalid and overdue.
        workbook = openpyxl.load_workbook(config.register.path)
        workbook["Team"]["D2"] = "No"
        workbook.save(config.register.path)
        run = run_remind(config, at(OVERDUE_AT), transport=quick(config))
    assert run.result.sent == 1
    assert server.messages[0].rcpt_tos == ["kenji@example.com"]
    body = server.messages[0].parse().get_body(preferencelist=("plain",)).get_content()
    assert "because its rep Aiko Tanaka is inactive" in body


def test_unknown_rep_goes_to_unassigned_to(tmp_path: Path) -> None:
    with running_smtp_server() as server:
        deals = [valid_deal(rep="Somebody New")]
        config = prepare(tmp_path, server.port, deals=deals, extra="")
        (tmp_path / "config.toml").write_text((tmp_path / "config.toml").read_text() + '\n[reminders]\nunassigned_to = "Sales desk <desk@example.com>"\n')
        config = load_config(tmp_path / "config.toml")
        run_remind(config, at(OVERDUE_AT), transport=quick(config))
    assert server.messages[0].rcpt_tos == ["desk@example.com"]


def test_unknown_rep_goes_to_managers(tmp_path: Path) -> None:
    with running_smtp_server() as server:
        config = prepare(tmp_path, server.port, deals=[valid_deal(rep="Somebody New")])
        run_remind(config, at(OVERDUE_AT), transport=quick(config))
    assert server.messages[0].rcpt_tos == ["kenji@example.com"]


def test_line_break_cannot_inject_header(tmp_path: Path) -> None:
    deal = valid_deal(title="Fleet\r\nBcc: spy@example.com", customer="Sakura\nX-Evil: 1")
    with running_smtp_server() as server:
        config = prepare(tmp_path, server.port, deals=[deal])
        run_remind(config, at(OVERDUE_AT), transport=quick(config))
    message = server.messages[0]
    parsed = message.parse()
    assert message.rcpt_tos == ["aiko@example.com"]
    assert parsed["Bcc"] is None
    assert parsed["X-Evil"] is None
    assert "Fleet Bcc: spy@example.com" in str(parsed["Subject"])


def test_templates_overridden_from_folder(tmp_path: Path) -> None:
    override = tmp_path / "my-templates" / "en"
    override.mkdir(parents=True)
    (override / "reminder.subject.txt").write_text("Please update {{ deal.deal_id }}")
    with running_smtp_server() as server:
        config = prepare(tmp_path, server.port, deals=[valid_deal()], extra='templates = "my-templates"')
        run_remind(config, at(OVERDUE_AT), transport=quick(config))
    assert str(server.messages[0].parse()["Subject"]) == "Please update D-000001"


def test_register_link_in_email(tmp_path: Path) -> None:
    link = "https://files.example.com/sales/register.xlsx"
    with running_smtp_server() as server:
        config = prepare(tmp_path, server.port, deals=[valid_deal()], extra=f'register_link = "{link}"')
        run_remind(config, at(OVERDUE_AT), transport=quick(config))
    parsed = server.messages[0].parse()
    assert link in parsed.get_body(preferencelist=("plain",)).get_content()
    assert f'href="{link}"' in parsed.get_body(preferencelist=("html",)).get_content()


def test_removed_deal_gets_no_reminder(tmp_path: Path) -> None:
    with running_smtp_server() as server:
        config = prepare(tmp_path, server.port)
        workbook = openpyxl.load_workbook(config.register.path)
        workbook["Deals"].delete_rows(2)
        workbook.save(config.register.path)
        run_remind(config, at(OVERDUE_AT), transport=quick(config))
    assert [m.rcpt_tos for m in server.messages] == [["ben@example.com"]]


def test_status_shows_ladder(tmp_path: Path, run_cli) -> None:
    setup_folder(tmp_path, [valid_deal()], "")
    run_cli("sync", "--now", SYNC_AT)
    run_cli("remind", "--now", "2026-06-30T17:05")
    result = run_cli("status", "D-000001", "--now", "2026-07-01T10:00")
    assert result.exit_code == 0, result.output
    assert "deadline       2026-06-30 18:00 (Asia/Tokyo)" in result.output
    assert "before-1d    2026-06-29 18:00  skipped" in result.output
    assert "before-1h    2026-06-30 17:00  sent" in result.output
    assert "after-2d     2026-07-02 18:00  upcoming" in result.output


def test_status_unknown_deal(tmp_path: Path, run_cli) -> None:
    setup_folder(tmp_path, [valid_deal()], "")
    run_cli("sync", "--now", SYNC_AT)
    result = run_cli("status", "D-999999")
    assert result.exit_code == 2
    assert "Deal D-999999 is not in the state" in result.output


def test_pending_step_sent_again(tmp_path: Path) -> None:
    """A run that died after claiming a step leaves it pending; the next run sends it."""
    with running_smtp_server() as server:
        config = prepare(tmp_path, server.port, deals=[valid_deal()])
        with sqlite3.connect(tmp_path / "salesreg-state.sqlite") as db:
            deadline = db.execute("SELECT deadline FROM deals").fetchone()[0]
            db.execute(
                "INSERT INTO reminders VALUES ('D-000001', ?, 'after-2d', 1, 'pending', ?, '<x>', '', ?, NULL)",
                (deadline, deadline, deadline),
            )
        run = run_remind(config, at(OVERDUE_AT), transport=quick(config))
    assert run.result.sent == 1
    assert ledger(tmp_path)[("D-000001", "after-2d")] == "sent"


def test_golden_week_deadline_reminder(tmp_path: Path, run_cli) -> None:
    # Expected close on 2026-05-06, a substitute holiday: the deadline moves back to Friday 05-01.
    setup_folder(tmp_path, [valid_deal(expected_close=date(2026, 5, 6))], "")
    run_cli("sync", "--now", "2026-04-28T09:00")
    result = run_cli("remind", "--dry-run", "--now", "2026-04-30T18:05")
    assert "D-000001" in result.output
    assert "before-1d" in result.output
    status = run_cli("status", "D-000001", "--now", "2026-04-30T18:05")
    assert "deadline       2026-05-01 18:00 (Asia/Tokyo)" in status.output


def test_dst_reminder_keeps_clock_time(tmp_path: Path, run_cli) -> None:
    # New York leaves DST on 2026-11-01: the day-before reminder is still due at 18:00 local.
    config_text = '[time]\ntimezone = "America/New_York"\n[deadline]\nholidays = "US"\n'
    setup_folder(tmp_path, [valid_deal(expected_close=date(2026, 11, 2))], config_text)
    run_cli("sync", "--now", "2026-10-25T09:00")
    early = run_cli("remind", "--now", "2026-11-01T17:59")
    assert not (tmp_path / "outbox").exists() or not list((tmp_path / "outbox").glob("*.eml"))
    assert early.exit_code == 0
    run_cli("remind", "--now", "2026-11-01T18:00")
    sent = list((tmp_path / "outbox").glob("*.eml"))
    assert len(sent) == 1
    assert "before-1d" in sent[0].name
