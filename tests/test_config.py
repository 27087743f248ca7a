"""Configuration: defaults, path resolution, and errors that name the file and key."""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from pathlib import Path

import pytest

from salesreg.config import build_config, load_config
from salesreg.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def test_defaults_match_spec() -> None:
    config = build_config({}, Path("/srv/sales"))
    assert config.register.path == Path("/srv/sales/register.xlsx")
    assert config.register.sheet == "Deals"
    assert config.register.team_sheet == "Team"
    assert config.fiscal.start_month == 4
    assert config.fiscal.label == "start"
    assert config.fiscal.currency == "JPY"
    assert config.timezone.key == "Asia/Tokyo"
    assert config.deadline.review_interval_days == 14
    assert config.deadline.time_of_day == time(18, 0)
    assert config.deadline.business_days_only is True
    assert config.deadline.holidays == "JP"
    assert [str(o) for o in config.reminders.before] == ["1d", "1h"]
    assert [str(o) for o in config.reminders.after] == ["2d"]
    assert str(config.reminders.repeat_every) == "24h"
    assert config.reminders.cc_manager_from_overdue == 2
    assert config.expectation == {"A": Decimal("0.8"), "B": Decimal("0.5"), "C": Decimal("0.2"), "D": Decimal("0.05")}
    assert config.mail.transport == "outbox"
    assert config.mail.outbox == Path("/srv/sales/outbox")
    assert config.mail.smtp.port == 587
    assert config.mail.smtp.security == "starttls"
    assert config.mail.smtp.password_env == "SALESREG_SMTP_PASSWORD"
    assert config.state_path == Path("/srv/sales/salesreg-state.sqlite")
    assert config.summary_path == Path("/srv/sales/summary.xlsx")


def test_example_config_loads_as_defaults() -> None:
    example = load_config(ROOT / "config.toml")
    defaults = build_config({}, ROOT)
    assert example.register == defaults.register
    assert example.deadline == defaults.deadline
    assert example.reminders == defaults.reminders
    assert example.stages == defaults.stages
    assert example.mail == defaults.mail


def test_example_config_is_the_init_copy() -> None:
    packaged = ROOT / "lib" / "salesreg" / "resources" / "config.toml"
    assert (ROOT / "config.toml").read_text("utf-8") == packaged.read_text("utf-8")


def test_relative_paths_from_config_folder(tmp_path: Path) -> None:
    (tmp_path / "team").mkdir()
    path = tmp_path / "team" / "config.toml"
    path.write_text('[register]\npath = "data/deals.xlsx"\n[state]\npath = "/var/lib/salesreg/state.sqlite"\n')
    config = load_config(path)
    assert config.register.path == tmp_path / "team" / "data" / "deals.xlsx"
    assert config.state_path == Path("/var/lib/salesreg/state.sqlite")


def test_unknown_key_suggests_closest(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[deadline]\nreview_interval_day = 7\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert str(path) in message
    assert "deadline.review_interval_day" in message
    assert "deadline.review_interval_days" in message


def test_unknown_section_named(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[reminder]\nbefore = []\n")
    with pytest.raises(ConfigError, match="'reminder'.*Did you mean 'reminders'"):
        load_config(path)


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        pytest.param({"fiscal": {"start_month": 13}}, "fiscal.start_month = 13", id="month-out-of-range"),
        pytest.param({"fiscal": {"label": "middle"}}, "fiscal.label", id="bad-label"),
        pytest.param({"fiscal": {"currency": "YEN"}}, "YEN", id="unknown-currency"),
        pytest.param({"time": {"timezone": "Tokyo"}}, "time.timezone", id="bad-zone"),
        pytest.param({"deadline": {"time_of_day": "6pm"}}, "deadline.time_of_day", id="bad-clock"),
        pytest.param({"deadline": {"holidays": "XX"}}, "deadline.holidays", id="bad-country"),
        pytest.param({"reminders": {"before": ["1 week"]}}, "reminders.before", id="bad-offset"),
        pytest.param({"expectation": {"A": 1.5}}, "expectation.A", id="probability-above-one"),
        pytest.param({"stages": {"Lead": ["budget"]}}, "stages.Lead", id="unknown-information-field"),
        pytest.param({"mail": {"transport": "carrier-pigeon"}}, "mail.transport", id="bad-transport"),
        pytest.param({"mail": {"smtp": {"security": "tls"}}}, "mail.smtp.security", id="bad-security"),
        pytest.param({"register": {"headers": {"client": "Client"}}}, "register.headers.client", id="unknown-field"),
        pytest.param({"register": "deals.xlsx"}, "[register] must be a table", id="section-not-table"),
    ],
)
def test_wrong_value_names_key(data: dict, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        build_config(data, Path("."), source=Path("config.toml"))
    assert fragment in str(caught.value)


def test_missing_file_says_how_to_create(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="salesreg init"):
        load_config(tmp_path / "absent.toml")


def test_invalid_toml_names_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[fiscal\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path)


def test_custom_stages_and_ranks() -> None:
    config = build_config({"stages": {"Open": [], "Deciding": ["challenges"]}, "expectation": {"High": 0.9, "Low": 0.1}}, Path("."))
    assert list(config.stages) == ["Open", "Deciding"]
    assert config.stages["Deciding"] == ("challenges",)
    assert config.expectation["High"] == Decimal("0.9")


def test_header_mapping() -> None:
    config = build_config({"register": {"headers": {"customer": "Client"}}}, Path("."))
    assert config.register.headers["customer"] == "Client"
    assert config.register.headers["title"] == "Deal"


def test_cli_reports_config_error(tmp_path: Path, run_cli) -> None:
    (tmp_path / "config.toml").write_text("[fiscal]\nstart_mnth = 4\n")
    result = run_cli("validate")
    assert result.exit_code == 2
    assert "fiscal.start_mnth" in result.output
    assert "Did you mean 'fiscal.start_month'" in result.output
