"""Another program saves while sync runs, and sync is killed while it writes: nothing is lost.

The rep's program in the race test saves the way Excel does (a new file, then a rename) and,
as the worst case, holds no lock file. The kill test forks a child that runs sync and kills
it with SIGKILL at a random moment of the write.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest

import salesreg.jobs as jobs
import salesreg.register as register
from helpers import at, cell_text, save_rep_edit, setup_folder, valid_deal
from salesreg.errors import WorkbookBusy
from salesreg.jobs import run_sync
from salesreg.register import read_register

TESTS = Path(__file__).resolve().parent
SYNC_RUNS = 100
KILLS = 30
EDITED_ROWS = 10

EDITOR = """
import random, sys, time
sys.path.insert(0, {tests!r})
from pathlib import Path
from helpers import append_rep_text

path, stop, log = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
random.seed(int(sys.argv[4]))
with log.open("w") as out:
    count = 0
    while not stop.exists():
        time.sleep(random.uniform(0, 0.1))
        row = 2 + count % {rows}
        append_rep_text(path, row, "next_step", f"e{{count}}")
        out.write(f"{{row}} e{{count}}\\n")
        out.flush()
        count += 1
"""


def test_edits_survive_concurrent_syncs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = setup_folder(tmp_path, [valid_deal(customer=f"Customer {n}") for n in range(EDITED_ROWS)])
    path = config.register.path
    now = at("2026-06-20T09:00")
    assert run_sync(config, now).written
    monkeypatch.setattr(jobs, "RETRY_PAUSE_SECONDS", 0.01)

    script = tmp_path / "editor.py"
    script.write_text(EDITOR.format(tests=str(TESTS), rows=EDITED_ROWS))
    stop, log = tmp_path / "stop", tmp_path / "edits.log"
    seed = random.randrange(1_000_000)
    editor = subprocess.Popen([sys.executable, str(script), str(path), str(stop), str(log), str(seed)])
    written = busy = 0
    try:
        for number in range(1, SYNC_RUNS + 1):
            time.sleep(random.uniform(0, 0.05))  # scheduled runs start at any moment of the rep's work
            try:
                written += run_sync(config, now + timedelta(minutes=10 * number)).written
            except WorkbookBusy:
                busy += 1  # saved three times during one run: nothing written, which is allowed
    finally:
        stop.touch()
        editor.wait(timeout=30)
    assert editor.returncode == 0

    run_sync(config, now + timedelta(days=1))
    edits: dict[int, list[str]] = {}
    for line in log.read_text().splitlines():
        row, marker = line.split()
        edits.setdefault(int(row), []).append(marker)
    saves = sum(len(markers) for markers in edits.values())
    print(f"{saves} saves by the editor; {written} syncs wrote, {busy} gave up (seed {seed})")
    assert saves >= 30, "the editor saved too rarely to race"
    # The race only means something when some syncs got through; how many depends on the load.
    assert written >= 1, f"no sync wrote (seed {seed})"
    for row, markers in edits.items():
        assert cell_text(path, row, "next_step").split() == markers, f"row {row} lost an edit (seed {seed})"
    assert cell_text(path, 2, "deal_id") == "D-000001"
    assert not list(tmp_path.glob(".~salesreg.*"))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the kill test forks a child process")
def test_killed_sync_leaves_old_or_new(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = setup_folder(tmp_path, [valid_deal(customer=f"Customer {n}") for n in range(150)])
    path = config.register.path
    state = config.state_path
    assert run_sync(config, at("2026-06-20T09:00")).written
    for row in range(2, 152, 3):
        save_rep_edit(path, row, next_step="Called back")
    old_register, old_state = path.read_bytes(), state.read_bytes()
    now = at("2026-06-21T09:00")

    signal_pipe: list[int] = []
    real_replace = register.replace_file

    def replace_and_signal(*args, **kwargs):
        os.write(signal_pipe[0], b"w")
        return real_replace(*args, **kwargs)

    monkeypatch.setattr(register, "replace_file", replace_and_signal)

    def reset() -> None:
        for leftover in tmp_path.glob("*"):
            if leftover.name.startswith((".~salesreg.", "register.backup", "salesreg-state.sqlite")):
                leftover.unlink()
        path.write_bytes(old_register)
        state.write_bytes(old_state)

    def run_child(kill_after: float | None) -> float:
        """Fork a sync; kill it ``kill_after`` seconds into its write; return how long the write ran."""
        reader, writer = os.pipe()
        signal_pipe[:] = [writer]
        pid = os.fork()
        if pid == 0:  # the child: run sync and leave without pytest's clean-up
            os.close(reader)
            try:
                run_sync(config, now)
            except BaseException:
                os._exit(1)
            os._exit(0)
        os.close(writer)
        assert os.read(reader, 1) == b"w", "the child ended before it wrote"
        started = time.monotonic()
        if kill_after is not None:
            time.sleep(kill_after)
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        os.close(reader)
        if kill_after is None:
            assert os.WIFEXITED(status)
            assert os.WEXITSTATUS(status) == 0
        return time.monotonic() - started

    reset()
    write_seconds = run_child(None)
    new_register = path.read_bytes()
    assert new_register != old_register

    outcomes = {"old": 0, "new": 0}
    for _ in range(KILLS):
        reset()
        run_child(random.uniform(0, write_seconds * 1.2))
        content = path.read_bytes()
        assert content in (old_register, new_register), "the register holds neither the old nor the new content"
        outcomes["old" if content == old_register else "new"] += 1
        openpyxl.load_workbook(path, read_only=True).close()
        read_register(config)
    print(f"write took {write_seconds:.3f} s; after {KILLS} kills: {outcomes}")
