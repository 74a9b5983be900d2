"""Stable theme ids across runs, with officers' renames and merges replayed."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.themes.model import ThemeModel, stable_vectors
from analysis.themes.tracking import (
    CurrentTheme,
    OfficerEdits,
    StoredTheme,
    ThemeSplit,
    apply_splits,
    current_themes,
    next_theme_id,
    resolve_merges,
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


def test_renames_and_merges_survive_a_rerun() -> None:
    first, truth1 = _fit(seed=1)
    run1 = track([], _current(first))
    ids = _id_by_truth(first, truth1, run1.id_of_index())
    edits = OfficerEdits(
        renames={ids["transport"]: "Buses after dark"},
        merges={ids["youth"]: ids["parks"]},
    )
    second, truth2 = _fit(seed=3)
    run2 = track([t.stored() for t in run1.themes], _current(second), edits)
    by_id = {t.id: t for t in run2.themes}
    assert by_id[ids["transport"]].label == "Buses after dark"
    assert ids["youth"] not in by_id  # merged away, and not reported as gone either
    assert not run2.gone
    merged = by_id[ids["parks"]]
    assert len(merged.indices) == 2
    after = _id_by_truth(second, truth2, run2.id_of_index())
    assert after["youth"] == after["parks"] == ids["parks"]
    persistent = run2.persistent_labels(second.labels_)
    assert set(persistent.tolist()) == {ids["transport"], ids["housing"], ids["parks"]}


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


def test_merge_chains_and_cycles() -> None:
    assert resolve_merges({1: 2, 2: 3}) == {1: 3, 2: 3}
    with pytest.raises(ValueError, match="cycle"):
        resolve_merges({1: 2, 2: 1})


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


def test_splits_apply_from_vectors_or_a_function_and_across_spaces() -> None:
    model, _ = _fit(seed=1)
    texts, _ = synthetic_answers(per_theme=50, seed=1)
    current = _current(model)
    stored = [t.stored() for t in track([], current).themes]
    vectors = model.stable_vectors(texts)
    largest = max(stored, key=lambda t: t.size)
    rows = model.labels_ == track([], current).themes[0].indices[0]
    split = split_theme(largest, vectors[rows], (50, 51))
    eager = apply_splits(current, model.labels_, vectors, [split])
    asked: list[int] = []

    def lazily(wanted: np.ndarray) -> np.ndarray:
        asked.extend(wanted.tolist())
        return vectors[wanted]

    lazy = apply_splits(current, model.labels_, lazily, [split], batch_size=7)
    assert lazy[1].tolist() == eager[1].tolist()
    assert [(t.index, t.label, t.size, t.parent) for t in lazy[0]] == [
        (t.index, t.label, t.size, t.parent) for t in eager[0]
    ]
    assert np.allclose([t.centroid for t in lazy[0]], [t.centroid for t in eager[0]], atol=1e-9)
    assert sorted(asked) == np.flatnonzero(rows).tolist()  # only the divided theme's answers
    # The same split, replayed on a fit with embeddings (wider vectors), with `shared`.
    wide = np.hstack([vectors, np.zeros((len(texts), 3), dtype=np.float32)])
    wide_current = [
        CurrentTheme(t.index, t.label, [*t.centroid, 0.0, 0.0, 0.0], t.size) for t in current
    ]
    across = apply_splits(wide_current, model.labels_, wide, [split], shared=vectors.shape[1])
    assert across[1].tolist() == eager[1].tolist()


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


def _run(
    model: ThemeModel, texts: list[str], stored: list[StoredTheme], edits: OfficerEdits
) -> tuple[list[int], dict[int, str]]:
    """Persistent id per answer and label per id, with the officers' splits applied."""
    themes, labels = apply_splits(
        _current(model), model.labels_, model.stable_vectors(texts), edits.splits
    )
    result = track(stored, themes, edits)
    assert not result.gone
    return result.persistent_labels(labels).tolist(), {t.id: t.label for t in result.themes}


def _ids_of(truth: list[str], ids: list[int]) -> dict[str, set[int]]:
    """The id that holds at least 75% of each need's answers (empty set if none does)."""
    found: dict[str, set[int]] = {}
    for name in set(truth):
        mine = [i for t, i in zip(truth, ids, strict=True) if t == name]
        top = max(set(mine), key=mine.count)
        found[name] = {top} if mine.count(top) >= 0.75 * len(mine) else set()
    return found


def test_a_split_gets_new_ids_and_survives_reruns() -> None:
    first, texts1, truth1 = _fit3(seed=4)
    run1 = track([], _current(first))
    stored = [t.stored() for t in run1.themes]
    ids = _ids_of(truth1, run1.persistent_labels(first.labels_).tolist())
    (mixed,) = ids["transport"]
    assert ids["youth"] == {mixed}

    # The officer splits the mixed theme; the host passes its answers' vectors.
    rows = first.labels_ == run1.themes[[t.id for t in run1.themes].index(mixed)].indices[0]
    new_ids = (next_theme_id(stored), next_theme_id(stored) + 1)
    split = split_theme(
        next(t for t in stored if t.id == mixed), first.stable_vectors(texts1)[rows], new_ids
    )
    assert isinstance(split, ThemeSplit) and split.source == mixed
    assert {p.id for p in split.parts} == set(new_ids) and new_ids[0] > max(t.id for t in stored)
    edits = OfficerEdits(renames={new_ids[1]: "second part"}, splits=[split])
    assert next_theme_id(stored, edits) == new_ids[1] + 1

    # Same run, replayed with the split: the two needs now have the new ids.
    now, labels_now = _run(first, texts1, stored, edits)
    by_truth = _ids_of(truth1, now)
    assert {frozenset(by_truth["transport"]), frozenset(by_truth["youth"])} == {
        frozenset({new_ids[0]}),
        frozenset({new_ids[1]}),
    }
    assert mixed not in labels_now and labels_now[new_ids[1]] == "second part"
    part_of = {"transport": by_truth["transport"], "youth": by_truth["youth"]}

    # A later run (other answers, other seed) still clusters the two needs together;
    # the stored split divides them again, under the same ids and labels.
    second, texts2, truth2 = _fit3(seed=2)
    previous = [
        t.stored() for t in track(stored, _themes_after(first, texts1, edits), edits).themes
    ]
    later, labels_later = _run(second, texts2, previous, edits)
    after = _ids_of(truth2, later)
    assert after["transport"] == part_of["transport"] and after["youth"] == part_of["youth"]
    assert labels_later[new_ids[1]] == "second part"
    assert after["housing"] == ids["housing"] and after["parks"] == ids["parks"]


def _themes_after(model: ThemeModel, texts: list[str], edits: OfficerEdits) -> list[CurrentTheme]:
    themes, _ = apply_splits(
        _current(model), model.labels_, model.stable_vectors(texts), edits.splits
    )
    return themes


def test_a_fit_that_already_separates_the_parts_is_not_divided() -> None:
    split = ThemeSplit(
        source=7,
        centroid=[0.7, 0.7, 0.0],
        parts=(_theme(8, [1, 0, 0], 10), _theme(9, [0, 1, 0], 10)),
    )
    current = [CurrentTheme(0, "a", [0.99, 0.1, 0], 10), CurrentTheme(1, "b", [0.1, 0.99, 0], 10)]
    labels = np.array([0, 1])
    themes, divided = apply_splits(current, labels, np.eye(3)[:2], [split])
    assert themes == current and divided.tolist() == [0, 1]
    result = track([_theme(7, [0.7, 0.7, 0], 20)], themes, OfficerEdits(splits=[split]))
    assert sorted(t.id for t in result.themes) == [8, 9] and not result.gone


def test_split_refuses_identical_answers_and_equal_ids() -> None:
    theme = _theme(1, [1.0, 0.0], 3)
    with pytest.raises(ValueError, match="alike"):
        split_theme(theme, np.ones((3, 2)), (2, 3))
    with pytest.raises(ValueError, match="different ids"):
        split_theme(theme, np.eye(2), (2, 2))
