"""What happened in a consultation within a period: the counts officers' digests report.

Counts of the consultation's own rows only, from `start` (included) to `end`
(excluded); nothing here names a resident.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from conversations.storage.models import (
    AnalysisRun,
    Answer,
    ConsentRecord,
    Conversation,
    Decision,
    Round,
)


def new_residents(*, session: Session, consultation_id: int, start: datetime,
                  end: datetime) -> int:  # fmt: skip
    """Residents who first agreed to take part in the consultation within the period."""
    first = (
        select(ConsentRecord.resident_id, func.min(ConsentRecord.recorded_at).label("first"))
        .where(ConsentRecord.consultation_id == consultation_id, col(ConsentRecord.given).is_(True))
        .group_by(col(ConsentRecord.resident_id))
        .subquery()
    )
    query = (
        select(func.count()).select_from(first).where(first.c.first >= start, first.c.first < end)
    )
    return int(session.exec(query).one())


def answers_given(*, session: Session, consultation_id: int, start: datetime,
                  end: datetime) -> int:  # fmt: skip
    """Answers to the questions (not the profile questions, not skipped) within the period."""
    query = (
        select(func.count())
        .select_from(Answer)
        .join(Round, col(Round.id) == col(Answer.round_id))
        .where(
            Round.consultation_id == consultation_id,
            col(Answer.profile).is_(None),
            col(Answer.skipped).is_(False),
            col(Answer.answered_at) >= start,
            col(Answer.answered_at) < end,
        )
    )
    return int(session.exec(query).one())


def completion_rate(*, session: Session, consultation_id: int, start: datetime,
                    end: datetime) -> float | None:  # fmt: skip
    """Of the residents who started within the period, the share who finished by its end."""
    consented = select(ConsentRecord.resident_id).where(
        ConsentRecord.consultation_id == consultation_id, col(ConsentRecord.given).is_(True)
    )
    rows = session.exec(
        select(Conversation.completed_at)
        .join(Round, col(Round.id) == col(Conversation.round_id))
        .where(
            Round.consultation_id == consultation_id,
            col(Conversation.resident_id).in_(consented),
            col(Conversation.started_at) >= start,
            col(Conversation.started_at) < end,
        )
    ).all()
    if not rows:
        return None
    return sum(1 for done in rows if done is not None and done < end) / len(rows)


def run_at(*, session: Session, consultation_id: int, moment: datetime) -> AnalysisRun | None:
    """The analysis run that was the latest at `moment` (last week's, for change since then)."""
    return session.exec(
        select(AnalysisRun)
        .where(AnalysisRun.consultation_id == consultation_id, AnalysisRun.created_at <= moment)
        .order_by(col(AnalysisRun.id).desc())
    ).first()


def decisions_made(*, session: Session, consultation_id: int, start: datetime,
                   end: datetime) -> list[Decision]:  # fmt: skip
    """Decisions recorded within the period, in the order they were made."""
    return list(
        session.exec(
            select(Decision)
            .where(
                Decision.consultation_id == consultation_id,
                col(Decision.decided_at) >= start,
                col(Decision.decided_at) < end,
            )
            .order_by(col(Decision.id))
        ).all()
    )
