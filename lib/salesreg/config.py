"""Load and check ``config.toml``: every key has a default, unknown keys are errors."""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ConfigError
from .i18n import LOCALES, N_, _, get_locale, using
from .fields import COLUMN_BY_FIELD, INFORMATION_FIELDS
from .money import CURRENCY_UNITS
from .parse import fold

CONFIG_ENV = "SALESREG_CONFIG"

DEFAULT_STAGES: dict[str, list[str]] = {
    "Lead": [],
    "Qualified": ["customer_business", "challenges"],
    "Proposal": ["customer_business", "target_use", "challenges", "stakeholders"],
    "Negotiation": list(INFORMATION_FIELDS),
    "Closing": list(INFORMATION_FIELDS),
}

# The shape and default of every key. A nested dict is a table; the special
# "*" key marks a table whose keys the user chooses (stage names, ranks, headers).
DEFAULTS: dict[str, Any] = {
    "register": {
        "path": "register.xlsx",
        "sheet": "Deals",
        "team_sheet": "Team",
        "backups": 3,
        "stale_lock_hours": 12,
        "headers": {"*": str},
    },
    "fiscal": {"start_month": 4, "label": "start", "currency": "JPY"},
    "time": {"timezone": "Asia/Tokyo"},
    "deadline": {
        "review_interval_days": 14,
        "time_of_day": "18:00",
        "business_days_only": True,
        "holidays": "JP",
    },
    "reminders": {
        "before": ["1d", "1h"],
        "after": ["2d"],
        "repeat_every": "24h",
        "cc_manager_from_overdue": 2,
        "digest": False,
        "unassigned_to": "",
    },
    "expectation": {"*": float},
    "stages": {"*": list},
    "mail": {
        "transport": "outbox",
        "outbox": "outbox",
        "sender": "Sales register <sales-register@example.com>",
        "locale": "en",
        "charset": "utf-8",
        "templates": "",
        "register_link": "",
        "max_per_minute": 60,
        "smtp": {
            "host": "localhost",
            "port": 587,
            "security": "starttls",
            "username": "",
            "password_env": "SALESREG_SMTP_PASSWORD",
            "timeout_seconds": 30,
        },
    },
    "state": {"path": "salesreg-state.sqlite"},
    "summary": {"path": "summary.xlsx"},
}

DEFAULT_EXPECTATION = {"A": "0.8", "B": "0.5", "C": "0.2", "D": "0.05"}

_OFFSET = re.compile(r"^\s*(\d+)\s*([dhm])\s*$")


@dataclass(frozen=True)
class Offset:
    """A reminder offset: ``d`` keeps the local clock time, ``h`` and ``m`` are elapsed time."""

    amount: int
    unit: Literal["d", "h", "m"]

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"


@dataclass(frozen=True)
class RegisterConfig:
    path: Path
    sheet: str
    team_sheet: str
    headers: dict[str, str]  # field name -> the header text the template writes, every field present
    backups: int = 3  # rotated backups kept beside the register
    stale_lock_hours: int = 12  # a lock file older than this is reported as probably stale
    # field name -> every header text that the register may use for it, the one in headers first
    header_aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class FiscalConfig:
    start_month: int
    label: Literal["start", "end"]
    currency: str


@dataclass(frozen=True)
class DeadlineConfig:
    review_interval_days: int
    time_of_day: time
    business_days_only: bool
    holidays: str


@dataclass(frozen=True)
class RemindersConfig:
    before: tuple[Offset, ...]
    after: tuple[Offset, ...]
    repeat_every: Offset | None
    cc_manager_from_overdue: int
    digest: bool = False  # one e-mail per rep listing all due deals
    unassigned_to: str = ""  # where reminders of unknown reps go; "" = every manager on the Team sheet


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: Literal["none", "starttls", "ssl"]
    username: str
    password_env: str
    timeout_seconds: int

    def password(self) -> str:
        """Read the password from the environment variable named by ``password_env``."""
        return os.environ.get(self.password_env, "")


@dataclass(frozen=True)
class MailConfig:
    transport: Literal["outbox", "smtp"]
    outbox: Path
    sender: str
    locale: str
    smtp: SmtpConfig
    templates: Path | None = None  # folder whose templates override the built-in ones
    register_link: str = ""  # link to the shared workbook, shown in e-mails
    max_per_minute: int = 60  # send rate limit; 0 = no limit
    # charset of the Subject, the display names and the text part, as mail.apply_charset applies it
    charset: Literal["utf-8", "iso-2022-jp"] = "utf-8"


@dataclass(frozen=True)
class Config:
    source: Path | None
    register: RegisterConfig
    fiscal: FiscalConfig
    timezone: ZoneInfo
    deadline: DeadlineConfig
    reminders: RemindersConfig
    expectation: dict[str, Decimal]
    stages: dict[str, tuple[str, ...]]
    mail: MailConfig
    state_path: Path
    summary_path: Path
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


def default_config_path() -> Path:
    """Return ``$SALESREG_CONFIG`` or ``./config.toml``."""
    return Path(os.environ.get(CONFIG_ENV) or "config.toml")


def load_config(path: Path) -> Config:
    """Read ``path`` and return the checked configuration; raise ConfigError naming the key."""
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(
            _("Configuration file {path} not found; run `salesreg init FOLDER` to create one or pass --config PATH.").format(
                path=path
            )
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(_("{path}: not valid TOML ({error}); fix the line it names.").format(path=path, error=exc)) from None
    except OSError as exc:
        raise ConfigError(_("{path}: cannot be read ({reason}).").format(path=path, reason=exc.strerror)) from None
    # Errors in a config that names its locale read in that locale; the rest follow the caller's.
    mail = data.get("mail")
    locale = mail.get("locale") if isinstance(mail, dict) else None
    with using(locale if locale in LOCALES else get_locale()):
        return build_config(data, base=path.resolve().parent, source=path)


def build_config(data: dict[str, Any], base: Path, source: Path | None = None) -> Config:
    """Check ``data`` against the defaults and return a Config with paths resolved from ``base``."""
    where = str(source) if source else _("configuration")
    _check_keys(data, DEFAULTS, where, prefix="")
    merged = _merge(DEFAULTS, data)
    reader = _Reader(where)

    register = merged["register"]
    header_aliases = _read_header_aliases(data.get("register", {}).get("headers", {}), reader)
    headers = {name: aliases[0] for name, aliases in header_aliases.items()}

    fiscal = merged["fiscal"]
    start_month = reader.integer("fiscal.start_month", fiscal["start_month"], 1, 12)
    label = reader.choice("fiscal.label", fiscal["label"], ("start", "end"))
    currency = reader.text("fiscal.currency", fiscal["currency"]).upper()
    if currency not in CURRENCY_UNITS:
        raise reader.unknown("fiscal.currency", currency, list(CURRENCY_UNITS), what="currency")

    tz_name = reader.text("time.timezone", merged["time"]["timezone"])
    try:
        timezone = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            _(
                "{where}: time.timezone = {value} is not a known time zone; "
                "use an IANA name such as \"Asia/Tokyo\" or \"Europe/Berlin\"."
            ).format(where=where, value=repr(tz_name))
        ) from None

    dl = merged["deadline"]
    deadline = DeadlineConfig(
        review_interval_days=reader.integer("deadline.review_interval_days", dl["review_interval_days"], 1, 3650),
        time_of_day=reader.clock("deadline.time_of_day", dl["time_of_day"]),
        business_days_only=reader.boolean("deadline.business_days_only", dl["business_days_only"]),
        holidays=_check_holidays(where, reader.text("deadline.holidays", dl["holidays"])),
    )

    rm = merged["reminders"]
    repeat_text = reader.text("reminders.repeat_every", rm["repeat_every"])
    reminders = RemindersConfig(
        before=tuple(reader.offset("reminders.before", v) for v in reader.array("reminders.before", rm["before"])),
        after=tuple(reader.offset("reminders.after", v) for v in reader.array("reminders.after", rm["after"])),
        repeat_every=None if repeat_text.strip() in ("", "0") else reader.offset("reminders.repeat_every", repeat_text),
        cc_manager_from_overdue=reader.integer(
            "reminders.cc_manager_from_overdue", rm["cc_manager_from_overdue"], 0, 1000
        ),
        digest=reader.boolean("reminders.digest", rm["digest"]),
        unassigned_to=reader.text("reminders.unassigned_to", rm["unassigned_to"]),
    )
    if reminders.repeat_every is not None and reminders.repeat_every.amount == 0:
        raise ConfigError(
            _("{where}: reminders.repeat_every must be longer than 0; use \"\" to turn repeats off.").format(where=where)
        )

    expectation_raw = data.get("expectation", DEFAULT_EXPECTATION)
    expectation = {
        rank: reader.probability(f"expectation.{rank}", value) for rank, value in expectation_raw.items()
    }
    if not expectation:
        raise ConfigError(_("{where}: [expectation] is empty; give at least one rank, for example A = 0.8.").format(where=where))

    stages_raw = data.get("stages", DEFAULT_STAGES)
    stages: dict[str, tuple[str, ...]] = {}
    for stage, required in stages_raw.items():
        names = reader.array(f"stages.{stage}", required)
        for name in names:
            if name not in INFORMATION_FIELDS:
                raise reader.unknown(f"stages.{stage}", name, list(INFORMATION_FIELDS), what="information field")
        stages[stage] = tuple(names)
    if not stages:
        raise ConfigError(_("{where}: [stages] is empty; list at least one stage, for example Lead = [].").format(where=where))

    mail = merged["mail"]
    smtp = mail["smtp"]
    mail_config = MailConfig(
        transport=reader.choice("mail.transport", mail["transport"], ("outbox", "smtp")),
        outbox=_resolve(base, reader.text("mail.outbox", mail["outbox"])),
        sender=reader.text("mail.sender", mail["sender"]),
        locale=reader.choice("mail.locale", mail["locale"], LOCALES),
        smtp=SmtpConfig(
            host=reader.text("mail.smtp.host", smtp["host"]),
            port=reader.integer("mail.smtp.port", smtp["port"], 1, 65535),
            security=reader.choice("mail.smtp.security", smtp["security"], ("none", "starttls", "ssl")),
            username=reader.text("mail.smtp.username", smtp["username"]),
            password_env=reader.text("mail.smtp.password_env", smtp["password_env"]),
            timeout_seconds=reader.integer("mail.smtp.timeout_seconds", smtp["timeout_seconds"], 1, 600),
        ),
        templates=_resolve(base, reader.text("mail.templates", mail["templates"])) if mail["templates"] else None,
        register_link=reader.text("mail.register_link", mail["register_link"]),
        max_per_minute=reader.integer("mail.max_per_minute", mail["max_per_minute"], 0, 100000),
        charset=reader.choice("mail.charset", mail["charset"], ("utf-8", "iso-2022-jp")),
    )

    return Config(
        source=source,
        register=RegisterConfig(
            path=_resolve(base, reader.text("register.path", register["path"])),
            sheet=reader.text("register.sheet", register["sheet"]),
            team_sheet=reader.text("register.team_sheet", register["team_sheet"]),
            headers=headers,
            header_aliases=header_aliases,
            backups=reader.integer("register.backups", register["backups"], 0, 100),
            stale_lock_hours=reader.integer("register.stale_lock_hours", register["stale_lock_hours"], 1, 10000),
        ),
        fiscal=FiscalConfig(start_month=start_month, label=label, currency=currency),  # type: ignore[arg-type]
        timezone=timezone,
        deadline=deadline,
        reminders=reminders,
        expectation=expectation,
        stages=stages,
        mail=mail_config,  # type: ignore[arg-type]
        state_path=_resolve(base, reader.text("state.path", merged["state"]["path"])),
        summary_path=_resolve(base, reader.text("summary.path", merged["summary"]["path"])),
        raw=data,
    )


def _resolve(base: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


def _check_keys(data: dict[str, Any], schema: dict[str, Any], where: str, prefix: str) -> None:
    """Raise ConfigError for the first key that the schema does not know, with the closest valid key."""
    if "*" in schema:
        return
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if key not in schema:
            known = [f"{prefix}{k}" for k in schema]
            raise _Reader(where).unknown(dotted, dotted, known, what="key")
        if isinstance(schema[key], dict):
            if not isinstance(value, dict):
                raise ConfigError(
                    _("{where}: [{table}] must be a table, not {value}.").format(where=where, table=dotted, value=repr(value))
                )
            _check_keys(value, schema[key], where, prefix=f"{dotted}.")


def _merge(defaults: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for key, default in defaults.items():
        if key == "*":
            continue
        if isinstance(default, dict):
            merged[key] = _merge(default, data.get(key, {}))
        else:
            merged[key] = data.get(key, default)
    return merged


def _read_header_aliases(table: dict[str, Any], reader: _Reader) -> dict[str, tuple[str, ...]]:
    """Return field -> accepted header texts from ``[register.headers]``, the standard header by default.

    A field takes one text or a list of texts; the first is the one the template writes.
    Two fields may not share a header text, compared as the register reader compares headers.
    """
    aliases = {name: (column.header,) for name, column in COLUMN_BY_FIELD.items()}
    for name, value in table.items():
        key = f"register.headers.{name}"
        if name not in COLUMN_BY_FIELD:
            raise reader.unknown(key, name, list(COLUMN_BY_FIELD))
        texts = [value] if isinstance(value, str) else value
        if not isinstance(texts, list) or not texts or not all(isinstance(text, str) and fold(text) for text in texts):
            raise reader.fail(key, value, _('a header text or a list of them, for example ["Customer", "顧客名"]'))
        aliases[name] = tuple(texts)

    owner: dict[str, str] = {}
    for name, texts in aliases.items():
        for text in texts:
            other = owner.setdefault(fold(text), name)
            if other != name:
                raise ConfigError(
                    _(
                        "{where}: register.headers: the header text {text} is given for both {field} and {other_field}; "
                        "a header can name only one field, so map one of them to another text."
                    ).format(where=reader.where, text=repr(text), field=other, other_field=name)
                )
    return aliases


def _check_holidays(where: str, code: str) -> str:
    if code == "":
        return code
    import holidays

    try:
        holidays.country_holidays(code)
    except NotImplementedError:
        raise ConfigError(
            _(
                "{where}: deadline.holidays = {value} is not a country the holidays package knows; "
                "use an ISO 3166 code such as \"JP\" or \"US\", or \"\" for weekends only."
            ).format(where=where, value=repr(code))
        ) from None
    return code


# The message for an unknown value, by the kind of value that _Reader.unknown names.
_UNKNOWN = {
    "value": N_("{where}: unknown value {value} at {key}."),
    "currency": N_("{where}: unknown currency {value} at {key}."),
    "information field": N_("{where}: unknown information field {value} at {key}."),
}


class _Reader:
    """Typed access to config values; every error names the file and the dotted key."""

    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, key: str, value: Any, expected: str) -> ConfigError:
        """Return the error for an invalid value; ``expected`` is a translated description of valid ones."""
        text = _("{where}: {key} = {value} is invalid; expected {expected}.")
        return ConfigError(text.format(where=self.where, key=key, value=repr(value), expected=expected))

    def unknown(self, key: str, value: str, known: list[str], what: str = "value") -> ConfigError:
        close = difflib.get_close_matches(value, known, n=1)
        if close:
            hint = _("Did you mean {match}?").format(match=repr(close[0]))
        else:
            hint = _("Valid: {values}.").format(values=", ".join(known))
        # An unknown key is its own place; any other unknown value is named with its key.
        text = _("{where}: unknown key {value}.") if what == "key" else _(_UNKNOWN[what])
        message = text.format(where=self.where, value=repr(value), key=key)
        # Sentences in Japanese follow a full stop without a space.
        return ConfigError(message + ("" if message.endswith("。") else " ") + hint)

    def text(self, key: str, value: Any) -> str:
        if not isinstance(value, str):
            raise self.fail(key, value, _("a string in quotes"))
        return value

    def integer(self, key: str, value: Any, low: int, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.fail(key, value, _("a whole number from {low} to {high}").format(low=low, high=high))
        return value

    def boolean(self, key: str, value: Any) -> bool:
        if not isinstance(value, bool):
            raise self.fail(key, value, _("true or false"))
        return value

    def choice(self, key: str, value: Any, choices: tuple[str, ...]) -> str:
        if value not in choices:
            raise self.fail(key, value, _("one of {choices}").format(choices=", ".join(f'"{c}"' for c in choices)))
        return str(value)

    def array(self, key: str, value: Any) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, value, _("a list of strings, for example [\"1d\", \"1h\"]"))
        return list(value)

    def offset(self, key: str, value: str) -> Offset:
        match = _OFFSET.match(value)
        if not match:
            raise self.fail(key, value, _('a duration such as "1d", "1h" or "30m"'))
        return Offset(int(match.group(1)), match.group(2))  # type: ignore[arg-type]

    def clock(self, key: str, value: Any) -> time:
        text = self.text(key, value)
        match = re.fullmatch(r"(\d{1,2}):(\d{2})", text.strip())
        if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
            raise self.fail(key, value, _('a local time "HH:MM", for example "18:00"'))
        return time(int(match.group(1)), int(match.group(2)))

    def probability(self, key: str, value: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise self.fail(key, value, _("a probability from 0 to 1, for example 0.8"))
        try:
            # str() keeps 0.05 as written instead of its binary float expansion.
            number = Decimal(str(value))
        except InvalidOperation:
            raise self.fail(key, value, _("a probability from 0 to 1, for example 0.8")) from None
        if not Decimal(0) <= number <= Decimal(1):
            raise self.fail(key, value, _("a probability from 0 to 1, for example 0.8"))
        return number
