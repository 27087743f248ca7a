"""The reminder ledger matches a small independent model over random run schedules and edits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from zoneinfo import ZoneInfo

import sqlite3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salesreg.jobs import run_remind, run_sync
from salesreg.mail import OutboxTransport

from helpers import edit_row, setup_folder, valid_deal

TOKYO = ZoneInfo("Asia/Tokyo")
START = datetime(2026, 6, 1, 9, 0, tzinfo=TOKYO)
# Weekends and holidays off, so that the model's deadline is plain date arithmetic.
CONFIG = '[deadline]\nbusiness_days_only = false\n'


@dataclass
class Model:
    """The reminder rules restated with plain datetime arithmetic (Tokyo has no DST)."""

    deadline: datetime
    cycle_start: datetime
    settled: dict[tuple[datetime, str], str] = field(default_factory=dict)
    sent: list[tuple[datetime, str]] = field(default_factory=list)

    @staticmethod
    def deadline_for(seen: datetime, close: date) -> datetime:
        day = min(seen.date() + timedelta(days=14), close)
        return datetime.combine(day, time(18, 0), tzinfo=TOKYO)

    def steps(self, until: datetime) -> list[tuple[str, datetime]]:
        d = self.deadline
        ladder = [("before-1d", d - timedelta(days=1)), ("before-1h", d - timedelta(hours=1)), ("after-2d", d + timedelta(days=2))]
        k = 1
        while d + timedelta(days=2 + k) <= until:
            ladder.append((f"repeat-{k}", d + timedelta(days=2 + k)))
            k += 1
        return [(key, due) for key, due in ladder if due <= until]

    def run(self, now: datetime) -> None:
        steps = self.steps(now)
        if not steps:
            return
        key, due = steps[-1]
        if (self.deadline, key) in self.settled:
            return
        if key.startswith("before") and due < self.cycle_start:
            return
        for earlier, _ in steps[:-1]:
            self.settled.setdefault((self.deadline, earlier), "skipped")
        self.settled[(self.deadline, key)] = "sent"
        self.sent.append((self.deadline, key))


edit_kinds = st.sampled_from(["none", "none", "proper", "improper"])
events = st.lists(
    st.tuples(
        st.one_of(st.just(0), st.integers(1, 90), st.integers(60, 4 * 24 * 60)),  # minutes to the next run
        edit_kinds,
        st.integers(0, 30),  # days from the run to the new expected close (proper) or before it (improper)
    ),
    min_size=1,
    max_size=10,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(close_in=st.integers(0, 40), schedule=events)
def test_ledger_matches_model(close_in: int, schedule: list[tuple[int, str, int]]) -> None:
    with TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        close = START.date() + timedelta(days=close_in)
        config = setup_folder(folder, [valid_deal(expected_close=close)], CONFIG)
        run_sync(config, START)
        model = Model(Model.deadline_for(START, close), START)

        now = START
        for number, (gap, kind, days) in enumerate(schedule):
            now += timedelta(minutes=gap)
            if kind == "proper":
                new_close = now.date() + timedelta(days=days)
                edit_row(config.register.path, 2, expected_close=new_close, next_step=f"call {number}")
                model.deadline, model.cycle_start = Model.deadline_for(now, new_close), now
            elif kind == "improper":
                edit_row(config.register.path, 2, expected_close=now.date() - timedelta(days=days + 1), next_step=f"call {number}")
            run_remind(config, now, transport=OutboxTransport(config.mail.outbox))
            model.run(now)

        with sqlite3.connect(config.state_path) as db:
            rows = db.execute("SELECT deadline, step, status FROM reminders").fetchall()
        ledger = {(datetime.fromisoformat(d).astimezone(TOKYO), s): status for d, s, status in rows}
        assert ledger == model.settled
        sent_files = sorted(p.name for p in config.mail.outbox.glob("*.eml")) if config.mail.outbox.exists() else []
        assert len(sent_files) == len(model.sent)
