"""Import the CRM example into a fresh register, then run sync, remind and summary on it.

    python examples/run_crm_example.py [FOLDER] [--now 2017-12-31T18:00]

FOLDER (default: example-crm) gets config.toml, register.xlsx, the state database, the
import's problem report, the outbox and summary.xlsx. Every step runs as of --now, which must
lie inside the export's time span (October 2016 to December 2017) for the figures to make sense.
`make example` runs this script.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import shutil
import sys
from pathlib import Path

from salesreg.cli import main as salesreg

HERE = Path(__file__).resolve().parent
CONFIG = HERE / "crm-sales-opportunities.config.toml"
MAPPING = HERE / "crm-sales-opportunities.toml"
EXPORT = HERE / "data" / "sales_pipeline.csv"
DEFAULT_NOW = "2017-12-31T18:00"  # the last day of the export, in fiscal year 2017 (April to March)

SHOWN_LINES = 12  # lines of each command's report shown on the terminal

# Exit status 1 means "done, with problems": the export has known problems, and remind exits
# with 1 when an e-mail has no recipient. Only 2 and above stop the example.
LAST_ACCEPTED_STATUS = 1


def run_command(config: Path, *args: str) -> int:
    """Run one salesreg command in this process and return its exit status.

    The command's report goes to COMMAND.log in the example folder, because sync lists
    thousands of row problems; the terminal shows its first lines.
    """
    print(f"\n$ salesreg --config {config} {' '.join(args)}", flush=True)
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        status = salesreg.main(["--config", str(config), *args], prog_name="salesreg", standalone_mode=False)
    log = config.parent / f"{args[0]}.log"
    log.write_text(output.getvalue(), "utf-8")
    lines = output.getvalue().splitlines()
    for line in lines[:SHOWN_LINES]:
        print(line)
    if len(lines) > SHOWN_LINES:
        print(f"  ... {len(lines) - SHOWN_LINES} more lines in {log}")
    return int(status or 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Import the CRM example and run the whole job on it.")
    parser.add_argument("folder", nargs="?", default="example-crm", type=Path, help="folder to create (default: example-crm)")
    parser.add_argument("--now", default=DEFAULT_NOW, help=f"time to act as of, ISO-8601 (default: {DEFAULT_NOW})")
    options = parser.parse_args(argv)

    folder: Path = options.folder
    if (folder / "register.xlsx").exists():
        print(f"{folder / 'register.xlsx'} already exists; remove the folder {folder} or choose another one.", file=sys.stderr)
        return 2
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "config.toml"
    shutil.copyfile(CONFIG, config)

    steps = [
        ("import", "--mapping", str(MAPPING), "--now", options.now, str(EXPORT)),
        ("sync", "--now", options.now),
        ("remind", "--now", options.now),
        ("summary", "--now", options.now),
    ]
    for step in steps:
        status = run_command(config, *step)
        if status > LAST_ACCEPTED_STATUS:
            print(f"salesreg {step[0]} failed with exit status {status}; the example stops here.", file=sys.stderr)
            return status

    print(f"\nThe CRM example is ready in {folder}, as of {options.now}. Look at:")
    print(f"  {folder / 'register.xlsx'}        the deals; Source ID links each row to the export")
    print(f"  {folder / 'import-problems.csv'}  every problem of the export, with its file and line")
    print(f"  {folder / 'summary.xlsx'}         the managers' pivots by rep, stage and office")
    print(f"  {folder / 'outbox'}               reminder e-mails (none are due yet: the first deadlines")
    print("                                   fall two weeks after the import)")
    print(f"Preview later reminders: salesreg --config {config} remind --dry-run --now 2018-01-12T17:30")
    return 0


if __name__ == "__main__":
    sys.exit(main())
