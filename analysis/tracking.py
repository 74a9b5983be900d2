"""Stable themes over time: match this run's themes to the previous run's.

Pure logic, no storage. The host stores, after each run, every tracked theme's
`id`, `label`, `centroid` (list of floats in the model's run-independent space,
see ThemeModel.centroids_) and `size`, plus officers' edits: renames (id ->
label) and merges (absorbed id -> surviving id). On the next run, `track`:

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
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
    """A theme of the current fit; `index` is its label in the model's `labels_`."""

    index: int
    label: str
    centroid: list[float]
    size: int


@dataclass(frozen=True)
class OfficerEdits:
    """Edits officers made, replayed on every run."""

    renames: Mapping[int, str] = field(default_factory=dict)
    merges: Mapping[int, int] = field(default_factory=dict)  # absorbed id -> surviving id


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
) -> Tracking:
    """Give current themes persistent ids and statuses (see module docstring)."""
    edits = edits or OfficerEdits()
    merged_into = resolve_merges(edits.merges)
    by_id = {theme.id: theme for theme in previous}
    matched: dict[int, tuple[int, float]] = {}  # current index -> (previous id, similarity)
    if previous and current:
        old = _unit(np.array([t.centroid for t in previous], dtype=np.float64))
        new = _unit(np.array([t.centroid for t in current], dtype=np.float64))
        if old.shape[1] != new.shape[1]:
            raise ValueError(
                f"centroids of {old.shape[1]} and {new.shape[1]} dimensions cannot be compared: "
                "both runs must use the same space (same signature size, embeddings or not)"
            )
        similarity = new @ old.T
        rows, cols = linear_sum_assignment(-similarity)
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
            if similarity[r, c] >= threshold:
                matched[current[r].index] = (previous[c].id, float(similarity[r, c]))

    next_id = 1 + max(
        [t.id for t in previous] + list(edits.merges) + list(edits.merges.values()), default=0
    )
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
    return Tracking(themes=tracked, gone=gone)


def _weighted_centroid(parts: list[tuple[list[float], int]]) -> list[float]:
    total = np.zeros(len(parts[0][0]))
    for centroid, size in parts:
        total += np.asarray(centroid, dtype=np.float64) * max(size, 1)
    return [float(x) for x in _unit(total[None, :])[0]]
