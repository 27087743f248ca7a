"""The import mapping: loading and its checks, lookups with close matches, e-mail patterns."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from salesreg.config import build_config
from salesreg.importer.lookup import load_lookup
from salesreg.importer.mapping import (
    FileOptions,
    LookupSpec,
    MappingError,
    build_mapping,
    check_mapping_against_config,
    load_mapping,
)
from salesreg.importer.team import email_from_pattern

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_MAPPING = ROOT / "examples" / "crm-sales-opportunities.toml"
EXAMPLE_CONFIG = ROOT / "examples" / "crm-sales-opportunities.config.toml"

MINIMAL = """
[source]
id_column = "id"

[fields]
customer = "account"
"""


def mapping_from(text: str, tmp_path: Path):
    return build_mapping(tomllib.loads(text), tmp_path / "mapping.toml")


def test_example_mapping_loads() -> None:
    mapping = load_mapping(EXAMPLE_MAPPING)
    assert mapping.imported_fields == (
        "customer", "title", "rep", "stage", "expected_close", "service_start", "one_time_fee",
        "customer_business", "outcome", "outcome_reason",
    )
    assert mapping.lookups["products"].file == ROOT / "examples" / "data" / "products.csv"
    assert mapping.team is not None
    assert mapping.team.email_pattern == "{first}.{last}@example.com"


def test_example_mapping_fits_example_config() -> None:
    config = build_config(tomllib.loads(EXAMPLE_CONFIG.read_text("utf-8")), ROOT / "examples")
    check_mapping_against_config(load_mapping(EXAMPLE_MAPPING), config)


def test_example_mapping_export_columns() -> None:
    mapping = load_mapping(EXAMPLE_MAPPING)
    assert mapping.export_columns() == [
        "opportunity_id", "account", "product", "sales_agent", "close_date", "close_value", "deal_stage",
    ]


def test_minimal_mapping_defaults(tmp_path: Path) -> None:
    mapping = mapping_from(MINIMAL, tmp_path)
    assert mapping.source.id_header == "Source ID"
    assert mapping.source.options == FileOptions()
    assert mapping.team is None


def test_email_pattern_off_by_default(tmp_path: Path) -> None:
    mapping = mapping_from(MINIMAL + '\n[team]\nfile = "team.csv"\nname = "agent"\n', tmp_path)
    assert mapping.team is not None
    assert mapping.team.email_pattern == ""


INVALID = [
    pytest.param('[fields]\ncustomer = "account"', "[source] lacks id_column", id="no-id-column"),
    pytest.param('colour = "red"\n' + MINIMAL, "unknown key 'colour'. Valid: source, fields, values, lookups, team.", id="unknown-top-key"),
    pytest.param(MINIMAL + 'custommer = "account"', "unknown register field 'custommer' at fields.custommer. Did you mean 'customer'?",
                 id="unknown-field"),
    pytest.param(MINIMAL + 'deal_id = "id"', "unknown register field 'deal_id'", id="computed-field"),
    pytest.param(MINIMAL + 'title = { column = "a", value = "b" }', "fields.title needs exactly one of column, template and value",
                 id="two-sources"),
    pytest.param(MINIMAL + 'title = { lookup = "nope", column = "a" }', "unknown lookup 'nope' at fields.title.lookup", id="unknown-lookup"),
    pytest.param(MINIMAL + 'title = { column = "a", required = "sometimes" }', "fields.title.required = 'sometimes' is invalid",
                 id="bad-required"),
    pytest.param(MINIMAL + 'title = { template = "no placeholders" }', "fields.title.template = 'no placeholders' is invalid",
                 id="template-without-placeholder"),
    pytest.param(MINIMAL + '\n[values.stage]\nWon = { stage = "Closing", customer = "x" }',
                 "register field 'customer' is set by both [fields] customer and [values.stage]", id="field-set-twice"),
    pytest.param(MINIMAL + '\n[values.stage]\nWon = { stag = "Closing" }', "unknown register field 'stag' at values.stage.Won.stag",
                 id="value-map-unknown-field"),
    pytest.param(MINIMAL + '\n[values.stage]\nWon = { stage = "A" }\nwon = { stage = "B" }', "maps 'Won' and 'won', which export values match alike", id="value-map-twice"),
    pytest.param(MINIMAL.replace('id_column = "id"', 'id_column = "id"\nencoding = "klingon"'),
                 "source.encoding = 'klingon' is not an encoding Python knows", id="unknown-encoding"),
    pytest.param(MINIMAL.replace('id_column = "id"', 'id_column = "id"\ndelimiter = ";;"'), "source.delimiter = ';;' is invalid",
                 id="long-delimiter"),
    pytest.param(MINIMAL + '\n[team]\nfile = "t.csv"\nname = "n"\nemail_pattern = "{given}@example.com"',
                 "unknown placeholder 'given' at team.email_pattern", id="email-placeholder"),
    pytest.param(MINIMAL + '\n[team]\nfile = "t.csv"\nname = "n"\nemail_pattern = "{first}.example.com"',
                 "team.email_pattern = '{first}.example.com' is invalid", id="email-without-at"),
    pytest.param(MINIMAL + '\n[lookups.products]\nfile = "p.csv"\nkey = "product"', "[lookups.products] lacks source_column",
                 id="lookup-without-source-column"),
    pytest.param(MINIMAL + '\n[lookups.products]\nfile = "p.csv"\nkey = "p"\nsource_column = "p"\nclose = true',
                 "Did you mean 'lookups.products.close_match'?", id="lookup-unknown-key"),
]


@pytest.mark.parametrize(("text", "message"), INVALID)
def test_invalid_mapping(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(MappingError) as error:
        mapping_from(text, tmp_path)
    assert message in str(error.value)


def test_mapping_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="not found; pass the mapping with --mapping PATH"):
        load_mapping(tmp_path / "missing.toml")


def test_mapping_not_toml(tmp_path: Path) -> None:
    path = tmp_path / "mapping.toml"
    path.write_text("[source\n", "utf-8")
    with pytest.raises(MappingError, match="not valid TOML"):
        load_mapping(path)


def test_value_map_stage_not_in_config(tmp_path: Path) -> None:
    mapping = mapping_from(MINIMAL + '\n[values.stage]\nWon = { stage = "Closed" }', tmp_path)
    config = build_config({}, tmp_path)
    with pytest.raises(MappingError, match=r"values.stage.Won.stage = 'Closed' is not in the \[stages\] of the config"):
        check_mapping_against_config(mapping, config)


def test_value_map_outcome_must_be_won_or_lost(tmp_path: Path) -> None:
    mapping = mapping_from(MINIMAL + '\n[values.stage]\nWon = { outcome = "Closed won" }', tmp_path)
    with pytest.raises(MappingError, match="is not in the outcome choices"):
        check_mapping_against_config(mapping, build_config({}, tmp_path))


def test_value_map_matches_ignoring_case(tmp_path: Path) -> None:
    mapping = mapping_from(MINIMAL + '\n[values.stage]\n"Closed Won" = { outcome = "Won" }', tmp_path)
    assert mapping.value_maps[0].find("closed  WON") == {"outcome": "Won"}
    assert mapping.value_maps[0].find("Closed") is None


# E-mail addresses made from names


@pytest.mark.parametrize(
    ("pattern", "name", "expected"),
    [
        pytest.param("{first}.{last}@example.com", "Mei-Mei Johns", "mei-mei.johns@example.com", id="hyphen"),
        pytest.param("{first}.{last}@example.com", "Élodie  Dupré", "elodie.dupre@example.com", id="accents"),
        pytest.param("{name}@example.com", "Anna van der Berg", "anna.van.der.berg@example.com", id="all-words"),
        pytest.param("{last}@example.com", "Cher", "cher@example.com", id="one-word"),
        pytest.param("{first}.{last}@example.com", "Kevin O'Neil", "kevin.oneil@example.com", id="apostrophe"),
        pytest.param("{first}.{last}@example.com", "田中 太郎", None, id="no-latin-letters"),
    ],
)
def test_email_from_pattern(pattern: str, name: str, expected: str | None) -> None:
    assert email_from_pattern(pattern, name) == expected


# Lookups: exact keys, close matches and their limits


@pytest.fixture
def price_list(tmp_path: Path):
    path = tmp_path / "products.csv"
    path.write_text("product,sales_price\nGTX Pro,4821\nMG Special,55\nMG  Plus,10\nMGPlus,11\nGTX Pro,999\n,1\n", "utf-8")

    def load(close_match: bool):
        spec = LookupSpec("products", path, "product", "product", "price list", close_match, FileOptions())
        return load_lookup(spec, ["sales_price"])

    return load


@pytest.mark.parametrize(
    ("value", "close_match", "match", "price"),
    [
        pytest.param("GTX Pro", False, "exact", "4821", id="exact"),
        pytest.param(" GTX Pro ", False, "exact", "4821", id="surrounding-spaces"),
        pytest.param("GTXPro", True, "close", "4821", id="close-allowed"),
        pytest.param("gtx pro", True, "close", "4821", id="case-allowed"),
        pytest.param("ＧＴＸ Ｐｒｏ", True, "close", "4821", id="full-width-allowed"),
        pytest.param("GTXPro", False, "close_rejected", None, id="close-not-allowed"),
        pytest.param("MG plus", True, "ambiguous", None, id="two-close-keys"),
        pytest.param("GTX Ultra", True, "missing", None, id="missing"),
        pytest.param("", True, "blank", None, id="blank"),
    ],
)
def test_lookup_find(price_list, value: str, close_match: bool, match: str, price: str | None) -> None:
    result = price_list(close_match).find(value)
    assert result.match == match
    assert (result.row.values["sales_price"] if result.row else None) == price


def test_lookup_duplicate_and_blank_keys_reported(price_list) -> None:
    lookup = price_list(True)
    assert [(problem.line, problem.group) for problem in lookup.table.problems] == [
        (6, "product appears twice in the price list"),
        (7, "product is blank in the price list"),
    ]
