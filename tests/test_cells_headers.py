"""Header row: normalised matching, aliases from the config, and the errors that stop a command."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import openpyxl
import pytest

from helpers import CaseRun, make_register, valid_deal, write_config
from salesreg.fields import COLUMNS

HEADERS = [column.header for column in COLUMNS]


def set_headers(path: Path, **headers: str | None) -> None:
    """Overwrite row 1 cells of the Deals sheet, given as column letter -> text."""
    workbook = openpyxl.load_workbook(path)
    for letter, text in headers.items():
        workbook["Deals"][f"{letter}1"] = text
    workbook.save(path)


def found_list(headers: list[str | None]) -> str:
    return ", ".join(repr(text) for text in headers if text)


def test_headers_normalised(tmp_path: Path) -> None:
    write_config(tmp_path)
    path = make_register(tmp_path / "register.xlsx", [valid_deal(), valid_deal(expected_close=None)])
    set_headers(path, A="deal id", B="  Customer\u3000", F="Expected\nclose", G="ＭＯＮＴＨＬＹ\u3000ＰＲＩＣＥ")

    run = CaseRun(tmp_path)

    assert run.result.exit_code == 0, run.result.output
    assert run.deals[2].customer == "Sakura Logistics"
    assert run.deals[2].expected_close == date(2026, 6, 30)
    assert run.rows[2]["Fiscal-period sales"] == 600_000
    assert run.problems(3) == "Expected close is empty; type the date you expect to close the deal (YYYY-MM-DD)."
    assert run.rows[2]["deal id"] == "D-000001"
    assert run.changes == []


JAPANESE_CONFIG = """\
[register.headers]
customer = ["顧客名", "Customer"]
rep = ["担当者", "Rep"]
expected_close = ["受注予定日", "Expected close"]
title = "案件名"
"""


def test_japanese_header_aliases(tmp_path: Path) -> None:
    write_config(tmp_path, JAPANESE_CONFIG)
    path = make_register(tmp_path / "register.xlsx", [valid_deal(), valid_deal(expected_close=None, rep="ben@example.com")])
    set_headers(path, B="顧客名", C="案件名", D="担当者", F="受注予定日")

    run = CaseRun(tmp_path)

    assert run.result.exit_code == 0, run.result.output
    assert run.deals[2].customer == "Sakura Logistics"
    assert run.deals[2].title == "Fleet tracking"
    assert run.deals[3].rep is not None and run.deals[3].rep.name == "Ben Carter"
    assert run.rows[2]["Fiscal-period sales"] == 600_000
    expected = "受注予定日 is empty; type the date you expect to close the deal (YYYY-MM-DD)."
    assert run.problems(3) == expected
    assert 'Row 3, "受注予定日" is empty; type the date' in run.result.output
    assert run.changes == []


def test_english_headers_still_match_aliases(tmp_path: Path) -> None:
    write_config(tmp_path, '[register.headers]\ncustomer = ["顧客名", "Customer"]\n')
    make_register(tmp_path / "register.xlsx", [valid_deal()])

    run = CaseRun(tmp_path)

    assert run.result.exit_code == 0, run.result.output
    assert run.deals[2].customer == "Sakura Logistics"


def test_two_columns_for_one_field_stop(tmp_path: Path, run_cli) -> None:
    write_config(tmp_path, '[register.headers]\ncustomer = ["Customer", "顧客名"]\n')
    path = make_register(tmp_path / "register.xlsx", [valid_deal()])
    set_headers(path, AC="顧客名")
    before = path.read_bytes()

    result = run_cli("sync", "--now", "2026-06-20T09:00")

    assert result.exit_code == 2
    assert result.output == (
        f"Error: {path}, sheet 'Deals': Columns B ('Customer') and AC ('顧客名') are both the 'Customer' column, "
        f"and salesreg cannot tell which one to use; delete or rename all but one of them.\n"
    )
    assert path.read_bytes() == before


def test_missing_column_names_closest_header(tmp_path: Path, run_cli) -> None:
    write_config(tmp_path)
    path = make_register(tmp_path / "register.xlsx", [valid_deal()])
    set_headers(path, E="Stgae")
    before = path.read_bytes()

    result = run_cli("sync", "--now", "2026-06-20T09:00")

    found = found_list([text if text != "Stage" else "Stgae" for text in HEADERS])
    assert result.exit_code == 2
    assert result.output == (
        f"Error: {path}, sheet 'Deals': row 1 lacks the header 'Stage' (the closest header is 'Stgae', in column E). "
        f"Rename the header in row 1, or add your header text to [register.headers] in the config. "
        f"Headers found in row 1: {found}.\n"
    )
    assert path.read_bytes() == before


def test_missing_columns_listed_together(tmp_path: Path, run_cli) -> None:
    write_config(tmp_path, '[register.headers]\ncustomer = ["顧客名", "Customer"]\n')
    path = make_register(tmp_path / "register.xlsx", [valid_deal()])
    set_headers(path, B="Client", P=None)

    result = run_cli("validate", "--now", "2026-06-20T09:00")

    assert result.exit_code == 2
    assert "row 1 lacks the headers '顧客名' or 'Customer' and 'Competitors'. Rename the header" in result.output


def test_headers_below_row_one_found(tmp_path: Path, run_cli) -> None:
    write_config(tmp_path)
    path = make_register(tmp_path / "register.xlsx", [valid_deal()])
    workbook = openpyxl.load_workbook(path)
    workbook["Deals"].insert_rows(1, amount=2)
    workbook.save(path)
    before = path.read_bytes()

    result = run_cli("sync", "--now", "2026-06-20T09:00")

    assert result.exit_code == 2
    assert result.output == (
        f"Error: {path}, sheet 'Deals' has no headers in row 1. The headers seem to be in row 3; delete the "
        f"rows above them so that the headers are in row 1.\n"
    )
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("config_text", "expected"),
    [
        pytest.param(
            '[register.headers]\ntitle = "Customer"\n',
            "register.headers: the header text 'Customer' is given for both customer and title; a header can "
            "name only one field, so map one of them to another text.",
            id="header-for-two-fields",
        ),
        pytest.param(
            "[register.headers]\ncustomer = []\n",
            'register.headers.customer = [] is invalid; expected a header text or a list of them, for example '
            '["Customer", "顧客名"].',
            id="empty-list",
        ),
        pytest.param(
            "[register.headers]\ncustomer = 5\n",
            'register.headers.customer = 5 is invalid; expected a header text or a list of them, for example '
            '["Customer", "顧客名"].',
            id="not-text",
        ),
    ],
)
def test_header_config_checked(tmp_path: Path, run_cli, config_text: str, expected: str) -> None:
    config = write_config(tmp_path, config_text)
    result = run_cli("validate")
    assert result.exit_code == 2
    assert result.output == f"Error: {config}: {expected}\n"
