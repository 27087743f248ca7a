"""Reminders in Japanese: subjects, bodies, dates and the digest, through the outbox."""

from __future__ import annotations

import email
import email.policy
from datetime import date
from pathlib import Path

import pytest

from helpers import make_register, valid_deal


def outbox(folder: Path) -> list[email.message.EmailMessage]:
    files = sorted((folder / "outbox").glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in files]  # type: ignore[misc]


def text_body(message: email.message.EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_body(message: email.message.EmailMessage) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


@pytest.fixture
def folder(tmp_path: Path, run_cli) -> Path:
    """An English register whose team reads Japanese: `init`, then `[mail] locale = "ja"`."""
    assert run_cli("init", str(tmp_path)).exit_code == 0
    config = tmp_path / "config.toml"
    config.write_text(config.read_text("utf-8").replace('locale = "en"', 'locale = "ja"'), "utf-8")
    deals = [
        valid_deal(customer="さくら物流", title="車両管理システム"),
        valid_deal(customer="北野食品", title="受発注ポータル", expected_close=date(2026, 9, 30)),
    ]
    make_register(tmp_path / "register.xlsx", deals)
    assert run_cli("sync", "--now", "2026-06-20T09:00").exit_code == 0
    return tmp_path


def test_reminder_day_before(folder: Path, run_cli) -> None:
    result = run_cli("remind", "--now", "2026-06-29T18:00")
    assert result.exit_code == 0, result.output
    [message] = outbox(folder)
    assert str(message["Subject"]) == "[案件台帳] 更新期限は明日：案件 D-000001 車両管理システム（さくら物流）"
    body = text_body(message)
    assert body.startswith("Aiko Tanaka 様\n\nお疲れ様です。案件台帳からのお知らせです。\n")
    assert "案件 D-000001 を 2026年6月30日(火) 18:00 (Asia/Tokyo) までに更新してください（更新期限は明日）。" in body
    assert "  受注予定日：2026年6月30日(火)\n" in body
    assert "  場所：      register.xlsx、Dealsシート、2行目\n" in body
    assert "案件 <strong>D-000001</strong> を <strong>2026年6月30日(火) 18:00 (Asia/Tokyo)</strong> までに" in html_body(message)
    assert 'lang="ja"' in html_body(message)


def test_overdue_reminder_counts_days(folder: Path, run_cli) -> None:
    run_cli("remind", "--now", "2026-07-02T19:00")
    subjects = {str(message["Subject"]) for message in outbox(folder)}
    assert "[案件台帳] 更新期限を2日超過：案件 D-000001 車両管理システム（さくら物流）" in subjects
    overdue = next(m for m in outbox(folder) if "D-000001" in str(m["Subject"]))
    assert "案件 D-000001 の更新期限（2026年6月30日(火) 18:00 (Asia/Tokyo)）を2日過ぎています。" in text_body(overdue)


def test_reminder_hour_before(folder: Path, run_cli) -> None:
    run_cli("remind", "--now", "2026-06-30T17:05")
    [message] = outbox(folder)
    assert str(message["Subject"]).startswith("[案件台帳] 更新期限まであと1時間：案件 D-000001 ")


def test_digest_lists_every_deal(folder: Path, run_cli) -> None:
    config = folder / "config.toml"
    config.write_text(config.read_text("utf-8").replace("digest = false", "digest = true"), "utf-8")
    run_cli("remind", "--now", "2026-07-02T19:00")
    [message] = outbox(folder)
    assert str(message["Subject"]) == "[案件台帳] 更新が必要な案件が2件あります（うち期限超過1件）"
    body = text_body(message)
    assert "D-000001  車両管理システム（さくら物流）、2行目\n  更新期限を2日超過：更新期限 2026年6月30日(火) 18:00 (Asia/Tokyo)\n" in body
    assert "D-000002  受発注ポータル（北野食品）、3行目\n  更新期限は明日：更新期限 2026年7月3日(金) 18:00 (Asia/Tokyo)\n" in body


def test_english_is_the_default(tmp_path: Path, run_cli) -> None:
    assert run_cli("init", str(tmp_path)).exit_code == 0
    make_register(tmp_path / "register.xlsx", [valid_deal()])
    run_cli("sync", "--now", "2026-06-20T09:00")
    run_cli("remind", "--now", "2026-06-29T18:00")
    [message] = outbox(tmp_path)
    assert str(message["Subject"]) == "[Sales register] Due tomorrow: update deal D-000001 Fleet tracking (Sakura Logistics)"
    assert "by 2026-06-30 18:00 (Asia/Tokyo)" in text_body(message)
