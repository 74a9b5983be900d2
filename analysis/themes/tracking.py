"""Stable themes over time: match this run's themes to the previous run's.

Pure logic, no storage. The host stores, after each run, every tracked theme's
`id`, `label`, `centroid` (list of floats in the model's run-independent space,
see ThemeModel.centroids_) and `size`. On the next run `track`:

1. matches current themes to previous ones one-to-one by centroid cosine
   similarity (Hungarian assignment, scipy's linear_sum_assignment), keeping
   only pairs at or above `threshold`; matched themes keep the previous id and
   label, unmatched current themes get fresh ids (above every id seen);
2. marks each theme new / growing / shrinking / steady by its share of themed
   answers against the previous share (relative change beyond `tolerance`),
   and lists previous themes nothing matched as gone.

Officers' decisions (renames, merges, splits, codes) are not replayed here: they
live in the consultation's codebook, which every run codes answers against
before discovery (analysis.themes.coding). `split_theme` is the one step of
an officer's split that needs the vectors: spherical 2-means over the theme's
answers, giving two parts for the codebook.

Spaces: centroids compare only within one space. A model fitted with embeddings
has centroids in the signature space followed by the embedding space; one
fitted without has the signature part alone. When a deployment turns embeddings
on or off, `track` given `shared` (the signature width) compares centroids of
different widths on that leading shared part, renormalised, so themes keep their
ids across the change; without `shared` it refuses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.optimize import linear_sum_assignment

Status = Literal["new", "growing", "shrinking", "steady", "gone"]


@dataclass(frozen=True)
class StoredTheme:
    """A theme as stored after a run (and as officers last saw it)."""

    id: int
    label: str
    centroid: list[float]
    size: int


@dataclass(frozen=True)
class CurrentTheme:
    """A theme of the current fit; `index` is its label in the model's `labels_`."""

    index: int
    label: str
    centroid: list[float]
    size: int


@dataclass(frozen=True)
class ThemeSplit:
    """An officer's split of theme `source` into two new themes (for the codebook)."""

    source: int
    centroid: list[float]  # the source theme's centroid when it was split
    parts: tuple[StoredTheme, StoredTheme]


@dataclass
class TrackedTheme:
    """A theme with its persistent id, after matching."""

    id: int
    label: str
    status: Status
    size: int
    previous_size: int | None
    centroid: list[float]
    indices: list[int]  # current-fit labels gathered under this id (empty when gone)
    similarity: float | None = None  # best centroid cosine to the previous theme

    def stored(self) -> StoredTheme:
        """What the host keeps for the next run."""
        return StoredTheme(self.id, self.label, self.centroid, self.size)


@dataclass
class Tracking:
    """Result of `track`: current themes by persistent id, and the ones that went."""

    themes: list[TrackedTheme]
    gone: list[TrackedTheme]

    def id_of_index(self) -> dict[int, int]:
        """Current-fit label -> persistent id."""
        return {index: theme.id for theme in self.themes for index in theme.indices}

    def persistent_labels(self, labels: np.ndarray) -> np.ndarray:
        """Map per-answer current labels (-1 kept) to persistent ids."""
        mapping = self.id_of_index()
        return np.array([mapping.get(int(x), -1) if x >= 0 else -1 for x in labels], dtype=np.int64)


def current_themes(
    labels: Sequence[str], centroids: np.ndarray, sizes: Sequence[int]
) -> list[CurrentTheme]:
    """Build CurrentTheme records from a fit's labels, centroids and sizes."""
    return [
        CurrentTheme(i, labels[i], [float(x) for x in centroids[i]], int(sizes[i]))
        for i in range(len(labels))
    ]


def _unit(rows: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.where(norms == 0, 1.0, norms)


def _rows(vectors: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
    return np.atleast_2d(np.asarray(vectors, dtype=np.float64))


def _comparable(a: np.ndarray, b: np.ndarray, shared: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Unit rows of `a` and `b` in one space: their own, or the shared leading part."""
    if a.shape[1] == b.shape[1]:
        return _unit(a), _unit(b)
    if shared is None or min(a.shape[1], b.shape[1]) < shared:
        raise ValueError(
            f"centroids of {a.shape[1]} and {b.shape[1]} dimensions cannot be compared: "
            "both runs must use the same space (same signature size, embeddings or not)"
        )
    return _unit(a[:, :shared]), _unit(b[:, :shared])


def _similarity(
    a: Sequence[Sequence[float]] | np.ndarray,
    b: Sequence[Sequence[float]] | np.ndarray,
    shared: int | None,
) -> np.ndarray:
    """Cosine of every row of `a` with every row of `b` (see `_comparable`)."""
    left, right = _comparable(_rows(a), _rows(b), shared)
    return np.asarray(left @ right.T)


def _status(share: float, previous_share: float, tolerance: float) -> Status:
    if share > previous_share * (1 + tolerance):
        return "growing"
    if share < previous_share * (1 - tolerance):
        return "shrinking"
    return "steady"


def track(
    previous: Sequence[StoredTheme],
    current: Sequence[CurrentTheme],
    *,
    threshold: float = 0.5,
    tolerance: float = 0.1,
    shared: int | None = None,
    first_free: int = 1,
) -> Tracking:
    """Give current themes persistent ids and statuses (see module docstring).

    `shared`: the width of the space every centroid starts with (the signature
    space); centroids of different widths are then compared on it. `first_free`:
    the lowest id that no earlier run or officer used (the host knows the whole
    history; `previous` is only the last run), so a new theme never takes the id of
    one that went earlier."""
    by_id = {theme.id: theme for theme in previous}
    matched: dict[int, tuple[int, float]] = {}  # current index -> (previous id, similarity)
    if previous and current:
        similarity = _similarity(
            [t.centroid for t in current], [t.centroid for t in previous], shared
        )
        rows, cols = linear_sum_assignment(-similarity)
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
            if similarity[r, c] >= threshold:
                matched[current[r].index] = (previous[c].id, float(similarity[r, c]))

    next_id = max(first_free, next_theme_id(previous))
    groups: dict[int, list[CurrentTheme]] = {}
    best_similarity: dict[int, float] = {}
    for theme in current:
        if theme.index in matched:
            theme_id, sim = matched[theme.index]
            best_similarity[theme_id] = max(sim, best_similarity.get(theme_id, -1.0))
        else:
            theme_id, next_id = next_id, next_id + 1
        groups.setdefault(theme_id, []).append(theme)

    # Previous sizes and centroids, for statuses and "gone".
    previous_size = {stored.id: stored.size for stored in previous}
    previous_centroid = {
        stored.id: np.asarray(stored.centroid, dtype=np.float64) for stored in previous
    }
    old_total = max(1, sum(t.size for t in previous))
    new_total = max(1, sum(t.size for t in current))

    tracked: list[TrackedTheme] = []
    for theme_id, members in groups.items():
        size = sum(m.size for m in members)
        centroid = _weighted_centroid([(m.centroid, m.size) for m in members])
        before = by_id.get(theme_id)
        label = before.label if before is not None else max(members, key=lambda m: m.size).label
        old_size = previous_size.get(theme_id) if theme_id in best_similarity else None
        status: Status = (
            "new"
            if old_size is None
            else _status(size / new_total, old_size / old_total, tolerance)
        )
        tracked.append(
            TrackedTheme(
                id=theme_id,
                label=label,
                status=status,
                size=size,
                previous_size=old_size,
                centroid=centroid,
                indices=sorted(m.index for m in members),
                similarity=best_similarity.get(theme_id),
            )
        )
    tracked.sort(key=lambda t: (-t.size, t.id))

    gone = [
        TrackedTheme(
            id=theme_id,
            label=by_id[theme_id].label,
            status="gone",
            size=0,
            previous_size=size,
            centroid=[float(x) for x in _unit(previous_centroid[theme_id][None, :])[0]],
            indices=[],
        )
        for theme_id, size in previous_size.items()
        if theme_id not in groups
    ]
    gone.sort(key=lambda t: t.id)
    return Tracking(themes=tracked, gone=gone)


def _weighted_centroid(parts: list[tuple[list[float], int]]) -> list[float]:
    total = np.zeros(len(parts[0][0]))
    for centroid, size in parts:
        total += np.asarray(centroid, dtype=np.float64) * max(size, 1)
    return [float(x) for x in _unit(total[None, :])[0]]


def next_theme_id(previous: Sequence[StoredTheme]) -> int:
    """An id above every id of the previous run (the host adds what else it has used)."""
    return 1 + max((t.id for t in previous), default=0)


def split_theme(
    theme: StoredTheme,
    vectors: np.ndarray,
    new_ids: tuple[int, int],
    labels: tuple[str, str] | None = None,
    *,
    random_state: int | None = 0,
) -> ThemeSplit:
    """An officer's split of `theme` into two, from the vectors of its answers.

    `vectors` are the theme's answers in the run-independent space
    (ThemeModel.stable_vectors); spherical 2-means divides them, the larger part
    taking `new_ids[0]`. `labels` default to the theme's label numbered 1 and 2
    (officers usually rename the parts straight away).
    """
    from sklearn.cluster import KMeans  # only needed when an officer splits

    if new_ids[0] == new_ids[1]:
        raise ValueError("the two parts of a split need different ids")
    rows = _unit(np.asarray(vectors, dtype=np.float64))
    rows = rows[np.linalg.norm(rows, axis=1) > 0]
    if len(np.unique(rows.round(6), axis=0)) < 2:
        raise ValueError(f"theme {theme.id} cannot be split: its answers are all alike")
    found = KMeans(2, n_init=10, random_state=random_state).fit_predict(rows)
    sizes = np.bincount(found, minlength=2)
    order = [int(i) for i in np.argsort(-sizes, kind="stable")]
    names = labels or (f"{theme.label} (1)", f"{theme.label} (2)")
    parts = tuple(
        StoredTheme(
            new_ids[rank],
            names[rank],
            [float(x) for x in _unit(rows[found == part].sum(axis=0)[None, :])[0]],
            int(sizes[part]),
        )
        for rank, part in enumerate(order)
    )
    return ThemeSplit(theme.id, [float(x) for x in theme.centroid], (parts[0], parts[1]))
