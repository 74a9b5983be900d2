"""A broadcast's recipients reached through GOV.UK Notify (web-chat residents who
left a mobile number or email address), as the Notify sender works through them.

The same rule as Telegram's (conversations/staff/broadcast_recipients.py): a row
moves from pending to sending, committed, before Notify is called, and to its
outcome after, with Notify's notification id; a row found in "sending" after a
restart is counted failed and never sent again. Delivery receipts (Notify's
status of a sent message) are recorded on the same row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from conversations.storage.models import (
    Broadcast,
    BroadcastRecipient,
    Consultation,
    Resident,
    ResidentContact,
    in_language,
    utcnow,
)

CHANNELS = ("email", "sms")
# Notify's final statuses: a receipt in one of these is not asked for again.
FINAL_RECEIPTS = (
    "delivered",
    "permanent-failure",
    "temporary-failure",
    "technical-failure",
    "validation-failed",
)


@dataclass(frozen=True)
class NotifyDelivery:
    recipient_id: int
    broadcast_id: int
    channel: str  # email | sms
    address: str | None  # None: removed since the broadcast was queued
    language: str
    invitations: bool
    message: str
    slug: str


def claim(*, session: Session, limit: int) -> list[NotifyDelivery]:
    """Move up to `limit` pending Notify recipients of active broadcasts to "sending"."""
    rows = session.exec(
        select(BroadcastRecipient, Broadcast, Consultation.slug, Resident)
        .join(Broadcast, col(Broadcast.id) == col(BroadcastRecipient.broadcast_id))
        .join(Consultation, col(Consultation.id) == col(Broadcast.consultation_id))
        .join(Resident, col(Resident.id) == col(BroadcastRecipient.resident_id))
        .where(
            col(BroadcastRecipient.channel).in_(CHANNELS),
            col(BroadcastRecipient.state) == "pending",
            col(Broadcast.status).in_(("queued", "sending")),
        )
        .order_by(col(BroadcastRecipient.id))
        .limit(limit)
        .with_for_update(skip_locked=True, of=BroadcastRecipient)
    ).all()
    deliveries = []
    for recipient, broadcast, slug, resident in rows:
        assert recipient.id is not None and broadcast.id is not None
        if broadcast.status == "queued":
            broadcast.status, broadcast.started_at = "sending", utcnow()
            session.add(broadcast)
        address = session.exec(
            select(ResidentContact.address).where(
                ResidentContact.resident_id == recipient.resident_id,
                ResidentContact.kind == recipient.channel,
            )
        ).first()
        recipient.state, recipient.updated_at = "sending", utcnow()
        recipient.attempts += 1
        session.add(recipient)
        deliveries.append(
            NotifyDelivery(recipient.id, broadcast.id, recipient.channel, address,
                           resident.language, resident.invitations,
                           in_language(broadcast.message, broadcast.translations,
                                       resident.language), slug)
        )  # fmt: skip
    return deliveries


def record(*, session: Session, recipient_id: int, outcome: str,
           notify_id: str | None = None) -> None:  # fmt: skip
    """The outcome of one send, with Notify's id for a message it accepted."""
    recipient = session.get(BroadcastRecipient, recipient_id)
    if recipient is None:  # erased meanwhile
        return
    recipient.state, recipient.updated_at = outcome, utcnow()
    if notify_id is not None:
        recipient.provider_ref = notify_id
    session.add(recipient)


def release(*, session: Session, recipient_id: int) -> None:
    """Put back one claimed but certainly unsent (Notify said: not now)."""
    recipient = session.get(BroadcastRecipient, recipient_id)
    if recipient is not None and recipient.state == "sending":
        recipient.state = "pending"
        session.add(recipient)


def awaiting_receipt(*, session: Session, limit: int) -> list[tuple[int, str]]:
    """Sent messages whose delivery is not yet known: (recipient id, Notify id)."""
    rows = session.exec(
        select(BroadcastRecipient.id, BroadcastRecipient.provider_ref)
        .where(
            col(BroadcastRecipient.channel).in_(CHANNELS),  # not WhatsApp's wamids
            col(BroadcastRecipient.provider_ref).is_not(None),
            col(BroadcastRecipient.receipt).is_(None)
            | col(BroadcastRecipient.receipt).not_in(FINAL_RECEIPTS),
        )
        .order_by(col(BroadcastRecipient.updated_at))
        .limit(limit)
    ).all()
    return [(int(r), str(n)) for r, n in rows if r is not None and n is not None]


def record_receipt(*, session: Session, recipient_id: int, status: str,
                   at: datetime | None = None) -> None:  # fmt: skip
    recipient = session.get(BroadcastRecipient, recipient_id)
    if recipient is None:
        return
    recipient.receipt, recipient.receipt_at = status[:20], at or utcnow()
    recipient.updated_at = utcnow()
    session.add(recipient)
