"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine
from sqlmodel import SQLModel

import conversations.models  # noqa: F401  (registers the tables)


def test_migrated_schema_matches_the_models(db: Engine) -> None:
    with db.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    # APScheduler creates and owns its own table.
    unexpected = [d for d in differences if "scheduler_jobs" not in str(d)]
    assert unexpected == []
