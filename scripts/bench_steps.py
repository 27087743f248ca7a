"""Run one salesreg command and record the time and the peak memory of each step of its job.

The steps are the functions that the jobs in salesreg/jobs.py call one after the other (read
the register, scan it, plan, write, send, build the summary). Each is wrapped for this process
only, so the numbers come without a profiler's overhead. The record is a JSON list written to
OUT, one item per call: the step, its wall-clock seconds, and the process's peak resident
memory (``ru_maxrss``, KiB) when the step returned. The peak only grows, so the step after
which it jumps is the one that needed the memory.

    python scripts/bench_steps.py OUT.json --config FOLDER/config.toml sync --now 2026-12-04T10:00
"""

from __future__ import annotations

import functools
import json
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

STARTED = time.perf_counter()

# Steps that salesreg/jobs.py imports into its own namespace, and the summary steps, which
# run_summary imports from salesreg.summary when it runs.
JOB_STEPS = (
    "read_register", "scan_register", "plan_changes", "write_register", "commit_scan", "plan_reminders",
    "send_reminders", "summary_data",
)
SUMMARY_STEPS = ("summary_tables", "write_summary")

records: list[dict[str, Any]] = []


def peak_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def recorded(step: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            records.append({"step": step, "seconds": time.perf_counter() - start, "peak_kib": peak_kib()})

    return wrapper


def main() -> None:
    if len(sys.argv) < 3:
        raise SystemExit(f"usage: {Path(sys.argv[0]).name} OUT.json SALESREG-ARGUMENTS...")
    out = Path(sys.argv[1])
    arguments = sys.argv[2:]

    from salesreg import jobs
    from salesreg.cli import main as salesreg_main

    for step in JOB_STEPS:
        setattr(jobs, step, recorded(step, getattr(jobs, step)))
    if "summary" in arguments:
        # Imported only for the summary, as salesreg does, so that other jobs keep their memory use.
        from salesreg import summary

        for step in SUMMARY_STEPS:
            setattr(summary, step, recorded(step, getattr(summary, step)))
    records.append({"step": "import salesreg", "seconds": time.perf_counter() - STARTED, "peak_kib": peak_kib()})

    status = 0
    try:
        salesreg_main(arguments, prog_name="salesreg")
    except SystemExit as exit_request:
        status = exit_request.code if isinstance(exit_request.code, int) else 1
    finally:
        records.append({"step": "whole process", "seconds": time.perf_counter() - STARTED, "peak_kib": peak_kib()})
        out.write_text(json.dumps(records, indent=1), "utf-8")
    sys.exit(status)


if __name__ == "__main__":
    main()
