"""A theme run over a consultation's answers: code against the codebook, then discover.

1. Every themable answer, old and new, is coded against the consultation's
   codebook (the themes officers reviewed; analysis.codebook_run), and officers'
   own codes of answers win. A reviewed theme keeps its id and name whatever the
   run finds: only officers rename, merge or split it.
2. Answers that fit no reviewed theme well are "not yet themed". Discovery
   (ThemeModel) runs on them alone and proposes candidate themes, matched to the
   last run's candidates so that a candidate keeps its id while it lasts; an
   officer accepts, renames or folds each one into the codebook. Candidates may
   move between runs; the pages say so.
A coding-only run (`discover=False`, what the digest uses) codes new answers and
leaves the candidates as they were.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import Engine
from sqlmodel import Session, col, func, select

from analysis.codebook_run import Coding, Example, code_answers
from bot.analysis_runs import (
    MIN_ANSWERS,
    SIGNATURE_FEATURES,
    AnalysisError,
    RunResult,
    answer_embeddings,
    rows_quoted,
)
from bot.embeddings import EncoderChoice, resolve
from conversations import codebook, store, themes
from conversations.models import AnswerCode, AnswerTheme, CodebookExample, CodebookTheme, RunTheme
from conversations.service import ScriptCache

if TYPE_CHECKING:
    from analysis.model import ThemeModel
    from analysis.tracking import TrackedTheme, Tracking

# A run matches its work again when officers change the codebook meanwhile; the
# last attempt saves with what it read (the next run then has the newer edits).
EDIT_RACE_ATTEMPTS = 3
# Counts: a reviewed theme grows or shrinks when its answers change by more than this.
TOLERANCE = 0.1
DESCRIBE_SAMPLE = 500


@dataclass(frozen=True)
class _Inputs:
    """What a run reads before its work, compared again at the end to spot a race."""

    book: dict[int, str]  # reviewed theme id -> name
    examples: list[codebook.Example]
    officer: dict[int, list[int | None]]
    previous: dict[int, RunTheme]  # the last run's themes by id
    candidates: dict[int, list[float]]  # last run's candidate centroids
    carried: dict[int, tuple[int, ...]]  # answer -> its candidate themes in the last run
    first_free: int
    fingerprint: tuple[int, ...]


def analyse_consultation(db: Engine, slug: str, *, actor: str, n_themes: int | None = None,
                         encoder: EncoderChoice = "auto", discover: bool = True) -> RunResult:  # fmt: skip
    """Code a consultation's answers against its codebook, discover candidates in the
    rest (unless `discover` is False), and store the run."""
    started = time.perf_counter()
    with Session(db) as session:
        consultation = store.require_consultation(session=session, slug=slug)
        assert consultation.id is not None
        consultation_id = consultation.id
        questions = ScriptCache().get(consultation).theme_steps()
        rows = list(
            themes.answers_to_analyse(
                session=session, consultation_id=consultation_id, questions=questions
            )
        )
    if len(rows) < MIN_ANSWERS:
        raise AnalysisError(
            f"'{slug}' has {len(rows)} answers to analyse; themes need at least {MIN_ANSWERS}"
        )
    answer_ids = [answer_id for answer_id, _ in rows]
    texts = [text for _, text in rows]
    del rows
    row_of = {answer_id: row for row, answer_id in enumerate(answer_ids)}
    embeddings = answer_embeddings(db, resolve(encoder), answer_ids, texts)
    model: ThemeModel | None = None
    for attempt in range(EDIT_RACE_ATTEMPTS):
        with Session(db) as session:
            inputs = _read_inputs(session, consultation_id, discover)
        coding = code_answers(
            texts,
            embeddings,
            [
                Example(row_of[e.answer_id], e.theme_id, e.by_hand)
                for e in inputs.examples
                if e.answer_id in row_of
            ],
            {row_of[a]: codes for a, codes in inputs.officer.items() if a in row_of},
            signature_features=SIGNATURE_FEATURES,
        )
        pool = coding.pool()
        tracking = None
        if discover and len(pool) >= MIN_ANSWERS:
            model, tracking = _discover(model, texts, embeddings, pool, inputs, n_themes)
        elif not discover:
            _carry_candidates(coding, inputs, row_of)
        found, report = _describe(coding, texts, answer_ids, inputs, model, tracking, pool)
        with Session(db, expire_on_commit=False) as session, session.begin():
            last = attempt == EDIT_RACE_ATTEMPTS - 1
            if not last and _fingerprint(session, consultation_id) != inputs.fingerprint:
                continue  # an officer changed the codebook meanwhile: code again with it
            found = _named_now(session, consultation_id, found)
            labels = {f.theme_id: f.label for f in found}
            for entry in report["themes"]:
                entry["label"] = labels.get(entry["id"], entry["label"])
            run = themes.save_run(
                session=session,
                consultation_id=consultation_id,
                created_by=actor,
                questions=questions,
                answers=len(texts),
                unthemed=int(sum(1 for t in coding.themes if not t)),
                seconds=time.perf_counter() - started,
                themes=found,
                assignments=(
                    (answer_ids[row], theme_id, rank)
                    for row, given in enumerate(coding.themes)
                    for rank, theme_id in enumerate(given)
                ),
            )
            break
    report["run"] = run.id
    return RunResult(run, report)


def code_new_answers(db: Engine, slug: str, *, actor: str = "system:coding") -> None:
    """Code answers given since the latest run against the codebook (no discovery), so
    that who is in a theme is who is in it now. Nothing to do before a first run."""
    with Session(db) as session:
        consultation = store.require_consultation(session=session, slug=slug)
        assert consultation.id is not None
        run = themes.latest_run(session=session, consultation_id=consultation.id)
        questions = ScriptCache().get(consultation).theme_steps()
        count = themes.themable_count(
            session=session, consultation_id=consultation.id, questions=questions
        )
    if run is not None and run.answers != count and count >= MIN_ANSWERS:
        analyse_consultation(db, slug, actor=actor, discover=False)


def _read_inputs(session: Session, consultation_id: int, discover: bool) -> _Inputs:
    book = {
        t.theme_id: t.name
        for t in codebook.reviewed(session=session, consultation_id=consultation_id).values()
    }
    run = themes.latest_run(session=session, consultation_id=consultation_id)
    previous: dict[int, RunTheme] = {}
    candidates: dict[int, list[float]] = {}
    carried: dict[int, tuple[int, ...]] = {}
    if run is not None and run.id is not None:
        for theme in themes.themes_of_run(session=session, run_id=run.id):
            previous[theme.theme_id] = theme
            if themes.is_current(theme) and theme.theme_id not in book:
                candidates[theme.theme_id] = json.loads(theme.centroid_json)
        if not discover and candidates:
            for answer_id, theme_id in session.exec(
                select(AnswerTheme.answer_id, AnswerTheme.theme_id)
                .where(
                    AnswerTheme.run_id == run.id,
                    col(AnswerTheme.theme_id).in_(list(candidates)),
                )
                .order_by(col(AnswerTheme.answer_id), col(AnswerTheme.rank))
            ):
                carried[answer_id] = (*carried.get(answer_id, ()), theme_id)
    return _Inputs(
        book=book,
        examples=codebook.examples(session=session, consultation_id=consultation_id),
        officer=codebook.officer_codes(session=session, consultation_id=consultation_id),
        previous=previous,
        candidates=candidates,
        carried=carried,
        first_free=themes.next_free_theme_id(session=session, consultation_id=consultation_id),
        fingerprint=_fingerprint(session, consultation_id),
    )


def _named_now(
    session: Session, consultation_id: int, found: list[themes.FoundTheme]
) -> list[themes.FoundTheme]:
    """Reviewed themes under their names as the run saves (a rename meanwhile wins)."""
    names = {
        t.theme_id: t.name
        for t in codebook.reviewed(session=session, consultation_id=consultation_id).values()
    }
    return [replace(f, label=names.get(f.theme_id, f.label)) for f in found]


def _fingerprint(session: Session, consultation_id: int) -> tuple[int, ...]:
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


def _discover(model: ThemeModel | None, texts: list[str], embeddings: np.ndarray | None,
              pool: np.ndarray, inputs: _Inputs, n_themes: int | None
              ) -> tuple[ThemeModel, Tracking]:  # fmt: skip
    """Candidate themes among the answers no reviewed theme took, under stable ids."""
    from analysis.model import ThemeModel
    from analysis.tracking import StoredTheme, current_themes, track

    pool_texts = [texts[int(i)] for i in pool]
    pool_vectors = None if embeddings is None else embeddings[pool]
    if model is None or len(getattr(model, "labels_", ())) != len(pool):
        try:
            model = ThemeModel(
                n_themes=n_themes, signature_features=SIGNATURE_FEATURES, random_state=0
            ).fit(pool_texts, embeddings=pool_vectors)
        except ValueError as error:
            raise AnalysisError(str(error)) from error
    sizes = np.bincount(model.labels_[model.labels_ >= 0], minlength=len(model.themes_))
    current = current_themes([t.label for t in model.themes_], model.centroids_, sizes.tolist())
    stored = [
        StoredTheme(
            theme_id, inputs.previous[theme_id].label, centroid, inputs.previous[theme_id].size
        )
        for theme_id, centroid in inputs.candidates.items()
    ]
    tracking = track(stored, current, shared=SIGNATURE_FEATURES, first_free=inputs.first_free)
    return model, tracking


def _carry_candidates(coding: Coding, inputs: _Inputs, row_of: dict[int, int]) -> None:
    """A coding-only run leaves candidates as they were: their answers keep them."""
    for answer_id, given in inputs.carried.items():
        row = row_of.get(answer_id)
        if row is not None and not coding.themes[row] and not coding.not_a_need[row]:
            coding.themes[row] = given


def _describe(coding: Coding, texts: list[str], answer_ids: list[int], inputs: _Inputs,
              model: ThemeModel | None, tracking: Tracking | None, pool: np.ndarray
              ) -> tuple[list[themes.FoundTheme], dict[str, Any]]:  # fmt: skip
    """Every theme of the run for storing (reviewed, then candidates), and the report.

    Reviewed themes are described from the answers coded to them (nearest first);
    discovered candidates as discovery described them; candidates a coding-only run
    carried keep last run's description."""
    if tracking is not None and model is not None:
        _assign_candidates(coding, model, tracking, pool)
    primary = coding.primary()
    sizes = {
        int(t): int(n)
        for t, n in zip(*np.unique(primary[primary >= 0], return_counts=True), strict=True)
    }
    described = _describe_reviewed(coding, texts, answer_ids, inputs, primary, sizes)
    tracked = {t.id: t for t in tracking.themes} if tracking is not None else {}
    by_index = {t.id: t for t in model.themes_} if model is not None else {}
    found: list[themes.FoundTheme] = []
    for theme_id in sorted(set(sizes) | set(inputs.book), key=lambda t: (-sizes.get(t, 0), t)):
        size = sizes.get(theme_id, 0)
        before = inputs.previous.get(theme_id)
        keywords: list[str] = []
        domains: list[str] = []
        quotes: list[int] = []
        if theme_id in described:
            keywords, domains, quotes = described[theme_id]
        if theme_id in inputs.book:
            label = inputs.book[theme_id]
            status = _count_status(size, before)
        elif theme_id in tracked:
            theme = tracked[theme_id]
            label, status = theme.label, theme.status
            lead = max((by_index[i] for i in theme.indices), key=lambda t: t.size)
            keywords, domains = lead.keywords, lead.domains
            members = np.flatnonzero(primary == theme_id)
            quoted = [q for i in theme.indices for q in by_index[i].quotes][:3]
            quotes = [answer_ids[r] for r in rows_quoted(quoted, members, texts)]
        elif before is not None:  # a candidate a coding-only run carried
            label, status = before.label, _count_status(size, before)
            keywords, domains = json.loads(before.keywords_json), json.loads(before.domains_json)
            quotes = json.loads(before.quote_answers_json)
        else:
            continue
        previous_size = None if status == "new" or before is None else before.size
        found.append(
            themes.FoundTheme(
                theme_id,
                label,
                keywords,
                domains,
                quotes,
                _centroid(theme_id, coding, tracked, inputs),
                size,
                previous_size,
                status,
            )
        )
    if tracking is not None:
        found += [
            themes.FoundTheme(g.id, g.label, [], [], [], g.centroid, 0, g.previous_size, "gone")
            for g in tracking.gone
        ]
    row_of = {answer_ids[r]: r for r in range(len(answer_ids))} if found else {}
    quote_texts = {a: texts[row_of[a]] for f in found for a in f.quote_answer_ids if a in row_of}
    return found, _report(found, coding, inputs, quote_texts)


def _assign_candidates(coding: Coding, model: ThemeModel, tracking: Tracking,
                       pool: np.ndarray) -> None:  # fmt: skip
    """The pool's answers take their candidate themes (each theme once per answer)."""
    ids = tracking.id_of_index()
    for position, row in enumerate(pool.tolist()):
        index = int(model.labels_[position])
        if index < 0:
            continue
        given = [ids[index]]
        for extra in model.secondary_labels_[position].tolist():
            if extra >= 0 and ids[extra] not in given and len(given) < 3:
                given.append(ids[extra])
        coding.themes[row] = tuple(given)


def _describe_reviewed(coding: Coding, texts: list[str], answer_ids: list[int],
                       inputs: _Inputs, primary: np.ndarray, sizes: dict[int, int]
                       ) -> dict[int, tuple[list[str], list[str], list[int]]]:  # fmt: skip
    """Keywords, services and quoted answers of the reviewed themes, described together
    so that their keywords tell them apart."""
    from analysis.model import describe_groups

    present = [t for t in inputs.book if sizes.get(t)]
    rng = np.random.default_rng(0)
    members = {}
    for theme_id in present:
        rows = np.flatnonzero(primary == theme_id)
        if len(rows) > DESCRIBE_SAMPLE:
            rows = np.sort(rng.choice(rows, DESCRIBE_SAMPLE, replace=False))
        members[theme_id] = rows
    described = describe_groups(
        [[texts[int(i)] for i in members[t]] for t in present],
        [coding.score[members[t]] for t in present],
    )
    return {
        theme_id: (
            theme.keywords,
            theme.domains,
            [answer_ids[r] for r in rows_quoted(theme.quotes, members[theme_id], texts)],
        )
        for theme_id, theme in zip(present, described, strict=True)
    }


def _report(found: list[themes.FoundTheme], coding: Coding, inputs: _Inputs,
            quoted: dict[int, str]) -> dict[str, Any]:  # fmt: skip
    """What `needsfirst analyse --consultation` prints (quotes scrubbed)."""
    from analysis.scrub import scrub

    return {
        "themes": [
            {
                "id": f.theme_id,
                "label": f.label,
                "keywords": list(f.keywords),
                "size": f.size,
                "status": f.status,
                "reviewed": f.theme_id in inputs.book,
                "quotes": [
                    scrub(" ".join(quoted[a].split()))[:280]
                    for a in f.quote_answer_ids
                    if a in quoted
                ],
            }
            for f in found
            if f.status != "gone"
        ],
        "assignments": [t[0] if t else None for t in coding.themes],
        "secondary": [list(t[1:]) for t in coding.themes],
        "unthemed": int(sum(1 for t in coding.themes if not t)),
    }


def _centroid(theme_id: int, coding: Coding, tracked: dict[int, TrackedTheme],
              inputs: _Inputs) -> list[float]:  # fmt: skip
    """A theme's centroid in the run-independent space (splits and matching use it)."""
    if theme_id in tracked:
        return list(tracked[theme_id].centroid)
    found = coding.centroids.get(theme_id)
    if found is not None:
        return [float(x) for x in found]
    return inputs.candidates.get(theme_id, [])


def _count_status(size: int, before: RunTheme | None) -> str:
    """A theme's change by its count of answers (not its share, which other themes move)."""
    if before is None or before.status in themes.RETIRED:
        return "new"
    old = before.size
    if size > old * (1 + TOLERANCE):
        return "growing"
    if size < old * (1 - TOLERANCE):
        return "shrinking"
    return "steady"
