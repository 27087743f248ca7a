"""Build a complete example: config, a register of realistic deals, state, outbox and summary.

Dates are relative to ``now`` so that reminders are due whenever the demo runs. The story:
the register is first synced three weeks ago, reps update some deals three days ago (some of
them improperly), and the jobs run again now.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Any

import openpyxl

from .config import DEFAULT_STAGES, Config, load_config
from .fields import COLUMNS
from .jobs import RemindRun, SummaryRun, SyncResult, run_remind, run_summary, run_sync
from .template import build_template

TEAM = (
    ("Aiko Tanaka", "aiko.tanaka@example.com", "Kenji Mori", "Yes"),
    ("Ben Carter", "ben.carter@example.com", "Kenji Mori", "Yes"),
    ("Chiara Rossi", "chiara.rossi@example.com", "Kenji Mori", "Yes"),
    ("Daisuke Ito", "daisuke.ito@example.com", "Emma Clarke", "Yes"),
    ("Elena Novak", "elena.novak@example.com", "Emma Clarke", "Yes"),
    ("Farid Haddad", "farid.haddad@example.com", "Emma Clarke", "No"),
    ("Kenji Mori", "kenji.mori@example.com", "", "Yes"),
    ("Emma Clarke", "emma.clarke@example.com", "", "Yes"),
)
REPS = ("Aiko Tanaka", "Ben Carter", "Chiara Rossi", "Daisuke Ito", "Elena Novak")

CUSTOMERS = (
    "Sakura Logistics", "Kitano Foods", "Minato Clinic Group", "Hoshino Electric", "Aozora Insurance",
    "Northwind Retail", "Fujimi Construction", "Tsubame Travel", "Kawaguchi Steel", "Blue Harbor Hotels",
    "Midori Pharmacy", "Yamabiko Publishing", "Orion Fitness", "Shirakawa Bank", "Nagisa Resorts",
    "Granite Legal", "Hikari Telecom", "Umeda Property", "Suzukaze Motors", "Tokiwa University",
)
PRODUCTS = (
    ("Fleet tracking", 120_000, 300_000), ("Order portal", 80_000, 150_000), ("Scheduling suite", 45_000, 0),
    ("Analytics add-on", 30_000, 50_000), ("Call-centre cloud", 200_000, 500_000), ("Contract archive", 60_000, 100_000),
)
BUSINESSES = (
    "Regional logistics with 40 depots", "Frozen food maker supplying supermarkets", "Chain of 12 clinics",
    "Maker of industrial switchgear", "Mid-size non-life insurer", "Apparel retail with 80 stores",
)
USES = ("Track deliveries in real time", "Let customers order online", "Plan staff shifts", "Monthly sales reporting")
CHALLENGES = ("Late deliveries cost penalties", "Orders arrive by fax", "Overtime is too high", "Reports take a week")
PATHS = ("Trial in May, board approval in June", "PoC for one depot, then rollout", "Budget in next fiscal year")
STAKEHOLDERS = ("CIO decides; ops manager champions", "President decides; IT lead evaluates", "Procurement runs the tender")
COMPETITORS = ("Acme Cloud", "LogiSoft", "in-house build", "Acme Cloud, LogiSoft", "BigSuite")
WON_REASONS = ("Best fit for their process", "Fast rollout", "Price and support")
LOST_REASONS = ("Price", "Competitor chosen", "No budget", "Timing")


@dataclass
class DemoRun:
    folder: Path
    config: Config
    first_sync: SyncResult
    final_sync: SyncResult
    reminders: list[RemindRun]
    summary: SummaryRun


def build_demo(folder: Path, now: datetime, locale: str = "en") -> DemoRun:
    """Create the demo in ``folder`` (which must not hold a register yet) and run the whole job.

    The story: the register is first synced four weeks before ``now``; reps update a third of
    their open deals every four days, but every fourth open deal is never updated again;
    ``remind`` runs every other afternoon, and everything runs once more at ``now``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    config_text = files("salesreg").joinpath("resources/config.toml").read_text("utf-8")
    config_text = config_text.replace('locale = "en"', f'locale = "{locale}"')
    (folder / "config.toml").write_text(config_text, "utf-8")
    config = load_config(folder / "config.toml")
    zone = config.timezone

    rng = random.Random(20260401)
    rows = demo_deals(rng, now.astimezone(zone).date())
    write_demo_register(config.register.path, rows)

    start = now - timedelta(days=28)
    first_sync = run_sync(config, start)
    waves = {now - timedelta(days=days): index % 3 for index, days in enumerate((24, 20, 16, 12, 8, 4))}
    reminders: list[RemindRun] = []
    afternoon = datetime.combine(start.astimezone(zone).date(), time(17, 30), tzinfo=zone)
    while afternoon < now:
        for wave_time, remainder in list(waves.items()):
            if wave_time <= afternoon:
                apply_rep_edits(config.register.path, rng, wave_time.astimezone(zone).date(), remainder)
                run_sync(config, wave_time)
                del waves[wave_time]
        reminders.append(run_remind(config, afternoon))
        afternoon += timedelta(days=2)
    final_sync = run_sync(config, now)
    reminders.append(run_remind(config, now))
    summary = run_summary(config, now)
    return DemoRun(folder, config, first_sync, final_sync, reminders, summary)


def demo_deals(rng: random.Random, today: date) -> list[dict[str, Any]]:
    """Return 60 deals as field -> value; ``today`` is the demo's date, three weeks after typing."""
    deals: list[dict[str, Any]] = []
    for number in range(60):
        product, price, fee = PRODUCTS[number % len(PRODUCTS)]
        customer = CUSTOMERS[number % len(CUSTOMERS)]
        stage = ("Lead", "Qualified", "Proposal", "Negotiation", "Closing")[rng.randrange(5)]
        filled = set(DEFAULT_STAGES[stage]) | {"customer_business"}
        if number % 9 == 4 and stage != "Lead":
            filled.discard(DEFAULT_STAGES[stage][-1])  # a rep who skipped a field that the stage needs
        deal: dict[str, Any] = {
            "customer": customer,
            "title": f"{product} for {customer.split()[0]}",
            "rep": REPS[number % len(REPS)],
            "stage": stage,
            "expected_close": today + timedelta(days=rng.randrange(5, 120)),
            "monthly_price": price,
            "service_start": today + timedelta(days=rng.randrange(20, 200)),
            "contract_months": rng.choice([None, 12, 24, 36, 6]),
            "one_time_fee": fee or None,
            "next_step": rng.choice(["Send proposal", "Demo for IT team", "Price negotiation", "Reference call"]),
        }
        info = (
            ("customer_business", BUSINESSES), ("target_use", USES), ("challenges", CHALLENGES),
            ("adoption_path", PATHS), ("stakeholders", STAKEHOLDERS), ("competitors", COMPETITORS),
        )
        for name, choices in info:
            if name in filled:
                deal[name] = rng.choice(choices)
        if number < 10:
            deal |= {"outcome": "Won", "outcome_reason": rng.choice(WON_REASONS), "stage": "Closing",
                     "service_start": today - timedelta(days=rng.randrange(30, 300)),
                     "expected_close": today - timedelta(days=rng.randrange(5, 60))}
            if number % 2 == 0:
                deal["reviewed_on"] = today - timedelta(days=2)
        elif number < 18:
            deal |= {"outcome": "Lost", "outcome_reason": rng.choice(LOST_REASONS),
                     "competitors": rng.choice(COMPETITORS),
                     "expected_close": today - timedelta(days=rng.randrange(5, 60))}
        elif number < 24:
            deal["expected_close"] = today + timedelta(days=rng.randrange(0, 3))  # the close is near: reminders soon
        if number >= 10 and number % 4 != 0:
            deal["expectation"] = "ABCD"[rng.randrange(4)]
        deals.append(deal)
    # A few rows with the mistakes reps make, so that Problems and reminders have something to say.
    deals[30]["expected_close"] = today - timedelta(days=4)
    deals[31]["rep"] = "Hiro Sato"
    deals[32]["monthly_price"] = "about 50k"
    deals[33]["outcome"], deals[33]["outcome_reason"] = "Lost", None
    deals[34]["rep"] = "Farid Haddad"
    return deals


def write_demo_register(path: Path, deals: list[dict[str, Any]]) -> None:
    """Write the template with the demo team and ``deals`` to ``path``."""
    build_template(path)
    workbook = openpyxl.load_workbook(path)
    team = workbook["Team"]
    for offset, member in enumerate(TEAM, start=2):
        for column, value in enumerate(member, start=1):
            team.cell(row=offset, column=column, value=value)
    sheet = workbook["Deals"]
    positions = {column.field: index for index, column in enumerate(COLUMNS, start=1)}
    for offset, deal in enumerate(deals, start=2):
        for name, value in deal.items():
            if value is not None:
                sheet.cell(row=offset, column=positions[name], value=value)
    workbook.save(path)


def apply_rep_edits(path: Path, rng: random.Random, today: date, wave: int) -> None:
    """Update one wave of open deals properly, the way reps do between two syncs."""
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["Deals"]
    positions = {column.field: index for index, column in enumerate(COLUMNS, start=1)}
    stale = {30, 31, 32, 33, 34}  # the rows with mistakes stay as they are
    for number in range(18, 60):
        if number % 4 == 3 or number in stale or number % 3 != wave:
            continue  # every fourth open deal is never updated again
        value = f"Follow-up meeting on {today + timedelta(days=rng.randrange(3, 10))}"
        sheet.cell(row=2 + number, column=positions["next_step"], value=value)
    workbook.save(path)
