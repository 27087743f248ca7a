"""Generate a realistic register of N deals for the benchmark, starting from `salesreg init`.

The register looks like a large team's workbook after years of use. Its Team sheet lists 50
people. Its deals fill 32 columns, the 28 salesreg columns and 4 that the team added, with
Japanese and English text, dates, money and drop-down values, and a few percent of them carry
the mistakes reps make. No row has a Deal ID yet, so the first `salesreg sync` fills every row.

The script writes the Deals and Team sheets as worksheet XML straight into the init output,
the way Excel saves a workbook. Text goes into the shared-strings part, every cell keeps the
template's cell style, and the Deals table and the drop-downs are stretched over all rows.
Every other part of the template (styles, Lists, Guide, defined names) is copied unchanged.
This keeps everything that `salesreg init` built, and 50,000 rows take about 5 s on a 2-core
machine, where openpyxl needs over 30 s just to load and save the result.

    python scripts/bench_data.py --deals 10000 --now 2026-12-04T10:00 FOLDER
"""

from __future__ import annotations

import argparse
import random
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from openpyxl.utils import get_column_letter

from salesreg.fields import COLUMNS

DEFAULT_NOW = "2026-12-04T10:00"
DEFAULT_SEED = 20261204

# Columns a team adds at the right of the table. salesreg keeps them but does not use them.
EXTRA_HEADERS = ("Region", "Source", "Notes", "Partner")

DEALS_PART = "xl/worksheets/sheet1.xml"
DEALS_TABLE_PART = "xl/tables/table1.xml"
TEAM_PART = "xl/worksheets/sheet2.xml"
TEAM_TABLE_PART = "xl/tables/table2.xml"
SHARED_STRINGS_PART = "xl/sharedStrings.xml"
MAIN_NAMESPACE = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
SHARED_STRINGS_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
SHARED_STRINGS_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"

# Excel's date serial numbers count days from this date (1900 date system, after February 1900).
EXCEL_EPOCH = date(1899, 12, 30)

# Cell styles of the template's "salesreg init" output: the rep's unlocked text style for the
# added columns, and the rep header style for their headers. Checked by _check_template_styles.
REP_TEXT_STYLE = "2"
REP_HEADER_STYLE = "10"

ROWS_PER_WRITE = 2000
TEMPLATE_TEAM_LAST_ROW = 51  # the Team table of the template spans A1:D51

# ---------------------------------------------------------------------------------------------
# Word lists

MANAGERS = (
    ("佐藤 健一", "kenichi.sato@example.co.jp"),
    ("鈴木 美香", "mika.suzuki@example.co.jp"),
    ("高橋 誠", "makoto.takahashi@example.co.jp"),
    ("Emma Clarke", "emma.clarke@example.com"),
    ("Lucas Meyer", "lucas.meyer@example.com"),
    ("Priya Raman", "priya.raman@example.com"),
)
JAPANESE_FAMILY_NAMES = (
    ("田中", "tanaka"), ("伊藤", "ito"), ("渡辺", "watanabe"), ("山本", "yamamoto"), ("中村", "nakamura"),
    ("小林", "kobayashi"), ("加藤", "kato"), ("吉田", "yoshida"), ("山田", "yamada"), ("松本", "matsumoto"),
    ("井上", "inoue"), ("木村", "kimura"), ("林", "hayashi"), ("清水", "shimizu"), ("森", "mori"),
)
JAPANESE_GIVEN_NAMES = (
    ("愛子", "aiko"), ("大輔", "daisuke"), ("陽菜", "hina"), ("翔太", "shota"), ("美咲", "misaki"),
    ("拓也", "takuya"), ("彩", "aya"), ("健太", "kenta"),
)
ENGLISH_NAMES = (
    "Ben Carter", "Chiara Rossi", "Elena Novak", "Farid Haddad", "Grace Kim", "Hugo Martin", "Isla Brown",
    "Jonas Berg", "Kate Wilson", "Liam Walsh", "Maya Patel", "Noah Fischer", "Olivia Chen", "Pablo Ruiz",
    "Quinn Taylor", "Rosa Lopez", "Sam Evans", "Tom Baker", "Uma Singh",
)
REP_COUNT = 44  # with the 6 managers, 50 Team rows: the template's Team table
INACTIVE_REPS = 3  # people who left; their few remaining open deals are problems

JAPANESE_COMPANY_STEMS = (
    "青葉", "桜", "北斗", "大和", "若葉", "東邦", "日の出", "富士見", "三葉", "白鷺", "翠光", "朝日", "銀河", "瑞穂",
    "紅葉", "松風", "光陽", "昭和", "新星", "湊",
)
JAPANESE_INDUSTRIES = (
    "物流", "食品", "電機", "建設", "商事", "製薬", "不動産", "精工", "観光", "印刷", "化学", "運輸", "興業", "通信",
    "ホールディングス",
)
JAPANESE_COMPANY_FORMS = ("株式会社{}", "{}株式会社", "有限会社{}", "{}（株）")
ENGLISH_COMPANY_STEMS = (
    "Northwind", "Blue Harbor", "Granite", "Orion", "Summit", "Pioneer", "Redwood", "Silverline", "Atlas", "Bright Path",
    "Cedar", "Evergreen", "Harbor Point", "Ironbridge", "Lakeside", "Maple", "Oakridge", "Riverstone", "Sunrise", "Westfield",
)
ENGLISH_INDUSTRIES = (
    "Logistics", "Foods", "Retail", "Hotels", "Legal", "Motors", "Clinics", "Insurance", "Steel", "Publishing",
    "Fitness", "Energy", "Telecom", "Property", "Travel",
)
ENGLISH_COMPANY_FORMS = ("{}", "{} Inc.", "{} Ltd.", "{} Group")

PRODUCTS = (
    # English name, Japanese name, monthly price range in yen, one-time fee choices
    ("Fleet tracking", "車両管理", (80_000, 300_000), (0, 300_000, 500_000)),
    ("Order portal", "受発注ポータル", (50_000, 200_000), (0, 150_000)),
    ("Scheduling suite", "勤務スケジュール", (20_000, 90_000), (0,)),
    ("Analytics add-on", "分析オプション", (10_000, 60_000), (0, 50_000)),
    ("Call-centre cloud", "コールセンタークラウド", (150_000, 600_000), (300_000, 800_000)),
    ("Contract archive", "契約書管理", (30_000, 120_000), (0, 100_000)),
    ("Field service app", "フィールドサービス", (40_000, 180_000), (0, 200_000)),
)

BUSINESSES_JA = (
    "全国{n}拠点の物流会社", "スーパー向けの冷凍食品メーカー", "{n}院を運営する医療法人", "産業用配電盤のメーカー",
    "中堅の損害保険会社", "{n}店舗のアパレル小売", "地方銀行のシステム子会社", "首都圏のマンション管理会社",
)
BUSINESSES_EN = (
    "Regional logistics with {n} depots", "Frozen food maker supplying supermarkets", "Chain of {n} clinics",
    "Maker of industrial switchgear", "Mid-size non-life insurer", "Apparel retail with {n} stores",
)
USES_JA = ("配送状況をリアルタイムで把握したい", "受注をWebで受け付けたい", "シフト作成を自動化したい", "月次の売上報告を早めたい")
USES_EN = ("Track deliveries in real time", "Let customers order online", "Plan staff shifts", "Monthly sales reporting")
CHALLENGES_JA = ("配送遅延による違約金が多い", "注文がFAXで届き入力に時間がかかる", "残業時間が多すぎる", "報告書の作成に1週間かかる")
CHALLENGES_EN = ("Late deliveries cost penalties", "Orders arrive by fax", "Overtime is too high", "Reports take a week")
PATHS_JA = ("{m}月にトライアル、翌月に役員承認", "1拠点でPoCの後、全社展開", "来期予算で導入予定")
PATHS_EN = ("Trial in month {m}, board approval the month after", "PoC for one depot, then rollout", "Budget in the next fiscal year")
STAKEHOLDERS_JA = ("情報システム部長が決裁、現場リーダーが推進", "社長が決裁、IT担当が評価", "購買部が入札を主導")
STAKEHOLDERS_EN = ("CIO decides; ops manager champions", "President decides; IT lead evaluates", "Procurement runs the tender")
COMPETITORS = ("Acme Cloud", "LogiSoft", "自社開発", "Acme Cloud, LogiSoft", "BigSuite", "クラウド販売管理X")
NEXT_STEPS_JA = ("{d} 提案書を送付", "{d} IT部門向けデモ", "{d} 価格交渉", "{d} 導入事例の紹介")
NEXT_STEPS_EN = ("Send proposal on {d}", "Demo for the IT team on {d}", "Price negotiation on {d}", "Reference call on {d}")
WON_REASONS = ("業務に最も合っていた", "短期間で導入できる", "Best fit for their process", "Price and support")
LOST_REASONS = ("Price", "Competitor chosen", "No budget", "No decision", "Timing", "Requirements not met", "Other")
MANAGER_COMMENTS = ("来週の会議で確認", "価格の根拠を整理すること", "Check the budget owner", "Good progress; keep the date")
REGIONS = ("関東", "関西", "中部", "九州", "北海道", "Tokyo", "Osaka", "Overseas")
SOURCES = ("Web", "Referral", "Event", "Partner", "Outbound", "展示会")
NOTES_JA = ("{d} 先方と打ち合わせ。次回は部長同席。", "見積を{n}万円で再提出", "担当者が{m}月に異動予定")
NOTES_EN = ("Met the team on {d}; the director joins next time.", "Resubmitted the quote at {n}k.", "Contact moves to another role in month {m}.")
PARTNERS = ("大和システム販売", "Northwind Consulting", "光陽ITソリューションズ", "Atlas Resellers")

OPEN_STAGES = ("Lead", "Qualified", "Proposal", "Negotiation", "Closing")
# Information fields an open deal needs in each stage: the defaults of salesreg's config.
STAGE_FIELDS = {
    "Lead": (),
    "Qualified": ("customer_business", "challenges"),
    "Proposal": ("customer_business", "target_use", "challenges", "stakeholders"),
    "Negotiation": ("customer_business", "target_use", "challenges", "adoption_path", "stakeholders", "competitors"),
    "Closing": ("customer_business", "target_use", "challenges", "adoption_path", "stakeholders", "competitors"),
}

# Shares of the deals: the rest are won.
OPEN_SHARE = 0.30
LOST_SHARE = 0.30
# Mistakes, each as a share of all deals (or of open deals, where noted).
STALE_OPEN_SHARE = 0.05  # of open deals: Expected close is in the past
SKIPPED_FIELD_SHARE = 0.10  # of open deals: a field that the stage needs is empty
UNKNOWN_REP_SHARE = 0.005
BAD_PRICE_SHARE = 0.005
BAD_COUNT_SHARE = 0.003
MISSING_REASON_SHARE = 0.005
BAD_STAGE_SHARE = 0.003
MISSING_CLOSE_SHARE = 0.003  # of open deals


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    manager: str
    active: bool


def make_team(rng: random.Random) -> list[Person]:
    """Return 6 managers and 44 reps (3 of them inactive), Japanese and English names."""
    people = [Person(name, email, "", True) for name, email in MANAGERS]
    japanese = [(f"{family} {given}", f"{given_latin}.{family_latin}@example.co.jp")
                for family, family_latin in JAPANESE_FAMILY_NAMES for given, given_latin in JAPANESE_GIVEN_NAMES]
    rng.shuffle(japanese)
    english = [(name, name.lower().replace(" ", ".") + "@example.com") for name in ENGLISH_NAMES]
    reps = japanese[: REP_COUNT - len(english)] + english
    for index, (name, email) in enumerate(reps):
        manager = MANAGERS[index % len(MANAGERS)][0]
        people.append(Person(name, email, manager, active=index >= INACTIVE_REPS))
    return people


def company_names() -> tuple[list[str], list[str]]:
    """Return every Japanese and every English customer name the generator can use."""
    japanese = [form.format(stem + industry) for stem in JAPANESE_COMPANY_STEMS for industry in JAPANESE_INDUSTRIES
                for form in JAPANESE_COMPANY_FORMS]
    english = [form.format(f"{stem} {industry}") for stem in ENGLISH_COMPANY_STEMS for industry in ENGLISH_INDUSTRIES
               for form in ENGLISH_COMPANY_FORMS]
    return japanese, english


class DealMaker:
    """Seeded deals as dicts of field name (or added header) -> cell value, relative to ``today``."""

    def __init__(self, rng: random.Random, team: list[Person], today: date) -> None:
        self.rng = rng
        self.today = today
        self.reps = [person for person in team if person.manager and person.active]
        self.inactive = [person for person in team if person.manager and not person.active]
        self.japanese_customers, self.english_customers = company_names()

    def deal(self) -> dict[str, Any]:
        rng = self.rng
        japanese = rng.random() < 0.6
        customer = rng.choice(self.japanese_customers if japanese else self.english_customers)
        product, product_ja, price_range, fees = rng.choice(PRODUCTS)
        low, high = price_range
        deal: dict[str, Any] = {
            "customer": customer,
            "title": f"{customer}向け{product_ja}" if japanese else f"{product} for {customer}",
            "rep": rng.choice(self.reps).name,
            "monthly_price": rng.randrange(low, high + 1, 1000),
            "contract_months": rng.choice((None, 12, 12, 24, 36, 6)),
            "Region": rng.choice(REGIONS),
            "Source": rng.choice(SOURCES),
        }
        fee = rng.choice(fees)
        if fee:
            deal["one_time_fee"] = fee
        if rng.random() < 0.3:
            deal["Notes"] = self._text(NOTES_JA if japanese else NOTES_EN)
        if rng.random() < 0.15:
            deal["Partner"] = rng.choice(PARTNERS)

        draw = rng.random()
        if draw < OPEN_SHARE:
            self._open(deal, japanese)
        elif draw < OPEN_SHARE + LOST_SHARE:
            self._closed(deal, japanese, "Lost")
        else:
            self._closed(deal, japanese, "Won")
        self._add_mistakes(deal)
        return deal

    def _open(self, deal: dict[str, Any], japanese: bool) -> None:
        rng = self.rng
        stage = rng.choice(OPEN_STAGES)
        deal["stage"] = stage
        if rng.random() < STALE_OPEN_SHARE:
            deal["expected_close"] = self.today - timedelta(days=rng.randrange(1, 60))
        else:
            deal["expected_close"] = self.today + timedelta(days=rng.randrange(0, 180))
        deal["service_start"] = deal["expected_close"] + timedelta(days=rng.randrange(10, 60))
        needed = list(STAGE_FIELDS[stage])
        if needed and rng.random() < SKIPPED_FIELD_SHARE:
            needed.remove(rng.choice(needed))
        filled = set(needed) | {name for name in ("customer_business", "target_use") if rng.random() < 0.5}
        self._information(deal, filled, japanese)
        deal["next_step"] = self._text(NEXT_STEPS_JA if japanese else NEXT_STEPS_EN)
        if rng.random() < 0.7:
            deal["expectation"] = rng.choice("ABCD")
        if rng.random() < 0.2:
            deal["manager_comment"] = rng.choice(MANAGER_COMMENTS)

    def _closed(self, deal: dict[str, Any], japanese: bool, outcome: str) -> None:
        rng = self.rng
        close = self.today - timedelta(days=rng.randrange(1, 5 * 365))
        deal["stage"] = "Closing" if outcome == "Won" else rng.choice(OPEN_STAGES)
        deal["expected_close"] = close
        deal["service_start"] = close + timedelta(days=rng.randrange(0, 45))
        self._information(deal, set(STAGE_FIELDS["Negotiation"]), japanese)
        deal["outcome"] = outcome
        deal["outcome_reason"] = rng.choice(WON_REASONS if outcome == "Won" else LOST_REASONS)
        deal["expectation"] = rng.choice("ABCD")
        reviewed = close + timedelta(days=rng.randrange(1, 21))
        if rng.random() < 0.8 and reviewed <= self.today:
            deal["reviewed_on"] = reviewed

    def _information(self, deal: dict[str, Any], filled: set[str], japanese: bool) -> None:
        texts = {
            "customer_business": BUSINESSES_JA if japanese else BUSINESSES_EN,
            "target_use": USES_JA if japanese else USES_EN,
            "challenges": CHALLENGES_JA if japanese else CHALLENGES_EN,
            "adoption_path": PATHS_JA if japanese else PATHS_EN,
            "stakeholders": STAKEHOLDERS_JA if japanese else STAKEHOLDERS_EN,
            "competitors": COMPETITORS,
        }
        for name in sorted(filled):
            deal[name] = self._text(texts[name])

    def _text(self, choices: tuple[str, ...]) -> str:
        """Return one of ``choices`` with its {n}, {m} and {d} filled, so texts vary as typed ones do."""
        rng = self.rng
        day = self.today + timedelta(days=rng.randrange(-30, 30))
        return rng.choice(choices).format(n=rng.randrange(3, 120), m=rng.randrange(1, 13), d=day.isoformat())

    def _add_mistakes(self, deal: dict[str, Any]) -> None:
        """Put in the mistakes reps make, each in a small share of the deals."""
        rng = self.rng
        is_open = "outcome" not in deal
        if rng.random() < UNKNOWN_REP_SHARE:
            deal["rep"] = rng.choice(("Hiro Sato", "田中", "sales@example.com"))
        elif is_open and rng.random() < UNKNOWN_REP_SHARE:
            deal["rep"] = rng.choice(self.inactive).name
        if rng.random() < BAD_PRICE_SHARE:
            deal["monthly_price"] = rng.choice(("about 50k", "要相談", "TBD"))
        if rng.random() < BAD_COUNT_SHARE:
            deal["contract_months"] = rng.choice((0, "1年", 2.5))
        if not is_open and rng.random() < MISSING_REASON_SHARE:
            del deal["outcome_reason"]
        if rng.random() < BAD_STAGE_SHARE:
            deal["stage"] = rng.choice(("Demo", "提案中"))
        if is_open and rng.random() < MISSING_CLOSE_SHARE:
            del deal["expected_close"]


# ---------------------------------------------------------------------------------------------
# Writing the workbook


class SharedStrings:
    """The workbook's shared-strings table: every text once, cells refer to it by index."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.references = 0

    def add(self, text: str) -> int:
        self.references += 1
        position = self.index.get(text)
        if position is None:
            position = self.index[text] = len(self.index)
        return position

    def xml(self) -> bytes:
        items = []
        for text in self.index:
            space = ' xml:space="preserve"' if text != text.strip() or "\n" in text else ""
            items.append(f"<si><t{space}>{escape(text)}</t></si>")
        head = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                f'<sst xmlns="{MAIN_NAMESPACE}" count="{self.references}" uniqueCount="{len(self.index)}">')
        return (head + "".join(items) + "</sst>").encode("utf-8")


def cell_xml(reference: str, style: str | None, value: Any, strings: SharedStrings) -> str:
    """Return one ``<c>`` element: shared text, a number, or a date serial number; an empty cell keeps its style."""
    start = f'<c r="{reference}" s="{style}"' if style else f'<c r="{reference}"'
    if value is None:
        return start + "/>"
    if isinstance(value, str):
        return f'{start} t="s"><v>{strings.add(value)}</v></c>'
    if isinstance(value, date):
        return f"{start}><v>{(value - EXCEL_EPOCH).days}</v></c>"
    return f"{start}><v>{value!r}</v></c>"


def deal_rows(deals: Iterator[dict[str, Any]], styles: list[str], strings: SharedStrings) -> Iterator[str]:
    """Yield the ``<row>`` elements of the deals, starting at row 2."""
    keys = [column.field for column in COLUMNS] + list(EXTRA_HEADERS)
    letters = [get_column_letter(index) for index in range(1, len(keys) + 1)]
    for row, deal in enumerate(deals, start=2):
        # Every template column keeps its styled cell, as in the template's pre-formatted rows.
        # An added column gets a cell only where the deal has a value.
        cells = "".join(
            cell_xml(f"{letter}{row}", style, deal.get(key), strings)
            for letter, style, key in zip(letters, styles, keys)
            if key in deal or key not in EXTRA_HEADERS
        )
        yield f'<row r="{row}">{cells}</row>'


def team_rows(team: list[Person], strings: SharedStrings) -> str:
    rows = []
    for row, person in enumerate(team, start=2):
        values = (person.name, person.email, person.manager or None, "Yes" if person.active else "No")
        cells = "".join(cell_xml(f"{letter}{row}", None, value, strings) for letter, value in zip("ABCD", values))
        rows.append(f'<row r="{row}">{cells}</row>')
    return "".join(rows)


def write_register(path: Path, team: list[Person], deals: Iterator[dict[str, Any]], count: int) -> None:
    """Replace the Deals and Team sheets of the init output at ``path`` with ``team`` and ``count`` deals."""
    temporary = path.with_name(path.name + ".tmp")
    last_row = count + 1
    last_column = get_column_letter(len(COLUMNS) + len(EXTRA_HEADERS))
    strings = SharedStrings()
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as target:
        parts = {name: source.read(name) for name in source.namelist()}
        if SHARED_STRINGS_PART in parts:
            raise SystemExit(f"{path} has a shared-strings part already; expected the output of `salesreg init`.")
        head, header_row, styles, tail = split_deals_sheet(parts.pop(DEALS_PART).decode("utf-8"))
        with target.open(DEALS_PART, "w", force_zip64=True) as stream:
            stream.write(deals_head(head, last_row, last_column).encode("utf-8"))
            stream.write(deals_header_row(header_row).encode("utf-8"))
            chunk: list[str] = []
            for row_xml in deal_rows(deals, styles, strings):
                chunk.append(row_xml)
                if len(chunk) == ROWS_PER_WRITE:
                    stream.write("".join(chunk).encode("utf-8"))
                    chunk.clear()
            stream.write("".join(chunk).encode("utf-8"))
            stream.write(stretch_validations(tail, last_row).encode("utf-8"))

        team_sheet = parts.pop(TEAM_PART).decode("utf-8")
        team_sheet = team_sheet.replace("</row></sheetData>", "</row>" + team_rows(team, strings) + "</sheetData>", 1)
        team_sheet = re.sub(r'<dimension ref="[^"]*"/>', f'<dimension ref="A1:D{len(team) + 1}"/>', team_sheet, count=1)
        target.writestr(TEAM_PART, team_sheet)
        team_table = parts.pop(TEAM_TABLE_PART).decode("utf-8")
        team_last_row = max(len(team) + 1, TEMPLATE_TEAM_LAST_ROW)
        target.writestr(TEAM_TABLE_PART, re.sub(r'ref="A1:D\d+"', f'ref="A1:D{team_last_row}"', team_table))
        target.writestr(DEALS_TABLE_PART, deals_table(parts.pop(DEALS_TABLE_PART).decode("utf-8"), last_row, last_column))
        target.writestr(SHARED_STRINGS_PART, strings.xml())
        parts["[Content_Types].xml"] = add_content_type(parts["[Content_Types].xml"].decode("utf-8")).encode("utf-8")
        parts["xl/_rels/workbook.xml.rels"] = add_relationship(parts["xl/_rels/workbook.xml.rels"].decode("utf-8")).encode("utf-8")
        for name, data in parts.items():
            target.writestr(name, data)
    temporary.replace(path)


def split_deals_sheet(xml: str) -> tuple[str, str, list[str], str]:
    """Split the template's Deals sheet into the XML before sheetData, the header row, the row styles, and the rest."""
    data_start = xml.index("<sheetData>") + len("<sheetData>")
    data_end = xml.index("</sheetData>")
    rows = re.findall(r"<row [^>]*>.*?</row>", xml[data_start:data_end])
    if len(rows) < 2:
        raise SystemExit("The template's Deals sheet has no pre-formatted row; expected the output of `salesreg init`.")
    styles = re.findall(r'<c r="[A-Z]+2" s="(\d+)"', rows[1])
    if len(styles) != len(COLUMNS):
        raise SystemExit(f"The template's row 2 has {len(styles)} styled cells; expected {len(COLUMNS)}, one per column.")
    _check_template_styles(rows[0])
    return xml[:data_start], rows[0], styles + [REP_TEXT_STYLE] * len(EXTRA_HEADERS), xml[data_end:]


def _check_template_styles(header_row: str) -> None:
    customer_header = re.search(r'<c r="B1" s="(\d+)"', header_row)
    if customer_header is None or customer_header.group(1) != REP_HEADER_STYLE:
        raise SystemExit("The template's Customer header has another style than expected; update REP_HEADER_STYLE.")


def deals_head(head: str, last_row: int, last_column: str) -> str:
    """Return the sheet's XML before its rows, with the new dimension and widths for the added columns."""
    head = re.sub(r'<dimension ref="[^"]*"/>', f'<dimension ref="A1:{last_column}{last_row}"/>', head, count=1)
    first, last = len(COLUMNS) + 1, len(COLUMNS) + len(EXTRA_HEADERS)
    added = f'<col width="18" customWidth="1" style="{REP_TEXT_STYLE}" min="{first}" max="{last}"/>'
    return head.replace("</cols>", added + "</cols>", 1)


def deals_header_row(header_row: str) -> str:
    added = "".join(
        f'<c r="{get_column_letter(len(COLUMNS) + offset)}1" s="{REP_HEADER_STYLE}" t="inlineStr"><is><t>{escape(header)}</t></is></c>'
        for offset, header in enumerate(EXTRA_HEADERS, start=1)
    )
    return header_row.replace("</row>", added + "</row>")


def stretch_validations(tail: str, last_row: int) -> str:
    """Extend every drop-down and input check from the template's rows 2 to 201 down to ``last_row``."""
    return re.sub(r'sqref="([A-Z]+)2:\1\d+"', lambda match: f'sqref="{match.group(1)}2:{match.group(1)}{last_row}"', tail)


def deals_table(xml: str, last_row: int, last_column: str) -> str:
    """Return the Deals table stretched over every row and the added columns."""
    xml = re.sub(r'ref="A1:[A-Z]+\d+"', f'ref="A1:{last_column}{last_row}"', xml)
    count = len(COLUMNS) + len(EXTRA_HEADERS)
    added = "".join(
        f'<tableColumn id="{len(COLUMNS) + offset}" name="{escape(header)}"/>'
        for offset, header in enumerate(EXTRA_HEADERS, start=1)
    )
    xml = re.sub(r'<tableColumns count="\d+">', f'<tableColumns count="{count}">', xml, count=1)
    return xml.replace("</tableColumns>", added + "</tableColumns>", 1)


def add_content_type(xml: str) -> str:
    override = f'<Override PartName="/{SHARED_STRINGS_PART}" ContentType="{SHARED_STRINGS_CONTENT_TYPE}"/>'
    return xml.replace("</Types>", override + "</Types>", 1)


def add_relationship(xml: str) -> str:
    used_ids = set(re.findall(r'Id="(rId\d+)"', xml))
    number = 1
    while f"rId{number}" in used_ids:
        number += 1
    relationship = f'<Relationship Type="{SHARED_STRINGS_TYPE}" Target="sharedStrings.xml" Id="rId{number}"/>'
    return xml.replace("</Relationships>", relationship + "</Relationships>", 1)


# ---------------------------------------------------------------------------------------------


def generate(folder: Path, count: int, now: datetime, seed: int = DEFAULT_SEED) -> Path:
    """Create ``folder`` with `salesreg init` and fill its register with the team and ``count`` deals.

    Return the register's path. The same ``count``, ``now`` and ``seed`` give the same deals.
    ``folder`` must not hold a config or register yet.
    """
    subprocess.run([sys.executable, "-m", "salesreg", "init", str(folder)], check=True, stdout=subprocess.DEVNULL)
    register = folder / "register.xlsx"
    rng = random.Random(seed)
    team = make_team(rng)
    maker = DealMaker(rng, team, now.date())
    write_register(register, team, (maker.deal() for _ in range(count)), count)
    return register


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="new folder for config.toml and register.xlsx")
    parser.add_argument("--deals", type=int, default=1000, help="number of deal rows (default: 1000)")
    parser.add_argument("--now", default=DEFAULT_NOW, help=f"dates are relative to this local time (default: {DEFAULT_NOW})")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default: {DEFAULT_SEED})")
    args = parser.parse_args()
    if args.deals < 1:
        parser.error(f"--deals {args.deals} is not a positive number of rows.")
    register = generate(args.folder, args.deals, datetime.fromisoformat(args.now), args.seed)
    print(f"Wrote {register} with {args.deals} deals.")


if __name__ == "__main__":
    main()
