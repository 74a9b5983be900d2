"""Stored theme analyses: runs, their themes under stable ids, and the answers in them.

The analysis itself (analysis/) works on texts; this module keeps what it found,
so that the next run can keep each theme's id and label, the digest can show
change since last week, and officers' renames, merges and splits (made through
conversations.staff.theme_edits) survive re-runs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from conversations.storage import store
from conversations.storage.models import (
    AnalysisRun,
    Answer,
    AnswerTheme,
    RunTheme,
    ThemeEdit,
    ThemeSplitPart,
)
from conversations.storage.themable import may_be_shown, where_themable

# A run's themes that are no longer current: no answers this run, merged into
# another, or split in two by an officer.
RETIRED = frozenset({"gone", "merged", "split"})


def is_current(theme: RunTheme) -> bool:
    """A theme officers work with (not gone, merged or split)."""
    return theme.status not in RETIRED


@dataclass(frozen=True)
class FoundTheme:
    """A theme to store for a run (from the analysis, after tracking)."""

    theme_id: int
    label: str
    keywords: Sequence[str]
    domains: Sequence[str]
    quote_answer_ids: Sequence[int]
    centroid: Sequence[float]
    size: int
    previous_size: int | None
    status: str


@dataclass(frozen=True)
class PreviousTheme:
    theme_id: int
    label: str
    centroid: list[float]
    size: int


@dataclass(frozen=True)
class StoredSplit:
    """An officer's split as stored: the theme, its centroid then, and its two parts."""

    theme_id: int
    centroid: list[float]
    parts: tuple[PreviousTheme, PreviousTheme]
    actor: str
    edit_id: int


@dataclass(frozen=True)
class ThemeMember:
    """An answer in a theme of a run: rank 0 primary, 1-2 secondary."""

    answer_id: int
    rank: int
    text: str


def answers_to_analyse(*, session: Session, consultation_id: int, questions: Sequence[str],
                       batch: int = 5000) -> Iterable[tuple[int, str]]:  # fmt: skip
    """(answer id, text) of every themable answer (conversations.storage.themable),
    streamed in batches."""
    query = (
        where_themable(
            select(Answer.id, Answer.value), consultation_id=consultation_id, questions=questions
        )
        .order_by(col(Answer.id))
        .execution_options(yield_per=batch)
    )
    for answer_id, value in session.exec(query):
        if answer_id is not None:
            yield answer_id, value


def themable_count(*, session: Session, consultation_id: int, questions: Sequence[str]) -> int:
    """How many answers `answers_to_analyse` would give."""
    query = where_themable(
        select(func.count()).select_from(Answer),
        consultation_id=consultation_id,
        questions=questions,
    )
    return int(session.exec(query).one())


def latest_run(*, session: Session, consultation_id: int) -> AnalysisRun | None:
    return session.exec(
        select(AnalysisRun)
        .where(AnalysisRun.consultation_id == consultation_id)
        .order_by(col(AnalysisRun.id).desc())
    ).first()


def runs(*, session: Session, consultation_id: int, limit: int = 12) -> list[AnalysisRun]:
    """The latest runs, newest first."""
    return list(
        session.exec(
            select(AnalysisRun)
            .where(AnalysisRun.consultation_id == consultation_id)
            .order_by(col(AnalysisRun.id).desc())
            .limit(limit)
        ).all()
    )


def officer_edits(
    *, session: Session, consultation_id: int
) -> tuple[dict[int, str], dict[int, int]]:
    """(renames: theme id -> label, merges: absorbed id -> surviving id), latest edit winning."""
    renames: dict[int, str] = {}
    merges: dict[int, int] = {}
    for edit in session.exec(
        select(ThemeEdit)
        .where(ThemeEdit.consultation_id == consultation_id)
        .order_by(col(ThemeEdit.id))
    ):
        if edit.action == "rename" and edit.label:
            renames[edit.theme_id] = edit.label
        elif edit.action == "merge" and edit.other_theme_id is not None:
            merges[edit.theme_id] = edit.other_theme_id
    return renames, merges


def officer_splits(*, session: Session, consultation_id: int) -> list[StoredSplit]:
    """Officers' splits, oldest first (each run replays them in this order)."""
    edits = session.exec(
        select(ThemeEdit)
        .where(ThemeEdit.consultation_id == consultation_id, ThemeEdit.action == "split")
        .order_by(col(ThemeEdit.id))
    ).all()
    ids = [e.id for e in edits if e.id is not None]
    parts: dict[int, list[ThemeSplitPart]] = {}
    if ids:
        for part in session.exec(
            select(ThemeSplitPart)
            .where(col(ThemeSplitPart.edit_id).in_(ids))
            .order_by(col(ThemeSplitPart.edit_id), col(ThemeSplitPart.position))
        ):
            parts.setdefault(part.edit_id, []).append(part)
    result = []
    for edit in edits:
        found = parts.get(edit.id or 0, [])
        if len(found) != 2 or not edit.centroid_json:
            continue  # not a complete split (never written so: defensive)
        first, second = (
            PreviousTheme(p.theme_id, p.label, json.loads(p.centroid_json), p.size) for p in found
        )
        centroid = json.loads(edit.centroid_json)
        split = StoredSplit(edit.theme_id, centroid, (first, second), edit.actor, edit.id or 0)
        result.append(split)
    return result


def next_free_theme_id(*, session: Session, consultation_id: int) -> int:
    """An id no run or edit of the consultation has ever used."""
    in_runs = session.exec(
        select(func.max(RunTheme.theme_id))
        .join(AnalysisRun, col(AnalysisRun.id) == col(RunTheme.run_id))
        .where(AnalysisRun.consultation_id == consultation_id)
    ).one()
    edited = session.exec(
        select(func.max(ThemeEdit.theme_id), func.max(ThemeEdit.other_theme_id)).where(
            ThemeEdit.consultation_id == consultation_id
        )
    ).one()
    parts = session.exec(
        select(func.max(ThemeSplitPart.theme_id))
        .join(ThemeEdit, col(ThemeEdit.id) == col(ThemeSplitPart.edit_id))
        .where(ThemeEdit.consultation_id == consultation_id)
    ).one()
    return 1 + max(x or 0 for x in (in_runs, *edited, parts))


def save_run(*, session: Session, consultation_id: int, created_by: str, questions: Sequence[str],
             answers: int, unthemed: int, seconds: float, themes: Sequence[FoundTheme],
             assignments: Iterable[tuple[int, int, int]]) -> AnalysisRun:  # fmt: skip
    """Store a run, its themes and each answer's theme(s): (answer id, theme id, rank)."""
    run = AnalysisRun(
        consultation_id=consultation_id,
        questions=",".join(questions),
        created_by=created_by,
        answers=answers,
        unthemed=unthemed,
        seconds=round(seconds, 3),
    )
    session.add(run)
    session.flush()
    assert run.id is not None
    session.add_all(
        RunTheme(
            run_id=run.id,
            theme_id=t.theme_id,
            label=t.label[:200],
            keywords_json=json.dumps(list(t.keywords)),
            domains_json=json.dumps(list(t.domains)),
            quote_answers_json=json.dumps(list(t.quote_answer_ids)),
            centroid_json=json.dumps([round(float(x), 6) for x in t.centroid]),
            size=t.size,
            previous_size=t.previous_size,
            status=t.status,
        )
        for t in themes
    )
    batch: list[dict[str, int]] = []
    for answer_id, theme_id, rank in assignments:
        batch.append({"run_id": run.id, "answer_id": answer_id, "theme_id": theme_id, "rank": rank})
        if len(batch) >= 5000:
            session.execute(AnswerTheme.__table__.insert(), batch)  # type: ignore[attr-defined]
            batch = []
    if batch:
        session.execute(AnswerTheme.__table__.insert(), batch)  # type: ignore[attr-defined]
    store.audit(
        session=session,
        actor=created_by,
        action="analysis.run",
        target=f"consultation {consultation_id} run {run.id}",
        detail=f"{answers} answers, {len([t for t in themes if t.status != 'gone'])} themes",
    )
    return run


def themes_of_run(*, session: Session, run_id: int) -> list[RunTheme]:
    return list(
        session.exec(
            select(RunTheme)
            .where(RunTheme.run_id == run_id)
            .order_by(col(RunTheme.size).desc(), col(RunTheme.theme_id))
        ).all()
    )


def theme_sizes_over_runs(*, session: Session, consultation_id: int, limit: int = 12
                          ) -> list[tuple[AnalysisRun, dict[int, int]]]:  # fmt: skip
    """Oldest first: each run with its theme sizes, for trend charts."""
    result = []
    for run in reversed(runs(session=session, consultation_id=consultation_id, limit=limit)):
        assert run.id is not None
        sizes = {t.theme_id: t.size for t in themes_of_run(session=session, run_id=run.id)}
        result.append((run, sizes))
    return result


def quote_texts(*, session: Session, theme: RunTheme) -> list[str]:
    """The quoted answers' texts as stored (callers scrub them before showing)."""
    return [text for _, text in quoted_answers(session=session, theme=theme)]


def quoted_answers(*, session: Session, theme: RunTheme) -> list[tuple[int, str]]:
    """(answer id, text as stored) of each quote still shown, withheld ones left out."""
    ids = json.loads(theme.quote_answers_json)
    if not ids:
        return []
    found = dict(
        session.exec(
            select(Answer.id, Answer.value).where(col(Answer.id).in_(ids), may_be_shown())
        ).all()
    )
    return [(i, found[i]) for i in ids if i in found]


def residents_in_theme(*, session: Session, run_id: int, theme_id: int) -> list[int]:
    """Residents with an answer in a theme (primary or secondary) in a run."""
    return sorted(
        r
        for r in session.exec(
            select(Answer.resident_id)
            .join(AnswerTheme, col(AnswerTheme.answer_id) == col(Answer.id))
            .where(AnswerTheme.run_id == run_id, AnswerTheme.theme_id == theme_id)
            .distinct()
        ).all()
        if r is not None
    )


def theme_profile(*, session: Session, run_id: int, theme_id: int) -> dict[str, dict[str, int]]:
    """Who raised a theme: profile dimension -> group -> residents (primary answers)."""
    residents = (
        select(Answer.resident_id)
        .join(AnswerTheme, col(AnswerTheme.answer_id) == col(Answer.id))
        .where(
            AnswerTheme.run_id == run_id, AnswerTheme.theme_id == theme_id, AnswerTheme.rank == 0
        )
    )
    rows = session.exec(
        select(Answer.profile, Answer.value, func.count(func.distinct(Answer.resident_id)))
        .where(col(Answer.resident_id).in_(residents), col(Answer.profile).is_not(None))
        .group_by(col(Answer.profile), col(Answer.value))
    ).all()
    profile: dict[str, dict[str, int]] = {}
    for dimension, value, count in rows:
        if dimension:
            profile.setdefault(dimension, {})[value or "not-said"] = int(count)
    return profile


def theme_members(*, session: Session, run_id: int, theme_id: int) -> list[ThemeMember]:
    """Every answer in a theme of a run (primary or secondary), with its text, by answer id.

    Answers withheld since the run (never quoted, never described) are left out."""
    rows = session.exec(
        select(AnswerTheme.answer_id, AnswerTheme.rank, Answer.value)
        .join(Answer, col(Answer.id) == col(AnswerTheme.answer_id))
        .where(
            AnswerTheme.run_id == run_id,
            AnswerTheme.theme_id == theme_id,
            may_be_shown(),
        )
        .order_by(col(AnswerTheme.answer_id))
    ).all()
    return [ThemeMember(answer_id, rank, text) for answer_id, rank, text in rows]
