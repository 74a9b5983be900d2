"""What an evidence pack reads: a run's themed answers with who gave them and when,
residents' profiles and sources, and when the consultation opened.

Only answers that may be shown are read (a withheld answer is counted nowhere
here, quoted never); a forgotten resident's answers are gone from the database, so
they are in no figure. Residents are database ids here, never names; they leave
only as counts (bot/actions/pack_figures.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from conversations.storage.models import Answer, AnswerTheme, Conversation, Round
from conversations.storage.themable import may_be_shown, where_themable

DIRECT = "direct"  # a resident who came through no partner's link


@dataclass(frozen=True)
class ThemedAnswer:
    answer_id: int
    resident_id: int
    theme_id: int
    rank: int  # 0 primary, 1-2 further themes
    answered_at: datetime


def themed_answers(*, session: Session, run_id: int) -> list[ThemedAnswer]:
    """Every answer's themes in a run, withheld answers left out, by answer id."""
    rows = session.exec(
        select(AnswerTheme, Answer.resident_id, Answer.answered_at)
        .join(Answer, col(Answer.id) == col(AnswerTheme.answer_id))
        .where(AnswerTheme.run_id == run_id, may_be_shown())
        .order_by(col(AnswerTheme.answer_id), col(AnswerTheme.rank))
    ).all()
    return [
        ThemedAnswer(theme.answer_id, resident, theme.theme_id, theme.rank, at)
        for theme, resident, at in rows
    ]


def answer_texts(*, session: Session, answer_ids: Sequence[int]) -> dict[int, str]:
    """Answers' texts as stored (callers scrub them before showing), withheld ones left out."""
    found: dict[int, str] = {}
    ids = list(answer_ids)
    for start in range(0, len(ids), 1000):
        batch = ids[start : start + 1000]
        for answer_id, text in session.exec(
            select(Answer.id, Answer.value).where(col(Answer.id).in_(batch), may_be_shown())
        ):
            if answer_id is not None:
                found[answer_id] = text
    return found


def heard_residents(
    *, session: Session, consultation_id: int, questions: Sequence[str]
) -> set[int]:
    """Residents heard: with at least one answer the theme analysis reads."""
    query = where_themable(
        select(Answer.resident_id).distinct(), consultation_id=consultation_id, questions=questions
    )
    return {r for r in session.exec(query).all() if r is not None}


def resident_profiles(*, session: Session, consultation_id: int) -> dict[int, dict[str, str]]:
    """resident id -> profile dimension -> option id, from each resident's latest answers."""
    rows = session.exec(
        select(Answer.resident_id, Answer.profile, Answer.value)
        .join(Round, col(Round.id) == col(Answer.round_id))
        .where(Round.consultation_id == consultation_id, col(Answer.profile).is_not(None))
        .order_by(col(Answer.answered_at), col(Answer.id))
    ).all()
    result: dict[int, dict[str, str]] = {}
    for resident, dimension, value in rows:
        if dimension and value:
            result.setdefault(resident, {})[dimension] = value
    return result


def resident_sources(*, session: Session, consultation_id: int) -> dict[int, str]:
    """resident id -> the source (partner link) of their first conversation, or DIRECT."""
    rows = session.exec(
        select(Conversation.resident_id, Conversation.source)
        .join(Round, col(Round.id) == col(Conversation.round_id))
        .where(Round.consultation_id == consultation_id)
        .order_by(col(Conversation.id))
    ).all()
    result: dict[int, str] = {}
    for resident, source in rows:
        result.setdefault(resident, source or DIRECT)
    return result


def opened_at(*, session: Session, consultation_id: int) -> datetime | None:
    """When the consultation's first round opened (None: never)."""
    found: datetime | None = session.exec(
        select(func.min(Round.opened_at)).where(Round.consultation_id == consultation_id)
    ).one()
    return found
