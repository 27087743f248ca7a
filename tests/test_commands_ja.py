"""Command reports and errors in both locales, from real command runs on real files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import filelock
import pytest

import salesreg.jobs
from helpers import make_register, valid_deal, write_config

JA = '[mail]\nlocale = "ja"\n'


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A register with a valid deal, a deal of an inactive rep and a deal without a customer."""
    deals = [
        valid_deal(),
        valid_deal(customer="Kitano Foods", rep="Old Rep"),
        valid_deal(customer=None, expected_close=date(2026, 8, 31)),
    ]
    make_register(tmp_path / "register.xlsx", deals)
    return tmp_path


def test_sync_report_ja(folder: Path, run_cli) -> None:
    write_config(folder, JA)
    result = run_cli("sync", "--now", "2026-06-20T09:00")
    assert result.exit_code == 0, result.output
    first = result.output.splitlines()[0]
    assert first == (
        "register.xlsx に書き込みました: 案件 3 件、新規 3 件、正しく更新 0 件、不十分な更新 0 件、"
        "案件ID採番 3 件、変更行 3 行、要修正 2 行。"
    )


def test_sync_report_en(folder: Path, run_cli) -> None:
    write_config(folder)
    result = run_cli("sync", "--now", "2026-06-20T09:00")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == (
        "Wrote register.xlsx: 3 deals, 3 new, 0 updated properly, 0 updated improperly, 3 Deal IDs assigned, "
        "3 rows changed, 2 rows with problems."
    )


def test_sync_dry_run_rows_ja(folder: Path, run_cli) -> None:
    write_config(folder, JA)
    result = run_cli("sync", "--dry-run", "--now", "2026-06-20T09:00")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("register.xlsx に書き込む内容 (--dry-run のため書き込みません): 案件 3 件、")
    assert "\n  2行目: Update deadline、" in result.output


def test_remind_dry_run_ja(folder: Path, run_cli) -> None:
    write_config(folder, JA)
    assert run_cli("sync", "--now", "2026-06-20T09:00").exit_code == 0
    result = run_cli("remind", "--dry-run", "--now", "2026-06-30T17:05")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"送信対象のリマインダーは 2 件です (outbox {folder / 'outbox'} 経由。--dry-run のため送信しません):"
    assert "  D-000001 (2行目、'Fleet tracking'): before-1h を Aiko Tanaka <aiko@example.com> に送信。before-1d はスキップ" in lines
    routed = [line for line in lines if line.startswith("  D-000002 ")]
    assert routed == [
        "  D-000002 (3行目、'Fleet tracking'): before-1h を Kenji Mori <kenji@example.com> に送信"
        " (担当者 Old Rep のチームシートの在籍が「いいえ」になっているため)。before-1d はスキップ"
    ]


def test_remind_dry_run_en(folder: Path, run_cli) -> None:
    write_config(folder)
    assert run_cli("sync", "--now", "2026-06-20T09:00").exit_code == 0
    result = run_cli("remind", "--dry-run", "--now", "2026-06-30T17:05")
    lines = result.output.splitlines()
    assert lines[0] == f"Would send 2 reminders through outbox {folder / 'outbox'}:"
    assert (
        "  D-000002 (row 3, 'Fleet tracking'): before-1h to Kenji Mori <kenji@example.com>"
        " (because its rep Old Rep is inactive on the Team sheet); skips before-1d"
    ) in lines


def test_remind_sent_report_ja(folder: Path, run_cli) -> None:
    write_config(folder, JA)
    assert run_cli("sync", "--now", "2026-06-20T09:00").exit_code == 0
    result = run_cli("remind", "--now", "2026-06-30T17:05")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == (
        f"outbox {folder / 'outbox'} 経由でリマインダーを 2 件送信しました。失敗 0 件、次回に延期 0 件、"
        "送信先なし 0 件、スキップした前の段階 2 件です。"
    )


def test_config_unknown_key_ja(tmp_path: Path, run_cli) -> None:
    config = write_config(tmp_path, JA + "[deadline]\nreview_intervall_days = 7\n")
    result = run_cli("validate")
    assert result.exit_code == 2
    assert result.output == (
        f"エラー: {config}: 不明なキー 'deadline.review_intervall_days' があります。"
        "'deadline.review_interval_days' の誤りではありませんか?\n"
    )


def test_config_unknown_key_en(tmp_path: Path, run_cli) -> None:
    config = write_config(tmp_path, "[deadline]\nreview_intervall_days = 7\n")
    result = run_cli("validate")
    assert result.exit_code == 2
    assert result.output == (
        f"Error: {config}: unknown key 'deadline.review_intervall_days'. Did you mean 'deadline.review_interval_days'?\n"
    )


def test_config_invalid_value_ja(tmp_path: Path, run_cli) -> None:
    config = write_config(tmp_path, JA + "[fiscal]\nstart_month = 13\n")
    result = run_cli("validate")
    assert result.exit_code == 2
    assert result.output == f"エラー: {config}: fiscal.start_month = 13 は無効です。1 から 12 までの整数を指定してください。\n"


def test_missing_config_follows_lang(tmp_path: Path, run_cli, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "none.toml"
    english = run_cli("validate", config=missing)
    assert english.exit_code == 2
    assert english.output.startswith(f"Error: Configuration file {missing} not found;")
    monkeypatch.setenv("LANG", "ja_JP.UTF-8")
    japanese = run_cli("validate", config=missing)
    assert japanese.exit_code == 2
    assert japanese.output == (
        f"エラー: 設定ファイル {missing} が見つかりません。`salesreg init FOLDER` で作成するか、"
        "--config PATH で指定してください。\n"
    )


def test_busy_job_lock_ja(folder: Path, run_cli, monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(folder, JA)
    monkeypatch.setattr(salesreg.jobs, "LOCK_TIMEOUT_SECONDS", 0.2)
    lock_path = folder / "salesreg-state.sqlite.lock"
    with filelock.FileLock(str(lock_path)):
        result = run_cli("sync", "--now", "2026-06-20T09:00")
    assert result.exit_code == 3
    assert result.output.splitlines()[-1] + "\n" == (
        f"エラー: 別の salesreg ジョブが {lock_path} を 0.2 秒間ロックしているため、何も実行しませんでした。"
        "そのジョブが終わってから再実行してください。\n"
    )


def test_status_ja(folder: Path, run_cli) -> None:
    write_config(folder, JA)
    assert run_cli("sync", "--now", "2026-06-20T09:00").exit_code == 0
    result = run_cli("status", "D-000001", "--now", "2026-06-30T17:05")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "案件 D-000001"
    assert lines[1] == "  最終更新       2026年6月20日(土) 09:00"
    assert "  更新期限       2026年6月30日(火) 18:00 (Asia/Tokyo)" in lines
    assert "  before-1d    2026年6月29日(月) 18:00  送信待ち" in lines


def test_restore_unknown_deal_ja(folder: Path, run_cli) -> None:
    write_config(folder, JA)
    assert run_cli("sync", "--now", "2026-06-20T09:00").exit_code == 0
    result = run_cli("restore", "D-000042")
    assert result.exit_code == 2
    assert result.output == (
        f"エラー: 案件 D-000042 は状態ファイル {folder / 'salesreg-state.sqlite'} にないため、復元できません。"
        "復元できるのは sync が一度読み取った案件だけです。最近削除された案件: なし。\n"
    )


def test_validate_report_ja(folder: Path, run_cli) -> None:
    write_config(folder, JA)
    result = run_cli("validate", "--now", "2026-06-20T09:00")
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == "register.xlsx の「Deals」シート: 3 行を確認し、2 行に要修正事項があります。"


def test_status_skip_detail_ja() -> None:
    from salesreg.cli.status import _shown_detail
    from salesreg.i18n import using

    with using("ja"):
        assert _shown_detail("superseded by before-1h") == "後の段階 before-1h を送ったため"
        assert _shown_detail("550 mailbox unavailable") == "550 mailbox unavailable"
    assert _shown_detail("superseded by before-1h") == "superseded by before-1h"
