"""Every message of the code exists in Japanese, and the Japanese catalogue has nothing else."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from salesreg import i18n

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)[^{}]*\}")


def _script():
    spec = importlib.util.spec_from_file_location("update_catalogue", ROOT / "scripts" / "update_catalogue.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def script():
    return _script()


@pytest.fixture(scope="module")
def source(script):
    return script.extract()


@pytest.fixture(scope="module")
def japanese(script) -> dict:
    entries = {}
    for part, catalog in script.read_locale("ja").items():
        for message in catalog:
            if message.id:
                entries.setdefault(script.key(message.id), []).append((part, message))
    return entries


def _where(message) -> str:
    return ", ".join(f"{name}:{line}" for name, line in message.locations[:3])


def test_code_has_marked_messages(source):
    assert len([m for m in source if m.id]) > 100


def test_every_message_has_japanese(source, script, japanese):
    missing = []
    for message in source:
        if not message.id:
            continue
        found = japanese.get(script.key(message.id))
        if not found:
            missing.append(f"not in the ja catalogue: {message.id!r} ({_where(message)})")
            continue
        _, translated = found[0]
        strings = translated.string if isinstance(translated.string, tuple) else (translated.string,)
        if translated.fuzzy or not all(strings):
            missing.append(f"no Japanese yet: {message.id!r} ({_where(message)})")
    assert not missing, "run scripts/update_catalogue.py and translate:\n" + "\n".join(missing)


def test_japanese_has_no_lost_message(source, script, japanese):
    in_code = {script.key(message.id) for message in source if message.id}
    extra = sorted(set(japanese) - in_code)
    assert not extra, "run scripts/update_catalogue.py; the code no longer has:\n" + "\n".join(extra)


def test_message_in_one_part_only(japanese):
    twice = {msgid: [part for part, _ in found] for msgid, found in japanese.items() if len(found) > 1}
    assert not twice


def test_translations_keep_placeholders(japanese):
    wrong = []
    for msgid, found in japanese.items():
        _, message = found[0]
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set().union(*(set(PLACEHOLDER.findall(text)) for text in ids))
        for text in strings:
            if text and set(PLACEHOLDER.findall(text)) != wanted:
                wrong.append(f"{msgid!r}: {text!r} has {sorted(set(PLACEHOLDER.findall(text)))}, wants {sorted(wanted)}")
    assert not wrong, "\n".join(wrong)


def test_committed_catalogue_is_current(script, source):
    assert script.stale(source) == []


def test_email_templates_in_both_locales():
    folder = ROOT / "lib" / "salesreg" / "templates"
    english = sorted(path.name for path in (folder / "en").iterdir())
    japanese = sorted(path.name for path in (folder / "ja").iterdir())
    assert english == japanese


def test_gettext_reads_the_catalogue(source, script):
    message = next(m for m in source if m.id and not isinstance(m.id, tuple))
    with i18n.using("ja"):
        translated = i18n.gettext(message.id)
    with i18n.using("en"):
        assert i18n.gettext(message.id) == message.id
    assert translated != message.id
    assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", translated), translated


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("en", "2026-06-30 18:00"), ("ja", "2026年6月30日(火) 18:00")],
)
def test_dates_in_locale_format(locale, expected):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    moment = datetime(2026, 6, 30, 18, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    with i18n.using(locale):
        assert i18n.format_datetime(moment) == expected


def test_japanese_weekday_matches_date():
    from datetime import date, timedelta

    with i18n.using("ja"):
        week = [i18n.format_date(date(2026, 6, 29) + timedelta(days=n)) for n in range(7)]
    assert [text[-2] for text in week] == list("月火水木金土日")
