"""The durable inbox: updates written down before they can be lost.

A channel records each fetched (or webhook-delivered) update here before it is
acknowledged, and removes it once handled. After a crash, whatever is still
here is handled again; handling is idempotent (see InboxEntry), so at-least-once
delivery gives exactly-once answers.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, delete, select

from conversations.models import PendingUpdate


def record(*, session: Session, channel: str, updates: Sequence[tuple[str, str]]) -> None:
    """Keep (update key, raw payload) pairs, once each."""
    if not updates:
        return
    keys = [key for key, _ in updates]
    known = set(
        session.exec(
            select(PendingUpdate.update_key).where(
                PendingUpdate.channel == channel, col(PendingUpdate.update_key).in_(keys)
            )
        ).all()
    )
    session.add_all(
        PendingUpdate(channel=channel, update_key=key, payload=payload)
        for key, payload in dict(updates).items()
        if key not in known
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


def handled(*, session: Session, channel: str, keys: Sequence[str]) -> None:
    session.exec(
        delete(PendingUpdate).where(
            col(PendingUpdate.channel) == channel, col(PendingUpdate.update_key).in_(keys)
        )
    )
