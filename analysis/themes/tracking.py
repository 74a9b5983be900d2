"""Stable themes over time: match this run's themes to the previous run's.

Pure logic, no storage. The host stores, after each run, every tracked theme's
`id`, `label`, `centroid` (list of floats in the model's run-independent space,
see ThemeModel.centroids_) and `size`, plus officers' edits: renames (id ->
label), merges (absorbed id -> surviving id) and splits (`ThemeSplit`, made
by `split_theme`). On the next run, `apply_splits` first divides any current
theme that is an officer-split theme between the split's parts (by each
answer's nearest part centroid), then `track`:

1. matches current themes to previous ones one-to-one by centroid cosine
   similarity (Hungarian assignment, scipy's linear_sum_assignment), keeping
   only pairs at or above `threshold`; matched themes keep the previous id and
   label, unmatched current themes get fresh ids (above every id seen);
2. applies merges: ids are followed through the merge map (transitively), so
   themes that match absorbed ids join their surviving theme;
3. applies renames to the final ids;
4. marks each theme new / growing / shrinking / steady by its share of themed
   answers against the previous share (relative change beyond `tolerance`),
   and lists previous themes nothing matched as gone.

Splits: an officer splits theme T; `split_theme` runs spherical 2-means on the
run-independent vectors of T's answers (ThemeModel.stable_vectors) and returns a
`ThemeSplit` holding T's centroid and two new themes with fresh ids (from
`next_theme_id`). The host stores it with the other edits. On every run,
`apply_splits` finds the current theme that still looks like T (cosine to T's
centroid at least `threshold`, and closer to T than to either part; a fit that
already separates the two parts needs no division) and divides its answers
between the parts; `track` then never matches T itself (it is retired, not
gone) and matches the divided themes to the parts' ids like any other theme.

Spaces: centroids compare only within one space. A model fitted with embeddings
has centroids in the signature space followed by the embedding space; one
fitted without has the signature part alone. When a deployment turns embeddings
on or off, `track` and `apply_splits` given `shared` (the signature width)
compare centroids of different widths on that leading shared part, renormalised,
so themes keep their ids across the change; without `shared` they refuse.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
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
    """A theme of the current fit; `index` is its label in the model's `labels_`.

    After `apply_splits`, a divided theme's parts have new indices (past the
    model's themes) and `parent` is the model theme they came from.
    """

    index: int
    label: str
    centroid: list[float]
    size: int
    parent: int | None = None


@dataclass(frozen=True)
class ThemeSplit:
    """An officer's split of theme `source` into two new themes, replayed on every run."""

    source: int
    centroid: list[float]  # the source theme's centroid when it was split
    parts: tuple[StoredTheme, StoredTheme]


@dataclass(frozen=True)
class OfficerEdits:
    """Edits officers made, replayed on every run."""

    renames: Mapping[int, str] = field(default_factory=dict)
    merges: Mapping[int, int] = field(default_factory=dict)  # absorbed id -> surviving id
    splits: Sequence[ThemeSplit] = ()


@dataclass
class TrackedTheme:
    """A theme with its persistent id, after matching, merges and renames."""

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
    parents: dict[int, int] = field(default_factory=dict)  # divided index -> model theme

    def id_of_index(self) -> dict[int, int]:
        """Current-fit label -> persistent id.

        A model theme that `apply_splits` divided maps to its largest part's id;
        per-answer ids come from the divided labels (`persistent_labels`).
        """
        mapping = {index: theme.id for theme in self.themes for index in theme.indices}
        for theme in sorted(self.themes, key=lambda t: t.size):
            for index in theme.indices:
                if index in self.parents:
                    mapping[self.parents[index]] = theme.id
        return mapping

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


def resolve_merges(merges: Mapping[int, int]) -> dict[int, int]:
    """Each absorbed id -> its final surviving id, following chains; cycles are an error."""
    final: dict[int, int] = {}
    for start in merges:
        seen = {start}
        target = merges[start]
        while target in merges:
            if target in seen:
                raise ValueError(f"merge cycle through theme ids {sorted(seen)}")
            seen.add(target)
            target = merges[target]
        final[start] = target
    return final


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
    edits: OfficerEdits | None = None,
    *,
    threshold: float = 0.5,
    tolerance: float = 0.1,
    shared: int | None = None,
    first_free: int = 1,
) -> Tracking:
    """Give current themes persistent ids and statuses (see module docstring).

    `shared`: the width of the space every centroid starts with (the signature
    space); centroids of different widths are then compared on it. `first_free`:
    the lowest id that no earlier run or edit used (the host knows the whole
    history; `previous` is only the last run), so a new theme never takes the id of
    one that went earlier."""
    edits = edits or OfficerEdits()
    merged_into = resolve_merges(edits.merges)
    previous = _with_split_parts(previous, edits.splits)
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

    next_id = max(first_free, next_theme_id(previous, edits))
    groups: dict[int, list[CurrentTheme]] = {}
    best_similarity: dict[int, float] = {}
    for theme in current:
        if theme.index in matched:
            previous_id, sim = matched[theme.index]
            theme_id = merged_into.get(previous_id, previous_id)
            best_similarity[theme_id] = max(sim, best_similarity.get(theme_id, -1.0))
        else:
            theme_id, next_id = next_id, next_id + 1
        groups.setdefault(theme_id, []).append(theme)

    # Previous sizes and centroids seen through the merges, for statuses and "gone".
    previous_size: dict[int, int] = {}
    previous_centroid: dict[int, np.ndarray] = {}
    for stored in previous:
        final = merged_into.get(stored.id, stored.id)
        previous_size[final] = previous_size.get(final, 0) + stored.size
        vector = np.asarray(stored.centroid, dtype=np.float64) * stored.size
        previous_centroid[final] = previous_centroid.get(final, 0) + vector
    old_total = max(1, sum(t.size for t in previous))
    new_total = max(1, sum(t.size for t in current))

    tracked: list[TrackedTheme] = []
    for theme_id, members in groups.items():
        size = sum(m.size for m in members)
        centroid = _weighted_centroid([(m.centroid, m.size) for m in members])
        label = edits.renames.get(theme_id)
        if label is None:
            before = by_id.get(theme_id)
            largest = max(members, key=lambda m: m.size)
            label = before.label if before is not None else largest.label
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
    parents = {t.index: t.parent for t in current if t.parent is not None}

    gone = [
        TrackedTheme(
            id=theme_id,
            label=edits.renames.get(theme_id, by_id[theme_id].label if theme_id in by_id else ""),
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
    return Tracking(themes=tracked, gone=gone, parents=parents)


def _weighted_centroid(parts: list[tuple[list[float], int]]) -> list[float]:
    total = np.zeros(len(parts[0][0]))
    for centroid, size in parts:
        total += np.asarray(centroid, dtype=np.float64) * max(size, 1)
    return [float(x) for x in _unit(total[None, :])[0]]


def next_theme_id(previous: Sequence[StoredTheme], edits: OfficerEdits | None = None) -> int:
    """An id above every id the previous run or the officers' edits ever used."""
    edits = edits or OfficerEdits()
    used = [t.id for t in previous] + list(edits.merges) + list(edits.merges.values())
    for split in edits.splits:
        used += [split.source, *(part.id for part in split.parts)]
    return 1 + max(used, default=0)


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


def apply_splits(
    current: Sequence[CurrentTheme],
    labels: np.ndarray,
    vectors: np.ndarray | Callable[[np.ndarray], np.ndarray],
    splits: Sequence[ThemeSplit],
    *,
    threshold: float = 0.5,
    shared: int | None = None,
    batch_size: int = 10_000,
) -> tuple[list[CurrentTheme], np.ndarray]:
    """Divide current themes that officers split; returns the themes and per-answer labels.

    `labels` are the model's labels per answer and `vectors` the answers'
    run-independent vectors (ThemeModel.stable_vectors), row for row, or a
    function that returns the vectors of the rows it is given (so that only the
    divided themes' answers are vectorised, `batch_size` rows at a time). A
    current theme is divided by a split when its centroid has cosine at least
    `threshold` with the split theme's centroid and is closer to it than to
    either part (the best such theme, if several); each of its answers goes to
    the nearest part centroid. Parts get new indices past the existing ones.
    `shared` is as in `track`.
    """
    themes = list(current)
    divided = np.asarray(labels, dtype=np.int64).copy()
    vectors_of: Callable[[np.ndarray], np.ndarray] = (
        vectors if callable(vectors) else lambda rows: np.asarray(vectors)[rows]
    )
    next_index = 1 + max((t.index for t in themes), default=-1)
    for split in splits:
        if not themes:
            break
        centroids = [t.centroid for t in themes]
        to_source = _similarity(centroids, [split.centroid], shared)[:, 0]
        to_parts = _similarity(centroids, [p.centroid for p in split.parts], shared)
        looks_whole = (to_source >= threshold) & (to_source > to_parts.max(axis=1))
        if not looks_whole.any():
            continue
        position = int(np.argmax(np.where(looks_whole, to_source, -np.inf)))
        whole = themes.pop(position)
        rows = np.flatnonzero(divided == whole.index)
        nearest = np.zeros(len(rows), dtype=np.int64)
        sums: np.ndarray | None = None
        for start in range(0, len(rows), batch_size):
            chunk = rows[start : start + batch_size]
            found = _rows(vectors_of(chunk))
            to_part = _similarity(found, [p.centroid for p in split.parts], shared)
            choice = to_part.argmax(axis=1)
            nearest[start : start + len(chunk)] = choice
            unit = _unit(found)
            part_sums = np.stack([unit[choice == j].sum(axis=0) for j in range(2)])
            sums = part_sums if sums is None else sums + part_sums
        parent = whole.index if whole.parent is None else whole.parent
        for j, part in enumerate(split.parts):
            members = rows[nearest == j]
            if len(members) == 0 or sums is None:
                continue
            divided[members] = next_index
            centroid = _unit(sums[j][None, :])[0]
            themes.append(
                CurrentTheme(
                    next_index, part.label, [float(x) for x in centroid], len(members), parent
                )
            )
            next_index += 1
    return themes, divided


def _with_split_parts(
    previous: Sequence[StoredTheme], splits: Sequence[ThemeSplit]
) -> list[StoredTheme]:
    """Previous themes for matching: split themes retired, their parts present."""
    retired = {split.source for split in splits}
    themes = [t for t in previous if t.id not in retired]
    known = {t.id for t in themes}
    for split in splits:
        for part in split.parts:
            if part.id not in known and part.id not in retired:
                themes.append(part)
                known.add(part.id)
    return themes
