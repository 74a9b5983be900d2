"""Theme analysis over a consultation's stored answers, kept as an analysis run.

Glue between the store (conversations/) and the theme model (analysis/): read
the themable answers, fit, match the themes to the previous run's (keeping ids,
labels and officers' edits), and store the run with each answer's themes.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Engine
from sqlmodel import Session

from analysis.csv_input import read_texts
from analysis.model import ThemeModel
from analysis.report import themes_json
from analysis.scrub import scrub
from analysis.tracking import OfficerEdits, StoredTheme, Tracking, current_themes, track
from conversations import store, themes
from conversations.models import AnalysisRun, RunTheme
from conversations.service import ScriptCache

MIN_ANSWERS = 2


class AnalysisError(ValueError):
    """The analysis cannot run; the message says why."""


def analyse_csv(
    path: str, *, text_column: str = "text", n_themes: int | None = None
) -> dict[str, Any]:
    """`needsfirst analyse INPUT.csv`: themes of any CSV's texts, nothing stored."""
    texts = read_texts(path, text_column)
    model = ThemeModel(n_themes=n_themes, random_state=0).fit(texts)
    return themes_json(model, texts)


@dataclass(frozen=True)
class RunResult:
    run: AnalysisRun
    report: dict[str, Any]


def analyse_consultation(
    db: Engine, slug: str, *, actor: str, n_themes: int | None = None
) -> RunResult:
    """Theme a consultation's answers, matching last run's themes, and store the run."""
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
        previous = themes.previous_themes(session=session, consultation_id=consultation_id)
        renames, merges = themes.officer_edits(session=session, consultation_id=consultation_id)
    if len(rows) < MIN_ANSWERS:
        raise AnalysisError(
            f"'{slug}' has {len(rows)} answers to analyse; themes need at least {MIN_ANSWERS}"
        )
    answer_ids = [answer_id for answer_id, _ in rows]
    texts = [text for _, text in rows]
    del rows
    model = ThemeModel(n_themes=n_themes, random_state=0).fit(texts)
    sizes = np.bincount(model.labels_[model.labels_ >= 0], minlength=len(model.themes_))
    current = current_themes([t.label for t in model.themes_], model.centroids_, sizes.tolist())
    stored = [StoredTheme(p.theme_id, p.label, p.centroid, p.size) for p in previous]
    tracking = track(stored, current, OfficerEdits(renames=renames, merges=merges))
    report = themes_json(model, texts, tracking)
    found = _found_themes(model, tracking, texts, answer_ids)

    def assignments() -> Any:
        ids = tracking.id_of_index()
        for row, label in enumerate(model.labels_):
            if label < 0:
                continue
            primary = ids[int(label)]
            yield answer_ids[row], primary, 0
            rank = 1
            for extra in model.secondary_labels_[row]:
                theme_id = ids.get(int(extra)) if extra >= 0 else None
                if theme_id is not None and theme_id != primary:
                    yield answer_ids[row], theme_id, rank
                    rank += 1
                    if rank > 2:
                        break

    with Session(db, expire_on_commit=False) as session, session.begin():
        run = themes.save_run(
            session=session,
            consultation_id=consultation_id,
            created_by=actor,
            questions=questions,
            answers=len(texts),
            unthemed=int((model.labels_ < 0).sum()),
            seconds=time.perf_counter() - started,
            themes=found,
            assignments=assignments(),
        )
    report["run"] = run.id
    return RunResult(run, report)


def _found_themes(model: ThemeModel, tracking: Tracking, texts: Sequence[str],
                  answer_ids: Sequence[int]) -> list[themes.FoundTheme]:  # fmt: skip
    by_index = {t.id: t for t in model.themes_}
    found = []
    for tracked in tracking.themes:
        lead = max((by_index[i] for i in tracked.indices), key=lambda t: t.size)
        members = np.flatnonzero(np.isin(model.labels_, tracked.indices))
        quotes = [q for i in tracked.indices for q in by_index[i].quotes][:3]
        found.append(
            themes.FoundTheme(
                theme_id=tracked.id,
                label=tracked.label,
                keywords=lead.keywords,
                domains=lead.domains,
                quote_answer_ids=[answer_ids[r] for r in _rows_quoted(quotes, members, texts)],
                centroid=tracked.centroid,
                size=tracked.size,
                previous_size=tracked.previous_size,
                status=tracked.status,
            )
        )
    found += [
        themes.FoundTheme(g.id, g.label, [], [], [], g.centroid, 0, g.previous_size, "gone")
        for g in tracking.gone
    ]
    return found


def _rows_quoted(quotes: Sequence[str], members: np.ndarray, texts: Sequence[str]) -> list[int]:
    """The rows the model quoted. Quotes are stored as answers, not text, so that an
    erased answer's quote goes with it; scrubbing keeps the text before the first
    detail, which narrows the search to a prefix check."""
    rows: list[int] = []
    for quote in quotes:
        head = quote.split("[", 1)[0].rstrip("…").strip()[:40]
        for row in members.tolist():
            text = " ".join(texts[row].split())
            if text.startswith(head) and row not in rows and _same_quote(quote, text):
                rows.append(row)
                break
    return rows


def _same_quote(quote: str, text: str) -> bool:
    scrubbed = scrub(text)
    return scrubbed == quote or (quote.endswith("…") and scrubbed.startswith(quote[:-1].rstrip()))


def shown_quotes(session: Session, theme: RunTheme) -> list[str]:
    """A theme's quotes as officers see them: scrubbed of personal details."""
    return [
        scrub(" ".join(text.split()))[:280]
        for text in themes.quote_texts(session=session, theme=theme)
    ]
