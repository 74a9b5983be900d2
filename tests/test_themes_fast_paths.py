"""The theme model's fast paths give what the plain ones give (or, for the search, nearly)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from scipy import sparse
from sklearn.metrics import adjusted_rand_score
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import normalize

from analysis.themes.cluster import (
    OWN_SEEDING_MIN_VECTORS,
    SphericalClusterer,
    kmeans_plusplus_seeds,
    nearest_neighbours,
)
from analysis.themes.model import ThemeModel
from analysis.themes.normalise import Normaliser
from analysis.themes.vectorise import CharVectoriser, LexicalVectoriser, spelled
from tests.test_themes_data import synthetic_answers


def _same_matrix(fast: object, plain: object) -> None:
    assert sparse.issparse(fast) and sparse.issparse(plain)
    fast_csr, plain_csr = sparse.csr_matrix(fast), sparse.csr_matrix(plain)
    plain_csr.sort_indices()
    assert fast_csr.dtype == plain_csr.dtype == np.float32
    assert fast_csr.shape == plain_csr.shape
    assert np.array_equal(fast_csr.indptr, plain_csr.indptr)
    assert np.array_equal(fast_csr.indices, plain_csr.indices)
    assert np.allclose(fast_csr.data, plain_csr.data, rtol=1e-6, atol=0)


def test_char_and_word_rows_equal_scikit_learns() -> None:
    texts, _ = synthetic_answers(per_theme=40, seed=3)
    odd = ["", "a", "ab", "abc abc abc", "c++ c# don't", "tipping tipping tip", "late  buses"]
    normaliser = Normaliser()
    chars = CharVectoriser().fit([spelled(t) for t in texts])
    odd_spelled = [spelled(t) for t in texts[:50] + odd]
    _same_matrix(chars.transform(odd_spelled), chars.tfidf_.transform(odd_spelled))
    lexical = LexicalVectoriser().fit([normaliser.tokens(t) for t in texts])
    tokens = [normaliser.tokens(t) for t in texts[:50] + odd]
    _same_matrix(lexical.transform(tokens), lexical.tfidf_.transform(tokens))


def _blobs(n: int, centres: int, dims: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = rng.integers(centres, size=n)
    means = rng.normal(size=(centres, dims))
    vectors = normalize(means[truth] + rng.normal(scale=0.35, size=(n, dims)))
    return np.asarray(vectors, dtype=np.float32), truth


def test_large_float32_fits_are_seeded_in_float32_and_deterministic() -> None:
    vectors, truth = _blobs(OWN_SEEDING_MIN_VECTORS + 500, 12, 24, seed=1)
    seeds = kmeans_plusplus_seeds(vectors, 12, np.random.default_rng(0))
    assert seeds.dtype == np.float32 and seeds.shape == (12, 24)
    assert len(np.unique(seeds, axis=0)) == 12
    assert np.array_equal(seeds, kmeans_plusplus_seeds(vectors, 12, np.random.default_rng(0)))
    first = SphericalClusterer(12, n_init=4, random_state=5).fit(vectors)
    second = SphericalClusterer(12, n_init=4, random_state=5).fit(vectors)
    assert np.array_equal(first.labels_, second.labels_)
    assert adjusted_rand_score(truth, first.labels_) > 0.95


def test_neighbour_search_is_exact_when_small_and_close_when_large() -> None:
    small, _ = _blobs(300, 5, 16, seed=2)
    exact = NearestNeighbors(n_neighbors=6).fit(small).kneighbors(small, return_distance=False)
    assert np.array_equal(nearest_neighbours(small, 6), exact)

    large, _ = _blobs(8000, 40, 32, seed=3)
    found = nearest_neighbours(large, 11, random_state=0)
    assert found.shape == (8000, 11)
    assert np.array_equal(found, nearest_neighbours(large, 11, random_state=0))
    assert all(row in neighbours for row, neighbours in enumerate(found))  # itself
    exact = NearestNeighbors(n_neighbors=11).fit(large).kneighbors(large, return_distance=False)
    recall = np.mean([len(set(a) & set(b)) / 11 for a, b in zip(found, exact, strict=True)])
    assert recall > 0.9

    # Three answers given 2,000 times each: every neighbour is an equal vector.
    repeated = np.repeat(normalize(np.eye(3, 8) + 0.1), 2000, axis=0).astype(np.float32)
    found = nearest_neighbours(repeated, 11, random_state=0)
    assert np.array_equal(repeated[found], np.repeat(repeated[:, None, :], 11, axis=1))


def test_stored_matrix_and_streamed_rows_give_the_same_themes() -> None:
    texts, truth = synthetic_answers(per_theme=40, seed=2)
    names = sorted(set(truth))
    rng = np.random.default_rng(0)
    vectors = np.eye(8)[[names.index(t) for t in truth]] + rng.normal(0, 0.1, (len(truth), 8))

    def fit(embeddings: np.ndarray | Iterator[np.ndarray]) -> ThemeModel:
        model = ThemeModel(n_themes=4, sample_size=100, batch_size=30)
        return model.fit(iter(texts), embeddings=embeddings)

    from_matrix = fit(vectors)
    from_rows = fit(row for row in vectors)
    assert np.array_equal(from_matrix.labels_, from_rows.labels_)
    assert np.allclose(from_matrix.centroids_, from_rows.centroids_, atol=1e-6)
    assert adjusted_rand_score(truth, from_matrix.labels_) > 0.9
