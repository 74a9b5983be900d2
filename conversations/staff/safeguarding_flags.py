"""Safeguarding flags from raising to closing: deliveries, escalation, acknowledgement.

A flag stays open until a safeguarding lead acknowledges it. Each alert to each
recipient is a delivery row, retried with backoff until it is sent, so that nothing
is lost when no lead is configured yet, or a lead cannot be reached: a recipient
configured later gets a row on the next pass. Alerts never carry what the resident
wrote; the dashboard shows it to leads only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from conversations.storage.models import (
    Answer,
    Consultation,
    Round,
    SafeguardingDelivery,
    SafeguardingFlag,
    SafeguardingNote,
    utcnow,
)
from conversations.storage.store import StoreError, audit

OUTCOMES = {
    "referred": "Referred",
    "contacted": "Resident contacted",
    "no_action": "No action needed",
}
LEASE = timedelta(minutes=5)  # a claimed delivery is not claimed again while it is sent
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)


@dataclass(frozen=True)
class Due:
    """A delivery to send now: who to, why, and which flag (never what was said)."""

    delivery_id: int
    flag_id: int
    recipient: str
    purpose: str
    raised_at: datetime
    attempts: int


@dataclass(frozen=True)
class Waiting:
    """How many flags no lead has acknowledged, and of those, how many reached nobody."""

    open: int
    undelivered: int
    oldest: datetime | None


def backoff(attempts: int) -> timedelta:
    """30 s after the first failure, doubling, at most an hour."""
    wait: timedelta = FIRST_RETRY * 2 ** max(attempts - 1, 0)
    return min(wait, LONGEST_RETRY)


def plan_deliveries(*, session: Session, leads: Sequence[str], fallback: Sequence[str],
                    escalate_after: timedelta, now: datetime | None = None) -> int:  # fmt: skip
    """Add the deliveries open flags need now; returns how many were added.

    Every lead gets an alert; a flag unacknowledged `escalate_after` after it was
    raised goes to every lead again, and after twice that to the fallback."""
    now = now or utcnow()
    flags = session.exec(select(SafeguardingFlag).where(SafeguardingFlag.status == "open")).all()
    if not flags:
        return 0
    ids = [flag.id for flag in flags]
    existing = {
        (d.flag_id, d.recipient, d.purpose)
        for d in session.exec(
            select(SafeguardingDelivery).where(col(SafeguardingDelivery.flag_id).in_(ids))
        )
    }
    added = 0
    for flag in flags:
        assert flag.id is not None
        wanted = [(lead, "alert") for lead in leads]
        if flag.raised_at + escalate_after <= now:
            if flag.escalated_at is None:
                flag.escalated_at = now
                session.add(flag)
                audit(session=session, actor="system:safeguarding", action="safeguarding.escalate",
                      target=f"flag:{flag.id}", detail=f"{len(leads)} lead(s)")  # fmt: skip
            wanted += [(lead, "escalation") for lead in leads]
        if flag.raised_at + 2 * escalate_after <= now and fallback:
            if flag.fallback_at is None:
                flag.fallback_at = now
                session.add(flag)
                audit(session=session, actor="system:safeguarding", action="safeguarding.fallback",
                      target=f"flag:{flag.id}", detail=f"{len(fallback)} recipient(s)")  # fmt: skip
            wanted += [(recipient, "fallback") for recipient in fallback]
        for recipient, purpose in wanted:
            if (flag.id, recipient, purpose) not in existing:
                session.add(
                    SafeguardingDelivery(
                        flag_id=flag.id, recipient=recipient, purpose=purpose, next_attempt_at=now
                    )
                )
                existing.add((flag.id, recipient, purpose))
                added += 1
    return added


def claim_due(*, session: Session, now: datetime | None = None, limit: int = 100) -> list[Due]:
    """Deliveries due now for flags still open, leased so no other process sends them."""
    now = now or utcnow()
    rows = session.exec(
        select(SafeguardingDelivery, SafeguardingFlag.raised_at)
        .join(SafeguardingFlag, col(SafeguardingFlag.id) == col(SafeguardingDelivery.flag_id))
        .where(
            col(SafeguardingDelivery.sent_at).is_(None),
            col(SafeguardingDelivery.next_attempt_at) <= now,
            SafeguardingFlag.status == "open",
        )
        .order_by(col(SafeguardingDelivery.id))
        .limit(limit)
        .with_for_update(of=SafeguardingDelivery, skip_locked=True)
    ).all()
    due = []
    for delivery, raised_at in rows:
        assert delivery.id is not None
        delivery.next_attempt_at = now + LEASE
        session.add(delivery)
        due.append(Due(delivery.id, delivery.flag_id, delivery.recipient, delivery.purpose,
                       raised_at, delivery.attempts))  # fmt: skip
    return due


def delivered(*, session: Session, delivery_id: int, now: datetime | None = None) -> None:
    now = now or utcnow()
    delivery = session.get(SafeguardingDelivery, delivery_id)
    if delivery is None:
        return
    delivery.sent_at = now
    delivery.attempts += 1
    delivery.last_error = ""
    session.add(delivery)
    flag = session.get(SafeguardingFlag, delivery.flag_id)
    if flag is not None and flag.notified_at is None:
        flag.notified_at = now
        session.add(flag)


def failed(*, session: Session, delivery_id: int, error: str,
           now: datetime | None = None) -> timedelta:  # fmt: skip
    """Record a failed attempt and when to try again; returns the wait."""
    now = now or utcnow()
    delivery = session.get(SafeguardingDelivery, delivery_id)
    if delivery is None:
        return timedelta(0)
    delivery.attempts += 1
    wait = backoff(delivery.attempts)
    delivery.next_attempt_at = now + wait
    delivery.last_error = error[:200]
    session.add(delivery)
    return wait


def waiting(*, session: Session) -> Waiting:
    """Open flags, and those no alert about has reached anyone yet."""
    open_count, oldest = session.exec(
        select(func.count(), func.min(SafeguardingFlag.raised_at)).where(
            SafeguardingFlag.status == "open"
        )
    ).one()
    undelivered = session.exec(
        select(func.count()).where(
            SafeguardingFlag.status == "open", col(SafeguardingFlag.notified_at).is_(None)
        )
    ).one()
    return Waiting(open_count, undelivered, oldest)


# --- the leads' work on a flag --------------------------------------------------------


def flags_for_leads(*, session: Session, closed_limit: int = 100
                    ) -> list[tuple[SafeguardingFlag, str | None]]:  # fmt: skip
    """Flags with their consultation's slug: open ones (oldest first), acknowledged
    ones, then the latest closed ones."""
    query = select(SafeguardingFlag, Consultation.slug).outerjoin(
        Consultation, col(Consultation.id) == col(SafeguardingFlag.consultation_id)
    )
    rows: list[tuple[SafeguardingFlag, str | None]] = []
    for status in ("open", "acknowledged"):
        rows += session.exec(
            query.where(SafeguardingFlag.status == status).order_by(
                col(SafeguardingFlag.raised_at), col(SafeguardingFlag.id)
            )
        ).all()
    rows += session.exec(
        query.where(SafeguardingFlag.status == "closed")
        .order_by(col(SafeguardingFlag.closed_at).desc())
        .limit(closed_limit)
    ).all()
    return rows


def require_flag(*, session: Session, flag_id: int) -> SafeguardingFlag:
    flag = session.get(SafeguardingFlag, flag_id)
    if flag is None:
        raise StoreError(f"there is no safeguarding flag #{flag_id}")
    return flag


def notes(*, session: Session, flag_id: int) -> Sequence[SafeguardingNote]:
    return session.exec(
        select(SafeguardingNote)
        .where(SafeguardingNote.flag_id == flag_id)
        .order_by(col(SafeguardingNote.at), col(SafeguardingNote.id))
    ).all()


def deliveries(*, session: Session, flag_id: int) -> Sequence[SafeguardingDelivery]:
    return session.exec(
        select(SafeguardingDelivery)
        .where(SafeguardingDelivery.flag_id == flag_id)
        .order_by(col(SafeguardingDelivery.id))
    ).all()


def acknowledge(*, session: Session, flag_id: int, actor: str) -> bool:
    """A lead has it: alerts and escalation stop. False if it was already acknowledged."""
    flag = require_flag(session=session, flag_id=flag_id)
    if flag.status != "open":
        return False
    flag.status = "acknowledged"
    flag.acknowledged_at = utcnow()
    flag.acknowledged_by = actor
    session.add(flag)
    audit(session=session, actor=actor, action="safeguarding.acknowledge", target=f"flag:{flag_id}")
    return True


def add_note(*, session: Session, flag_id: int, actor: str, text: str) -> None:
    """A lead's note; the audit log records that one was added, not what it says."""
    text = text.strip()
    if not text:
        raise StoreError("write the note first")
    if len(text) > 5000:
        raise StoreError("a note can be at most 5,000 characters")
    require_flag(session=session, flag_id=flag_id)
    session.add(SafeguardingNote(flag_id=flag_id, author=actor, text=text))
    audit(session=session, actor=actor, action="safeguarding.note", target=f"flag:{flag_id}",
          detail=f"{len(text)} characters")  # fmt: skip


def close(*, session: Session, flag_id: int, actor: str, outcome: str) -> None:
    """Record the outcome. A forgotten resident's words go now: nothing more needs them."""
    if outcome not in OUTCOMES:
        raise StoreError(f"the outcome must be one of: {', '.join(OUTCOMES.values())}")
    flag = require_flag(session=session, flag_id=flag_id)
    if flag.status == "closed":
        raise StoreError(f"flag #{flag_id} is already closed ({OUTCOMES[flag.outcome or '']})")
    acknowledge(session=session, flag_id=flag_id, actor=actor)
    flag.status = "closed"
    flag.outcome = outcome
    flag.closed_at = utcnow()
    flag.closed_by = actor
    if flag.resident_forgotten:
        flag.excerpt = ""
    session.add(flag)
    audit(session=session, actor=actor, action="safeguarding.outcome", target=f"flag:{flag_id}",
          detail=outcome)  # fmt: skip


@dataclass(frozen=True)
class ResidentAnswer:
    """One of a flagged resident's answers, as a lead reads it (a choice by its label)."""

    consultation: str
    round: int
    question: str
    text: str
    answered_at: datetime
    withheld: str | None


def resident_answers(*, session: Session, resident_id: int) -> list[ResidentAnswer]:
    """Every answer of a resident, in every consultation, oldest first: for the lead
    reading a flag (withheld ones too: a disclosure is for the people who act on it)."""
    rows = session.exec(
        select(Answer, Round.number, Consultation.slug)
        .join(Round, col(Round.id) == col(Answer.round_id))
        .join(Consultation, col(Consultation.id) == col(Round.consultation_id))
        .where(Answer.resident_id == resident_id)
        .order_by(col(Answer.answered_at), col(Answer.id))
    ).all()
    return [
        ResidentAnswer(
            slug,
            number,
            answer.step_id,
            answer.display if answer.kind == "choice" else answer.value,
            answer.answered_at,
            answer.withheld,
        )
        for answer, number, slug in rows
    ]
