"""A consultation's codebook: the themes officers reviewed, and their codes of answers.

Discovery proposes themes; an officer reviews one (confirms, renames, merges,
splits it, or gives it answers by hand) and it joins the codebook, with the answers
it held then as its examples. Every later run codes all answers against the
codebook (bot.actions.analysis_runs) and never renames, renumbers, dissolves or merges a
reviewed theme. An officer's code of one answer (move, add a theme, "not a need")
wins over the coder on every run and teaches it. Every change here is audited.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import func, or_
from sqlmodel import Session, col, delete, select, update

from conversations.staff.themes import is_current
from conversations.storage import store
from conversations.storage.models import (
    AnalysisRun,
    Answer,
    AnswerCode,
    AnswerTheme,
    CodebookExample,
    CodebookTheme,
    Consultation,
    Round,
    RunTheme,
)
from conversations.storage.themable import may_be_shown

# A theme's examples are the answers it held when reviewed; beyond this many, a
# random sample of them (the coder's prototypes need hundreds, not millions).
MAX_EXAMPLES = 2000
NOT_A_NEED = None  # AnswerCode.theme_id of an answer an officer said is not a need


class CodingError(ValueError):
    """A code that cannot be given; the message says why."""


@dataclass(frozen=True)
class Example:
    """An answer the coder learns from: `theme_id` None means "not a need"."""

    answer_id: int
    theme_id: int | None
    by_hand: bool  # an officer's own code (a labelled neighbour), not a review's snapshot


def reviewed(*, session: Session, consultation_id: int) -> dict[int, CodebookTheme]:
    """The codebook's live themes by theme id."""
    rows = session.exec(
        select(CodebookTheme).where(
            CodebookTheme.consultation_id == consultation_id, CodebookTheme.state == "reviewed"
        )
    ).all()
    return {row.theme_id: row for row in rows}


def entry(*, session: Session, consultation_id: int, theme_id: int) -> CodebookTheme | None:
    """The codebook's row for a theme, live or retired."""
    return session.exec(
        select(CodebookTheme).where(
            CodebookTheme.consultation_id == consultation_id, CodebookTheme.theme_id == theme_id
        )
    ).first()


def review(
    *,
    session: Session,
    consultation_id: int,
    theme_id: int,
    name: str,
    actor: str,
    run_id: int | None,
) -> CodebookTheme:
    """Put a theme in the codebook (or rename it there), with its answers in run `run_id`
    as examples the first time. Idempotent for a theme already reviewed."""
    found = entry(session=session, consultation_id=consultation_id, theme_id=theme_id)
    if found is not None and found.state != "reviewed":
        raise CodingError(f"theme {theme_id} was {found.state}: it is no longer in the codebook")
    if found is None:
        found = CodebookTheme(
            consultation_id=consultation_id, theme_id=theme_id, name=name, reviewed_by=actor
        )
        if run_id is not None:
            add_examples(
                session=session,
                consultation_id=consultation_id,
                theme_id=theme_id,
                answer_ids=members(session=session, run_id=run_id, theme_id=theme_id),
            )
    found.name = name
    session.add(found)
    session.flush()
    return found


def members(*, session: Session, run_id: int, theme_id: int) -> list[int]:
    """Answers whose primary theme in a run is `theme_id`, withheld ones left out."""
    return list(
        session.exec(
            select(AnswerTheme.answer_id)
            .join(Answer, col(Answer.id) == col(AnswerTheme.answer_id))
            .where(
                AnswerTheme.run_id == run_id,
                AnswerTheme.theme_id == theme_id,
                AnswerTheme.rank == 0,
                may_be_shown(),
            )
            .order_by(col(AnswerTheme.answer_id))
        ).all()
    )


def add_examples(
    *, session: Session, consultation_id: int, theme_id: int, answer_ids: Sequence[int]
) -> None:
    """Record answers as a theme's examples (a random sample past MAX_EXAMPLES)."""
    existing = session.exec(
        select(func.count())
        .select_from(CodebookExample)
        .where(
            CodebookExample.consultation_id == consultation_id,
            CodebookExample.theme_id == theme_id,
        )
    ).one()
    room = MAX_EXAMPLES - int(existing)
    ids = sorted(set(answer_ids))
    if room <= 0 or not ids:
        return
    if len(ids) > room:
        rng = np.random.default_rng(theme_id)
        ids = sorted(int(i) for i in rng.choice(ids, room, replace=False))
    known = set(
        session.exec(
            select(CodebookExample.answer_id).where(
                CodebookExample.consultation_id == consultation_id,
                CodebookExample.theme_id == theme_id,
            )
        ).all()
    )
    session.add_all(
        CodebookExample(consultation_id=consultation_id, theme_id=theme_id, answer_id=i)
        for i in ids
        if i not in known
    )


def retire(
    *,
    session: Session,
    consultation_id: int,
    theme_id: int,
    state: str,
    merged_into: int | None = None,
) -> None:
    """A reviewed theme merged into another or split in two: out of the codebook for good.

    Its examples and officers' codes go with its answers (to `merged_into`, or are
    dropped for a split, whose parts take their own examples)."""
    found = entry(session=session, consultation_id=consultation_id, theme_id=theme_id)
    if found is not None:
        found.state = state
        found.merged_into = merged_into
        session.add(found)
    if merged_into is not None:
        moved = list(
            session.exec(
                select(CodebookExample.answer_id).where(
                    CodebookExample.consultation_id == consultation_id,
                    CodebookExample.theme_id == theme_id,
                )
            ).all()
        )
        add_examples(
            session=session, consultation_id=consultation_id, theme_id=merged_into, answer_ids=moved
        )
    session.exec(
        delete(CodebookExample).where(
            col(CodebookExample.consultation_id) == consultation_id,
            col(CodebookExample.theme_id) == theme_id,
        )
    )


def repoint_codes(
    *, session: Session, consultation_id: int, theme_id: int, to: int | Mapping[int, int]
) -> None:
    """Officers' codes to a retired theme follow its answers: to one theme (a merge), or
    by answer id (a split's parts); a code with nowhere to go is dropped."""
    codes = session.exec(
        select(AnswerCode).where(
            AnswerCode.consultation_id == consultation_id, AnswerCode.theme_id == theme_id
        )
    ).all()
    for code in codes:
        target = to if isinstance(to, int) else to.get(code.answer_id)
        if target is None:
            session.delete(code)
            continue
        duplicate = session.exec(
            select(AnswerCode).where(
                AnswerCode.answer_id == code.answer_id, AnswerCode.theme_id == target
            )
        ).first()
        if duplicate is None:
            code.theme_id = target
            session.add(code)
        else:
            session.delete(code)
    session.flush()


def examples(*, session: Session, consultation_id: int) -> list[Example]:
    """What the coder learns from: reviewed themes' examples, then officers' codes."""
    live = select(CodebookTheme.theme_id).where(
        CodebookTheme.consultation_id == consultation_id, CodebookTheme.state == "reviewed"
    )
    withheld = select(Answer.id).where(col(Answer.withheld).is_not(None))
    snapshot = session.exec(
        select(CodebookExample.answer_id, CodebookExample.theme_id)
        .where(
            CodebookExample.consultation_id == consultation_id,
            col(CodebookExample.theme_id).in_(live),
            col(CodebookExample.answer_id).not_in(withheld),
        )
        .order_by(col(CodebookExample.id))
    ).all()
    result = [Example(answer_id, theme_id, False) for answer_id, theme_id in snapshot]
    coded = session.exec(
        select(AnswerCode.answer_id, AnswerCode.theme_id)
        .where(
            AnswerCode.consultation_id == consultation_id,
            or_(col(AnswerCode.theme_id).is_(None), col(AnswerCode.theme_id).in_(live)),
        )
        .order_by(col(AnswerCode.answer_id), col(AnswerCode.rank))
    ).all()
    return result + [Example(answer_id, theme_id, True) for answer_id, theme_id in coded]


def officer_codes(*, session: Session, consultation_id: int) -> dict[int, list[int | None]]:
    """Answer id -> its themes as officers coded them, primary first ([None]: not a need)."""
    codes: dict[int, list[int | None]] = {}
    for answer_id, theme_id in session.exec(
        select(AnswerCode.answer_id, AnswerCode.theme_id)
        .where(AnswerCode.consultation_id == consultation_id)
        .order_by(col(AnswerCode.answer_id), col(AnswerCode.rank))
    ):
        codes.setdefault(answer_id, []).append(theme_id)
    return codes


# --- an officer's code of one answer ---------------------------------------------------


@dataclass(frozen=True)
class Coded:
    """An answer's themes before and after an officer's code (primary first)."""

    answer_id: int
    before: tuple[int, ...]
    after: tuple[int, ...]  # empty: not a need


def code_answer(
    *,
    session: Session,
    consultation: Consultation,
    run: AnalysisRun,
    answer_id: int,
    action: str,
    theme_id: int | None,
    actor: str,
) -> Coded:
    """Move an answer to a theme, add a theme to it, take one off, or mark it not a need.

    The code is kept for every later run and applied to the latest run at once; a
    theme given an answer by hand joins the codebook. Audited."""
    assert consultation.id is not None and run.id is not None
    answer = session.get(Answer, answer_id)
    if answer is None or _consultation_of(session, answer) != consultation.id:
        raise CodingError(f"there is no answer {answer_id} in '{consultation.slug}'")
    before = tuple(
        session.exec(
            select(AnswerTheme.theme_id)
            .where(AnswerTheme.run_id == run.id, AnswerTheme.answer_id == answer_id)
            .order_by(col(AnswerTheme.rank))
        ).all()
    )
    if action != "not-a-need":
        if theme_id is None:
            raise CodingError("say which theme")
        _require_live(session, consultation, run, theme_id, actor)
    if action == "move":
        assert theme_id is not None
        after = (theme_id, *(t for t in before[1:] if t != theme_id))
    elif action == "add":
        assert theme_id is not None
        if theme_id in before:
            raise CodingError(f"answer {answer_id} is already in theme {theme_id}")
        if len(before) >= 3:
            raise CodingError("an answer has at most three themes: take one off first")
        after = (*before, theme_id) if before else (theme_id,)
    elif action == "remove":
        if theme_id not in before:
            raise CodingError(f"answer {answer_id} is not in theme {theme_id}")
        after = tuple(t for t in before if t != theme_id)
    elif action == "not-a-need":
        after = ()
    else:
        raise CodingError(f"unknown action {action!r}: move, add, remove or not-a-need")
    _write_code(session, consultation.id, answer_id, after, actor)
    _apply_to_run(session, run.id, answer_id, before, after)
    shown = ", ".join(str(t) for t in after) or "not a need"
    store.audit(
        session=session,
        actor=actor,
        action="theme.code",
        target=f"{consultation.slug} answer {answer_id}",
        detail=f"{action}: themes {', '.join(str(t) for t in before) or 'none'} -> {shown}",
    )
    return Coded(answer_id, before, after)


def _consultation_of(session: Session, answer: Answer) -> int | None:
    found = session.get(Round, answer.round_id)
    return None if found is None else found.consultation_id


def _require_live(
    session: Session, consultation: Consultation, run: AnalysisRun, theme_id: int, actor: str
) -> None:
    """A current theme of the run; a candidate given answers by hand joins the codebook."""
    assert consultation.id is not None
    theme = session.exec(
        select(RunTheme).where(RunTheme.run_id == run.id, RunTheme.theme_id == theme_id)
    ).first()
    if theme is None or not is_current(theme):
        raise CodingError(f"there is no current theme {theme_id} in '{consultation.slug}'")
    if entry(session=session, consultation_id=consultation.id, theme_id=theme_id) is None:
        review(
            session=session,
            consultation_id=consultation.id,
            theme_id=theme_id,
            name=theme.label,
            actor=actor,
            run_id=run.id,
        )


def _write_code(
    session: Session, consultation_id: int, answer_id: int, themes: tuple[int, ...], actor: str
) -> None:
    session.exec(delete(AnswerCode).where(col(AnswerCode.answer_id) == answer_id))
    rows: list[tuple[int, int | None]] = list(enumerate(themes)) or [(0, NOT_A_NEED)]
    session.add_all(
        AnswerCode(
            answer_id=answer_id,
            rank=rank,
            consultation_id=consultation_id,
            theme_id=theme,
            actor=actor,
        )
        for rank, theme in rows
    )


def _apply_to_run(
    session: Session, run_id: int, answer_id: int, before: tuple[int, ...], after: tuple[int, ...]
) -> None:
    session.exec(
        delete(AnswerTheme).where(
            col(AnswerTheme.run_id) == run_id, col(AnswerTheme.answer_id) == answer_id
        )
    )
    session.add_all(
        AnswerTheme(run_id=run_id, answer_id=answer_id, rank=rank, theme_id=theme)
        for rank, theme in enumerate(after)
    )
    session.flush()
    touched = {t for t in (before[:1] + after[:1])}
    for theme_id in touched:
        size = session.exec(
            select(func.count()).where(
                AnswerTheme.run_id == run_id,
                AnswerTheme.theme_id == theme_id,
                AnswerTheme.rank == 0,
            )
        ).one()
        session.exec(
            update(RunTheme)
            .where(col(RunTheme.run_id) == run_id, col(RunTheme.theme_id) == theme_id)
            .values(size=int(size))
        )
