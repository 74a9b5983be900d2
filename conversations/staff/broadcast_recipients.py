"""A queued broadcast's recipients, as the sender works through them.

The sender moves each recipient's row from pending to sending *before* it calls
the channel and to its outcome after, so after a crash a row left in "sending" is
never tried again: nobody gets the same invitation twice (at most once, by design).
Who the recipients are is decided when the broadcast is queued
(conversations.staff.broadcasts).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select, update

from conversations.storage.models import (
    Broadcast,
    BroadcastRecipient,
    ChannelIdentity,
    Resident,
    utcnow,
)

OUTCOMES = ("sent", "failed", "blocked", "stopped")


def active(*, session: Session) -> list[Broadcast]:
    """Broadcasts the sender should work on, oldest first."""
    return list(
        session.exec(
            select(Broadcast)
            .where(col(Broadcast.status).in_(("queued", "sending")))
            .order_by(col(Broadcast.id))
        ).all()
    )


@dataclass(frozen=True)
class Delivery:
    recipient_id: int
    resident_id: int
    chat_id: str | None
    invitations: bool
    unreachable: bool = False
    language: str = "en"


def claim(*, session: Session, broadcast_id: int, limit: int) -> list[Delivery]:
    """Move up to `limit` pending recipients to "sending" and return them.

    Committed before anything is sent, so that a crash can never send twice. A
    broadcast cancelled (or finished) meanwhile has nothing more to claim."""
    broadcast = session.get(Broadcast, broadcast_id)
    assert broadcast is not None
    if broadcast.status not in ("queued", "sending"):
        return []
    if broadcast.status == "queued":
        broadcast.status = "sending"
        broadcast.started_at = utcnow()
        session.add(broadcast)
    # The next pending rows first, on their own: with a join in the same statement,
    # PostgreSQL's planner (its statistics still those from before the broadcast's
    # rows were written) joined every pending row before taking the first, half a
    # second a claim at 5,000 recipients.
    ids = session.exec(
        select(BroadcastRecipient.id)
        .where(
            BroadcastRecipient.broadcast_id == broadcast_id,
            BroadcastRecipient.state == "pending",
            BroadcastRecipient.channel == "telegram",  # Notify's own sender has the others
        )
        .order_by(col(BroadcastRecipient.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not ids:
        return []
    rows = session.exec(
        select(BroadcastRecipient, ChannelIdentity.chat_id, Resident)
        .join(Resident, col(Resident.id) == col(BroadcastRecipient.resident_id))
        .outerjoin(
            ChannelIdentity,
            (col(ChannelIdentity.resident_id) == col(BroadcastRecipient.resident_id))
            & (col(ChannelIdentity.channel) == "telegram"),
        )
        .where(col(BroadcastRecipient.id).in_(ids))
        .order_by(col(BroadcastRecipient.id))
    ).all()
    deliveries = []
    for recipient, chat_id, resident in rows:
        assert recipient.id is not None
        recipient.state = "sending"
        recipient.attempts += 1
        recipient.updated_at = utcnow()
        session.add(recipient)
        deliveries.append(
            Delivery(
                recipient.id,
                recipient.resident_id,
                chat_id,
                resident.invitations,
                resident.unreachable,
                resident.language,
            )
        )
    return deliveries


def record(*, session: Session, recipient_id: int, outcome: str) -> None:
    """The outcome of one send; a blocked resident is not tried again by anyone."""
    if outcome not in OUTCOMES:
        raise ValueError(outcome)
    recipient = session.get(BroadcastRecipient, recipient_id)
    if recipient is None:  # the resident asked us to forget them meanwhile
        return
    recipient.state = outcome
    recipient.updated_at = utcnow()
    session.add(recipient)
    if outcome == "blocked":
        session.exec(
            update(Resident)
            .where(col(Resident.id) == recipient.resident_id)
            .values(unreachable=True)
        )


def record_many(*, session: Session, outcomes: Mapping[int, str]) -> None:
    """Several outcomes (recipient id -> outcome) in one statement per outcome."""
    by_outcome: dict[str, list[int]] = {}
    for recipient_id, outcome in outcomes.items():
        if outcome not in OUTCOMES:
            raise ValueError(outcome)
        by_outcome.setdefault(outcome, []).append(recipient_id)
    now = utcnow()
    for outcome, ids in by_outcome.items():
        # Rows of residents erased meanwhile are simply gone, and so not updated.
        session.exec(
            update(BroadcastRecipient)
            .where(col(BroadcastRecipient.id).in_(ids))
            .values(state=outcome, updated_at=now)
        )
    if blocked := by_outcome.get("blocked"):
        session.exec(
            update(Resident)
            .where(
                col(Resident.id).in_(
                    select(BroadcastRecipient.resident_id).where(
                        col(BroadcastRecipient.id).in_(blocked)
                    )
                )
            )
            .values(unreachable=True)
        )


def release(*, session: Session, recipient_ids: list[int]) -> None:
    """Put back recipients claimed but certainly not sent (the sender is stopping)."""
    session.exec(
        update(BroadcastRecipient)
        .where(
            col(BroadcastRecipient.id).in_(recipient_ids),
            col(BroadcastRecipient.state) == "sending",
        )
        .values(state="pending", updated_at=utcnow())
    )


def finish_if_done(*, session: Session, broadcast_id: int) -> bool:
    """Mark a broadcast done once no recipient is pending or being sent."""
    open_rows = session.exec(
        select(func.count())
        .select_from(BroadcastRecipient)
        .where(
            BroadcastRecipient.broadcast_id == broadcast_id,
            col(BroadcastRecipient.state).in_(("pending", "sending")),
        )
    ).one()
    if open_rows:
        return False
    broadcast = session.get(Broadcast, broadcast_id)
    assert broadcast is not None
    if broadcast.status != "done":
        broadcast.status = "done"
        broadcast.finished_at = utcnow()
        session.add(broadcast)
    return True


def recover(*, session: Session, channels: tuple[str, ...] = ("telegram",)) -> int:
    """After a restart: rows of `channels` left in "sending" may or may not have gone out.

    They are marked failed and not retried, so that nobody gets a duplicate."""
    rows = session.exec(
        update(BroadcastRecipient)
        .where(
            col(BroadcastRecipient.state) == "sending",
            col(BroadcastRecipient.channel).in_(channels),
        )
        .values(state="failed", updated_at=utcnow())
    )
    return int(rows.rowcount or 0)


def skip_channels(*, session: Session, channels: Collection[str]) -> int:
    """Pending rows on channels this service cannot send on (switched off, or never on):
    skipped, so that their broadcasts can finish rather than wait for a sender that does
    not run. The broadcasts left with nothing to send are marked done."""
    if not channels:
        return 0
    active = list(
        session.exec(
            select(Broadcast.id).where(col(Broadcast.status).in_(("queued", "sending")))
        ).all()
    )
    if not active:
        return 0
    skipped = session.exec(
        update(BroadcastRecipient)
        .where(
            col(BroadcastRecipient.broadcast_id).in_(active),
            col(BroadcastRecipient.channel).in_(list(channels)),
            col(BroadcastRecipient.state) == "pending",
        )
        .values(state="skipped", updated_at=utcnow())
    )
    count = int(skipped.rowcount or 0)
    if count:
        for broadcast_id in active:
            assert broadcast_id is not None
            finish_if_done(session=session, broadcast_id=broadcast_id)
    return count
