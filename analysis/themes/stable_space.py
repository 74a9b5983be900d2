"""The run-independent space: answers and themes compared across runs and fits.

The signature space (hashed words, analysis.themes.vectorise.SignatureVectoriser) is
stateless, so vectors computed today compare with centroids stored weeks ago; with
embeddings, each row is the unit signature and the unit embedding side by side.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.preprocessing import normalize

from analysis.themes.nonanswers import is_non_answer
from analysis.themes.normalise import Normaliser
from analysis.themes.vectorise import SignatureVectoriser


def stable_vectors(
    texts: Sequence[str],
    embeddings: np.ndarray | None = None,
    *,
    signature_features: int = 1024,
    foreign: np.ndarray | None = None,
) -> np.ndarray:
    """Answers in the run-independent space of ThemeModel.centroids_, with no fit needed.

    The signature space is stateless, so the host can compute these vectors at any
    time, for instance when an officer splits a theme long after its run. Rows of
    answers that state no need are zeros. With `embeddings` (one row per text),
    a row is the unit signature and the unit embedding side by side, scaled by
    1/sqrt(2), as the centroids of a model fitted with embeddings are.

    `foreign` marks answers in another language than the codebook's: their words
    would only say which language they are in, so their signature part is zeros
    and only their embedding is compared.
    """
    texts = list(texts)
    normaliser = Normaliser()
    tokens = [normaliser.tokens(t) for t in texts]
    themable = np.array(
        [bool(tok) and not is_non_answer(t) for t, tok in zip(texts, tokens, strict=True)],
        dtype=bool,
    )
    kept = [tok for tok, keep in zip(tokens, themable, strict=True) if keep]
    signature = SignatureVectoriser(signature_features).transform(kept)
    part = np.asarray(signature.todense(), dtype=np.float32)
    if foreign is not None and embeddings is not None:
        part[np.asarray(foreign, dtype=bool)[themable]] = 0.0
    width = signature_features
    if embeddings is not None:
        semantic = np.asarray(embeddings, dtype=np.float32)
        if len(semantic) != len(texts):
            raise ValueError(f"{len(semantic)} embeddings for {len(texts)} texts")
        width += semantic.shape[1]
        unit = np.asarray(normalize(semantic[themable]), dtype=np.float32)
        part = np.hstack([part, unit]) / np.float32(np.sqrt(2.0))
    rows = np.zeros((len(texts), width), dtype=np.float32)
    rows[themable] = part
    return rows


def sum_rows_by_label(
    matrix: sparse.csr_matrix | np.ndarray, labels: np.ndarray, k: int
) -> np.ndarray:
    """Per-label sums of rows (sparse or dense), as a dense float64 (k, n_features) array."""
    if matrix.shape[0] == 0:
        return np.zeros((k, matrix.shape[1]))
    indicator = sparse.csr_matrix(
        (np.ones(len(labels)), (labels, np.arange(len(labels)))), shape=(k, len(labels))
    )
    if sparse.issparse(matrix):
        return np.asarray((indicator @ matrix).todense(), dtype=np.float64)
    return np.asarray(indicator @ np.asarray(matrix, dtype=np.float64))


def stable_centroids(signature_sums: np.ndarray, semantic_sums: np.ndarray | None) -> np.ndarray:
    """Unit centroids in the run-independent space: signature, then embeddings if any."""

    def unit(rows: np.ndarray) -> np.ndarray:
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        return rows / np.where(norms == 0, 1.0, norms)

    if semantic_sums is None:
        return np.asarray(unit(signature_sums), dtype=np.float32)
    halves = np.hstack([unit(signature_sums), unit(semantic_sums)]) / np.sqrt(2.0)
    return np.asarray(halves, dtype=np.float32)
