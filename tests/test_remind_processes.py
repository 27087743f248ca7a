"""Reminders across real processes: overlapping runs, and runs killed at random moments."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from salesreg.jobs import run_sync

from helpers import at, setup_folder, valid_deal
from smtp_server import ScriptedHandler, running_smtp_server

REPS = ("Aiko Tanaka", "Ben Carter")


def salesreg(config: Path, *args: str) -> subprocess.Popen:
    """Start ``python -m salesreg`` as a separate process."""
    return subprocess.Popen(
        [sys.executable, "-m", "salesreg", "--config", str(config), "-q", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )


def prepare(folder: Path, port: int, deals: int) -> Path:
    rows = [valid_deal(customer=f"Customer {n}", rep=REPS[n % 2]) for n in range(deals)]
    text = (
        '[mail]\ntransport = "smtp"\nmax_per_minute = 0\n'
        f'[mail.smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\ntimeout_seconds = 5\n'
    )
    config = setup_folder(folder, rows, text)
    run_sync(config, at("2026-06-20T09:00"))
    return folder / "config.toml"


def message_ids(server) -> list[str]:
    return [str(message.parse()["Message-ID"]) for message in server.messages]


def test_overlapping_runs_send_once(tmp_path: Path) -> None:
    handler = ScriptedHandler(delay=0.02)
    with running_smtp_server(handler=handler) as server:
        config = prepare(tmp_path, server.port, deals=6)
        runs = [salesreg(config, "remind", "--now", "2026-07-02T19:00") for _ in range(4)]
        for run in runs:
            run.wait(timeout=120)
        ids = message_ids(server)
    assert [run.returncode for run in runs] == [0, 0, 0, 0]
    assert len(ids) == 6
    assert len(set(ids)) == 6


def test_killed_runs_lose_nothing(tmp_path: Path) -> None:
    """Kill `remind` at random moments; the next run delivers what the killed one did not.

    The one allowed duplicate per kill is the message the server accepted just before the kill,
    whose result the killed run could not record; it arrives again with the same Message-ID.
    """
    rng = random.Random(20261204)
    handler = ScriptedHandler(delay=0.03)
    iterations = 50
    with running_smtp_server(handler=handler) as server:
        config = prepare(tmp_path, server.port, deals=8)
        first = at("2026-07-02T19:00")
        for day in range(iterations):
            now = (first + timedelta(days=day)).isoformat()
            killed = salesreg(config, "remind", "--now", now)
            time.sleep(rng.uniform(0.15, 0.9))
            killed.send_signal(signal.SIGKILL)
            killed.wait(timeout=30)
            finisher = salesreg(config, "remind", "--now", now)
            finisher.wait(timeout=120)
            assert finisher.returncode == 0, finisher.stderr.read() if finisher.stderr else ""
        counts = Counter(message_ids(server))

    expected = {
        f"<D-{deal:06d}.20260630T0900+0000.{'after-2d' if day == 0 else f'repeat-{day}'}@example.com>"
        for deal in range(1, 9)
        for day in range(iterations)
    }
    duplicates = {message_id: count for message_id, count in counts.items() if count > 1}
    assert set(counts) == expected  # nothing lost, nothing unexpected
    assert all(count == 2 for count in duplicates.values())
    assert len(duplicates) <= iterations  # at most the one in-flight message per kill
