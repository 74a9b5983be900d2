"""Which running services are alive, seen from another process.

Each running service has a boot id (conversations/residents/service.py), written on
every update it handles. Behind a load balancer, a redelivered update can reach a
worker other than the one that handled it first; that worker must not send the
replies again while the first is still sending them, and must send them if the
first died before it could. On PostgreSQL each service holds an advisory lock
keyed by its boot id for its life (`AliveMark`); the lock goes with the process,
even by SIGKILL, so `alive` can ask. SQLite serves one machine and has no such
lock: `alive` says None (unknown), and only the asking process counts as alive.
"""

from __future__ import annotations

import contextlib

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

KEY_SQL = "hashtextextended('needsfirst process ' || :boot, 0)"


class AliveMark:
    """Held for a service's life on PostgreSQL (a connection of its own); nothing on SQLite."""

    def __init__(self, db: Engine, boot_id: str) -> None:
        self.db = db
        self.boot_id = boot_id
        self._connection: Connection | None = None

    def take(self) -> None:
        if self.db.url.get_backend_name() != "postgresql" or self._connection is not None:
            return
        connection = self.db.connect().execution_options(isolation_level="AUTOCOMMIT")
        connection.execute(text(f"SELECT pg_advisory_lock({KEY_SQL})"), {"boot": self.boot_id})
        self._connection = connection

    def release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        # Closed for good, not pooled: a pooled connection would keep the lock.
        with contextlib.suppress(DBAPIError):
            connection.invalidate()
        connection.close()


def alive(session: Session, boot_id: str) -> bool | None:
    """Whether the service with this boot id still runs (None: cannot tell, on SQLite)."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return None
    free = session.execute(
        text(f"SELECT pg_try_advisory_xact_lock_shared({KEY_SQL})"), {"boot": boot_id}
    ).scalar()
    return not free
