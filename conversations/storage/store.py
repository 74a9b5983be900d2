"""Queries: small keyword-only functions that take the session first."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, delete, select, update

from conversations.flow.script import Script
from conversations.storage.models import (
    Answer,
    AuditEntry,
    ChannelIdentity,
    Consultation,
    Conversation,
    InboxEntry,
    Resident,
    Round,
    utcnow,
)
from conversations.storage.themable import may_be_shown


class StoreError(ValueError):
    """A request that the stored data does not allow (shown to the user as is)."""


# --- consultations and rounds -------------------------------------------------------


def script_hash(script_toml: str) -> str:
    return hashlib.sha256(script_toml.encode("utf-8")).hexdigest()


def save_consultation(*, session: Session, script: Script, script_toml: str) -> Consultation:
    """Create the consultation a script describes, or update its script."""
    consultation = consultation_by_slug(session=session, slug=script.slug)
    title = script.title.get(script.default_language, script.default_language)
    if consultation is None:
        consultation = Consultation(
            slug=script.slug,
            title=title,
            script_toml=script_toml,
            script_hash=script_hash(script_toml),
        )
    else:
        consultation.title = title
        consultation.script_toml = script_toml
        consultation.script_hash = script_hash(script_toml)
        consultation.updated_at = utcnow()
    session.add(consultation)
    session.flush()
    return consultation


def consultation_by_slug(*, session: Session, slug: str) -> Consultation | None:
    return session.exec(select(Consultation).where(Consultation.slug == slug)).first()


def require_consultation(*, session: Session, slug: str) -> Consultation:
    consultation = consultation_by_slug(session=session, slug=slug)
    if consultation is None:
        raise StoreError(f"no consultation with slug '{slug}' (load its script first)")
    return consultation


def all_consultations(*, session: Session) -> Sequence[Consultation]:
    return session.exec(select(Consultation).order_by(col(Consultation.slug))).all()


def current_round(*, session: Session, consultation_id: int) -> Round | None:
    """The consultation's open round, or else its latest (closed, or a draft to come)."""
    return open_round_of(session=session, consultation_id=consultation_id) or latest_round(
        session=session, consultation_id=consultation_id
    )


def latest_round(*, session: Session, consultation_id: int) -> Round | None:
    """The consultation's highest-numbered round, whatever its status."""
    return session.exec(
        select(Round)
        .where(Round.consultation_id == consultation_id)
        .order_by(col(Round.number).desc())
    ).first()


def rounds_of(*, session: Session, consultation_id: int) -> Sequence[Round]:
    """A consultation's rounds, the highest-numbered first."""
    return session.exec(
        select(Round)
        .where(Round.consultation_id == consultation_id)
        .order_by(col(Round.number).desc())
    ).all()


def open_round_of(*, session: Session, consultation_id: int) -> Round | None:
    return session.exec(
        select(Round).where(Round.consultation_id == consultation_id, Round.status == "open")
    ).first()


def next_scheduled_round(*, session: Session, consultation_id: int) -> Round | None:
    """The draft round with an opening time set (the scheduler opens it then), if any."""
    return session.exec(
        select(Round)
        .where(
            Round.consultation_id == consultation_id,
            Round.status == "draft",
            col(Round.opens_at).is_not(None),
        )
        .order_by(col(Round.number))
    ).first()


def open_consultations(*, session: Session) -> list[tuple[Consultation, Round]]:
    rows = session.exec(
        select(Consultation, Round)
        .join(Round, col(Round.consultation_id) == col(Consultation.id))
        .where(Round.status == "open")
        .order_by(col(Consultation.slug))
    ).all()
    return [(c, r) for c, r in rows]


def open_round(*, session: Session, consultation: Consultation, kind: str | None = None) -> Round:
    """Open a new round (or the latest one if it is still a draft) of `kind`, or "needs"."""
    assert consultation.id is not None
    latest = current_round(session=session, consultation_id=consultation.id)
    if latest is not None and latest.status == "open":
        raise StoreError(f"round {latest.number} of '{consultation.slug}' is already open")
    if latest is None or latest.status == "closed":
        number = 1 if latest is None else latest.number + 1
        latest = Round(consultation_id=consultation.id, number=number, kind=kind or "needs")
    elif kind is not None:
        latest.kind = kind
    latest.status = "open"
    latest.opened_at = utcnow()
    session.add(latest)
    session.flush()
    return latest


def close_round(*, session: Session, consultation: Consultation) -> Round:
    assert consultation.id is not None
    latest = open_round_of(session=session, consultation_id=consultation.id)
    if latest is None:
        raise StoreError(f"'{consultation.slug}' has no open round to close")
    latest.status = "closed"
    latest.closed_at = utcnow()
    session.add(latest)
    session.flush()
    return latest


# --- residents --------------------------------------------------------------------


def resident_for(*, session: Session, channel: str, external_id: str, lock: bool = False
                 ) -> Resident | None:  # fmt: skip
    query = (
        select(Resident)
        .join(ChannelIdentity, col(ChannelIdentity.resident_id) == col(Resident.id))
        .where(ChannelIdentity.channel == channel, ChannelIdentity.external_id == external_id)
    )
    if lock:
        query = query.with_for_update(of=Resident)
    return session.exec(query).first()


def create_resident(*, session: Session, channel: str, external_id: str, chat_id: str,
                    language: str) -> Resident:  # fmt: skip
    resident = Resident(pseudonym=secrets.token_hex(8), language=language)
    session.add(resident)
    session.flush()
    assert resident.id is not None
    session.add(
        ChannelIdentity(
            resident_id=resident.id, channel=channel, external_id=external_id, chat_id=chat_id
        )
    )
    session.flush()
    return resident


# --- conversations and answers ----------------------------------------------------


def conversation_for(*, session: Session, resident_id: int, round_id: int) -> Conversation | None:
    return session.exec(
        select(Conversation).where(
            Conversation.resident_id == resident_id, Conversation.round_id == round_id
        )
    ).first()


def answers_for_resident(*, session: Session, resident_id: int) -> Sequence[Answer]:
    return session.exec(
        select(Answer)
        .where(Answer.resident_id == resident_id)
        .order_by(col(Answer.round_id), col(Answer.answered_at), col(Answer.id))
    ).all()


def recent_answers(*, session: Session, round_id: int, limit: int) -> Sequence[Answer]:
    """A round's latest text answers that may be quoted to staff (given, not withheld),
    to any question: not the themable rule (conversations.storage.themable)."""
    return session.exec(
        select(Answer)
        .where(
            Answer.round_id == round_id,
            Answer.kind == "text",
            col(Answer.skipped).is_(False),
            may_be_shown(),
        )
        .order_by(col(Answer.answered_at).desc(), col(Answer.id).desc())
        .limit(limit)
    ).all()


@dataclass(frozen=True)
class ExportRow:
    resident: str
    round: int
    question: str
    iteration: int
    answer: str
    answer_label: str
    skipped: bool
    confirmed: bool
    answered_at: datetime
    source: str | None
    answer_id: int | None = None  # None for rows that are not stored answers (votes)
    withheld: str | None = None  # safeguarding | abuse: the text is never exported


def export_rows(*, session: Session, consultation_id: int, batch: int = 2000
                ) -> Iterator[ExportRow]:  # fmt: skip
    """Every stored answer of a consultation, in answer order, streamed in batches."""
    query = (
        select(Answer, Resident.pseudonym, Round.number, Conversation.source)
        .join(Resident, col(Resident.id) == col(Answer.resident_id))
        .join(Round, col(Round.id) == col(Answer.round_id))
        .join(Conversation, col(Conversation.id) == col(Answer.conversation_id))
        .where(Round.consultation_id == consultation_id)
        .order_by(
            col(Round.number), col(Resident.pseudonym), col(Answer.answered_at), col(Answer.id)
        )
        .execution_options(yield_per=batch)
    )
    for answer, pseudonym, number, source in session.exec(query):
        yield ExportRow(
            resident=pseudonym,
            round=number,
            question=answer.step_id,
            iteration=answer.iteration,
            answer=answer.value,
            answer_label=answer.display if answer.kind == "choice" else "",
            skipped=answer.skipped,
            confirmed=answer.confirmed,
            answered_at=answer.answered_at,
            source=source,
            answer_id=answer.id,
            withheld=answer.withheld,
        )


def profiles(*, session: Session, consultation_id: int) -> dict[str, dict[str, str]]:
    """pseudonym -> profile dimension -> option id, from each resident's latest answers."""
    rows = session.exec(
        select(Resident.pseudonym, Answer.profile, Answer.value)
        .join(Resident, col(Resident.id) == col(Answer.resident_id))
        .join(Round, col(Round.id) == col(Answer.round_id))
        .where(Round.consultation_id == consultation_id, col(Answer.profile).is_not(None))
        .order_by(col(Answer.answered_at))
    ).all()
    result: dict[str, dict[str, str]] = {}
    for pseudonym, dimension, value in rows:
        if dimension is not None and value:
            result.setdefault(pseudonym, {})[dimension] = value
    return result


# --- inbox and audit ------------------------------------------------------------------


def inbox_entry(*, session: Session, channel: str, update_key: str) -> InboxEntry | None:
    return session.get(InboxEntry, (channel, update_key))


def count_recent_updates(*, session: Session, resident_id: int, since: datetime) -> int:
    return int(
        session.exec(
            select(func.count())
            .select_from(InboxEntry)
            .where(InboxEntry.resident_id == resident_id, col(InboxEntry.handled_at) >= since)
        ).one()
    )


def count_recent_flags(*, session: Session, resident_id: int, flag: str, since: datetime) -> int:
    return int(
        session.exec(
            select(func.count())
            .select_from(InboxEntry)
            .where(
                InboxEntry.resident_id == resident_id,
                InboxEntry.flag == flag,
                col(InboxEntry.handled_at) >= since,
            )
        ).one()
    )


def mark_delivered(*, session: Session, channel: str, update_keys: Sequence[str]) -> None:
    # Delivered replies need not be kept (they may quote answers).
    session.exec(
        update(InboxEntry)
        .where(col(InboxEntry.channel) == channel, col(InboxEntry.update_key).in_(update_keys))
        .values(delivered_at=utcnow(), replies_json="[]")
    )


def prune_inbox(*, session: Session, before: datetime) -> int:
    result = session.exec(delete(InboxEntry).where(col(InboxEntry.handled_at) < before))
    return int(result.rowcount or 0)


def audit(*, session: Session, actor: str, action: str, target: str, detail: str = "") -> None:
    session.add(AuditEntry(actor=actor, action=action, target=target, detail=detail))


def audit_entries(*, session: Session, limit: int, before: int = 0) -> Sequence[AuditEntry]:
    """The audit log, newest first: `limit` entries older than entry `before` (0: the latest)."""
    query = select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(limit)
    if before:
        query = query.where(col(AuditEntry.id) < before)
    return session.exec(query).all()
