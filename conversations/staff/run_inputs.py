"""What a theme run reads besides the answers: the codebook's fingerprint, and the codes
candidate themes keep through a coding-only run.

A run reads the codebook at its start and again before it saves: a different
fingerprint means officers changed the codebook or coded an answer meanwhile.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlmodel import Session, col, func, select

from conversations.storage.models import AnswerCode, AnswerTheme, CodebookExample, CodebookTheme


def codebook_fingerprint(*, session: Session, consultation_id: int) -> tuple[int, ...]:
    """Changes whenever officers change the codebook or code an answer."""
    counts = []
    for table, column in (
        (CodebookTheme, CodebookTheme.consultation_id),
        (CodebookExample, CodebookExample.consultation_id),
        (AnswerCode, AnswerCode.consultation_id),
    ):
        counts.append(
            int(
                session.exec(
                    select(func.count()).select_from(table).where(column == consultation_id)
                ).one()
            )
        )
    states = session.exec(
        select(func.count())
        .select_from(CodebookTheme)
        .where(CodebookTheme.consultation_id == consultation_id, CodebookTheme.state == "reviewed")
    ).one()
    last_code = session.exec(
        select(func.max(AnswerCode.coded_at)).where(AnswerCode.consultation_id == consultation_id)
    ).one()
    stamp = int(last_code.timestamp() * 1e6) if last_code is not None else 0
    return (*counts, int(states), stamp)


def candidate_codes(*, session: Session, run_id: int,
                    theme_ids: Collection[int]) -> dict[int, tuple[int, ...]]:  # fmt: skip
    """Each answer's themes among `theme_ids` in a run, primary first."""
    carried: dict[int, tuple[int, ...]] = {}
    for answer_id, theme_id in session.exec(
        select(AnswerTheme.answer_id, AnswerTheme.theme_id)
        .where(AnswerTheme.run_id == run_id, col(AnswerTheme.theme_id).in_(list(theme_ids)))
        .order_by(col(AnswerTheme.answer_id), col(AnswerTheme.rank))
    ):
        carried[answer_id] = (*carried.get(answer_id, ()), theme_id)
    return carried
