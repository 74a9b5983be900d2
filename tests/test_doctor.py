"""`needsfirst doctor`: the configuration, the database and its migrations, the
scheduler, safeguarding leads, and the command's lines and exit code."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlmodel import Session

from bot.actions import doctor
from bot.app import Service, prepare_database
from bot.cli.commands import main
from bot.config import (
    Config,
    DatabaseConfig,
    MetricsConfig,
    SafeguardingConfig,
    StaffConfig,
    TelegramConfig,
    WebConfig,
)
from bot.scheduling.scheduler import TICK_SECONDS
from conversations.storage.db import alembic_config, make_engine
from conversations.storage.models import SafeguardingFlag, utcnow
from tests.fakes.telegram_api import FakeBotAPI
from tests.telegram_harness import TOKEN

NOTIFY_KEY = "needsfirst-" + "1" * 8 + "-1111-1111-1111-" + "1" * 12 + "-" + "2" * 8 + "-2222-2222-2222-" + "2" * 12  # fmt: skip


def test_a_bad_configuration_is_a_failure_naming_the_file_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "config.toml"
    bad.write_text('[telegram]\nmode = "sometimes"\n', encoding="utf-8")
    config, found = doctor.configuration(str(bad), environ={})
    assert config is None and found.level == "fail"
    assert found.detail == f'{bad}: telegram.mode: must be "polling" or "webhook"'
    config, found = doctor.configuration(None, environ={"NEEDSFIRST_WEB_PORT": "8081"})
    assert config is not None and found.level in ("ok", "warn")


def test_a_migrated_database_is_ok(db: Engine, db_url: str) -> None:
    engine, found = doctor.database(Config(database=DatabaseConfig(url=db_url)))
    assert engine is not None
    engine.dispose()
    assert found.level == "ok", found
    assert "migrated (" in found.detail


def test_a_database_not_migrated_is_a_failure_naming_it(db_url: str) -> None:
    engine = make_engine(db_url)
    command.upgrade(alembic_config(engine), "0016_decision_status")
    engine.dispose()
    behind, found = doctor.database(Config(database=DatabaseConfig(url=db_url)))
    assert behind is not None
    behind.dispose()
    assert found.level == "fail"
    head = ScriptDirectory.from_config(alembic_config(make_engine(db_url))).get_current_head()
    assert f"is not migrated: at 0016_decision_status, this version needs {head}" in found.detail
    shown = "the SQLite file" if db_url.startswith("sqlite") else "postgresql+psycopg://"
    assert shown in found.detail


def test_no_database_and_an_unreachable_one_fail_without_making_one(tmp_path: Path) -> None:
    missing = tmp_path / "none.db"
    engine, found = doctor.database(Config(database=DatabaseConfig(url=f"sqlite:///{missing}")))
    assert engine is None and found.level == "fail"
    assert found.detail == f"there is no database at {missing}" and not missing.exists()
    closed = "postgresql+psycopg://someone:secret@127.0.0.1:9/nothing"
    engine, found = doctor.database(Config(database=DatabaseConfig(url=closed)))
    assert engine is None and found.level == "fail"
    assert found.detail.startswith("cannot reach postgresql+psycopg://someone:***@127.0.0.1:9")
    assert "secret" not in found.detail


def test_the_scheduler_check_names_the_lock_holder_and_whether_its_jobs_run(db_url: str) -> None:
    config = Config(database=DatabaseConfig(url=db_url), web=WebConfig(port=0))  # no Telegram
    db = prepare_database(config)
    try:
        check = doctor.scheduler_lock(config, db, table="scheduler_jobs", tick_seconds=30)
        assert check.level == "warn"
        assert check.detail.startswith("no scheduler holds the lock")
        later = time.time() + 10 * TICK_SECONDS

        async def run_a_while() -> tuple[doctor.Finding, doctor.Finding]:
            service = Service(config, db)
            await service.start()
            try:
                running = doctor.scheduler_lock(config, db, table="scheduler_jobs",
                                                tick_seconds=30)  # fmt: skip
                stuck = doctor.scheduler_lock(config, db, table="scheduler_jobs",
                                              tick_seconds=TICK_SECONDS, now=later)  # fmt: skip
            finally:
                await service.stop()
            return running, stuck

        running, stuck = asyncio.run(run_a_while())
        assert running.level == "ok", running
        assert "held by needsfirst scheduler" in running.detail
        assert "its jobs are running" in running.detail
        assert stuck.level == "warn" and "overdue" in stuck.detail
        stopped = doctor.scheduler_lock(config, db, table="scheduler_jobs", tick_seconds=30)
        assert stopped.level == "warn" and "no scheduler holds the lock" in stopped.detail
    finally:
        db.dispose()


def test_no_safeguarding_lead_is_a_loud_warning() -> None:
    none = doctor.safeguarding_leads(Config())
    assert none.level == "warn" and none.detail.startswith("NO SAFEGUARDING LEAD CAN BE ALERTED")
    telegram_off = doctor.safeguarding_leads(Config(staff=StaffConfig(safeguarding=(7,))))
    assert telegram_off.level == "warn" and "Telegram is off" in telegram_off.detail
    on_telegram = Config(staff=StaffConfig(safeguarding=(7,)),
                         telegram=TelegramConfig(token=TOKEN))  # fmt: skip
    assert doctor.safeguarding_leads(on_telegram).level == "ok"
    by_email = Config(safeguarding=SafeguardingConfig(emails=("lead@council.example",),
                                                      notify_api_key=NOTIFY_KEY))  # fmt: skip
    found = doctor.safeguarding_leads(by_email)
    assert found.level == "ok" and "1 by email" in found.detail


def test_open_flags_are_counted_with_the_oldest_age(db: Engine) -> None:
    assert doctor.open_flags(db).level == "ok"
    with Session(db) as session:
        session.add(SafeguardingFlag(categories="self-harm", excerpt="-",
                                     raised_at=utcnow() - timedelta(minutes=90)))  # fmt: skip
        session.commit()
    found = doctor.open_flags(db)
    assert found.level == "warn" and found.detail.startswith("1 open")
    assert "oldest raised 90 min ago" in found.detail


def test_metrics_without_a_token_are_a_warning() -> None:
    assert doctor.metrics_exposure(Config()).level == "ok"
    assert doctor.metrics_exposure(Config(metrics=MetricsConfig(enabled=True))).level == "warn"
    guarded = Config(metrics=MetricsConfig(enabled=True, token="t" * 20))
    assert doctor.metrics_exposure(guarded).level == "ok"


# --- the command ----------------------------------------------------------------------


async def run_doctor(
    config_file: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[int, list[str]]:
    code = await asyncio.to_thread(main, ["doctor", "--config", str(config_file)])
    return code, capsys.readouterr().out.splitlines()


async def test_the_command_exits_0_unless_a_check_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'service.db'}"
    await asyncio.to_thread(prepare_database, Config(database=DatabaseConfig(url=url)))
    async with FakeBotAPI(token=TOKEN) as fake:
        config_file = tmp_path / "config.toml"
        config_file.write_text(
            f'[database]\nurl = "{url}"\n[telegram]\ntoken = "{TOKEN}"\n'
            f'base_url = "{fake.base_url}"\n[staff]\nsafeguarding = [7]\n', encoding="utf-8"
        )  # fmt: skip
        code, lines = await run_doctor(config_file, capsys)
        assert code == 0, lines
        first = [line.split()[:2] for line in lines]
        assert first[:2] == [["ok", "configuration"], ["ok", "database"]]
        assert ["ok", "telegram"] in first and ["warn", "scheduler"] in first
        assert all(line.split()[0] in ("ok", "warn") for line in lines)

        config_file.write_text(config_file.read_text().replace(TOKEN, "999:NOT-THIS-BOT"))
        code, lines = await run_doctor(config_file, capsys)
        assert code == 1 and any(line.startswith("fail  telegram") for line in lines), lines

    config_file.write_text('[telegram]\nmode = "sometimes"\n', encoding="utf-8")
    code, lines = await run_doctor(config_file, capsys)
    assert code == 1
    assert lines == [
        f'fail  configuration        {config_file}: telegram.mode: must be "polling" or "webhook"'
    ]


def test_a_service_that_does_not_answer_in_time_is_a_failure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(doctor, "PROBE_SECONDS", 1.0)

    async def silent(config: Config) -> list[doctor.Finding]:
        await asyncio.sleep(5)
        return []

    found = asyncio.run(doctor._probe(silent, Config()))
    assert found == [doctor.Finding("fail", "silent", "no answer within 1 s")]


def test_an_unfinished_or_stale_accessibility_statement_is_a_warning() -> None:
    from datetime import date

    from bot.config import OrganisationConfig

    def found(**organisation: object) -> tuple[str, str]:
        config = Config(organisation=OrganisationConfig(**organisation))  # type: ignore[arg-type]
        finding = doctor.accessibility_statement(config, today=date(2026, 12, 6))
        return finding.level, finding.detail

    assert found() == ("warn", "the statement at /accessibility says it is unfinished: set "
                       "[organisation] name, and contact_email or contact_phone")  # fmt: skip
    council = {"name": "Riverside Council", "contact_phone": "01632 960001"}
    assert found(**council)[0] == "warn" and "not been reviewed" in found(**council)[1]
    assert found(**council, statement_reviewed="2025-12-01") == (
        "warn", "the statement was last reviewed 370 days ago: review it yearly "
        "([organisation] statement_reviewed)")  # fmt: skip
    assert found(**council, statement_reviewed="2026-01-10") == (
        "ok",
        "statement for Riverside Council, reviewed 2026-01-10",
    )
