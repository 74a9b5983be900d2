"""Describing a theme run: each theme's name, keywords, services, quotes and change.

Reviewed themes are described from the answers coded to them (nearest first) and
keep their codebook names; discovered candidates as discovery described them;
candidates a coding-only run carried keep the last run's description. A reviewed
theme's change is counted in answers, so another number of candidate themes never
makes it grow or shrink.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from analysis.themes.codebook_run import Coding
from bot.actions.analysis_runs import rows_quoted
from conversations.staff import codebook, themes
from conversations.storage.models import RunTheme

if TYPE_CHECKING:
    from analysis.themes.model import ThemeModel
    from analysis.themes.tracking import TrackedTheme, Tracking

# Counts: a reviewed theme grows or shrinks when its answers change by more than this.
TOLERANCE = 0.1
DESCRIBE_SAMPLE = 500


@dataclass(frozen=True)
class RunInputs:
    """What a run reads before its work, compared again at the end to spot a race."""

    book: dict[int, str]  # reviewed theme id -> name
    examples: list[codebook.Example]
    officer: dict[int, list[int | None]]
    previous: dict[int, RunTheme]  # the last run's themes by id
    candidates: dict[int, list[float]]  # last run's candidate centroids
    carried: dict[int, tuple[int, ...]]  # answer -> its candidate themes in the last run
    first_free: int
    fingerprint: tuple[int, ...]


def describe_run(coding: Coding, texts: list[str], answer_ids: list[int], inputs: RunInputs,
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
                       inputs: RunInputs, primary: np.ndarray, sizes: dict[int, int]
                       ) -> dict[int, tuple[list[str], list[str], list[int]]]:  # fmt: skip
    """Keywords, services and quoted answers of the reviewed themes, described together
    so that their keywords tell them apart."""
    from analysis.themes.describe import describe_groups

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


def _report(found: list[themes.FoundTheme], coding: Coding, inputs: RunInputs,
            quoted: dict[int, str]) -> dict[str, Any]:  # fmt: skip
    """What `needsfirst analyse --consultation` prints (quotes scrubbed)."""
    from analysis.personal_details.scrub import scrub

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
              inputs: RunInputs) -> list[float]:  # fmt: skip
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
