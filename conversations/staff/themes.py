"""Stored theme analyses: runs, their themes under stable ids, and officers' edits.

The analysis itself (analysis/) works on texts; this module keeps what it found,
so that the next run can keep each theme's id and label, the digest can show
change since last week, and officers' renames, merges and splits survive re-runs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, delete, select, update

from conversations.staff import codebook
from conversations.storage import store
from conversations.storage.models import (
    AnalysisRun,
    Answer,
    AnswerTheme,
    Consultation,
    Round,
    RunTheme,
    ThemeEdit,
    ThemeSplitPart,
)

# A run's themes that are no longer current: no answers this run, merged into
# another, or split in two by an officer.
RETIRED = frozenset({"gone", "merged", "split"})


class ThemeEditError(ValueError):
    """An edit that cannot be made; the message says why."""


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
class SplitPart:
    """One part of a theme being split, to store into the latest run.

    `answers` are the answer ids the part takes over (at any rank); `size`
    counts those for which it is the primary theme."""

    label: str
    keywords: Sequence[str]
    domains: Sequence[str]
    quote_answer_ids: Sequence[int]
    centroid: Sequence[float]
    size: int
    answers: Sequence[int]


@dataclass(frozen=True)
class ThemeMember:
    """An answer in a theme of a run: rank 0 primary, 1-2 secondary."""

    answer_id: int
    rank: int
    text: str


def answers_to_analyse(*, session: Session, consultation_id: int, questions: Sequence[str],
                       batch: int = 5000) -> Iterable[tuple[int, str]]:  # fmt: skip
    """(answer id, text) of every themable answer, streamed in batches.

    Skipped answers and withheld ones (safeguarding disclosures, abuse) are left out."""
    query = (
        select(Answer.id, Answer.value)
        .join(Round, col(Round.id) == col(Answer.round_id))
        .where(*_themable(consultation_id, questions))
        .order_by(col(Answer.id))
        .execution_options(yield_per=batch)
    )
    for answer_id, value in session.exec(query):
        if answer_id is not None:
            yield answer_id, value


def themable_count(*, session: Session, consultation_id: int, questions: Sequence[str]) -> int:
    """How many answers `answers_to_analyse` would give."""
    query = (
        select(func.count())
        .select_from(Answer)
        .join(Round, col(Round.id) == col(Answer.round_id))
        .where(*_themable(consultation_id, questions))
    )
    return int(session.exec(query).one())


def _themable(consultation_id: int, questions: Sequence[str]) -> tuple[Any, ...]:
    """The one rule for an answer the themes count: a theme question's answer, given
    (not skipped) and not withheld (safeguarding disclosures, abuse)."""
    return (
        Round.consultation_id == consultation_id,
        col(Answer.step_id).in_(questions),
        col(Answer.skipped).is_(False),
        col(Answer.withheld).is_(None),
    )


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
            select(Answer.id, Answer.value).where(
                col(Answer.id).in_(ids), col(Answer.withheld).is_(None)
            )
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


# --- officers' edits -------------------------------------------------------------------


def _live_theme(
    session: Session, consultation: Consultation, theme_id: int
) -> tuple[AnalysisRun, RunTheme]:
    assert consultation.id is not None
    run = latest_run(session=session, consultation_id=consultation.id)
    if run is None:
        raise ThemeEditError(f"'{consultation.slug}' has not been analysed yet")
    theme = session.exec(
        select(RunTheme).where(RunTheme.run_id == run.id, RunTheme.theme_id == theme_id)
    ).first()
    if theme is None or not is_current(theme):
        raise ThemeEditError(f"there is no current theme {theme_id} in '{consultation.slug}'")
    return run, theme


def current_theme(*, session: Session, slug: str, theme_id: int) -> tuple[AnalysisRun, RunTheme]:
    """The latest run and its current theme `theme_id`, or a ThemeEditError saying why not."""
    consultation = store.require_consultation(session=session, slug=slug)
    return _live_theme(session, consultation, theme_id)


def theme_members(*, session: Session, run_id: int, theme_id: int) -> list[ThemeMember]:
    """Every answer in a theme of a run (primary or secondary), with its text, by answer id.

    Answers withheld since the run (never quoted, never described) are left out."""
    rows = session.exec(
        select(AnswerTheme.answer_id, AnswerTheme.rank, Answer.value)
        .join(Answer, col(Answer.id) == col(AnswerTheme.answer_id))
        .where(
            AnswerTheme.run_id == run_id,
            AnswerTheme.theme_id == theme_id,
            col(Answer.withheld).is_(None),
        )
        .order_by(col(AnswerTheme.answer_id))
    ).all()
    return [ThemeMember(answer_id, rank, text) for answer_id, rank, text in rows]


def confirm(*, session: Session, slug: str, theme_id: int, actor: str) -> None:
    """Accept a proposed theme as it is: it joins the codebook under its present name."""
    consultation = store.require_consultation(session=session, slug=slug)
    assert consultation.id is not None
    run, theme = _live_theme(session, consultation, theme_id)
    if theme_id in codebook.reviewed(session=session, consultation_id=consultation.id):
        raise ThemeEditError(f"theme {theme_id} is already in the codebook")
    codebook.review(session=session, consultation_id=consultation.id, theme_id=theme_id,
                    name=theme.label, actor=actor, run_id=run.id)  # fmt: skip
    store.audit(session=session, actor=actor, action="theme.confirm",
                target=f"{slug} theme {theme_id}", detail=repr(theme.label))  # fmt: skip


def rename(*, session: Session, slug: str, theme_id: int, label: str, actor: str) -> None:
    """Give a theme a name: it joins the codebook and keeps the name on every later run."""
    consultation = store.require_consultation(session=session, slug=slug)
    label = " ".join(label.split())
    if not 2 <= len(label) <= 200:
        raise ThemeEditError("a theme's name is 2 to 200 characters")
    run, theme = _live_theme(session, consultation, theme_id)
    before = theme.label
    theme.label = label
    session.add(theme)
    assert consultation.id is not None
    codebook.review(session=session, consultation_id=consultation.id, theme_id=theme_id,
                    name=label, actor=actor, run_id=run.id)  # fmt: skip
    session.add(
        ThemeEdit(
            consultation_id=consultation.id,
            action="rename",
            theme_id=theme_id,
            label=label,
            actor=actor,
        )
    )
    store.audit(session=session, actor=actor, action="theme.rename", target=f"{slug} theme {theme_id}",
                detail=f"{before!r} -> {label!r}")  # fmt: skip


def merge(*, session: Session, slug: str, theme_id: int, into_id: int, actor: str) -> None:
    """Fold one theme into another; later runs code both themes' answers to the one left."""
    if theme_id == into_id:
        raise ThemeEditError("a theme cannot be merged into itself")
    consultation = store.require_consultation(session=session, slug=slug)
    run, absorbed = _live_theme(session, consultation, theme_id)
    _, survivor = _live_theme(session, consultation, into_id)
    assert run.id is not None and consultation.id is not None
    # The theme merged into joins the codebook, and learns from the other's answers.
    codebook.review(session=session, consultation_id=consultation.id, theme_id=into_id,
                    name=survivor.label, actor=actor, run_id=run.id)  # fmt: skip
    absorbed_answers = codebook.members(session=session, run_id=run.id, theme_id=theme_id)
    codebook.retire(session=session, consultation_id=consultation.id, theme_id=theme_id,
                    state="merged", merged_into=into_id)  # fmt: skip
    codebook.add_examples(session=session, consultation_id=consultation.id, theme_id=into_id,
                          answer_ids=absorbed_answers)  # fmt: skip
    codebook.repoint_codes(session=session, consultation_id=consultation.id, theme_id=theme_id,
                           to=into_id)  # fmt: skip
    # Answers in both keep one primary theme; drop the duplicate secondary rows.
    session.exec(
        update(AnswerTheme)
        .where(col(AnswerTheme.run_id) == run.id, col(AnswerTheme.theme_id) == theme_id)
        .values(theme_id=into_id)
    )
    _drop_duplicate_assignments(session, run.id, into_id)
    survivor.size = len(
        session.exec(
            select(AnswerTheme.answer_id).where(
                AnswerTheme.run_id == run.id, AnswerTheme.theme_id == into_id, AnswerTheme.rank == 0
            )
        ).all()
    )
    survivor.quote_answers_json = json.dumps(
        (json.loads(survivor.quote_answers_json) + json.loads(absorbed.quote_answers_json))[:3]
    )
    absorbed.status = "merged"
    absorbed.size = 0
    session.add_all([survivor, absorbed])
    session.add(ThemeEdit(consultation_id=consultation.id, action="merge", theme_id=theme_id,
                          other_theme_id=into_id, actor=actor))  # fmt: skip
    store.audit(session=session, actor=actor, action="theme.merge", target=f"{slug} theme {theme_id}",
                detail=f"into theme {into_id} ({survivor.label!r})")  # fmt: skip


def split(*, session: Session, slug: str, theme_id: int, run_id: int, centroid: Sequence[float],
          parts: tuple[SplitPart, SplitPart], actor: str) -> tuple[int, int]:  # fmt: skip
    """Divide a theme of the latest run between two new themes; later runs keep them apart.

    The parts were found on run `run_id`'s answers; if another run has become the
    latest since, nothing changes. Returns the parts' new ids."""
    consultation = store.require_consultation(session=session, slug=slug)
    assert consultation.id is not None
    # One edit at a time per consultation, so two splits never take the same new ids.
    session.exec(select(Consultation).where(Consultation.id == consultation.id).with_for_update())
    run, theme = _live_theme(session, consultation, theme_id)
    if run.id != run_id:
        raise ThemeEditError("the themes were analysed again meanwhile: split it again")
    first_id = next_free_theme_id(session=session, consultation_id=consultation.id)
    ids = (first_id, first_id + 1)
    for part_id, part in zip(ids, parts, strict=True):
        for start in range(0, len(part.answers), 1000):
            session.exec(
                update(AnswerTheme)
                .where(
                    col(AnswerTheme.run_id) == run_id,
                    col(AnswerTheme.theme_id) == theme_id,
                    col(AnswerTheme.answer_id).in_(part.answers[start : start + 1000]),
                )
                .values(theme_id=part_id)
            )
    # Answers the parts did not list (withheld since the run) go with the first part.
    session.exec(
        update(AnswerTheme)
        .where(col(AnswerTheme.run_id) == run_id, col(AnswerTheme.theme_id) == theme_id)
        .values(theme_id=ids[0])
    )
    before = theme.label
    theme.status = "split"
    theme.size = 0
    session.add(theme)
    session.add_all(
        RunTheme(
            run_id=run_id,
            theme_id=part_id,
            label=part.label[:200],
            keywords_json=json.dumps(list(part.keywords)),
            domains_json=json.dumps(list(part.domains)),
            quote_answers_json=json.dumps(list(part.quote_answer_ids)),
            centroid_json=json.dumps([round(float(x), 6) for x in part.centroid]),
            size=part.size,
            previous_size=None,
            status="new",
        )
        for part_id, part in zip(ids, parts, strict=True)
    )
    edit = ThemeEdit(consultation_id=consultation.id, action="split", theme_id=theme_id,
                     centroid_json=json.dumps([round(float(x), 6) for x in centroid]), actor=actor)  # fmt: skip
    session.add(edit)
    session.flush()
    assert edit.id is not None
    session.add_all(
        ThemeSplitPart(
            edit_id=edit.id,
            position=position,
            theme_id=part_id,
            label=part.label[:200],
            centroid_json=json.dumps([round(float(x), 6) for x in part.centroid]),
            size=part.size,
        )
        for position, (part_id, part) in enumerate(zip(ids, parts, strict=True))
    )
    # The parts join the codebook with their answers as examples; the split theme leaves it.
    part_of: dict[int, int] = {}
    for part_id, part in zip(ids, parts, strict=True):
        codebook.review(session=session, consultation_id=consultation.id, theme_id=part_id,
                        name=part.label[:200], actor=actor, run_id=run_id)  # fmt: skip
        part_of.update(dict.fromkeys(part.answers, part_id))
    codebook.retire(session=session, consultation_id=consultation.id, theme_id=theme_id,
                    state="split")  # fmt: skip
    codebook.repoint_codes(session=session, consultation_id=consultation.id, theme_id=theme_id,
                           to=part_of)  # fmt: skip
    described = " and ".join(
        f"theme {part_id} ({part.label!r}, {part.size} answers)"
        for part_id, part in zip(ids, parts, strict=True)
    )
    store.audit(session=session, actor=actor, action="theme.split", target=f"{slug} theme {theme_id}",
                detail=f"{before!r} into {described}")  # fmt: skip
    return ids


def _drop_duplicate_assignments(session: Session, run_id: int, theme_id: int) -> None:
    rows = session.exec(
        select(AnswerTheme)
        .where(AnswerTheme.run_id == run_id, AnswerTheme.theme_id == theme_id)
        .order_by(col(AnswerTheme.answer_id), col(AnswerTheme.rank))
    ).all()
    seen: set[int] = set()
    for row in rows:
        if row.answer_id in seen:
            session.exec(
                delete(AnswerTheme).where(
                    col(AnswerTheme.run_id) == run_id,
                    col(AnswerTheme.answer_id) == row.answer_id,
                    col(AnswerTheme.rank) == row.rank,
                )
            )
        seen.add(row.answer_id)
