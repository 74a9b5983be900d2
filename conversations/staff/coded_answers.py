"""Reading coded answers: each answer's themes, a theme's answers page by page, the list.

What officers read and what leaves the system (exports), all from the latest run,
which officers' codes update at once (conversations.staff.codebook)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from conversations.staff import codebook
from conversations.staff.themes import RETIRED, latest_run, themes_of_run
from conversations.storage.models import (
    AnalysisRun,
    Answer,
    AnswerCode,
    AnswerTheme,
    RunTheme,
)
from conversations.storage.themable import Query, may_be_shown, where_themable


def coded_answers(*, session: Session, consultation_id: int
                  ) -> tuple[dict[int, list[int]], dict[int, str]]:  # fmt: skip
    """Each answer's themes in the latest run (primary first), and those themes' names."""
    run = latest_run(session=session, consultation_id=consultation_id)
    if run is None:
        return {}, {}
    coded: dict[int, list[int]] = {}
    for answer_id, theme_id in session.exec(
        select(AnswerTheme.answer_id, AnswerTheme.theme_id)
        .where(AnswerTheme.run_id == run.id)
        .order_by(col(AnswerTheme.answer_id), col(AnswerTheme.rank))
    ):
        coded.setdefault(answer_id, []).append(theme_id)
    names = dict(
        session.exec(
            select(RunTheme.theme_id, RunTheme.label).where(RunTheme.run_id == run.id)
        ).all()
    )
    return coded, names


def theme_list(*, session: Session, consultation_id: int) -> list[dict[str, Any]] | None:
    """`[{"id", "name", "size", "reviewed"}, ...]`: the current themes, largest first
    (None before the first run)."""
    run = latest_run(session=session, consultation_id=consultation_id)
    if run is None or run.id is None:
        return None
    book = codebook.reviewed(session=session, consultation_id=consultation_id)
    return [
        {"id": t.theme_id, "name": t.label, "size": t.size, "reviewed": t.theme_id in book}
        for t in themes_of_run(session=session, run_id=run.id)
        if t.status not in RETIRED
    ]


@dataclass(frozen=True)
class CodedAnswer:
    answer_id: int
    text: str
    themes: tuple[int, ...]  # primary first
    by_hand: bool  # an officer coded it


@dataclass(frozen=True)
class AnswersPage:
    answers: list[CodedAnswer]
    page: int
    pages: int
    total: int


def answers_page(*, session: Session, consultation_id: int, theme_id: int | None,
                 search: str = "", page: int = 1, per_page: int = 20,
                 only: Sequence[int] | None = None) -> AnswersPage:  # fmt: skip
    """A theme's answers (any rank), or with `theme_id` None the answers not yet themed,
    by answer id; `search` keeps answers that contain each of its words, `only` those
    of the given ids (the answers in one language)."""
    run = latest_run(session=session, consultation_id=consultation_id)
    if run is None or run.id is None:
        return AnswersPage([], 1, 1, 0)
    if theme_id is not None:
        # Answers in a theme were themable when the run read them; one withheld since
        # is never shown.
        query = (
            select(Answer.id)
            .join(AnswerTheme, col(AnswerTheme.answer_id) == col(Answer.id))
            .where(
                may_be_shown(),
                AnswerTheme.run_id == run.id,
                AnswerTheme.theme_id == theme_id,
            )
        )
    else:
        query = _not_yet_themed(select(Answer.id), consultation_id, run)
    if only is not None:
        query = query.where(col(Answer.id).in_(list(only)))
    for word in search.split()[:8]:
        escaped = word.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(func.lower(Answer.value).like(f"%{escaped}%", escape="\\"))
    total = int(session.exec(select(func.count()).select_from(query.subquery())).one())
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    ids = [
        i
        for i in session.exec(
            query.order_by(col(Answer.id)).offset((page - 1) * per_page).limit(per_page)
        )
        if i is not None
    ]
    texts = dict(session.exec(select(Answer.id, Answer.value).where(col(Answer.id).in_(ids))).all())
    given: dict[int, list[int]] = {}
    for answer_id, theme in session.exec(
        select(AnswerTheme.answer_id, AnswerTheme.theme_id)
        .where(AnswerTheme.run_id == run.id, col(AnswerTheme.answer_id).in_(ids))
        .order_by(col(AnswerTheme.rank))
    ):
        given.setdefault(answer_id, []).append(theme)
    by_hand = set(
        session.exec(select(AnswerCode.answer_id).where(col(AnswerCode.answer_id).in_(ids))).all()
    )
    answers = [
        CodedAnswer(i, texts[i], tuple(given.get(i, ())), i in by_hand) for i in ids if i in texts
    ]
    return AnswersPage(answers, page, pages, total)


def not_yet_themed(*, session: Session, consultation_id: int) -> list[tuple[int, str]]:
    """The answers not yet themed in the latest run, (id, text), by id."""
    run = latest_run(session=session, consultation_id=consultation_id)
    if run is None or run.id is None:
        return []
    query = _not_yet_themed(select(Answer.id, Answer.value), consultation_id, run)
    return [(i, text or "") for i, text in session.exec(query.order_by(col(Answer.id))) if i]


def _not_yet_themed(query: Query, consultation_id: int, run: AnalysisRun) -> Query:
    """`query` (a select from Answer) narrowed to themable answers in no theme of `run`
    that no officer called "not a need"."""
    return where_themable(query, consultation_id=consultation_id, questions=_questions(run)).where(
        col(Answer.id).not_in(select(AnswerTheme.answer_id).where(AnswerTheme.run_id == run.id)),
        col(Answer.id).not_in(
            select(AnswerCode.answer_id).where(col(AnswerCode.theme_id).is_(None))
        ),
    )


def _questions(run: AnalysisRun) -> list[str]:
    return [q for q in run.questions.split(",") if q]
