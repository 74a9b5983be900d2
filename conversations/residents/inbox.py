"""The durable inbox: updates written down before they can be lost.

A channel records each fetched (or webhook-delivered) update here before it is
acknowledged, and removes it once handled. After a crash, whatever is still
here is handled again; handling is idempotent (see InboxEntry), so at-least-once
delivery gives exactly-once answers. `handled_elsewhere` reads the handled ones:
how busy other processes are.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, delete, select

from conversations.storage.models import InboxEntry, PendingUpdate, utcnow

_pending = PendingUpdate.__table__  # type: ignore[attr-defined]


def record(*, connection: Connection, channel: str, updates: Sequence[tuple[str, str]]) -> None:
    """Keep (update key, raw payload) pairs, once each.

    Core, not the ORM: this runs for every batch of updates before anything else."""
    if not updates:
        return
    dialect = connection.dialect.name
    statement: Any = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(_pending)
    now = utcnow()
    connection.execute(
        statement.on_conflict_do_nothing(),
        [
            {"channel": channel, "update_key": key, "payload": payload, "received_at": now}
            for key, payload in dict(updates).items()
        ],
    )


def pending(*, session: Session, channel: str, limit: int = 10_000) -> list[tuple[str, str]]:
    """Updates not yet handled, oldest first."""
    rows = session.exec(
        select(PendingUpdate.update_key, PendingUpdate.payload)
        .where(PendingUpdate.channel == channel)
        .order_by(col(PendingUpdate.received_at), col(PendingUpdate.update_key))
        .limit(limit)
    ).all()
    return [(key, payload) for key, payload in rows]


def handled(*, connection: Connection, channel: str, keys: Sequence[str]) -> None:
    connection.execute(
        delete(PendingUpdate).where(
            col(PendingUpdate.channel) == channel, col(PendingUpdate.update_key).in_(keys)
        )
    )


def handled_elsewhere(*, session: Session, channel: str, since: datetime, boot_id: str) -> int:
    """Updates of a channel handled since `since` by processes other than `boot_id`."""
    return int(
        session.exec(
            select(func.count())
            .select_from(InboxEntry)
            .where(
                InboxEntry.channel == channel,
                col(InboxEntry.handled_at) >= since,
                or_(col(InboxEntry.handled_by).is_(None), col(InboxEntry.handled_by) != boot_id),
            )
        ).one()
    )
