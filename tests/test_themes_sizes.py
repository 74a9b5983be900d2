"""A sensible number of themes at every size: 22 needs about six subjects are not 2 themes."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from analysis.themes.cluster import smoothing_neighbours
from analysis.themes.model import ThemeModel
from analysis.themes.theme_count import max_n_themes
from tests.test_themes_data import six_subject_answers, synthetic_answers
from tests.test_themes_embed import embedder, needs_extra  # noqa: F401  (a fixture)


def subjects_per_theme(labels: np.ndarray, subjects: list[str]) -> list[Counter[str]]:
    """For each theme, how many of its answers are about each subject."""
    return [
        Counter(s for s, label in zip(subjects, labels, strict=True) if label == theme)
        for theme in range(int(labels.max()) + 1)
    ]


def lumped(theme: Counter[str]) -> list[str]:
    """Subjects with at least two answers in the theme (more than one is a lump)."""
    return sorted(subject for subject, count in theme.items() if count >= 2)


def test_six_subjects_are_not_two_themes_without_embeddings() -> None:
    texts, subjects = six_subject_answers()
    for seed in (0, 1, 2):
        model = ThemeModel(random_state=seed).fit(texts)
        assert 5 <= model.n_themes_ <= 8, (seed, model.n_themes_)
        # Words alone join at most two subjects that share words ("young people",
        # "older people"); never three, as the two themes of issue 15 did.
        assert all(len(lumped(t)) <= 2 for t in subjects_per_theme(model.labels_, subjects))
    model = ThemeModel(random_state=0).fit(texts)
    themes = subjects_per_theme(model.labels_, subjects)
    own = {lumped(t)[0] for t in themes if len(lumped(t)) == 1}
    assert {"buses", "gp", "damp", "lights"} <= own


@needs_extra
def test_six_subjects_are_six_themes_with_embeddings(embedder) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    texts, subjects = six_subject_answers()
    vectors = embedder.embed(texts)
    model = ThemeModel(random_state=0).fit(texts, embeddings=vectors)
    assert 5 <= model.n_themes_ <= 8
    themes = subjects_per_theme(model.labels_, subjects)
    assert all(len(lumped(t)) <= 1 for t in themes), themes  # no subjects lumped together
    assert {s for t in themes for s in lumped(t)} == set(subjects)  # each has a theme


@pytest.mark.parametrize(("n", "cap"), [(20, 6), (22, 7), (50, 10), (200, 20), (2000, 100)])
def test_small_samples_may_have_small_themes(n: int, cap: int) -> None:
    assert max_n_themes(n) == cap
    assert max_n_themes(2) == 2


def test_smoothing_never_outvotes_small_themes() -> None:
    assert smoothing_neighbours(10, 22, 6) == 0  # 10 neighbours would leave one theme
    assert smoothing_neighbours(10, 200, 20) == 5
    assert smoothing_neighbours(10, 3080, 77) == 10
    assert smoothing_neighbours(0, 3080, 77) == 0


def test_twenty_answers_about_four_needs_get_about_four_themes() -> None:
    texts, _ = synthetic_answers(per_theme=5, seed=3)
    model = ThemeModel(random_state=0).fit(texts)
    assert 3 <= model.n_themes_ <= 6
