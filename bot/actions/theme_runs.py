"""A theme run over a consultation's answers: code against the codebook, then discover.

1. Every themable answer, old and new, is coded against the consultation's
   codebook (the themes officers reviewed; analysis.themes.codebook_run), and officers'
   own codes of answers win. A reviewed theme keeps its id and name whatever the
   run finds: only officers rename, merge or split it.
2. Answers that fit no reviewed theme well are "not yet themed". Discovery
   (ThemeModel) runs on them alone and proposes candidate themes, matched to the
   last run's candidates so that a candidate keeps its id while it lasts; an
   officer accepts, renames or folds each one into the codebook. Candidates may
   move between runs; the pages say so.
A coding-only run (`discover=False`, what the digest uses) codes new answers and
leaves the candidates as they were.
Answers in another language than English (analysis.themes.languages) are coded by
their embedding alone when the model reads their language, and never discovered;
in a language it does not read, they are not coded at all (bot.actions.theme_languages
tells the officers' pages how many, and which).
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import Engine
from sqlmodel import Session

from analysis.themes.codebook_run import Coding, Example, code_answers
from analysis.themes.languages import ENGLISH, detect, reads
from bot.actions.analysis_runs import (
    MIN_ANSWERS,
    SIGNATURE_FEATURES,
    AnalysisError,
    RunResult,
    answer_embeddings,
)
from bot.actions.answer_vectors import EncoderChoice, resolve
from bot.actions.theme_describing import RunInputs, describe_run
from conversations.staff import codebook, run_inputs, themes
from conversations.storage import store
from conversations.storage.models import RunTheme
from conversations.storage.scripts import ScriptCache

if TYPE_CHECKING:
    from analysis.themes.model import ThemeModel
    from analysis.themes.tracking import Tracking

# A run matches its work again when officers change the codebook meanwhile; the
# last attempt saves with what it read (the next run then has the newer edits).
EDIT_RACE_ATTEMPTS = 3


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
    chosen = resolve(encoder)
    embeddings = answer_embeddings(db, chosen, answer_ids, texts)
    read = reads(chosen.name if chosen is not None and embeddings is not None else None)
    languages = [detect(text) for text in texts]
    foreign = np.array([language != ENGLISH for language in languages], dtype=bool)
    unread = np.array([language not in read for language in languages], dtype=bool)
    del languages
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
            foreign=foreign,
            unread=unread,
        )
        pool = coding.pool()
        tracking = None
        if discover and len(pool) >= MIN_ANSWERS:
            model, tracking = _discover(model, texts, embeddings, pool, inputs, n_themes)
        elif not discover:
            _carry_candidates(coding, inputs, row_of)
        found, report = describe_run(coding, texts, answer_ids, inputs, model, tracking, pool)
        with Session(db, expire_on_commit=False) as session, session.begin():
            last = attempt == EDIT_RACE_ATTEMPTS - 1
            if (
                not last
                and run_inputs.codebook_fingerprint(
                    session=session, consultation_id=consultation_id
                )
                != inputs.fingerprint
            ):
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


def _read_inputs(session: Session, consultation_id: int, discover: bool) -> RunInputs:
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
            carried = run_inputs.candidate_codes(
                session=session, run_id=run.id, theme_ids=candidates
            )
    return RunInputs(
        book=book,
        examples=codebook.examples(session=session, consultation_id=consultation_id),
        officer=codebook.officer_codes(session=session, consultation_id=consultation_id),
        previous=previous,
        candidates=candidates,
        carried=carried,
        first_free=themes.next_free_theme_id(session=session, consultation_id=consultation_id),
        fingerprint=run_inputs.codebook_fingerprint(
            session=session, consultation_id=consultation_id
        ),
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


def _discover(model: ThemeModel | None, texts: list[str], embeddings: np.ndarray | None,
              pool: np.ndarray, inputs: RunInputs, n_themes: int | None
              ) -> tuple[ThemeModel, Tracking]:  # fmt: skip
    """Candidate themes among the answers no reviewed theme took, under stable ids."""
    from analysis.themes.model import ThemeModel
    from analysis.themes.tracking import StoredTheme, current_themes, track

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


def _carry_candidates(coding: Coding, inputs: RunInputs, row_of: dict[int, int]) -> None:
    """A coding-only run leaves candidates as they were: their answers keep them."""
    for answer_id, given in inputs.carried.items():
        row = row_of.get(answer_id)
        if row is not None and not coding.themes[row] and not coding.not_a_need[row]:
            coding.themes[row] = given
