"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlmodel import SQLModel

import conversations.storage.models  # noqa: F401  (registers the tables)
from conversations.storage.db import alembic_config, make_engine, migrate
from tests.conftest import MigratedDatabases, postgres_schema


def differences_from_the_models(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    # APScheduler creates and owns its own table.
    return [d for d in differences if "scheduler_jobs" not in str(d)]


def test_migrated_schema_matches_the_models(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        migrate(engine)
        assert differences_from_the_models(engine) == []
    finally:
        engine.dispose()


def test_the_tests_databases_are_migrated_ones(
    db: Engine, db_url: str, migrated_databases: MigratedDatabases, tmp_path: Path
) -> None:
    """The `db` fixture migrates one database and copies it (tests/conftest.py): with `db`
    made, the next is a copy, and it matches the models at the latest revision."""
    heads = set(ScriptDirectory.from_config(alembic_config(db)).get_heads())
    if db_url.startswith("sqlite"):
        empty: AbstractContextManager[str] = nullcontext(f"sqlite:///{tmp_path / 'copy.db'}")
    else:
        empty = postgres_schema()
    with empty as url:
        copy = migrated_databases.engine(url)
        try:
            assert differences_from_the_models(copy) == []
            with copy.connect() as connection:
                assert set(MigrationContext.configure(connection).get_current_heads()) == heads
        finally:
            copy.dispose()
