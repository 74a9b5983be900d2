"""Database engine set-up and migrations.

SQLite runs in WAL mode with write transactions taken up front (BEGIN IMMEDIATE),
so two workers never read the same conversation state and both write it back.
PostgreSQL gets the same guarantee from SELECT ... FOR UPDATE in the queries.

Residents' words must not outlive an erasure or leak beside it: a failed
statement's parameters (answers, device hashes) are never put in its error
message (`hide_parameters`), SQLite overwrites deleted content (`secure_delete`)
and `after_erasure` checkpoints the write-ahead log that still holds it, and a
new SQLite file is readable by its owner only.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from sqlmodel import create_engine

MIGRATIONS = Path(__file__).parent.parent / "migrations"


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An Engine for `url`, with SQLite tuned for one machine's concurrent use."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20,
                             hide_parameters=True)  # fmt: skip
    if (
        parsed.database
        and parsed.database != ":memory:"
        and not parsed.database.startswith("file:")
    ):
        _create_private(Path(parsed.database).expanduser())
    engine = create_engine(url, echo=echo, hide_parameters=True,
                           connect_args={"check_same_thread": False, "timeout": 30})  # fmt: skip

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        # Deleted rows are overwritten with zeros, not left in free pages.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _create_private(path: Path) -> None:
    """Create the SQLite file owner-only before SQLite does (its WAL and shared
    memory files then take the same permissions)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


def after_erasure(engine: Engine) -> None:
    """Push an erasure out of SQLite's write-ahead log, which still holds the old pages.

    Call after the erasing transaction commits. PostgreSQL needs nothing here:
    its dead rows are never readable through SQL and are vacuumed away."""
    if engine.dialect.name != "sqlite":
        return
    # On the driver's connection, outside any transaction: a checkpoint cannot
    # copy pages back while its own connection holds a read snapshot.
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.close()
    finally:
        connection.close()


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema up to date; safe to run at every start."""
    # "heads": features may add migrations on branches of their own until merged.
    command.upgrade(alembic_config(engine), "heads")


def redact_url(url: str) -> str:
    """The database URL with any password hidden, for logs and errors."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparseable URL still must not leak a secret
        return "<unparseable database url>"
