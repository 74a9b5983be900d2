"""Configuration: a TOML file over built-in defaults, with secrets from the environment.

A bad file fails at start-up with the file, the key and the problem. Environment
variables named NEEDSFIRST_<SECTION>_<KEY> win over the file, and are checked as
strictly (a typo in a name or a boolean is an error, never a silent default).
The settings themselves, with their defaults, are in bot/config.py.
"""

from __future__ import annotations

import importlib.util
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import fields, replace
from pathlib import Path
from typing import Any, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from analysis.themes.languages import EMBEDDING_MODELS
from bot.config import DAYS, Config, ConfigError, NotifyConfig, SafeguardingConfig
from bot.config_organisation import check_organisation
from bot.config_staff_email import check_staff_emails
from bot.config_whatsapp import check_whatsapp

DEFAULT_PATH = Path("config.toml")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
# NEEDSFIRST_* variables that are not configuration: the test suite's and benchmarks'.
# [staff.names]: a table of Telegram user id (a quoted key, "111") = display name.
ID_NAMES = "tuple[tuple[int, str], ...]"
MAX_NAME = 80
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
NOT_CONFIGURATION = ("NEEDSFIRST_TEST_", "NEEDSFIRST_REQUIRE_", "NEEDSFIRST_BENCH_",
                     "NEEDSFIRST_CRASH_")  # fmt: skip


def load_config(path: str | Path | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Read `path` (default ./config.toml if it exists) over the defaults, then the environment."""
    environ = os.environ if environ is None else environ
    document: dict[str, Any] = {}
    source = "built-in defaults"
    chosen = Path(path) if path is not None else DEFAULT_PATH
    if path is not None or chosen.exists():
        source = str(chosen)
        try:
            document = tomllib.loads(chosen.read_text(encoding="utf-8"))
        except FileNotFoundError as error:
            raise ConfigError(source, "file", "does not exist") from error
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(source, "file", f"cannot be read ({error})") from error
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(source, "file", f"is not valid TOML: {error}") from error
    config = Config(source=source)
    sections = {f.name: f for f in fields(Config) if f.name not in ("source", "from_environment")}
    for name, table in document.items():
        if name not in sections:
            raise ConfigError(source, name, f"unknown section (expected {', '.join(sections)})")
        if not isinstance(table, dict):
            raise ConfigError(source, name, "must be a table, e.g. [" + name + "]")
        current = getattr(config, name)
        config = replace(config, **{name: _section(source, name, current, table)})
    config = _apply_environment(config, environ)
    _check(config)
    return config


def _section(source: str, name: str, current: Any, table: dict[str, Any]) -> Any:
    known = {f.name: f for f in fields(current)}
    changes: dict[str, Any] = {}
    for key, value in table.items():
        if key not in known:
            raise ConfigError(source, f"{name}.{key}", f"unknown key (expected {', '.join(known)})")
        if known[key].type == ID_NAMES:
            changes[key] = _id_names(source, f"{name}.{key}", value)
            continue
        changes[key] = _coerce(source, f"{name}.{key}", known[key].type, value)
    return replace(current, **changes)


def _coerce(source: str, key: str, declared: Any, value: Any) -> Any:
    kind = {"str": str, "int": int, "bool": bool}.get(declared, declared)
    if isinstance(declared, str) and declared.startswith("tuple["):
        inner = int if "int" in declared else str
        if not isinstance(value, list) or not all(
            isinstance(v, inner) and not isinstance(v, bool) for v in value
        ):
            raise ConfigError(source, key, f"must be a list of {inner.__name__}s")
        return tuple(value)
    if get_origin(kind) is tuple:
        inner = get_args(kind)[0]
        return tuple(inner(v) for v in value)
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise ConfigError(source, key, f"must be a whole number, not {value!r}")
    if kind is bool and not isinstance(value, bool):
        raise ConfigError(source, key, f"must be true or false, not {value!r}")
    if kind is str and not isinstance(value, str):
        raise ConfigError(source, key, f"must be a string, not {value!r}")
    return value


def _id_names(source: str, key: str, table: Any) -> tuple[tuple[int, str], ...]:
    """[staff.names]: each key a Telegram user id, each name 1-80 characters on one line."""
    if not isinstance(table, dict):
        raise ConfigError(source, key, 'must be a table of id = name, e.g. "111" = "Asha Patel"')
    names = []
    for user_id, name in table.items():
        where = f'{key}."{user_id}"'
        if not re.fullmatch(r"[1-9][0-9]{0,18}", user_id, re.ASCII):
            raise ConfigError(source, where, "must be a Telegram user id (digits, in quotes)")
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(source, where, "must be a name (text that is not empty)")
        if len(name.strip()) > MAX_NAME or not name.isprintable():
            raise ConfigError(source, where, f"must be at most {MAX_NAME} characters on one line")
        names.append((int(user_id), name.strip()))
    return tuple(names)


def _names_variable(raw: str) -> tuple[tuple[int, str], ...]:
    """NEEDSFIRST_STAFF_NAMES: "111=Asha Patel (Housing); 222=Ben Okafor"."""
    table: dict[str, str] = {}
    for entry in filter(None, (e.strip() for e in raw.split(";"))):
        user_id, equals, name = entry.partition("=")
        if not equals or user_id.strip() in table:
            raise ValueError(f"must be id=name entries separated by ';', not {entry!r}")
        table[user_id.strip()] = name
    try:
        return _id_names("", "", table)
    except ConfigError as error:
        raise ValueError(f"{error.key.strip('.')}: {error.problem}") from error


def environment_variables() -> dict[str, tuple[str, str]]:
    """Every NEEDSFIRST_<SECTION>_<KEY> variable, with the (section, key) it sets."""
    return {
        f"NEEDSFIRST_{section.name}_{item.name}".upper(): (section.name, item.name)
        for section in fields(Config)
        if section.name not in ("source", "from_environment")
        for item in fields(getattr(Config(), section.name))
    }


def _apply_environment(config: Config, environ: Mapping[str, str]) -> Config:
    known = environment_variables()
    unknown = sorted(
        name for name in environ
        if name.startswith("NEEDSFIRST_") and name not in known
        and not name.startswith(NOT_CONFIGURATION)
    )  # fmt: skip
    if unknown:
        raise ConfigError(
            "environment", ", ".join(unknown),
            f"unknown variable (the known ones are {', '.join(sorted(known))})",
        )  # fmt: skip
    overridden: set[str] = set()
    for section_field in fields(Config):
        if section_field.name in ("source", "from_environment"):
            continue
        section = getattr(config, section_field.name)
        changes: dict[str, Any] = {}
        for item in fields(section):
            variable = f"NEEDSFIRST_{section_field.name}_{item.name}".upper()
            if variable not in environ:
                continue
            raw = environ[variable]
            declared = item.type
            key = f"{section_field.name}.{item.name}"
            overridden.add(key)
            try:
                if declared == ID_NAMES:
                    changes[item.name] = _names_variable(raw)
                elif declared == "int":
                    changes[item.name] = _whole(raw)
                elif declared == "bool":
                    changes[item.name] = _boolean(raw)
                elif isinstance(declared, str) and declared.startswith("tuple[int"):
                    changes[item.name] = tuple(_whole(x) for x in raw.replace(",", " ").split())
                elif isinstance(declared, str) and declared.startswith("tuple["):
                    changes[item.name] = tuple(x for x in raw.replace(",", " ").split())
                else:
                    changes[item.name] = raw
            except ValueError as error:
                raise ConfigError(f"environment {variable}", key, str(error)) from error
        if changes:
            config = replace(config, **{section_field.name: replace(section, **changes)})
    return replace(config, from_environment=frozenset(overridden))


def _whole(raw: str) -> int:
    """A whole number in ASCII digits, as the TOML file allows (int() also takes "٣")."""
    text = raw.strip()
    if not re.fullmatch(r"-?[0-9]{1,18}", text, re.ASCII):
        raise ValueError(f"must be a whole number, not {raw!r}")
    return int(text)


def _boolean(raw: str) -> bool:
    word = raw.strip().lower()
    if word not in TRUE + FALSE:
        raise ValueError(f"must be true or false (or 1/0, yes/no, on/off), not {raw!r}")
    return word in TRUE


def origin_of(config: Config, key: str) -> str:
    """Where a key's value came from, for an error: the variable, or the file."""
    if key in config.from_environment:
        section, _, name = key.partition(".")
        return f"environment NEEDSFIRST_{section.upper()}_{name.upper()}"
    return config.source


def _check(config: Config) -> None:
    source = config.source
    check_database_url(origin_of(config, "database.url"), config.database.url)
    telegram = config.telegram
    if telegram.mode not in ("polling", "webhook"):
        raise ConfigError(source, "telegram.mode", 'must be "polling" or "webhook"')
    if telegram.token and ":" not in telegram.token:
        raise ConfigError(
            source, "telegram.token", "does not look like a bot token from @BotFather"
        )
    if telegram.mode == "webhook" and telegram.token:
        if not telegram.webhook_url.startswith("https://") and not telegram.webhook_url.startswith(
            "http://127."
        ):
            raise ConfigError(source, "telegram.webhook_url", "webhook mode needs an https:// URL")
        if len(telegram.secret_token) < 16:
            raise ConfigError(
                source, "telegram.secret_token", "webhook mode needs a secret of 16+ characters"
            )
    if not 0 <= telegram.broadcast_headroom <= 10:
        raise ConfigError(
            source, "telegram.broadcast_headroom", "must be from 0 to 10 messages a second"
        )
    if telegram.shared_budget and not telegram.shared_budget.startswith(REDIS_SCHEMES):
        raise ConfigError(source, "telegram.shared_budget", "must be a Redis URL "
                          "(redis://host:6379/0, rediss:// or unix://), or empty")  # fmt: skip
    if telegram.shared_budget and importlib.util.find_spec("redis") is None:
        raise ConfigError(source, "telegram.shared_budget", "needs Redis's client: "
                          "pip install 'needsfirst[shared]'")  # fmt: skip
    if not 0 < config.web.port < 65536:
        raise ConfigError(source, "web.port", "must be between 1 and 65535")
    if config.web.secret and len(config.web.secret) < 32:
        raise ConfigError(source, "web.secret", "must be 32 characters or more (or empty)")
    if not 0 <= config.web.new_residents_per_address <= 100_000:
        raise ConfigError(source, "web.new_residents_per_address", "must be from 0 to 100000")
    if not 1 <= config.web.new_residents_window_minutes <= 24 * 60:
        raise ConfigError(
            source, "web.new_residents_window_minutes", "must be from 1 to 1440 minutes"
        )
    if not 0 <= config.retention.identities_days <= 3650:
        raise ConfigError(source, "retention.identities_days", "must be from 0 to 3650 days")
    if not 1 <= config.reminders.after_hours <= 24 * 30:
        raise ConfigError(source, "reminders.after_hours", "must be from 1 to 720 hours")
    if config.logging.format not in ("text", "json"):
        raise ConfigError(source, "logging.format", 'must be "text" or "json"')
    if config.metrics.token and len(config.metrics.token) < 16:
        raise ConfigError(source, "metrics.token", "must be 16 characters or more (or empty)")
    if config.themes.embedding_model not in EMBEDDING_MODELS:
        choices = " or ".join(f'"{name}"' for name in EMBEDDING_MODELS)
        raise ConfigError(source, "themes.embedding_model", f"must be {choices}")
    _check_safeguarding(source, config.safeguarding)
    _check_notify(source, config.notify)
    check_staff_emails(source, config.staff, config.notify)
    check_whatsapp(source, config.whatsapp)
    check_organisation(source, config.organisation)
    if config.digest.day not in DAYS:
        raise ConfigError(source, "digest.day", f"must be one of {', '.join(DAYS)}")
    if not re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]", config.digest.time, re.ASCII):
        raise ConfigError(source, "digest.time", 'must be a time such as "09:00"')
    try:
        ZoneInfo(config.digest.timezone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ConfigError(source, "digest.timezone", "is not a known time zone") from error


def check_database_url(source: str, url: str) -> None:
    """A URL SQLAlchemy can parse, for a dialect and driver that are installed."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as error:
        raise ConfigError(
            source, "database.url",
            "is not a database URL (e.g. sqlite:///needsfirst.db or postgresql+psycopg://...)",
        ) from error  # fmt: skip
    try:
        parsed.get_dialect().import_dbapi()
    except NoSuchModuleError as error:
        raise ConfigError(
            source, "database.url",
            f"unknown database kind {parsed.drivername!r} (use sqlite or postgresql+psycopg)",
        ) from error  # fmt: skip
    except ImportError as error:
        raise ConfigError(
            source, "database.url", f"the driver for {parsed.drivername!r} is not installed"
        ) from error


def _check_safeguarding(source: str, safeguarding: SafeguardingConfig) -> None:
    if not 5 <= safeguarding.escalate_after_minutes <= 24 * 60:
        raise ConfigError(
            source, "safeguarding.escalate_after_minutes", "must be from 5 to 1440 minutes"
        )
    for key in ("emails", "fallback_emails"):
        for address in getattr(safeguarding, key):
            if not EMAIL.match(address):
                raise ConfigError(
                    source, f"safeguarding.{key}", f"{address!r} is not an email address"
                )
    if not (safeguarding.emails or safeguarding.fallback_emails):
        return
    key = safeguarding.notify_api_key
    if not key:
        raise ConfigError(
            source,
            "safeguarding.notify_api_key",
            "email alerts need a GOV.UK Notify API key (or NEEDSFIRST_SAFEGUARDING_NOTIFY_API_KEY)",
        )
    if not _notify_key(key):
        raise ConfigError(
            source,
            "safeguarding.notify_api_key",
            "does not look like a GOV.UK Notify API key (name-service id-secret)",
        )
    if not UUID.match(safeguarding.notify_template_id):
        raise ConfigError(
            source,
            "safeguarding.notify_template_id",
            "must be the id of a Notify email template (a UUID such as "
            "f33517ff-2a88-4f6e-b855-c550268ce08a)",
        )
    base = safeguarding.notify_base_url
    if not (base.startswith("https://") or base.startswith("http://127.")):
        raise ConfigError(source, "safeguarding.notify_base_url", "must be an https:// URL")


def _notify_key(key: str) -> bool:
    """A GOV.UK Notify API key: name-service id-secret (two UUIDs)."""
    return (
        len(key) >= 75
        and key[-74] == "-"
        and bool(UUID.match(key[-73:-37]))
        and key[-37] == "-"
        and bool(UUID.match(key[-36:]))
    )


def _check_notify(source: str, notify: NotifyConfig) -> None:
    """Residents' text messages and emails: all or nothing, each key checked."""
    if not notify.api_key:
        return
    if not _notify_key(notify.api_key):
        raise ConfigError(source, "notify.api_key",
                          "does not look like a GOV.UK Notify API key (name-service id-secret)")  # fmt: skip
    for key in ("sms_template_id", "email_template_id"):
        if not UUID.match(getattr(notify, key)):
            raise ConfigError(source, f"notify.{key}",
                              "must be the id of a Notify template (a UUID)")  # fmt: skip
    if not 1 <= notify.per_minute <= 3000:
        raise ConfigError(source, "notify.per_minute",
                          "must be from 1 to 3000 (Notify's limit a minute)")  # fmt: skip
    if not (notify.base_url.startswith("https://") or notify.base_url.startswith("http://127.")):
        raise ConfigError(source, "notify.base_url", "must be an https:// URL")
