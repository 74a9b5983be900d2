"""Stable theme ids across runs, and the split of one theme in two."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.themes.model import ThemeModel
from analysis.themes.stable_space import stable_vectors
from analysis.themes.tracking import (
    CurrentTheme,
    StoredTheme,
    ThemeSplit,
    current_themes,
    next_theme_id,
    split_theme,
    track,
)
from tests.test_themes_data import synthetic_answers


def _current(model: ThemeModel) -> list[CurrentTheme]:
    return current_themes(
        [t.label for t in model.themes_], model.centroids_, [t.size for t in model.themes_]
    )


def _fit(seed: int, per_theme: int = 50) -> tuple[ThemeModel, list[str]]:
    texts, truth = synthetic_answers(per_theme=per_theme, seed=seed)
    return ThemeModel(n_themes=4, random_state=seed).fit(texts), truth


def _id_by_truth(model: ThemeModel, truth: list[str], mapping: dict[int, int]) -> dict[str, int]:
    return {name: mapping[int(model.labels_[truth.index(name)])] for name in set(truth)}


def test_ids_are_stable_across_runs_with_overlapping_data() -> None:
    first, truth1 = _fit(seed=1)
    run1 = track([], _current(first))
    assert {t.status for t in run1.themes} == {"new"}
    stored = [t.stored() for t in run1.themes]
    # JSON-friendly: centroids are plain floats.
    assert all(isinstance(x, float) for t in stored for x in t.centroid)

    second, truth2 = _fit(seed=2)  # other answers, other seed, same needs
    run2 = track(stored, _current(second))
    assert not run2.gone
    assert all(t.status != "new" for t in run2.themes)
    before = _id_by_truth(first, truth1, run1.id_of_index())
    after = _id_by_truth(second, truth2, run2.id_of_index())
    assert before == after
    labels = {t.id: t.label for t in run1.themes}
    assert all(t.label == labels[t.id] for t in run2.themes)


def _theme(theme_id: int, vector: list[float], size: int) -> StoredTheme:
    return StoredTheme(theme_id, f"theme {theme_id}", vector, size)


def test_statuses_new_growing_shrinking_steady_gone() -> None:
    previous = [
        _theme(1, [1, 0, 0, 0], 50),
        _theme(2, [0, 1, 0, 0], 30),
        _theme(3, [0, 0, 1, 0], 20),
        _theme(4, [0, 0, 0, 1], 10),
    ]
    current = [
        CurrentTheme(0, "a", [0.99, 0.1, 0, 0], 90),  # share 0.82 vs 0.45: growing
        CurrentTheme(1, "b", [0.1, 0.99, 0, 0], 10),  # 0.09 vs 0.27: shrinking
        CurrentTheme(2, "c", [0, 0, 0.1, 0.99], 10),  # 0.09 vs 0.09: steady (matches 4)
        CurrentTheme(3, "d", [0.3, -0.9, 0.3, 0.0], 0),  # nothing close: new
    ]
    result = track(previous, current)
    status = {t.id: t.status for t in result.themes}
    assert status == {1: "growing", 2: "shrinking", 4: "steady", 5: "new"}
    assert [t.id for t in result.gone] == [3]
    assert result.gone[0].status == "gone"


def test_centroids_of_different_spaces_are_refused() -> None:
    with pytest.raises(ValueError, match="same space"):
        track([_theme(1, [1.0, 0.0], 5)], [CurrentTheme(0, "x", [1.0, 0.0, 0.0], 5)])


def test_a_change_of_space_compares_the_shared_signature_part() -> None:
    # Last week lexical only (signature of width 2); this week with embeddings
    # ([signature, embedding] / sqrt 2): the ids carry over on the signature part.
    previous = [_theme(1, [1.0, 0.0], 5), _theme(2, [0.0, 1.0], 5)]
    half = float(np.sqrt(0.5))
    current = [
        CurrentTheme(0, "b", [0.0, half, half, 0.0], 5),
        CurrentTheme(1, "a", [half, 0.0, 0.0, half], 5),
    ]
    result = track(previous, current, shared=2)
    assert {t.id: t.indices for t in result.themes} == {1: [1], 2: [0]}
    assert all(len(t.centroid) == 4 for t in result.themes)  # stored in this week's space
    with pytest.raises(ValueError, match="same space"):
        track(previous, current, shared=3)  # the narrower space is not the shared part


def test_stable_vectors_need_no_fit() -> None:
    model, _ = _fit(seed=3, per_theme=20)
    texts, _ = synthetic_answers(per_theme=20, seed=3)
    texts = [*texts, "nothing", ""]
    assert np.array_equal(stable_vectors(texts), model.stable_vectors(texts))
    assert not stable_vectors(texts)[-2:].any()  # answers that state no need are zeros
    fake = np.random.default_rng(0).normal(size=(len(texts), 5)).astype(np.float32)
    both = stable_vectors(texts, fake)
    assert both.shape == (len(texts), 1024 + 5)
    assert np.allclose(np.linalg.norm(both[:-2], axis=1), 1.0, atol=1e-5)


def test_signature_space_is_the_same_across_fits() -> None:
    first, _ = _fit(seed=1)
    second, _ = _fit(seed=1, per_theme=30)
    similarity = first.centroids_ @ second.centroids_.T
    assert np.all(similarity.max(axis=1) > 0.9)


def _fit3(seed: int) -> tuple[ThemeModel, list[str], list[str]]:
    """Three themes for four needs: at seeds 4 and 2 transport and youth share one."""
    texts, truth = synthetic_answers(per_theme=50, seed=seed)
    return ThemeModel(n_themes=3, random_state=seed).fit(texts), texts, truth


def _ids_of(truth: list[str], ids: list[int]) -> dict[str, set[int]]:
    """The id that holds at least 75% of each need's answers (empty set if none does)."""
    found: dict[str, set[int]] = {}
    for name in set(truth):
        mine = [i for t, i in zip(truth, ids, strict=True) if t == name]
        top = max(set(mine), key=mine.count)
        found[name] = {top} if mine.count(top) >= 0.75 * len(mine) else set()
    return found


def test_a_split_divides_a_mixed_theme_between_its_two_needs() -> None:
    first, texts, truth = _fit3(seed=4)
    run = track([], _current(first))
    stored = [t.stored() for t in run.themes]
    ids = _ids_of(truth, run.persistent_labels(first.labels_).tolist())
    (mixed,) = ids["transport"]
    assert ids["youth"] == {mixed}

    # The officer splits the mixed theme; the host passes its answers' vectors.
    rows = first.labels_ == run.themes[[t.id for t in run.themes].index(mixed)].indices[0]
    new_ids = (next_theme_id(stored), next_theme_id(stored) + 1)
    vectors = first.stable_vectors(texts)[rows]
    split = split_theme(next(t for t in stored if t.id == mixed), vectors, new_ids)
    assert isinstance(split, ThemeSplit) and split.source == mixed
    assert {p.id for p in split.parts} == set(new_ids) and new_ids[0] > max(t.id for t in stored)
    assert split.parts[0].size >= split.parts[1].size  # the larger part takes the first id

    # Each answer's nearest part: the two needs land in different parts.
    nearest = (vectors @ np.array([p.centroid for p in split.parts]).T).argmax(axis=1)
    needs = [name for name, inside in zip(truth, rows, strict=True) if inside]
    by_need = _ids_of(needs, [split.parts[i].id for i in nearest.tolist()])
    assert by_need["transport"] and by_need["youth"] and by_need["transport"] != by_need["youth"]


def test_split_refuses_identical_answers_and_equal_ids() -> None:
    theme = _theme(1, [1.0, 0.0], 3)
    with pytest.raises(ValueError, match="alike"):
        split_theme(theme, np.ones((3, 2)), (2, 3))
    with pytest.raises(ValueError, match="different ids"):
        split_theme(theme, np.eye(2), (2, 2))
