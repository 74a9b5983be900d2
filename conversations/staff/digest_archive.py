"""The digest archive as staff list it: every stored digest, newest period first.

Reading one again is bot.actions.digests.archived (its documents are re-rendered
from what is stored now, as sent documents are not kept).
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from conversations.storage.models import Consultation, Digest


def stored_digests(*, session: Session, limit: int) -> list[tuple[Digest, Consultation]]:
    """The latest stored digests (by the end of their period) with their consultation."""
    rows = session.exec(
        select(Digest, Consultation)
        .join(Consultation, col(Consultation.id) == col(Digest.consultation_id))
        .order_by(col(Digest.period_end).desc(), col(Digest.id).desc())
        .limit(limit)
    ).all()
    return [(digest, consultation) for digest, consultation in rows]
