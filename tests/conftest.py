"""Shared fixtures: databases (SQLite and the real PostgreSQL server), scripts, the
resident service, and the fake Telegram Bot API with a bot talking to it.

A test module overrides one of these by defining a fixture of the same name (which
may ask for the shared one): `bot_staff` to name its own staff, `fake` to add users.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import Engine, event, text

from analysis.themes.embed import semantic_extra_installed
from bot.actions.consultations import EXAMPLE_SCRIPT, load_consultation
from bot.config import StaffConfig
from conversations.flow.script import Script
from conversations.flow.script_toml import load_script
from conversations.residents.service import ConversationService
from conversations.storage.db import make_engine, migrate
from tests.browser.chromium import missing_browser

if TYPE_CHECKING:  # imported where used: the whole service takes seconds to import
    from telegram import Bot

    from bot.app import Service
    from tests.fakes.telegram_api import FakeBotAPI

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "conversations" / "flow" / "scripts" / "example.toml"
POSTGRES_URL = os.environ.get("NEEDSFIRST_TEST_POSTGRES_URL", "")
# python-telegram-bot warns while building a 429's RetryAfter unless this is set.
os.environ.setdefault("PTB_TIMEDELTA", "true")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-transcripts",
        action="store_true",
        help="rewrite the golden transcripts in tests/transcripts from the engine's output",
    )


POSTGRES_MISSING = (
    "PostgreSQL tests need NEEDSFIRST_TEST_POSTGRES_URL, e.g. "
    "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def pytest_configure(config: pytest.Config) -> None:
    """CI requires the PostgreSQL, browser and sentence-embedding tests: without them the run stops at once
    (here rather than at collection, which pytest-xdist's controller does not do)."""
    if os.environ.get("NEEDSFIRST_REQUIRE_POSTGRES") and not POSTGRES_URL:
        raise pytest.UsageError("NEEDSFIRST_REQUIRE_POSTGRES is set but " + POSTGRES_MISSING)
    if os.environ.get("NEEDSFIRST_REQUIRE_HAPROXY") == "1" and not shutil.which("haproxy"):
        raise pytest.UsageError("NEEDSFIRST_REQUIRE_HAPROXY=1 but haproxy is not installed")
    if os.environ.get("NEEDSFIRST_REQUIRE_BROWSER") == "1" and (problem := missing_browser()):
        raise pytest.UsageError(f"NEEDSFIRST_REQUIRE_BROWSER=1 but {problem}")
    if os.environ.get("NEEDSFIRST_REQUIRE_SEMANTIC") == "1" and not semantic_extra_installed():
        raise pytest.UsageError(
            "NEEDSFIRST_REQUIRE_SEMANTIC=1 but the semantic extra is not installed: "
            "pip install -e '.[semantic,dev]'"
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if POSTGRES_URL:
        return
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=POSTGRES_MISSING))


@pytest.fixture(autouse=True)
def lexical_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Analyses in this process are lexical whether or not the semantic extra is
    installed here, so that a test's themes and quotes are the same on every machine.
    Tests of the semantic path pass their encoder (or embedder) explicitly."""
    import bot.actions.answer_vectors

    monkeypatch.setattr(bot.actions.answer_vectors, "installed_encoder", lambda: None)


@pytest.fixture(scope="session")
def example_script() -> Script:
    return load_script(EXAMPLE)


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A URL whose connections use a fresh, empty schema, dropped afterwards."""
    schema = f"t_{secrets.token_hex(6)}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database (not migrated): SQLite in a temporary file, or a PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'needsfirst.db'}"
    else:
        with postgres_schema() as url:
            yield url


class MigratedDatabases:
    """Migrated, empty databases without migrating each one: alembic takes 0.5-1.5 s
    a database, longer than most tests. The first of each kind is migrated for real;
    a SQLite database after it starts as a copy of that file, and a PostgreSQL schema
    runs the statements that migration ran (all but its reads). tests/test_migrations.py checks both give
    the schema a real migration gives."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.sqlite_file: Path | None = None
        self.postgres_statements: list[tuple[str, Any]] | None = None

    def engine(self, url: str) -> Engine:
        if url.startswith("sqlite:///"):
            return self._sqlite(Path(url.removeprefix("sqlite:///")))
        return self._postgres(url)

    def _sqlite(self, path: Path) -> Engine:
        if self.sqlite_file is None:
            first = self.directory / "migrated.db"
            template = make_engine(f"sqlite:///{first}")
            migrate(template)
            template.dispose()  # the last connection's close folds the WAL into the file
            assert not first.with_name(first.name + "-wal").exists()
            self.sqlite_file = first
        shutil.copyfile(self.sqlite_file, path)
        return make_engine(f"sqlite:///{path}")

    def _postgres(self, url: str) -> Engine:
        engine = make_engine(url)
        if self.postgres_statements is None:
            ran: list[tuple[str, Any]] = []

            def record(_c: Any, _cursor: Any, sql: str, parameters: Any, *_: Any) -> None:
                if not sql.lstrip().upper().startswith("SELECT"):  # alembic looking around
                    ran.append((sql, parameters))

            event.listen(engine, "before_cursor_execute", record)
            migrate(engine)
            event.remove(engine, "before_cursor_execute", record)
            self.postgres_statements = ran
        else:
            with engine.begin() as connection:
                for sql, parameters in self.postgres_statements:
                    connection.exec_driver_sql(sql, parameters)
        return engine


@pytest.fixture(scope="session")
def migrated_databases(tmp_path_factory: pytest.TempPathFactory) -> MigratedDatabases:
    return MigratedDatabases(tmp_path_factory.mktemp("migrated"))


@pytest.fixture
def db(db_url: str, migrated_databases: MigratedDatabases) -> Iterator[Engine]:
    """A migrated, empty database (see MigratedDatabases)."""
    engine = migrated_databases.engine(db_url)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def sqlite_db(tmp_path: Path, migrated_databases: MigratedDatabases) -> Iterator[Engine]:
    engine = migrated_databases.engine(f"sqlite:///{tmp_path / 'needsfirst.db'}")
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def service(db: Engine) -> ConversationService:
    """The resident service over the example consultation, its first round open."""
    load_consultation(db, EXAMPLE_SCRIPT, actor="test", open_first_round=True)
    return ConversationService(db)


# --- Telegram: the fake Bot API, and a bot talking to it ------------------------------------


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    """The fake Telegram Bot API, as strict as Telegram (tests/fakes/telegram_api/)."""
    from tests.fakes.telegram_api import FakeBotAPI

    async with FakeBotAPI() as server:
        yield server


@pytest.fixture
async def telegram_bot(fake: FakeBotAPI) -> AsyncIterator[Bot]:
    """A python-telegram-bot Bot on the fake, for code that sends without the whole service."""
    from telegram import Bot

    from tests.telegram_harness import TOKEN

    async with Bot(TOKEN, base_url=fake.base_url, base_file_url=fake.base_file_url) as client:
        yield client


@pytest.fixture
def bot_staff() -> StaffConfig:
    """The staff of the running `bot`: nobody, unless a test module names its own."""
    return StaffConfig()


@pytest.fixture
async def bot(fake: FakeBotAPI, db_url: str, bot_staff: StaffConfig) -> AsyncIterator[Service]:
    """The whole service (the bot polling the fake, the web server) on `db_url`."""
    from tests.telegram_harness import bot_config, running_bot

    async with running_bot(replace(bot_config(fake, db_url), staff=bot_staff)) as service:
        yield service


@pytest.fixture
def bot_db(db_url: str) -> Iterator[Engine]:
    """The running bot's own database (it migrates it), for a test to read.

    Not `db`, which would copy a migrated database over it."""
    engine = make_engine(db_url)
    try:
        yield engine
    finally:
        engine.dispose()
