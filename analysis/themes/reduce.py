"""Reduce stage: sparse TF-IDF -> dense unit vectors (LSA), and joining spaces.

LSA (truncated SVD) turns thousands of sparse term columns into ~100 dense
topic directions, where cosine similarity between short answers is meaningful.
`join_spaces` concatenates lexical and semantic (embedding) vectors, each half
unit-length and weighted, so the result is again unit-length.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from sklearn.decomposition import TruncatedSVD
from sklearn.preprocessing import normalize


class LsaReducer:
    """Truncated SVD to `n_components` dimensions, rows re-normalised to unit length."""

    def __init__(self, n_components: int = 100, random_state: int | None = 0) -> None:
        self.n_components = n_components
        self.random_state = random_state

    def fit(self, matrix: sparse.csr_matrix) -> LsaReducer:
        n_rows, n_cols = matrix.shape
        # SVD needs fewer components than either side of the matrix.
        components = max(1, min(self.n_components, n_rows - 1, n_cols - 1))
        self.svd_ = TruncatedSVD(components, algorithm="randomized", random_state=self.random_state)
        self.svd_.fit(matrix)
        return self

    def transform(self, matrix: sparse.csr_matrix) -> np.ndarray:
        reduced = self.svd_.transform(matrix).astype(np.float32)
        return np.asarray(normalize(reduced), dtype=np.float32)


def join_spaces(
    lexical: np.ndarray, semantic: np.ndarray | None, lexical_weight: float
) -> np.ndarray:
    """Unit vectors combining both spaces; cosine = weighted sum of the two cosines."""
    if semantic is None:
        return lexical
    semantic = np.asarray(normalize(np.asarray(semantic, dtype=np.float32)), dtype=np.float32)
    joined = np.hstack(
        [np.sqrt(lexical_weight) * lexical, np.sqrt(1.0 - lexical_weight) * semantic]
    )
    return np.asarray(joined, dtype=np.float32)
