"""Theme analysis over a consultation's stored answers, kept as an analysis run.

Glue between the store (conversations/) and the theme model (analysis/): read
the themable answers, fit, divide the themes officers split, match the themes
to the previous run's (keeping ids, labels and officers' edits), and store the
run with each answer's themes. Also officers' splits themselves: a theme of the
latest run is divided in two at once, and every later run keeps the parts apart.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import Engine
from sqlmodel import Session

from analysis.personal_details.scrub import scrub
from analysis.themes.embed import NamedEmbedder, SemanticExtraMissing
from bot.actions.answer_vectors import EncoderChoice, answer_vectors, resolve
from conversations.staff import theme_edits, themes
from conversations.storage.models import AnalysisRun, RunTheme

# The theme model's modules (scikit-learn, scipy, nltk) take seconds to import, so they are
# imported where a run or a split needs them, not by every command that imports this module.
if TYPE_CHECKING:
    from analysis.themes.describe import Theme

log = logging.getLogger(__name__)
MIN_ANSWERS = 2
# The run-independent space's width (ThemeModel's signature_features): the part of
# every centroid that runs with and without embeddings share.
SIGNATURE_FEATURES = 1024
# A split learns its two parts from at most this many of the theme's answers,
# then gives every answer to the nearer part.
SPLIT_SAMPLE = 20_000
BATCH = 10_000


class AnalysisError(ValueError):
    """The analysis cannot run; the message says why."""


def analyse_csv(
    path: str,
    *,
    text_column: str = "text",
    n_themes: int | None = None,
    encoder: EncoderChoice = "auto",
) -> dict[str, Any]:
    """`needsfirst analyse INPUT.csv`: themes of any CSV's texts, nothing stored.

    With the semantic extra installed (or an encoder given) the texts are embedded
    first, as a consultation's answers are; `encoder=None` keeps it lexical."""
    from analysis.themes.csv_input import read_texts

    texts = read_texts(path, text_column)  # before the model's imports: a bad file fails fast
    from analysis.themes.model import ThemeModel
    from analysis.themes.report import themes_json

    embeddings = None
    chosen = resolve(encoder)
    if chosen is not None:
        try:
            embeddings = chosen.embed(texts)
        except SemanticExtraMissing:
            log.warning("the semantic extra cannot load: this analysis is lexical", exc_info=True)
    model = ThemeModel(n_themes=n_themes, random_state=0).fit(texts, embeddings=embeddings)
    report = themes_json(model, texts)
    report["semantic"] = embeddings is not None
    return report


@dataclass(frozen=True)
class RunResult:
    run: AnalysisRun
    report: dict[str, Any]


@dataclass(frozen=True)
class SplitResult:
    """A theme split in two: its old id and label, and each part's new id, label and size."""

    theme_id: int
    label: str
    parts: tuple[tuple[int, str, int], tuple[int, str, int]]

    def summary(self) -> str:
        (a, a_label, a_size), (b, b_label, b_size) = self.parts
        return (
            f"Theme {self.theme_id} (“{self.label}”) is split into theme {a} “{a_label}” "
            f"({a_size} answers) and theme {b} “{b_label}” ({b_size} answers)."
        )


def split_stored_theme(
    db: Engine, slug: str, theme_id: int, *, actor: str, encoder: EncoderChoice = "auto"
) -> SplitResult:
    """An officer's split: divide a theme of the latest run in two, now and on every later run.

    The two parts come from spherical 2-means on the run-independent vectors of
    the theme's answers (a sample of at most SPLIT_SAMPLE of them); every answer
    in the theme, primary or secondary, goes to the nearer part. The parts get
    new ids, labels from their own answers (officers may rename them), keywords,
    quotes and services, and replace the theme in the latest run at once."""
    from analysis.themes.describe import describe_groups
    from analysis.themes.tracking import StoredTheme, split_theme

    with Session(db) as session:
        run, theme = theme_edits.current_theme(session=session, slug=slug, theme_id=theme_id)
        assert run.id is not None
        run_id, label = run.id, theme.label
        centroid = [float(x) for x in json.loads(theme.centroid_json)]
        members = themes.theme_members(session=session, run_id=run_id, theme_id=theme_id)
    texts = [m.text for m in members]
    primary = np.array([m.rank == 0 for m in members], dtype=bool)
    if primary.sum() < 2:
        raise theme_edits.ThemeEditError(
            f"theme {theme_id} has too few answers to split (at least 2)"
        )
    # The run's space: with embeddings when its centroids have more than the signature part.
    embeddings = None
    chosen = resolve(encoder) if len(centroid) > SIGNATURE_FEATURES else None
    if chosen is not None:
        embeddings = answer_embeddings(db, chosen, [m.answer_id for m in members], texts)
        if embeddings is not None and embeddings.shape[1] != len(centroid) - SIGNATURE_FEATURES:
            embeddings = None  # another model than the run's: split on the signature part
    vectors_of = _vectors_of(texts, embeddings)
    rng = np.random.default_rng(0)
    sample = np.flatnonzero(primary)
    if len(sample) > SPLIT_SAMPLE:
        sample = np.sort(rng.choice(sample, SPLIT_SAMPLE, replace=False))
    try:
        found = split_theme(
            StoredTheme(theme_id, label, centroid, int(primary.sum())), vectors_of(sample), (1, 2)
        )
    except ValueError as error:
        raise theme_edits.ThemeEditError(str(error)) from error
    part_centroids = np.array([p.centroid for p in found.parts], dtype=np.float64)
    nearest = np.zeros(len(members), dtype=np.int64)
    sums = np.zeros_like(part_centroids)
    for start in range(0, len(members), BATCH):
        rows = np.arange(start, min(start + BATCH, len(members)))
        vectors = vectors_of(rows).astype(np.float64)
        choice = (vectors @ part_centroids.T).argmax(axis=1)
        nearest[rows] = choice
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        unit = vectors / np.where(norms == 0, 1.0, norms)
        for j in range(2):
            sums[j] += unit[primary[rows] & (choice == j)].sum(axis=0)
    sizes = [int((primary & (nearest == j)).sum()) for j in range(2)]
    if min(sizes) == 0:
        raise theme_edits.ThemeEditError(
            f"theme {theme_id} cannot be split: its answers do not fall into two groups"
        )
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    centroids = sums / np.where(norms == 0, 1.0, norms)
    groups, similarities, rows_of = [], [], []
    for j in range(2):
        rows = np.flatnonzero(primary & (nearest == j))
        rows_of.append(rows)
        shown = rows if len(rows) <= 500 else np.sort(rng.choice(rows, 500, replace=False))
        groups.append([texts[int(i)] for i in shown])
        similarities.append(vectors_of(shown).astype(np.float64) @ centroids[j])
    described = describe_groups(groups, similarities)
    labels = _distinct_labels(described)
    parts = tuple(
        theme_edits.SplitPart(
            label=labels[j],
            keywords=described[j].keywords,
            domains=described[j].domains,
            quote_answer_ids=[
                members[r].answer_id for r in rows_quoted(described[j].quotes, rows_of[j], texts)
            ],
            centroid=[float(x) for x in centroids[j]],
            size=sizes[j],
            answers=[members[int(r)].answer_id for r in np.flatnonzero(nearest == j)],
        )
        for j in range(2)
    )
    with Session(db) as session, session.begin():
        new_ids = theme_edits.split(session=session, slug=slug, theme_id=theme_id,
                                    run_id=run_id, centroid=centroid,
                                    parts=(parts[0], parts[1]), actor=actor)  # fmt: skip
    return SplitResult(
        theme_id,
        label,
        ((new_ids[0], labels[0], sizes[0]), (new_ids[1], labels[1], sizes[1])),
    )


def _distinct_labels(described: Sequence[Theme]) -> list[str]:
    """The parts' labels; when both parts found the same phrase, each adds a keyword of its own."""
    labels = [t.label for t in described]
    if labels[0].lower() != labels[1].lower():
        return labels
    distinct = []
    for mine, other in ((described[0], described[1]), (described[1], described[0])):
        own = next((k for k in mine.keywords if k not in other.keywords[:3]), None)
        distinct.append(f"{mine.label}: {own}" if own else mine.label)
    if distinct[0].lower() == distinct[1].lower():
        distinct = [f"{labels[0]} (1)", f"{labels[1]} (2)"]
    return distinct


def answer_embeddings(db: Engine, encoder: NamedEmbedder | None, answer_ids: Sequence[int],
                texts: Sequence[str]) -> np.ndarray | None:  # fmt: skip
    """The answers' vectors from `encoder` (stored, or embedded now), or None to go lexical."""
    if encoder is None or not answer_ids:
        return None
    try:
        return answer_vectors(db, encoder, answer_ids, texts)
    except SemanticExtraMissing:
        log.warning("the semantic extra cannot load: this analysis is lexical", exc_info=True)
        return None


def _vectors_of(
    texts: Sequence[str], embeddings: np.ndarray | None
) -> Callable[[np.ndarray], np.ndarray]:
    """The run-independent vectors of the given rows (for splits), computed when asked."""
    from analysis.themes.stable_space import stable_vectors

    def vectors(rows: np.ndarray) -> np.ndarray:
        chosen = [texts[int(i)] for i in rows]
        semantic = None if embeddings is None else embeddings[rows]
        return stable_vectors(chosen, semantic, signature_features=SIGNATURE_FEATURES)

    return vectors


def rows_quoted(quotes: Sequence[str], members: np.ndarray, texts: Sequence[str]) -> list[int]:
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
    return [shown_quote(text) for text in themes.quote_texts(session=session, theme=theme)]


def shown_quote(text: str) -> str:
    """A quote as officers see it: on one line, scrubbed of personal details, cut short."""
    return scrub(" ".join(text.split()))[:280]
