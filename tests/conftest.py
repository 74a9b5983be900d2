"""Shared fixtures: databases (SQLite and the real PostgreSQL server) and scripts."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from conversations.db import make_engine, migrate
from conversations.script import Script, load_script

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "conversations" / "scripts" / "example.toml"
POSTGRES_URL = os.environ.get("NEEDSFIRST_TEST_POSTGRES_URL", "")
# python-telegram-bot warns while building a 429's RetryAfter unless this is set.
os.environ.setdefault("PTB_TIMEDELTA", "true")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-transcripts",
        action="store_true",
        help="rewrite the golden transcripts in tests/transcripts from the engine's output",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if POSTGRES_URL:
        return
    reason = (
        "PostgreSQL tests need NEEDSFIRST_TEST_POSTGRES_URL, e.g. "
        "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    if os.environ.get("NEEDSFIRST_REQUIRE_POSTGRES"):
        raise pytest.UsageError("NEEDSFIRST_REQUIRE_POSTGRES is set but " + reason)
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def example_script() -> Script:
    return load_script(EXAMPLE)


def _postgres_schema_url() -> Iterator[str]:
    """A URL whose connections use a fresh schema, dropped afterwards."""
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
    """A migrated, empty database: SQLite in a temporary file, or a PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'needsfirst.db'}"
    else:
        yield from _postgres_schema_url()


@pytest.fixture
def db(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    migrate(engine)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'needsfirst.db'}")
    migrate(engine)
    try:
        yield engine
    finally:
        engine.dispose()
