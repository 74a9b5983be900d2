"""A broadcast's recipients reached on WhatsApp, as the WhatsApp sender works through them.

The same rule as Telegram's and Notify's (broadcast_recipients.py): a row moves from
pending to sending, committed, before the Cloud API is called, and to its outcome
after, with WhatsApp's message id (the wamid); a row found in "sending" after a
restart is counted failed and never sent again. A row the API certainly did not take
(Meta said "not now") goes back to pending. Status webhooks find their row by the
wamid (`provider_ref`) and record the receipt on it.

WhatsApp's messaging limit tier counts the unique residents a business-initiated
message (a template) went to in a rolling 24 hours: `tier_used` counts them from the
rows' sent times, so that the sender stops claiming at the limit.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select, update

from conversations.staff import broadcast_recipients
from conversations.storage.models import (
    Broadcast,
    BroadcastRecipient,
    ChannelIdentity,
    Consultation,
    Decision,
    Resident,
    in_language,
)

CHANNEL = "whatsapp"
DAY = timedelta(hours=24)
# The rows' outcomes; "skipped": not sent because no template is set up for its kind.
OUTCOMES = ("sent", "failed", "blocked", "stopped", "skipped")
# Receipts in the order they happen: a late "delivered" does not undo "read".
RECEIPT_ORDER = {"sent": 0, "delivered": 1, "read": 2, "failed": 3}
UNDELIVERABLE = 131026  # Meta: not a WhatsApp number, or the resident blocked us


@dataclass(frozen=True)
class WhatsAppDelivery:
    recipient_id: int
    broadcast_id: int
    resident_id: int
    wa_id: str | None  # None: their WhatsApp identity is gone (erased, retention)
    language: str
    invitations: bool  # False: they said stop after the broadcast was queued
    unreachable: bool
    kind: str  # invitation | decision
    message: str
    slug: str
    attempts: int  # this one included


@dataclass(frozen=True)
class Outcome:
    recipient_id: int
    state: str  # one of OUTCOMES
    wamid: str | None = None
    note: str | None = None  # kept in `receipt`: why it was skipped or failed


def claim(*, session: Session, limit: int, now: datetime,
          held: Collection[int] = ()) -> list[WhatsAppDelivery]:  # fmt: skip
    """Move up to `limit` pending WhatsApp recipients of active broadcasts to "sending",
    oldest first, leaving out the rows in `held` (waiting out a pause of their own)."""
    if limit <= 0:
        return []
    active = select(Broadcast.id).where(col(Broadcast.status).in_(("queued", "sending")))
    query = select(BroadcastRecipient.id).where(
        BroadcastRecipient.channel == CHANNEL,
        BroadcastRecipient.state == "pending",
        col(BroadcastRecipient.broadcast_id).in_(active),
    )
    if held:
        query = query.where(col(BroadcastRecipient.id).not_in(list(held)))
    ids = session.exec(
        query.order_by(col(BroadcastRecipient.id)).limit(limit).with_for_update(skip_locked=True)
    ).all()
    if not ids:
        return []
    rows = session.exec(
        select(BroadcastRecipient, Broadcast, Consultation.slug, Resident)
        .join(Broadcast, col(Broadcast.id) == col(BroadcastRecipient.broadcast_id))
        .join(Consultation, col(Consultation.id) == col(Broadcast.consultation_id))
        .join(Resident, col(Resident.id) == col(BroadcastRecipient.resident_id))
        .where(col(BroadcastRecipient.id).in_(ids))
        .order_by(col(BroadcastRecipient.id))
    ).all()
    wa_ids = dict(
        session.exec(
            select(ChannelIdentity.resident_id, ChannelIdentity.chat_id).where(
                ChannelIdentity.channel == CHANNEL,
                col(ChannelIdentity.resident_id).in_([r.resident_id for r, _, _, _ in rows]),
            )
        ).all()
    )
    broadcast_ids = {broadcast.id for _, broadcast, _, _ in rows}
    decisions = set(
        session.exec(
            select(Decision.broadcast_id).where(col(Decision.broadcast_id).in_(broadcast_ids))
        ).all()
    )
    deliveries = []
    for recipient, broadcast, slug, resident in rows:
        assert recipient.id is not None and broadcast.id is not None
        if broadcast.status == "queued":
            broadcast.status, broadcast.started_at = "sending", now
            session.add(broadcast)
        recipient.state, recipient.updated_at = "sending", now
        recipient.attempts += 1
        session.add(recipient)
        deliveries.append(
            WhatsAppDelivery(
                recipient_id=recipient.id, broadcast_id=broadcast.id,
                resident_id=recipient.resident_id, wa_id=wa_ids.get(recipient.resident_id),
                language=resident.language,
                invitations=resident.invitations, unreachable=resident.unreachable,
                kind="decision" if broadcast.id in decisions else "invitation",
                message=in_language(broadcast.message, broadcast.translations, resident.language),
                slug=slug, attempts=recipient.attempts,
            )
        )  # fmt: skip
    return deliveries


def record(*, session: Session, outcomes: Sequence[Outcome], at: datetime) -> None:
    """Several sends' outcomes; a blocked resident is not tried again by anyone, and a
    broadcast with nothing left to send is done."""
    touched: set[int] = set()
    blocked: list[int] = []
    for outcome in outcomes:
        if outcome.state not in OUTCOMES:
            raise ValueError(outcome.state)
        recipient = session.get(BroadcastRecipient, outcome.recipient_id)
        if recipient is None:  # the resident asked us to forget them meanwhile
            continue
        recipient.state, recipient.updated_at = outcome.state, at
        if outcome.wamid is not None:
            recipient.provider_ref = outcome.wamid
        if outcome.note is not None:
            recipient.receipt = outcome.note[:20]
        session.add(recipient)
        touched.add(recipient.broadcast_id)
        if outcome.state == "blocked":
            blocked.append(recipient.resident_id)
    if blocked:
        _unreachable(session, blocked)
    session.flush()
    for broadcast_id in sorted(touched):
        broadcast_recipients.finish_if_done(session=session, broadcast_id=broadcast_id)


def release(*, session: Session, recipient_ids: Sequence[int], counted: bool = True) -> None:
    """Put back rows claimed but certainly not sent. `counted=False`: Meta only said
    "not now" (its throughput, the pair rate), which does not use up an attempt."""
    values: dict[str, object] = {"state": "pending"}
    if not counted:
        values["attempts"] = col(BroadcastRecipient.attempts) - 1
    session.exec(
        update(BroadcastRecipient)
        .where(
            col(BroadcastRecipient.id).in_(list(recipient_ids)),
            col(BroadcastRecipient.state) == "sending",
        )
        .values(**values)
    )


def recover(*, session: Session) -> int:
    """After a restart: rows left in "sending" may have gone; failed, never sent again."""
    return broadcast_recipients.recover(session=session, channels=(CHANNEL,))


@dataclass(frozen=True)
class Tier:
    used: int  # unique residents sent a template in the last 24 hours
    oldest: datetime | None  # the earliest of those sends: a place frees 24 hours after


def tier_used(*, session: Session, now: datetime) -> Tier:
    """WhatsApp residents sent (or being sent) a broadcast's template in the 24 hours
    before `now`. A row's sent time is its `updated_at`, which receipts leave alone."""
    used, oldest = session.exec(
        select(func.count(func.distinct(BroadcastRecipient.resident_id)),
               func.min(BroadcastRecipient.updated_at))
        .where(
            BroadcastRecipient.channel == CHANNEL,
            col(BroadcastRecipient.state).in_(("sent", "sending", "blocked")),
            col(BroadcastRecipient.updated_at) > now - DAY,
        )
    ).one()  # fmt: skip
    return Tier(int(used or 0), oldest)


def waiting(*, session: Session, broadcast_id: int) -> int:
    """A broadcast's WhatsApp recipients still to send."""
    return int(
        session.exec(
            select(func.count())
            .select_from(BroadcastRecipient)
            .where(
                BroadcastRecipient.broadcast_id == broadcast_id,
                BroadcastRecipient.channel == CHANNEL,
                BroadcastRecipient.state == "pending",
            )
        ).one()
    )


@dataclass(frozen=True)
class Receipt:
    wamid: str
    status: str  # sent | delivered | read | failed
    error_code: int | None = None


def record_receipts(*, session: Session, receipts: Sequence[Receipt], at: datetime) -> set[str]:
    """Statuses from WhatsApp's webhook on the rows they name; the wamids of no row here
    (not recorded yet, or another number's). A message that failed because the resident
    cannot be reached (131026) makes them unreachable, as a Telegram block does."""
    wamids = {r.wamid for r in receipts if r.status in RECEIPT_ORDER}
    if not wamids:
        return set()
    rows = {
        row.provider_ref: row
        for row in session.exec(
            select(BroadcastRecipient).where(
                col(BroadcastRecipient.provider_ref).in_(wamids),
                BroadcastRecipient.channel == CHANNEL,
            )
        ).all()
    }
    blocked: list[int] = []
    for receipt in receipts:
        row = rows.get(receipt.wamid)
        if row is None or receipt.status not in RECEIPT_ORDER:
            continue
        known = (row.receipt or "").split(" ")[0]
        if RECEIPT_ORDER.get(known, -1) >= RECEIPT_ORDER[receipt.status]:
            continue  # a late or repeated status
        row.receipt = receipt.status
        if receipt.status == "failed" and receipt.error_code is not None:
            row.receipt = f"failed {receipt.error_code}"
        row.receipt_at = at  # updated_at stays the sent time (the tier counts by it)
        if receipt.status == "failed" and receipt.error_code == UNDELIVERABLE:
            row.state = "blocked"
            blocked.append(row.resident_id)
        session.add(row)
    if blocked:
        _unreachable(session, blocked)
    return wamids - set(rows)


def _unreachable(session: Session, resident_ids: list[int]) -> None:
    session.exec(
        update(Resident).where(col(Resident.id).in_(resident_ids)).values(unreachable=True)
    )
