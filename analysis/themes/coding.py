"""Coding answers against a codebook: the agreed themes, learned from their examples.

Discovery (analysis.themes.model.ThemeModel) proposes themes; officers review them into a
consultation's codebook. From then on every answer is *coded* against that set, as
careful human coders do: this module. A theme is known by its examples (the
answers it held when an officer reviewed it, and answers an officer coded to it by
hand). `ThemeCoder` keeps a few prototypes per theme (spherical k-means of its
examples, in the run-independent space of analysis.themes.model.stable_vectors) and every
officer-coded answer as a prototype of its own, so that a correction teaches the
coder about the answers that resemble it ("labelled neighbours"). An answer takes
the theme of its most similar prototype when that similarity reaches
`min_similarity`; otherwise it is left for discovery (`NOT_CODED`).

The vectors are stateless (hashed words, and stored sentence embeddings), and the
coder depends only on its examples, so coding the same answer twice against the
same codebook gives the same theme: themes do not drift from run to run unless an
officer changes the codebook.
"""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

NOT_CODED = -1
# The label of an answer an officer said is not a need: answers most like it are
# not coded to any theme either.
NOT_A_NEED = -2


class ThemeCoder:
    """Code answers to themes from labelled examples.

    Parameters
    ----------
    n_prototypes: at most this many prototypes per theme (one per
        `examples_per_prototype` examples, at least one).
    examples_per_prototype: how many examples one prototype stands for.
    min_similarity: the lowest cosine to a theme's prototype that codes an
        answer to it; below it the answer is left for discovery.
    random_state: seed of the k-means that finds prototypes.

    Learned attributes: `prototypes_` (unit rows), `prototype_labels_` (theme id
    per prototype), `themes_` (sorted theme ids).
    """

    def __init__(
        self,
        *,
        n_prototypes: int = 12,
        examples_per_prototype: int = 8,
        min_similarity: float = 0.15,
        random_state: int | None = 0,
    ) -> None:
        self.n_prototypes = n_prototypes
        self.examples_per_prototype = examples_per_prototype
        self.min_similarity = min_similarity
        self.random_state = random_state

    def fit(
        self, vectors: np.ndarray, labels: np.ndarray, anchors: np.ndarray | None = None
    ) -> ThemeCoder:
        """Learn from examples: `labels[i]` is the theme id of `vectors[i]` (or NOT_A_NEED).

        `anchors` marks examples an officer coded by hand: each is kept as a
        prototype of its own besides counting towards its theme's prototypes."""
        rows = _unit(np.asarray(vectors, dtype=np.float32))
        labels = np.asarray(labels, dtype=np.int64)
        anchors = np.zeros(len(labels), dtype=bool) if anchors is None else np.asarray(anchors)
        if len(rows) != len(labels) or len(anchors) != len(labels):
            raise ValueError("vectors, labels and anchors must have one row per example")
        usable = np.linalg.norm(rows, axis=1) > 0
        prototypes: list[np.ndarray] = []
        owners: list[int] = []
        for theme in np.unique(labels[usable]).tolist():
            members = rows[usable & (labels == theme)]
            found = (
                self._prototypes(members) if theme != NOT_A_NEED else np.zeros((0, rows.shape[1]))
            )
            own = rows[usable & anchors & (labels == theme)]
            theme_prototypes = np.vstack([found, own]).astype(np.float32)
            prototypes.append(theme_prototypes)
            owners += [theme] * len(theme_prototypes)
        width = rows.shape[1] if rows.ndim == 2 else 0
        self.prototypes_ = np.vstack(prototypes) if prototypes else np.zeros((0, width), np.float32)
        self.prototype_labels_ = np.asarray(owners, dtype=np.int64)
        self.themes_ = sorted(set(owners) - {NOT_A_NEED})
        return self

    def _prototypes(self, members: np.ndarray) -> np.ndarray:
        count = min(self.n_prototypes, max(1, len(members) // self.examples_per_prototype))
        whole = _unit(members.sum(axis=0, keepdims=True))
        if count == 1:
            return whole
        with threadpool_limits(1, user_api="blas"):
            found = KMeans(count, n_init=3, random_state=self.random_state).fit(members)
        # The theme's own centre stays a prototype, so its core is always recognised.
        return np.vstack([whole, _unit(found.cluster_centers_.astype(np.float32))])

    def similarity(self, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each answer: the theme of its most similar prototype, and that cosine."""
        rows = _unit(np.asarray(vectors, dtype=np.float32))
        if len(self.prototypes_) == 0 or len(rows) == 0:
            return np.full(len(rows), NOT_CODED, dtype=np.int64), np.zeros(len(rows), np.float32)
        width = self.prototypes_.shape[1]
        prototypes = self.prototypes_
        if rows.shape[1] < width:  # a shorter vector (a clause's words alone): the leading part
            prototypes = _unit(prototypes[:, : rows.shape[1]])
        scores = rows @ prototypes.T
        best = scores.argmax(axis=1)
        return self.prototype_labels_[best], scores[np.arange(len(rows)), best]

    def predict(self, vectors: np.ndarray) -> np.ndarray:
        """Each answer's theme id, or NOT_CODED when it fits no theme well (or is most
        like an answer an officer said is not a need)."""
        return self.predict_with_similarity(vectors)[0]

    def predict_with_similarity(self, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`predict`, and each answer's similarity to its nearest prototype."""
        themes, scores = self.similarity(vectors)
        coded = (scores >= self.min_similarity) & (themes != NOT_A_NEED)
        return np.where(coded, themes, NOT_CODED), scores


def _unit(rows: np.ndarray) -> np.ndarray:
    rows = np.atleast_2d(rows)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return np.asarray(rows / np.where(norms == 0, 1.0, norms), dtype=np.float32)
