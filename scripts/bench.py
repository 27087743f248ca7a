"""Benchmark sync, remind and summary on generated registers, next to the floors of the libraries.

For each size, the script generates a register (scripts/bench_data.py), then times every job
as a whole `salesreg` process, several runs each, and the floors (scripts/bench_floors.py) on
the same file in the same run. It records each process's CPU time and peak memory, checks the
targets on the largest size, records the time and memory of each step of every job there
(scripts/bench_steps.py), and profiles every job that misses a target. The results become one
section of a Markdown page, and the page's other sections stay as they are.

    .venv/bin/python scripts/bench.py --sizes 1000,10000,50000 --runs 3 --out docs/benchmarks.md
    .venv/bin/python scripts/bench.py --quick
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import importlib.metadata
import json
import os
import platform
import pstats
import re
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

SCRIPTS = Path(__file__).resolve().parent
sys.path.insert(0, str(SCRIPTS))

import bench_data  # noqa: E402  (a sibling script, found through the path set above)

SECTION_TITLE = "## Sync, remind and summary on large registers"
PAGE_HEADER = "# Benchmarks\n\nMeasured numbers, with the machine and the method behind each. Add a section per benchmark.\n"
FLOORS_SCRIPT = SCRIPTS / "bench_floors.py"
STEPS_SCRIPT = SCRIPTS / "bench_steps.py"
RESULTS_FILE = "results.json"  # saved in the --keep folder
RUN_TIMEOUT_SECONDS = 3600
PROFILE_TOP = 15
PROFILE_OWN_TOP = 8
PACKAGES = ("openpyxl", "python-calamine", "lxml", "XlsxWriter", "pandas", "Jinja2")
# Profile entries that only pass the call on: the interpreter, the profiler and click.
# Module imports are left out too: the start-up row of the results shows their cost.
PROFILE_PLUMBING = ("/click/", "<frozen ", "cProfile.py", "profile.py", "/salesreg/__main__.py")
PROFILE_PLUMBING_BUILTINS = ("<module>", "<built-in method builtins.exec>", "<built-in method builtins.__import__>")


@dataclass(frozen=True)
class Floor:
    key: str
    label: str


@dataclass(frozen=True)
class Job:
    key: str
    label: str
    command: str  # the salesreg subcommand
    source: str  # folder of the size whose copy the job runs on
    fresh_each_run: bool  # copy the source again before every run, or only before the first
    minutes_after_now: int  # the job's --now, relative to --now of the benchmark


FLOORS = (
    Floor("start", "`salesreg --version`: start Python and import salesreg"),
    Floor("openpyxl", "openpyxl `load_workbook` + `save`"),
    Floor("calamine", "python-calamine read of the Deals sheet"),
    Floor("lxml", "lxml `iterparse` read of the Deals sheet"),
)
JOBS = (
    Job("sync-first", "sync, first run (fills every row)", "sync", "generated", True, 0),
    Job("sync-again", "sync, nothing changed", "sync", "synced", False, 30),
    Job("remind", "remind, e-mails due", "remind", "synced", True, 15),
    Job("remind-again", "remind, nothing due", "remind", "reminded", False, 15),
    Job("summary", "summary", "summary", "synced", False, 0),
)
JOB_BY_KEY = {job.key: job for job in JOBS}
LABELS = {item.key: item.label for item in FLOORS + JOBS}

# Targets on the largest size: job, the floor it is compared with, the limit on job ÷ floor (for
# the first sync, on floor ÷ job: it must be that many times faster than openpyxl), and the text.
TIME_TARGETS = (
    ("remind", "calamine", 1.5, "remind at most 1.5 × the calamine read"),
    ("remind-again", "calamine", 1.5, "remind with nothing due at most 1.5 × the calamine read"),
    ("sync-first", "openpyxl", 4.0, "sync at least 4 × faster than the openpyxl load and save"),
    ("sync-again", "calamine", 1.5, "sync with nothing to change at most 1.5 × the calamine read"),
    ("summary", "calamine", 3.0, "summary at most 3 × the calamine read"),
)
PEAK_LIMIT_MB = 600.0
GROWTH_SLACK = 1.1  # time may grow 10 % more than the number of deals: 5.5 × from 10,000 to 50,000


@dataclass
class Measurement:
    key: str
    size: int
    seconds: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)  # user + system time of the process
    peak_kib: list[int] = field(default_factory=list)
    report: str = ""  # first line the last run printed
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu_seconds)

    @property
    def peak_mb(self) -> float:
        return max(self.peak_kib) * 1024 / 1e6


@dataclass
class TargetResult:
    target: str
    measured: str
    met: bool
    job: str | None  # the job to profile when the target is missed


@dataclass
class ProfileEntry:
    function: str
    calls: str
    cumulative: float
    own: float


@dataclass
class Profile:
    job: str
    size: int
    seconds: float
    by_cumulative: list[ProfileEntry]
    by_own: list[ProfileEntry]


@dataclass
class Record:
    """Measurements of one benchmark run, everything that the Markdown section is rendered from."""

    command: str
    started: str  # ISO 8601 local time
    minutes: float
    sizes: list[int]
    runs: int
    seed: int
    now: str
    max_run_seconds: float
    machine: list[tuple[str, str]]
    measurements: list[Measurement]
    steps: dict[str, list[dict[str, Any]]]  # job -> what scripts/bench_steps.py recorded on the largest size
    profiles: list[Profile]

    @property
    def results(self) -> dict[tuple[str, int], Measurement]:
        return {(measurement.key, measurement.size): measurement for measurement in self.measurements}

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(dataclasses.asdict(self), ensure_ascii=False, indent=1), "utf-8")

    @classmethod
    def load(cls, path: Path) -> Record:
        data = json.loads(path.read_text("utf-8"))
        data["machine"] = [tuple(row) for row in data["machine"]]
        data.setdefault("steps", {})
        data["measurements"] = [Measurement(**item) for item in data["measurements"]]
        data["profiles"] = [
            Profile(**(item | {
                "by_cumulative": [ProfileEntry(**entry) for entry in item["by_cumulative"]],
                "by_own": [ProfileEntry(**entry) for entry in item["by_own"]],
            }))
            for item in data["profiles"]
        ]
        return cls(**data)


class ProcessFailed(RuntimeError):
    pass


# ---------------------------------------------------------------------------------------------
# Running one process


@dataclass
class ProcessRun:
    seconds: float  # wall-clock
    cpu_seconds: float  # user + system
    peak_kib: int  # peak resident memory
    stdout: str


def run_process(argv: list[str], cwd: Path, log_stem: Path) -> ProcessRun:
    """Run ``argv`` in ``cwd`` and return its times, peak memory and stdout.

    ``os.wait4`` returns the resource usage of this one child, so ``ru_maxrss`` is the peak of
    this run alone, and the CPU time is this run's. stdout and stderr go to ``log_stem``.out and .err, never to a terminal,
    as under cron.
    """
    out_path, err_path = log_stem.with_suffix(".out"), log_stem.with_suffix(".err")
    with out_path.open("wb") as out, err_path.open("wb") as err:
        start = time.perf_counter()
        process = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        _, status, usage = _wait(process)
        seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    stdout = out_path.read_text("utf-8", "replace")
    if process.returncode != 0:
        stderr = err_path.read_text("utf-8", "replace").strip().splitlines()
        raise ProcessFailed(
            f"{shlex.join(argv)} exited with status {process.returncode} in {cwd}. The last lines of its "
            f"stderr ({err_path}):\n  " + "\n  ".join(stderr[-15:])
        )
    return ProcessRun(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, stdout)


def _wait(process: subprocess.Popen[bytes]) -> tuple[int, int, resource.struct_rusage]:
    """Wait for ``process`` with ``os.wait4``, and kill it after RUN_TIMEOUT_SECONDS."""
    killed = threading.Event()

    def kill() -> None:
        killed.set()
        process.kill()

    timer = threading.Timer(RUN_TIMEOUT_SECONDS, kill)
    timer.start()
    try:
        pid, status, usage = os.wait4(process.pid, 0)
    finally:
        timer.cancel()
    if killed.is_set():
        process.returncode = os.waitstatus_to_exitcode(status)
        raise ProcessFailed(f"{shlex.join(process.args)} timed out after {RUN_TIMEOUT_SECONDS} s and was killed.")  # type: ignore[arg-type]
    return pid, status, usage


def fresh_copy(source: Path, target: Path) -> None:
    """Copy the config, register and state of ``source`` into an emptied ``target``."""
    if target.exists():
        shutil.rmtree(target)
    ignore = shutil.ignore_patterns("outbox", "*.lock", "register.backup-*", "summary.xlsx", "*.openpyxl.xlsx")
    shutil.copytree(source, target, ignore=ignore)


# ---------------------------------------------------------------------------------------------
# One size


class Bench:
    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args = args
        self.work = work
        self.now = datetime.fromisoformat(args.now)
        self.results: dict[tuple[str, int], Measurement] = {}
        self.load_at_start = os.getloadavg()
        self.library_at_start = library_digest()
        self.salesreg = Path(sys.executable).with_name("salesreg")
        if not self.salesreg.exists():
            raise SystemExit(
                f"{self.salesreg} not found. Run this script with the Python of the virtual environment that has "
                f"salesreg installed, such as .venv/bin/python."
            )

    def root(self, size: int) -> Path:
        return self.work / f"{size}-deals"

    def run_size(self, size: int) -> None:
        root = self.root(size)
        if root.exists():
            shutil.rmtree(root)
        (root / "logs").mkdir(parents=True)
        started = time.perf_counter()
        register = bench_data.generate(root / "generated", size, self.now, self.args.seed)
        log(f"{size} deals: generated {register} ({register.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - started:.1f} s.")
        for floor in FLOORS:
            self.measure(floor.key, size, lambda run, key=floor.key: (self.floor_argv(key, register, root), root))
        for job in JOBS:
            self.measure(job.key, size, lambda run, job=job: self.prepare_job(job, size, run))
            if job.key == "sync-first":
                fresh_copy(root / job.key, root / "synced")
            elif job.key == "remind":
                fresh_copy(root / job.key, root / "reminded")
        self.check_no_change(size)

    def floor_argv(self, key: str, register: Path, root: Path) -> list[str]:
        if key == "start":
            return [str(self.salesreg), "--version"]
        argv = [sys.executable, str(FLOORS_SCRIPT), key, str(register)]
        if key == "openpyxl":
            argv += ["--out", str(root / "openpyxl-saved.xlsx")]
        return argv

    def prepare_job(self, job: Job, size: int, run: int, folder: Path | None = None) -> tuple[list[str], Path]:
        root = self.root(size)
        folder = folder or root / job.key
        if job.fresh_each_run or run == 0:
            fresh_copy(root / job.source, folder)
        now = self.now + timedelta(minutes=job.minutes_after_now)
        argv = [str(self.salesreg), "--config", str(folder / "config.toml"), job.command, "--now", now.isoformat(timespec="minutes")]
        return argv, folder

    def measure(self, key: str, size: int, prepare: Callable[[int], tuple[list[str], Path]]) -> Measurement:
        """Run one job or floor ``--runs`` times, or once when the first run is over ``--max-run-seconds``."""
        measurement = Measurement(key, size)
        runs = self.args.runs
        for run in range(runs):
            argv, cwd = prepare(run)
            result = run_process(argv, cwd, self.root(size) / "logs" / f"{key}-{run + 1}")
            measurement.seconds.append(result.seconds)
            measurement.cpu_seconds.append(result.cpu_seconds)
            measurement.peak_kib.append(result.peak_kib)
            # The first line of the report, without the run's temporary folder.
            stdout = result.stdout.strip()
            first_line = stdout.splitlines()[0] if stdout else ""
            measurement.report = first_line.replace(str(cwd) + os.sep, "")
            log(f"{size} deals: {LABELS[key]}, run {run + 1} of {runs}: {result.seconds:.2f} s "
                f"(CPU {result.cpu_seconds:.2f} s), {result.peak_kib / 1024:.0f} MiB.")
            if run == 0 and runs > 1 and result.seconds > self.args.max_run_seconds:
                measurement.note = f"1 run only: it took {result.seconds:.0f} s, more than --max-run-seconds {self.args.max_run_seconds:g}"
                log(f"{size} deals: {measurement.note}.")
                break
        self.results[key, size] = measurement
        return measurement

    def check_no_change(self, size: int) -> None:
        """Note when the sync with nothing changed wrote the register after all."""
        measurement = self.results["sync-again", size]
        if not measurement.report.startswith("Nothing to write"):
            measurement.note = f"it wrote the register: {measurement.report!r}"
            log(f"{size} deals: the sync with nothing changed wrote the register; see {self.root(size) / 'logs'}.")

    def measure_steps(self, key: str, size: int) -> list[dict[str, Any]]:
        """Run one job once with scripts/bench_steps.py on a fresh copy and return its record of the steps."""
        root = self.root(size)
        argv, folder = self.prepare_job(JOB_BY_KEY[key], size, 0, root / f"steps-{key}")
        output = root / f"steps-{key}.json"
        run_process([sys.executable, str(STEPS_SCRIPT), str(output)] + argv[1:], folder, root / "logs" / f"steps-{key}")
        log(f"{size} deals: recorded the steps of {LABELS[key]}.")
        return json.loads(output.read_text("utf-8"))

    def profile(self, key: str, size: int) -> Profile:
        """Run one job under cProfile on a fresh copy and return its top functions."""
        job = JOB_BY_KEY[key]
        root = self.root(size)
        argv, folder = self.prepare_job(job, size, 0, root / f"profile-{key}")
        output = root / f"profile-{key}.prof"
        argv = [sys.executable, "-m", "cProfile", "-o", str(output), "-m", "salesreg"] + argv[1:]
        seconds = run_process(argv, folder, root / "logs" / f"profile-{key}").seconds
        log(f"{size} deals: profiled {LABELS[key]} in {seconds:.1f} s; {output}.")
        return read_profile(output, key, size, seconds)


# ---------------------------------------------------------------------------------------------
# Profiles


def read_profile(path: Path, key: str, size: int, seconds: float) -> Profile:
    stats = pstats.Stats(str(path))
    entries = []
    for (filename, line, name), (primitive, total, own, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        if any(part in filename for part in PROFILE_PLUMBING) or name in PROFILE_PLUMBING_BUILTINS:
            continue
        calls = str(total) if primitive == total else f"{total}/{primitive}"
        entries.append(ProfileEntry(_function_name(filename, line, name), calls, cumulative, own))
    by_cumulative = sorted(entries, key=lambda entry: entry.cumulative, reverse=True)[:PROFILE_TOP]
    by_own = sorted(entries, key=lambda entry: entry.own, reverse=True)[:PROFILE_OWN_TOP]
    return Profile(key, size, seconds, by_cumulative, by_own)


def _function_name(filename: str, line: int, name: str) -> str:
    if filename == "~":
        return name  # a built-in, such as <method 'execute' of 'sqlite3.Cursor' objects>
    for marker in ("/site-packages/", "/lib/salesreg/", "/lib/python3"):
        if marker in filename:
            filename = filename.split(marker, 1)[1]
            if marker == "/lib/salesreg/":
                filename = "salesreg/" + filename
            elif marker == "/lib/python3":
                filename = filename.split("/", 1)[1] if "/" in filename else filename
            break
    return f"{filename}:{line} {name}"


# ---------------------------------------------------------------------------------------------
# Targets


def evaluate_targets(results: dict[tuple[str, int], Measurement], sizes: list[int]) -> list[TargetResult]:
    size = sizes[-1]
    found: list[TargetResult] = []
    for job, floor, limit, text in TIME_TARGETS:
        job_seconds = results[job, size].median
        floor_seconds = results[floor, size].median
        cpu_ratio = results[job, size].cpu_median / results[floor, size].cpu_median
        if job == "sync-first":
            ratio = floor_seconds / job_seconds
            gap = limit / ratio
            measured = f"{floor} ÷ sync = {ratio:.2f} ({floor_seconds:.2f} s ÷ {job_seconds:.2f} s); by CPU time {1 / cpu_ratio:.2f}"
        else:
            ratio = job_seconds / floor_seconds
            gap = ratio / limit
            measured = (f"{JOB_BY_KEY[job].command} ÷ {floor} = {ratio:.2f} ({job_seconds:.2f} s ÷ {floor_seconds:.2f} s); "
                        f"by CPU time {cpu_ratio:.2f}")
        if gap > 1:
            measured += f"; the job needs to get {gap:.1f} × faster"
        found.append(TargetResult(text, measured, gap <= 1, job))

    peaks = {job.key: results[job.key, size].peak_mb for job in JOBS}
    worst = max(peaks, key=lambda key: peaks[key])
    found.append(TargetResult(
        f"peak memory under {PEAK_LIMIT_MB:.0f} MB", f"{peaks[worst]:.0f} MB ({LABELS[worst]})", peaks[worst] < PEAK_LIMIT_MB, None
    ))

    if len(sizes) >= 2:
        smaller = sizes[-2]
        limit = GROWTH_SLACK * size / smaller
        for job in JOBS:
            growth = results[job.key, size].median / results[job.key, smaller].median
            cpu_growth = results[job.key, size].cpu_median / results[job.key, smaller].cpu_median
            found.append(TargetResult(
                f"{LABELS[job.key]}: time from {smaller:,} to {size:,} deals at most {limit:.1f} ×",
                f"{growth:.2f} ×; by CPU time {cpu_growth:.2f} ×", growth <= limit, job.key,
            ))
    return found


# ---------------------------------------------------------------------------------------------
# The Markdown section


def machine_rows(load_at_start: tuple[float, float, float], digest_at_start: str) -> list[tuple[str, str]]:
    memory = "unknown"
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB total"
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown")
    os_name = platform.platform()
    os_release = Path("/etc/os-release")
    if os_release.exists():
        pretty = re.search(r'^PRETTY_NAME="?([^"\n]*)', os_release.read_text(), re.MULTILINE)
        if pretty:
            os_name = f"{pretty.group(1)}, Linux {platform.release()}"
    versions = ", ".join(f"{name} {_version(name)}" for name in PACKAGES)
    return [
        ("`nproc`", str(len(os.sched_getaffinity(0)))),
        ("memory (`/proc/meminfo`)", memory),
        ("CPU model (`/proc/cpuinfo`)", cpu),
        ("`python --version`", f"Python {platform.python_version()}"),
        ("OS", os_name),
        ("packages", versions),
        ("salesreg", _salesreg_revision(digest_at_start)),
        ("load average (1, 5, 15 min)", f"{_load_text(load_at_start)} at the start, {_load_text(os.getloadavg())} at the end"),
    ]


def _load_text(load: tuple[float, float, float]) -> str:
    return ", ".join(f"{value:.2f}" for value in load)


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def library_digest() -> str:
    """Return a SHA-256 over the Python files of lib/, to tell whether the library changed during a run."""
    digest = hashlib.sha256()
    for path in sorted((SCRIPTS.parent / "lib").rglob("*.py")):
        digest.update(str(path).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _salesreg_revision(digest_at_start: str) -> str:
    repository = SCRIPTS.parent
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=repository, capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "lib"], cwd=repository, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown revision"
    text = f"commit {commit}" + (" with uncommitted changes in lib/" if dirty else "")
    if library_digest() != digest_at_start:
        text += "; **files in lib/ changed during the run**, so the runs did not all measure the same code"
    return text


def render_section(record: Record) -> str:
    results = record.results
    sizes = record.sizes
    targets = evaluate_targets(results, sizes)

    lines = [SECTION_TITLE, ""]
    lines += [
        f"Written by `scripts/bench.py` on {record.started[:10]} in {record.minutes:.0f} minutes with:",
        "",
        "```sh",
        record.command,
        "```",
        "",
        "### Machine",
        "",
        "| | |",
        "|---|---|",
    ]
    lines += [f"| {name} | {value} |" for name, value in record.machine]
    lines += ["", "### Method", ""] + method_lines(record)

    lines += [
        "", "### Medians", "",
        "Wall-clock seconds and, in brackets, CPU seconds (user + system), each the median of the runs. Peak "
        "resident memory in MB (10^6 bytes), the largest of the runs.", "",
    ]
    lines += medians_table(results, sizes)

    lines += ["", "### Targets", "", f"On the {sizes[-1]:,}-deal register; ratios of the medians above.", ""]
    lines += ["| target | measured | met |", "|---|---|---|"]
    lines += [f"| {t.target} | {t.measured} | {'met' if t.met else '**not met**'} |" for t in targets]

    lines += ["", "### What each job did", ""] + work_lines(results, sizes)
    lines += ["", "### Time and memory by step", ""] + steps_lines(record)
    if record.profiles:
        lines += ["", "### Profiles of the jobs that miss a target", ""] + profile_lines(record.profiles, results, record.steps)

    lines += ["", "### All runs", "", "| job | deals | wall-clock s | CPU s | peak MB | note |", "|---|---|---|---|---|---|"]
    for (key, size), measurement in results.items():
        runs = ", ".join(f"{seconds:.2f}" for seconds in measurement.seconds)
        cpu = ", ".join(f"{seconds:.2f}" for seconds in measurement.cpu_seconds)
        lines.append(f"| {LABELS[key]} | {size:,} | {runs} | {cpu} | {measurement.peak_mb:.0f} | {measurement.note} |")
    return "\n".join(lines) + "\n"


def method_lines(record: Record) -> list[str]:
    now = record.now
    return [
        f"- Registers: `scripts/bench_data.py` starts each from `salesreg init` and writes {', '.join(f'{s:,}' for s in record.sizes)} "
        f"deals (seed {record.seed}, dates relative to {now} Asia/Tokyo). The Deals sheet has the 28 salesreg columns "
        f"and {', '.join(bench_data.EXTRA_HEADERS)}, about 60 % Japanese and 40 % English text, stored as shared "
        f"strings as Excel saves it. The Deals table and the drop-downs reach over every row, and the Team sheet "
        f"lists 50 people. About 30 % of the deals are open, 30 % lost and 40 % won. 5 % of the open deals have an "
        f"Expected close in the past. Each other mistake is in under 1 % of the deals: an unknown or inactive rep, "
        f"a price or count as text, a missing reason or close date, an unknown stage.",
        "- Every measurement is one whole process (`subprocess.Popen`), timed with `time.perf_counter()` around "
        "start and exit, so each includes starting Python and importing the libraries (the `salesreg --version` row). "
        "Peak memory is `ru_maxrss` and CPU time is `ru_utime + ru_stime` of the `os.wait4` result for that one "
        "process. stdout and stderr go to files, not a terminal, as under cron. Other work on the machine (see the "
        "load average) slows the wall-clock times of some runs, so the CPU times are given beside them. The jobs "
        "and floors are single-threaded, so a run whose wall-clock time is well above its CPU time waited.",
        f"- {record.runs} run{'s' if record.runs != 1 else ''} of each job and floor per size; a job whose first run takes more than "
        f"{record.max_run_seconds:g} s runs once, and the table of all runs says so.",
        f"- sync, first run: a fresh copy of the generated register, no state, `--now {now}`. sync, nothing changed: "
        f"the register and state after a first sync, `--now` 30 minutes later, the same copy for every run.",
        "- remind, e-mails due: a fresh copy of the register and state after the first sync and an empty outbox "
        "(`[mail] transport = \"outbox\"`), `--now` 15 minutes after the sync. remind, nothing due: the copy after "
        "that remind, at the same time again, so that every due e-mail has gone: the case of a remind every few minutes.",
        "- summary: the register and state after the first sync, `--now` of the sync, the same copy for every run.",
        "- Floors, on the generated register of the same size in the same run: `scripts/bench_floors.py` with "
        "openpyxl (`load_workbook`, not read-only, and `save`), python-calamine (`get_sheet_by_name(\"Deals\").to_python()`) "
        "and lxml (`etree.iterparse` over the Deals sheet's XML reading every cell's value, shared strings resolved).",
        "- Profiles: `python -m cProfile -o FILE -m salesreg …` once on the largest register for each job that "
        "misses a time target. Functions by cumulative time, leaving out click, module imports and the "
        "interpreter's start; the profiler makes the run slower, so the shares count, not the seconds.",
    ]


def medians_table(results: dict[tuple[str, int], Measurement], sizes: list[int]) -> list[str]:
    header = "| job | " + " | ".join(f"{size:,} deals" for size in sizes) + " | peak MB at " + f"{sizes[-1]:,} |"
    lines = [header, "|---|" + "---:|" * (len(sizes) + 1)]
    for key in [job.key for job in JOBS] + [floor.key for floor in FLOORS]:
        cells = " | ".join(f"{results[key, size].median:.2f} s ({results[key, size].cpu_median:.2f})" for size in sizes)
        floor = " (floor)" if key in {floor.key for floor in FLOORS} else ""
        lines.append(f"| {LABELS[key]}{floor} | {cells} | {results[key, sizes[-1]].peak_mb:.0f} |")
    return lines


def work_lines(results: dict[tuple[str, int], Measurement], sizes: list[int]) -> list[str]:
    """Return the first line that each job printed, per size."""
    lines = []
    for job in JOBS:
        lines.append(f"- {LABELS[job.key]}:")
        lines += [f"  - {size:,} deals: `{results[job.key, size].report}`" for size in sizes]
    return lines


def steps_lines(record: Record) -> list[str]:
    lines = [
        f"One more run of each job on the {record.sizes[-1]:,}-deal register through `scripts/bench_steps.py`, which "
        "wraps the steps that `salesreg/jobs.py` calls and records each step's wall-clock time and the process's "
        "peak memory when the step returned. The peak only grows, so a jump shows the step that needed the memory. "
        "`import salesreg` counts from the wrapper's own start, after Python started.",
        "",
        "| job | step | seconds | peak MB after the step |",
        "|---|---|---:|---:|",
    ]
    for key, steps in record.steps.items():
        for step in steps:
            name = step["step"] if " " in step["step"] else f"`{step['step']}`"
            lines.append(f"| {LABELS[key]} | {name} | {step['seconds']:.2f} | {step['peak_kib'] * 1024 / 1e6:.0f} |")
    return lines


def profile_lines(profiles: list[Profile], results: dict[tuple[str, int], Measurement],
                  steps: dict[str, list[dict[str, Any]]]) -> list[str]:
    lines: list[str] = []
    for profile in profiles:
        median = results[profile.job, profile.size].median
        lines += [
            f"#### {LABELS[profile.job]}, {profile.size:,} deals",
            "",
            largest_steps_sentence(steps.get(profile.job, [])),
            "",
            f"{profile.seconds:.1f} s under the profiler ({median:.1f} s without). Top functions by cumulative time:",
            "",
            "| function | calls | cumulative s | own s |",
            "|---|---:|---:|---:|",
        ]
        lines += [f"| `{e.function}` | {e.calls} | {e.cumulative:.2f} | {e.own:.2f} |" for e in profile.by_cumulative]
        lines += ["", "By own time:", "", "| function | calls | own s |", "|---|---:|---:|"]
        lines += [f"| `{e.function}` | {e.calls} | {e.own:.2f} |" for e in profile.by_own]
        lines.append("")
    return lines


def largest_steps_sentence(steps: list[dict[str, Any]]) -> str:
    """Return the steps that took 5 % or more of the whole process in the step table, largest first."""
    whole = next((step["seconds"] for step in steps if step["step"] == "whole process"), 0.0)
    if not whole:
        return "No step record of this job."
    large = sorted(
        (step for step in steps if step["step"] != "whole process" and step["seconds"] >= 0.05 * whole),
        key=lambda step: step["seconds"], reverse=True,
    )
    shares = ", ".join(f"`{step['step']}` {step['seconds']:.1f} s ({100 * step['seconds'] / whole:.0f} %)" for step in large)
    return f"Largest steps in the step table: {shares}, of {whole:.1f} s."


def write_section(path: Path, section: str) -> None:
    """Put ``section`` into the page at ``path``: in place of its earlier version, else at the end."""
    text = path.read_text("utf-8") if path.exists() else PAGE_HEADER
    start = text.find(SECTION_TITLE + "\n")
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        following = re.search(r"^## ", text[start + len(SECTION_TITLE):], re.MULTILINE)
        end = start + len(SECTION_TITLE) + following.start() if following else len(text)
        rest = text[end:]
        text = text[:start] + section + ("\n" + rest if rest else "")
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, "utf-8")
    temporary.replace(path)


# ---------------------------------------------------------------------------------------------


def log(text: str) -> None:
    print(f"{datetime.now():%H:%M:%S} {text}", file=sys.stderr, flush=True)


def parse_sizes(text: str) -> list[int]:
    try:
        sizes = sorted({int(part.replace("_", "")) for part in text.split(",") if part.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of deal counts, such as 1000,10000,50000.") from None
    if not sizes or sizes[0] < 1:
        raise argparse.ArgumentTypeError(f"{text!r} needs at least one deal count, each 1 or more.")
    return sizes


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=parse_sizes, default=[1000, 10000, 50000], help="deal counts to generate and time (default: 1000,10000,50000)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each job and floor per size; the median counts (default: 3)")
    parser.add_argument("--out", type=Path, help="Markdown page to write the results section into (default: docs/benchmarks.md; with --quick, print the section instead)")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="keep registers, outboxes, logs and profiles in DIR (default: a temporary folder, deleted at the end)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1,000 deals, 1 run, no profiles")
    parser.add_argument("--now", default=bench_data.DEFAULT_NOW, help=f"local time the jobs act as of (default: {bench_data.DEFAULT_NOW})")
    parser.add_argument("--seed", type=int, default=bench_data.DEFAULT_SEED, help=f"random seed of the registers (default: {bench_data.DEFAULT_SEED})")
    parser.add_argument("--max-run-seconds", type=float, default=180, help="run a job only once when its first run takes longer than this many seconds (default: 180)")
    parser.add_argument("--no-profile", action="store_true", help="do not profile the jobs that miss a target")
    parser.add_argument("--from-results", type=Path, metavar="FILE", help=f"measure nothing; render the {RESULTS_FILE} that an earlier run saved in its --keep folder")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error(f"--runs {args.runs} is not a positive number of runs.")
    if args.quick:
        args.sizes, args.runs, args.no_profile = [1000], 1, True
    elif args.out is None:
        args.out = SCRIPTS.parent / "docs" / "benchmarks.md"
    try:
        datetime.fromisoformat(args.now)
    except ValueError:
        parser.error(f"--now {args.now!r} is not an ISO-8601 local time such as 2026-12-04T10:00.")
    return args


def run_benchmark(args: argparse.Namespace, work: Path) -> Record:
    started = datetime.now()
    bench = Bench(args, work)
    for size in args.sizes:
        bench.run_size(size)
    steps = {job.key: bench.measure_steps(job.key, args.sizes[-1]) for job in JOBS}
    profiles = []
    if not args.no_profile:
        missed = [target.job for target in evaluate_targets(bench.results, args.sizes) if not target.met and target.job]
        profiles = [bench.profile(key, args.sizes[-1]) for key in dict.fromkeys(missed)]
    return Record(
        command=shlex.join([".venv/bin/python", "scripts/bench.py"] + sys.argv[1:]),
        started=started.isoformat(timespec="seconds"),
        minutes=(datetime.now() - started).total_seconds() / 60,
        sizes=args.sizes,
        runs=args.runs,
        seed=args.seed,
        now=args.now,
        max_run_seconds=args.max_run_seconds,
        machine=machine_rows(bench.load_at_start, bench.library_at_start),
        measurements=list(bench.results.values()),
        steps=steps,
        profiles=profiles,
    )


def main() -> None:
    args = parse_args()
    if args.from_results:
        record = Record.load(args.from_results)
    else:
        work = args.keep.resolve() if args.keep else Path(tempfile.mkdtemp(prefix="salesreg-bench-"))
        work.mkdir(parents=True, exist_ok=True)
        try:
            record = run_benchmark(args, work)
        except ProcessFailed as exc:
            raise SystemExit(f"Benchmark stopped: {exc}") from None
        finally:
            if not args.keep:
                shutil.rmtree(work, ignore_errors=True)
        if args.keep:
            record.save(work / RESULTS_FILE)
            log(f"Saved the measurements to {work / RESULTS_FILE}.")

    section = render_section(record)
    if args.out:
        write_section(args.out, section)
        log(f"Wrote the results to {args.out}.")
    else:
        print(section)
    for target in evaluate_targets(record.results, record.sizes):
        log(f"{'met    ' if target.met else 'NOT MET'} {target.target}: {target.measured}")


if __name__ == "__main__":
    main()
