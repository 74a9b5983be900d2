"""Stored sentence embeddings of answers (the optional semantic stage's vectors).

Only answers that the theme analysis reads are embedded (conversations.storage.themable). A vector is kept
with the version of the answer it was computed from (the answer's `updated_at`),
so a corrected answer counts as not embedded until it is embedded again. Vectors
are erased with their answers (conversations.storage.erasure.erase_resident).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import func
from sqlmodel import Session, col, delete, select

from conversations.storage.models import Answer, AnswerEmbedding, Round
from conversations.storage.themable import where_themable

_FLOAT32 = np.dtype("<f4")


def to_bytes(vector: np.ndarray) -> bytes:
    """A vector as stored: float32, little-endian."""
    return np.asarray(vector, dtype=_FLOAT32).tobytes()


def from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=_FLOAT32)


def latest_answer_id(*, session: Session, consultation_id: int) -> int:
    """The highest answer id of a consultation so far (0 when it has none)."""
    found = session.exec(
        select(func.max(Answer.id))
        .join(Round, col(Round.id) == col(Answer.round_id))
        .where(Round.consultation_id == consultation_id)
    ).one()
    return int(found or 0)


def not_embedded(*, session: Session, consultation_id: int, questions: Sequence[str], model: str,
                 after_id: int, up_to_id: int, limit: int) -> list[tuple[int, str]]:  # fmt: skip
    """(answer id, text) of themable answers in (after_id, up_to_id] with no current vector."""
    current = (
        select(AnswerEmbedding.answer_id)
        .where(
            col(AnswerEmbedding.answer_id) == col(Answer.id),
            AnswerEmbedding.model == model,
            col(AnswerEmbedding.answer_version) == col(Answer.updated_at),
        )
        .exists()
    )
    themable = where_themable(
        select(Answer.id, Answer.value), consultation_id=consultation_id, questions=questions
    )
    rows = session.exec(
        themable.where(col(Answer.id) > after_id, col(Answer.id) <= up_to_id, ~current)
        .order_by(col(Answer.id))
        .limit(limit)
    ).all()
    return [(answer_id, text) for answer_id, text in rows if answer_id is not None]


def stored_vectors(*, session: Session, model: str, answer_ids: Sequence[int],
                   batch: int = 1000) -> Iterator[tuple[int, np.ndarray]]:  # fmt: skip
    """(answer id, vector) of the given answers that have a current vector from `model`."""
    for start in range(0, len(answer_ids), batch):
        chunk = list(answer_ids[start : start + batch])
        rows = session.exec(
            select(AnswerEmbedding.answer_id, AnswerEmbedding.vector)
            .join(Answer, col(Answer.id) == col(AnswerEmbedding.answer_id))
            .where(
                col(AnswerEmbedding.answer_id).in_(chunk),
                AnswerEmbedding.model == model,
                col(AnswerEmbedding.answer_version) == col(Answer.updated_at),
            )
        ).all()
        for answer_id, data in rows:
            yield answer_id, from_bytes(bytes(data))


@dataclass(frozen=True)
class Embedded:
    """A vector computed from an answer's text (as the text was when read)."""

    answer_id: int
    text: str
    vector: np.ndarray


def save_vectors(*, session: Session, model: str, embedded: Sequence[Embedded]) -> int:
    """Store vectors, replacing older ones; returns how many were stored.

    A vector is kept only if its answer still exists and still says the text that
    was embedded (an answer erased or corrected meanwhile is skipped)."""
    if not embedded:
        return 0
    ids = [e.answer_id for e in embedded]
    answers = {
        answer_id: (value, version)
        for answer_id, value, version in session.exec(
            select(Answer.id, Answer.value, Answer.updated_at).where(col(Answer.id).in_(ids))
        ).all()
    }
    kept = [e for e in embedded if e.answer_id in answers and answers[e.answer_id][0] == e.text]
    session.exec(
        delete(AnswerEmbedding).where(
            col(AnswerEmbedding.answer_id).in_([e.answer_id for e in kept]),
            col(AnswerEmbedding.model) == model,
        )
    )
    session.add_all(
        AnswerEmbedding(
            answer_id=e.answer_id,
            model=model,
            answer_version=answers[e.answer_id][1],
            dimensions=int(np.asarray(e.vector).shape[-1]),
            vector=to_bytes(e.vector),
        )
        for e in kept
    )
    return len(kept)


def count(*, session: Session, model: str | None = None) -> int:
    """Stored vectors (of one model, or all)."""
    query = select(func.count()).select_from(AnswerEmbedding)
    if model is not None:
        query = query.where(AnswerEmbedding.model == model)
    return int(session.exec(query).one())
