"""Officers' edits of themes: confirm, rename, merge and split, each audited.

Every edit also changes the codebook (conversations.staff.codebook); a rename, merge
or split is kept as a ThemeEdit too, which later runs replay (conversations.staff.themes
reads them).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, delete, select, update

from conversations.staff import codebook
from conversations.staff.themes import is_current, latest_run, next_free_theme_id
from conversations.storage import store
from conversations.storage.models import (
    AnalysisRun,
    AnswerTheme,
    Consultation,
    RunTheme,
    ThemeEdit,
    ThemeSplitPart,
)


class ThemeEditError(ValueError):
    """An edit that cannot be made; the message says why."""


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


def recent_edits(*, session: Session, consultation_id: int, limit: int) -> list[ThemeEdit]:
    """Officers' latest edits of a consultation's themes, newest first."""
    return list(
        session.exec(
            select(ThemeEdit)
            .where(ThemeEdit.consultation_id == consultation_id)
            .order_by(col(ThemeEdit.id).desc())
            .limit(limit)
        ).all()
    )
