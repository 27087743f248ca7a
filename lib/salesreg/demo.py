"""Build a complete example: config, a register of realistic deals, state, outbox and summary.

Dates are relative to ``now`` so that reminders are due whenever the demo runs. The story:
the register is first synced three weeks ago, reps update some deals three days ago (some of
them improperly), and the jobs run again now.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import openpyxl

from .config import DEFAULT_STAGES, Config, load_config
from .fields import COLUMNS
from .jobs import RemindRun, SummaryRun, SyncResult, run_remind, run_summary, run_sync
from .template import build_template, config_text

@dataclass(frozen=True)
class DemoData:
    """The people, companies and texts of the demo in one language."""

    team: tuple[tuple[str, str, str, str], ...]
    reps: tuple[str, ...]
    unknown_rep: str  # typed by a rep but not on the Team sheet
    inactive_rep: str
    customers: tuple[str, ...]
    products: tuple[tuple[str, int, int], ...]
    title: str  # "{product} for {customer}"
    businesses: tuple[str, ...]
    uses: tuple[str, ...]
    challenges: tuple[str, ...]
    paths: tuple[str, ...]
    stakeholders: tuple[str, ...]
    competitors: tuple[str, ...]
    won_reasons: tuple[str, ...]
    lost_reasons: tuple[str, ...]
    next_steps: tuple[str, ...]
    follow_up: str  # "... {day}"
    bad_price: str
    won: str
    lost: str


ENGLISH = DemoData(
    team=(
        ("Aiko Tanaka", "aiko.tanaka@example.com", "Kenji Mori", "Yes"),
        ("Ben Carter", "ben.carter@example.com", "Kenji Mori", "Yes"),
        ("Chiara Rossi", "chiara.rossi@example.com", "Kenji Mori", "Yes"),
        ("Daisuke Ito", "daisuke.ito@example.com", "Emma Clarke", "Yes"),
        ("Elena Novak", "elena.novak@example.com", "Emma Clarke", "Yes"),
        ("Farid Haddad", "farid.haddad@example.com", "Emma Clarke", "No"),
        ("Kenji Mori", "kenji.mori@example.com", "", "Yes"),
        ("Emma Clarke", "emma.clarke@example.com", "", "Yes"),
    ),
    reps=("Aiko Tanaka", "Ben Carter", "Chiara Rossi", "Daisuke Ito", "Elena Novak"),
    unknown_rep="Hiro Sato",
    inactive_rep="Farid Haddad",
    customers=(
        "Sakura Logistics", "Kitano Foods", "Minato Clinic Group", "Hoshino Electric", "Aozora Insurance",
        "Northwind Retail", "Fujimi Construction", "Tsubame Travel", "Kawaguchi Steel", "Blue Harbor Hotels",
        "Midori Pharmacy", "Yamabiko Publishing", "Orion Fitness", "Shirakawa Bank", "Nagisa Resorts",
        "Granite Legal", "Hikari Telecom", "Umeda Property", "Suzukaze Motors", "Tokiwa University",
    ),
    products=(
        ("Fleet tracking", 120_000, 300_000), ("Order portal", 80_000, 150_000), ("Scheduling suite", 45_000, 0),
        ("Analytics add-on", 30_000, 50_000), ("Call-centre cloud", 200_000, 500_000), ("Contract archive", 60_000, 100_000),
    ),
    title="{product} for {customer}",
    businesses=(
        "Regional logistics with 40 depots", "Frozen food maker supplying supermarkets", "Chain of 12 clinics",
        "Maker of industrial switchgear", "Mid-size non-life insurer", "Apparel retail with 80 stores",
    ),
    uses=("Track deliveries in real time", "Let customers order online", "Plan staff shifts", "Monthly sales reporting"),
    challenges=("Late deliveries cost penalties", "Orders arrive by fax", "Overtime is too high", "Reports take a week"),
    paths=("Trial in May, board approval in June", "PoC for one depot, then rollout", "Budget in next fiscal year"),
    stakeholders=("CIO decides; ops manager champions", "President decides; IT lead evaluates", "Procurement runs the tender"),
    competitors=("Acme Cloud", "LogiSoft", "in-house build", "Acme Cloud, LogiSoft", "BigSuite"),
    won_reasons=("Best fit for their process", "Fast rollout", "Price and support"),
    lost_reasons=("Price", "Competitor chosen", "No budget", "Timing"),
    next_steps=("Send proposal", "Demo for IT team", "Price negotiation", "Reference call"),
    follow_up="Follow-up meeting on {day}",
    bad_price="about 50k",
    won="Won",
    lost="Lost",
)

JAPANESE = DemoData(
    team=(
        ("田中 愛子", "aiko.tanaka@example.com", "森 健二", "はい"),
        ("佐藤 大輔", "daisuke.sato@example.com", "森 健二", "はい"),
        ("鈴木 千晴", "chiharu.suzuki@example.com", "森 健二", "はい"),
        ("伊藤 翔太", "shota.ito@example.com", "清水 恵美", "はい"),
        ("高橋 由紀", "yuki.takahashi@example.com", "清水 恵美", "はい"),
        ("渡辺 誠", "makoto.watanabe@example.com", "清水 恵美", "いいえ"),
        ("森 健二", "kenji.mori@example.com", "", "はい"),
        ("清水 恵美", "emi.shimizu@example.com", "", "はい"),
    ),
    reps=("田中 愛子", "佐藤 大輔", "鈴木 千晴", "伊藤 翔太", "高橋 由紀"),
    unknown_rep="山本 浩",
    inactive_rep="渡辺 誠",
    customers=(
        "さくら物流", "北野食品", "みなとクリニックグループ", "星野電機", "あおぞら損害保険",
        "北風リテール", "富士見建設", "つばめトラベル", "川口製鋼", "ブルーハーバーホテルズ",
        "みどり薬局", "やまびこ出版", "オリオンフィットネス", "白川銀行", "なぎさリゾート",
        "御影法律事務所", "ひかりテレコム", "梅田不動産", "鈴風モーターズ", "常盤大学",
    ),
    products=(
        ("車両運行管理", 120_000, 300_000), ("受発注ポータル", 80_000, 150_000), ("勤務シフト管理", 45_000, 0),
        ("分析オプション", 30_000, 50_000), ("コールセンタークラウド", 200_000, 500_000), ("契約書アーカイブ", 60_000, 100_000),
    ),
    title="{customer} {product}",
    businesses=(
        "40拠点を持つ地域物流", "スーパー向け冷凍食品メーカー", "12院を運営する医療法人",
        "産業用配電盤メーカー", "中堅の損害保険会社", "80店舗のアパレル小売",
    ),
    uses=("配送状況をリアルタイムに把握したい", "取引先がWebで発注できるようにしたい", "シフト作成を効率化したい", "月次の売上報告を自動化したい"),
    challenges=("配送遅延で違約金が発生している", "注文がFAXで届く", "残業が多すぎる", "報告書の作成に1週間かかる"),
    paths=("5月に試用、6月の取締役会で承認", "1拠点でPoCの後に全社展開", "来年度予算で導入"),
    stakeholders=("情報システム部長が決裁、業務部長が推進", "社長が決裁、IT担当が評価", "購買部が入札を実施"),
    competitors=("Acmeクラウド", "ロジソフト", "自社開発", "Acmeクラウド、ロジソフト", "ビッグスイート"),
    won_reasons=("業務への適合度が最も高かった", "短期間で導入できる", "価格とサポート"),
    lost_reasons=("価格", "競合が採用された", "予算がつかなかった", "時期が合わなかった"),
    next_steps=("提案書を送付", "情報システム部向けデモ", "価格交渉", "導入事例の紹介"),
    follow_up="{day}に打ち合わせ",
    bad_price="5万くらい",
    won="受注",
    lost="失注",
)

DEMO_DATA = {"en": ENGLISH, "ja": JAPANESE}


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
    (folder / "config.toml").write_text(config_text(locale), "utf-8")
    config = load_config(folder / "config.toml")
    zone = config.timezone

    rng = random.Random(20260401)
    data = DEMO_DATA[locale]
    rows = demo_deals(rng, now.astimezone(zone).date(), data, dict(config.stages))
    write_demo_register(config, rows, data)

    start = now - timedelta(days=28)
    first_sync = run_sync(config, start)
    waves = {now - timedelta(days=days): index % 3 for index, days in enumerate((24, 20, 16, 12, 8, 4))}
    reminders: list[RemindRun] = []
    afternoon = datetime.combine(start.astimezone(zone).date(), time(17, 30), tzinfo=zone)
    while afternoon < now:
        for wave_time, remainder in list(waves.items()):
            if wave_time <= afternoon:
                apply_rep_edits(config, rng, wave_time.astimezone(zone).date(), remainder, data)
                run_sync(config, wave_time)
                del waves[wave_time]
        reminders.append(run_remind(config, afternoon))
        afternoon += timedelta(days=2)
    run_sync(config, now)
    reminders.append(run_remind(config, now))
    # Once more, so that the register's Reminders sent counts the e-mails of the last remind.
    final_sync = run_sync(config, now)
    summary = run_summary(config, now)
    return DemoRun(folder, config, first_sync, final_sync, reminders, summary)


def demo_deals(rng: random.Random, today: date, data: DemoData = ENGLISH, stages: dict[str, tuple[str, ...]] | None = None) -> list[dict[str, Any]]:
    """Return 60 deals as field -> value; ``today`` is the demo's date, three weeks after typing.

    ``stages`` is the configured stage -> required fields, five stages in the order of the
    pipeline (the defaults when None).
    """
    stages = stages or {name: tuple(fields) for name, fields in DEFAULT_STAGES.items()}
    names = list(stages)
    deals: list[dict[str, Any]] = []
    for number in range(60):
        product, price, fee = data.products[number % len(data.products)]
        customer = data.customers[number % len(data.customers)]
        stage = names[rng.randrange(len(names))]
        filled = set(stages[stage]) | {"customer_business"}
        if number % 9 == 4 and stages[stage]:
            filled.discard(stages[stage][-1])  # a rep who skipped a field that the stage needs
        deal: dict[str, Any] = {
            "customer": customer,
            "title": data.title.format(product=product, customer=customer.split()[0]),
            "rep": data.reps[number % len(data.reps)],
            "stage": stage,
            "expected_close": today + timedelta(days=rng.randrange(5, 120)),
            "monthly_price": price,
            "service_start": today + timedelta(days=rng.randrange(20, 200)),
            "contract_months": rng.choice([None, 12, 24, 36, 6]),
            "one_time_fee": fee or None,
            "next_step": rng.choice(data.next_steps),
        }
        info = (
            ("customer_business", data.businesses), ("target_use", data.uses), ("challenges", data.challenges),
            ("adoption_path", data.paths), ("stakeholders", data.stakeholders), ("competitors", data.competitors),
        )
        for name, choices in info:
            if name in filled:
                deal[name] = rng.choice(choices)
        if number < 10:
            deal |= {"outcome": data.won, "outcome_reason": rng.choice(data.won_reasons), "stage": names[-1],
                     "service_start": today - timedelta(days=rng.randrange(30, 300)),
                     "expected_close": today - timedelta(days=rng.randrange(5, 60))}
            if number % 2 == 0:
                deal["reviewed_on"] = today - timedelta(days=2)
        elif number < 18:
            deal |= {"outcome": data.lost, "outcome_reason": rng.choice(data.lost_reasons),
                     "competitors": rng.choice(data.competitors),
                     "expected_close": today - timedelta(days=rng.randrange(5, 60))}
        elif number < 24:
            deal["expected_close"] = today + timedelta(days=rng.randrange(0, 3))  # the close is near: reminders soon
        if number >= 10 and number % 4 != 0:
            deal["expectation"] = "ABCD"[rng.randrange(4)]
        deals.append(deal)
    # A few rows with the mistakes reps make, so that Problems and reminders have something to say.
    deals[30]["expected_close"] = today - timedelta(days=4)
    deals[31]["rep"] = data.unknown_rep
    deals[32]["monthly_price"] = data.bad_price
    deals[33]["outcome"], deals[33]["outcome_reason"] = data.lost, None
    deals[34]["rep"] = data.inactive_rep
    return deals


def write_demo_register(config: Config, deals: list[dict[str, Any]], data: DemoData = ENGLISH) -> None:
    """Write the template of ``config`` with the demo team and ``deals`` to the configured register."""
    path = config.register.path
    build_template(path, config=config)
    workbook = openpyxl.load_workbook(path)
    team = workbook[config.register.team_sheet]
    for offset, member in enumerate(data.team, start=2):
        for column, value in enumerate(member, start=1):
            team.cell(row=offset, column=column, value=value)
    sheet = workbook[config.register.sheet]
    positions = {column.field: index for index, column in enumerate(COLUMNS, start=1)}
    for offset, deal in enumerate(deals, start=2):
        for name, value in deal.items():
            if value is not None:
                sheet.cell(row=offset, column=positions[name], value=value)
    workbook.save(path)


def apply_rep_edits(config: Config, rng: random.Random, today: date, wave: int, data: DemoData = ENGLISH) -> None:
    """Update one wave of open deals properly, the way reps do between two syncs."""
    workbook = openpyxl.load_workbook(config.register.path)
    sheet = workbook[config.register.sheet]
    positions = {column.field: index for index, column in enumerate(COLUMNS, start=1)}
    stale = {30, 31, 32, 33, 34}  # the rows with mistakes stay as they are
    for number in range(18, 60):
        if number % 4 == 3 or number in stale or number % 3 != wave:
            continue  # every fourth open deal is never updated again
        value = data.follow_up.format(day=today + timedelta(days=rng.randrange(3, 10)))
        sheet.cell(row=2 + number, column=positions["next_step"], value=value)
    workbook.save(config.register.path)
