"""Officers' digests as stored: one row per consultation, kind and week, a delivery per officer.

A digest's documents quote residents, so they are kept only until every officer
has had them. Each delivery counts a part as sent before it is sent (`claim_part`),
so after a crash an officer gets the rest of a digest, never the same part twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from conversations.storage import store
from conversations.storage.models import (
    Answer,
    Consultation,
    Decision,
    Digest,
    DigestDelivery,
    DigestEmail,
    Round,
    utcnow,
)

UNSENT = ("pending", "sending")


def add(*, session: Session, consultation: Consultation, kind: str, start: datetime,
        end: datetime, run_id: int | None, summary: str, html: str, csv: str,
        officers: Sequence[int], actor: str, figures: str = "",
        emails: Sequence[str] = (), with_pack: bool = False,
        pack: bytes | None = None) -> int:  # fmt: skip
    """Keep a built digest with a delivery row per officer (by Telegram, and by email),
    audited; its id. `with_pack`: it carries the evidence pack, whose PDF is `pack`
    when it is to be sent (a digest kept only to read has none stored)."""
    assert consultation.id is not None
    digest = Digest(
        consultation_id=consultation.id,
        kind=kind,
        period_start=start,
        period_end=end,
        run_id=run_id,
        summary=summary,
        html=html,
        csv=csv,
        figures=figures,
        with_pack=with_pack,
        pack=pack,
    )
    session.add(digest)
    session.flush()
    assert digest.id is not None
    session.add_all(DigestDelivery(digest_id=digest.id, officer_id=o) for o in officers)
    addresses = list(dict.fromkeys(a.lower() for a in emails))
    session.add_all(DigestEmail(digest_id=digest.id, address=a) for a in addresses)
    store.audit(
        session=session,
        actor=actor,
        action="digest.build",
        target=f"{consultation.slug} digest {digest.id}",
        detail=f"{kind}, week to {end:%Y-%m-%d %H:%M} UTC, {len(officers)} officers"
        + (f" and {len(addresses)} by email" if addresses else "")
        + (", with the evidence pack" if with_pack else ""),
    )
    return digest.id


def stored(*, session: Session, slug: str, kind: str, end: datetime) -> Digest | None:
    """The consultation's digest of this kind for the period ending at `end`, if built."""
    return session.exec(
        select(Digest)
        .join(Consultation, col(Consultation.id) == col(Digest.consultation_id))
        .where(Consultation.slug == slug, Digest.kind == kind, Digest.period_end == end)
    ).first()


def weekly_due(*, session: Session, start: datetime, end: datetime) -> list[str]:
    """Consultations that should have a weekly digest for the period and have none yet.

    Those created before the period ended with an open round, or with answers or
    decisions during the period."""
    done = select(Digest.consultation_id).where(Digest.kind == "weekly", Digest.period_end == end)
    active = (
        select(Round.consultation_id)
        .where(Round.status == "open")
        .union(
            select(Round.consultation_id)
            .join(Answer, col(Answer.round_id) == col(Round.id))
            .where(col(Answer.answered_at) >= start, col(Answer.answered_at) < end),
            select(Decision.consultation_id).where(
                col(Decision.decided_at) >= start, col(Decision.decided_at) < end
            ),
        )
    )
    return list(
        session.exec(
            select(Consultation.slug)
            .where(
                col(Consultation.created_at) < end,
                col(Consultation.id).in_(active),
                col(Consultation.id).not_in(done),
            )
            .order_by(col(Consultation.slug))
        ).all()
    )


def to_send(*, session: Session, digest_id: int) -> tuple[Digest, str, str] | None:
    """A digest whose documents are still kept, with its consultation's slug and title;
    else None."""
    digest = session.get(Digest, digest_id)
    if digest is None or digest.cleared_at is not None:
        return None
    consultation = session.get(Consultation, digest.consultation_id)
    assert consultation is not None
    return digest, consultation.slug, consultation.title


def is_stale(*, session: Session, digest_id: int) -> bool:
    """A resident it may quote was forgotten since it was built, and it is not yet sent."""
    digest = session.get(Digest, digest_id)
    return digest is not None and digest.stale and digest.cleared_at is None


def replace_documents(*, session: Session, digest_id: int, summary: str, html: str,
                      csv: str, pack: bytes | None = None) -> None:  # fmt: skip
    """Keep a stale digest's documents as rendered again (unless it was sent meanwhile)."""
    digest = session.get(Digest, digest_id, with_for_update=True)
    if digest is not None and digest.stale and digest.cleared_at is None:
        digest.summary, digest.html, digest.csv = summary, html, csv
        digest.pack = pack if digest.with_pack else None
        digest.stale = False
        session.add(digest)


def open_deliveries(*, session: Session, digest_id: int) -> list[int]:
    """The deliveries of a digest with parts still to send."""
    return [
        i
        for i in session.exec(
            select(DigestDelivery.id)
            .where(DigestDelivery.digest_id == digest_id, col(DigestDelivery.state).in_(UNSENT))
            .order_by(col(DigestDelivery.id))
        ).all()
        if i is not None
    ]


def claim_part(*, session: Session, delivery_id: int, parts: int) -> tuple[int, int] | None:
    """Count the next part as sent, before it is sent: (officer, part), or None when done."""
    row = session.get(DigestDelivery, delivery_id, with_for_update=True)
    if row is None or row.state not in UNSENT or row.next_part >= parts:
        return None
    part = row.next_part
    row.next_part += 1
    row.state = "sending"
    row.updated_at = utcnow()
    session.add(row)
    return row.officer_id, part


def finish_delivery(*, session: Session, delivery_id: int, state: str) -> None:
    """A delivery's end: sent, blocked or failed."""
    row = session.get(DigestDelivery, delivery_id)
    if row is not None:
        row.state = state
        row.updated_at = utcnow()
        session.add(row)


def settle(*, session: Session, digest_id: int) -> dict[str, int]:
    """Each delivery state's count, Telegram's and email's together; once none is left
    to send on either, drop the documents (the evidence pack's PDF too)."""
    counts: Counter[str] = Counter()
    for table in (DigestDelivery, DigestEmail):
        for state, n in session.exec(
            select(table.state, func.count())
            .where(table.digest_id == digest_id)
            .group_by(col(table.state))
        ).all():
            counts[state] += n
    digest = session.get(Digest, digest_id)
    if digest is not None and digest.cleared_at is None and not any(counts.get(s) for s in UNSENT):
        digest.summary = digest.html = digest.csv = ""
        digest.pack = None
        digest.cleared_at = utcnow()
        session.add(digest)
    return {state: int(n) for state, n in counts.items()}


def outstanding(*, session: Session, kind: str = "weekly", telegram: bool = True,
                email: bool = True) -> list[int]:  # fmt: skip
    """Digests of a kind with a delivery still to send (on the channels named), by id."""
    found: set[int] = set()
    for table, wanted in ((DigestDelivery, telegram), (DigestEmail, email)):
        if wanted:
            found.update(
                session.exec(
                    select(table.digest_id)
                    .join(Digest, col(Digest.id) == col(table.digest_id))
                    .where(Digest.kind == kind, col(table.state).in_(UNSENT))
                ).all()
            )
    return sorted(found)
