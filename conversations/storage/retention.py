"""Retention: residents' identities are dropped some time after their consultations close.

Answers stay, under the pseudonym only, so the analysis and the record of what
people said survive; the link back to a Telegram account, a browser, a mobile
number or an email address does not.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, delete, select

from conversations.storage import store
from conversations.storage.models import (
    ChannelIdentity,
    Conversation,
    Resident,
    ResidentContact,
    Round,
    WebTranscriptEntry,
)


def drop_identities(*, session: Session, closed_before: datetime) -> int:
    """Unlink residents whose every round closed before `closed_before`. Returns how many."""
    still_active = (
        select(Conversation.resident_id)
        .join(Round, col(Round.id) == col(Conversation.round_id))
        .where((col(Round.status) != "closed") | (col(Round.closed_at) >= closed_before))
    )
    took_part = select(Conversation.resident_id)
    residents = [
        r
        for r in session.exec(
            select(Resident.id)
            .join(ChannelIdentity, col(ChannelIdentity.resident_id) == col(Resident.id))
            .where(col(Resident.id).in_(took_part), col(Resident.id).not_in(still_active))
            .distinct()
        ).all()
        if r is not None
    ]
    if not residents:
        return 0
    devices = select(ChannelIdentity.external_id).where(
        col(ChannelIdentity.resident_id).in_(residents), ChannelIdentity.channel == "web"
    )
    session.exec(delete(WebTranscriptEntry).where(col(WebTranscriptEntry.visitor).in_(devices)))
    session.exec(delete(ChannelIdentity).where(col(ChannelIdentity.resident_id).in_(residents)))
    # A mobile number or email address left to hear back is an identity too.
    session.exec(delete(ResidentContact).where(col(ResidentContact.resident_id).in_(residents)))
    store.audit(
        session=session,
        actor="scheduler",
        action="retention.identities",
        target=f"{len(residents)} residents",
        detail=f"rounds closed before {closed_before:%Y-%m-%d}",
    )
    return len(residents)
