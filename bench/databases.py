"""A fresh database for each benchmark run, and its removal afterwards.

SQLite: a new file in the run's folder. PostgreSQL: a new schema in the server at
NEEDSFIRST_BENCH_POSTGRES_URL (default: this machine's `test` database), dropped
when the run ends, so that runs leave nothing behind in a shared server.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from sqlalchemy import text

from conversations.storage.db import make_engine

POSTGRES_URL = os.environ.get(
    "NEEDSFIRST_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def fresh_database(kind: str, folder: Path) -> str:
    """The URL of an empty database of `kind` ("sqlite" or "postgres")."""
    if kind == "sqlite":
        return f"sqlite:///{folder / f'bench-{time.time_ns()}.db'}"
    schema = f"bench_{time.time_ns()}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    return f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"


def drop_database(kind: str, db_url: str) -> None:
    """Remove what `fresh_database` made (the SQLite file and its journals, or the schema)."""
    if kind != "postgres":
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(db_url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
        return
    schema = db_url.rsplit("search_path%3D", 1)[1]
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()
