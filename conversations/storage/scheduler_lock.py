"""The scheduler's lock: one process at a time runs the scheduler, by a lock, not by luck.

PostgreSQL: a session-level advisory lock, held on a connection of its own for the
scheduler's life. A process that dies (even by SIGKILL) loses its connection and so
the lock, at once; a standby then takes it. Who holds it is in `pg_locks`, and the
connection's `application_name` says which machine and process it is.

SQLite: an exclusive `flock` on a file beside the database (`<file>.scheduler-lock`),
released by the kernel when the process ends; the file holds the holder's name.
A database in memory has one process by nature: the lock is always taken.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

# The advisory lock's key, a bigint from the schema's name: a lock is per database, and
# deployments (or tests) that share a database in schemas of their own must not meet.
KEY_SQL = "hashtextextended('needsfirst scheduler ' || current_schema(), 0)"


def holder_name() -> str:
    """This process, as the lock's holder is shown (fits application_name's 63 bytes)."""
    since = datetime.now(UTC).strftime("%Y-%m-%dT%H:%MZ")
    return f"needsfirst scheduler {socket.gethostname()[:24]} pid {os.getpid()} {since}"


def lock_file(db: Engine) -> Path | None:
    """The SQLite lock file, or None on PostgreSQL or a database in memory."""
    url = db.url
    if url.get_backend_name() != "sqlite":
        return None
    name = url.database
    if not name or name == ":memory:" or name.startswith("file:"):
        return None
    return Path(name).expanduser().resolve().with_name(Path(name).name + ".scheduler-lock")


class SchedulerLock:
    """Take the lock without waiting (`take`), check it is still held (`held`), `release`."""

    def __init__(self, db: Engine, who: str | None = None) -> None:
        self.db = db
        self.who = who or holder_name()
        self._connection: Connection | None = None
        self._file: IO[str] | None = None
        self._memory = False
        self._key = 0

    @property
    def taken(self) -> bool:
        return self._connection is not None or self._file is not None or self._memory

    def take(self) -> bool:
        """True if this process holds the lock now (taken now or before)."""
        if self.taken:
            return True
        if self.db.url.get_backend_name() == "postgresql":
            return self._take_advisory()
        path = lock_file(self.db)
        if path is None:
            self._memory = True
            return True
        handle = path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(self.who + "\n")
        handle.flush()
        self._file = handle
        return True

    def _take_advisory(self) -> bool:
        connection = self.db.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            connection.execute(text("SELECT set_config('application_name', :who, false)"),
                               {"who": self.who[:63]})  # fmt: skip
            self._key = int(connection.execute(text(f"SELECT {KEY_SQL}")).scalar_one())
            got = bool(connection.execute(text("SELECT pg_try_advisory_lock(:key)"),
                                          {"key": self._key}).scalar())  # fmt: skip
        except DBAPIError:
            connection.invalidate()
            connection.close()
            raise
        if not got:
            connection.close()
            return False
        self._connection = connection
        return True

    def held(self) -> bool:
        """Whether the lock is still ours: on PostgreSQL, whether its connection lives."""
        if self._connection is None:
            return self.taken
        try:
            self._connection.execute(text("SELECT 1"))
        except DBAPIError:
            self._drop_connection()
            return False
        return True

    def release(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(DBAPIError):
                self._connection.execute(text("SELECT pg_advisory_unlock(:key)"),
                                         {"key": self._key})  # fmt: skip
            self._drop_connection()
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        self._memory = False

    def _drop_connection(self) -> None:
        # Closed for good, not returned to the pool: a pooled connection keeps session locks.
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(DBAPIError):
                connection.invalidate()
            connection.close()


def holder(db: Engine) -> tuple[bool, str]:
    """(whether a scheduler holds the lock now, who it is or where the lock is kept).

    Reads only: it never takes the lock, never writes."""
    if db.url.get_backend_name() == "postgresql":
        with db.connect() as connection:
            key = int(connection.execute(text(f"SELECT {KEY_SQL}")).scalar_one()) % 2**64
            row = connection.execute(
                text(
                    "SELECT a.application_name, a.client_addr, a.pid FROM pg_locks l "
                    "JOIN pg_stat_activity a ON a.pid = l.pid "
                    "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
                    "AND l.database = (SELECT oid FROM pg_database "
                    "WHERE datname = current_database()) "
                    "AND l.classid::bigint = :high AND l.objid::bigint = :low"
                ),
                {"high": key >> 32, "low": key & 0xFFFFFFFF},
            ).first()
        if row is None:
            return False, "the advisory lock is free"
        name, address, pid = row
        where = f" from {address}" if address else ""
        return True, f"{name or 'an unnamed connection'}{where} (database backend {pid})"
    path = lock_file(db)
    if path is None:
        return False, "a database in memory has no lock"
    if not path.exists():
        return False, f"no scheduler has taken {path}"
    with path.open("r", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return True, handle.read().strip() or f"a process holding {path}"
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    return False, f"nobody holds {path}"
