"""Cluster stage: unit vectors -> theme labels, and the choice of how many themes.

`SphericalClusterer` runs k-means several times on unit vectors (so Euclidean
k-means ranks points as cosine similarity would) and combines the runs by
consensus: each answer is described by which cluster it fell in on every run
(a one-hot block per run), those co-membership vectors are reduced by SVD to k
dimensions, and k-means on them gives the final labels. Answers that the runs
keep together stay together; the borders that single runs draw at random
average out, so the result varies less with the seed than the best-inertia
restart does (fewer than 3 runs fall back to the best restart). It can then
smooth the labels over the k-nearest-neighbour graph: each point takes the majority label of itself and its
neighbours. Smoothing repairs points that sit on the wrong side of a k-means
boundary while their nearest neighbours agree; it pays off in spaces where
neighbours are reliable (sentence embeddings), not in sparse LSA space.

`choose_n_themes` picks k by the mean cosine silhouette over a grid of
candidate k on a sample, capped at sqrt(n/2) (the documented automatic
method). It is still the weak part on the lexical path, where silhouette keeps
rising with k on short texts. Tried on the four shared sets, both paths, and
not adopted because no rule picked a sensible k on all of them (details in
docs/benchmarks.md (Themes)): Calinski-Harabasz (right on StackOverflow lexical,
falls to the smallest k elsewhere), Davies-Bouldin (falls with k everywhere),
agreement (ARI) between k-means runs (rises with k), and silhouette minus the
silhouette of a column-permuted null sample (the null's silhouette is too small
to correct the rise).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.decomposition import TruncatedSVD
from sklearn.metrics import silhouette_score
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import normalize
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

# Past this many vectors, k-means restarts use mini-batches to bound time.
MINIBATCH_THRESHOLD = 50_000
# Restarts are cut so that vectors x clusters x restarts stays under this budget
# (about 8 s on 2 cores at 100 dimensions); small fits keep every restart.
RESTART_BUDGET = 6_000_000


class SphericalClusterer:
    """k-means on unit vectors with restarts and optional kNN label smoothing."""

    def __init__(
        self,
        n_clusters: int,
        n_init: int = 10,
        smooth_neighbours: int = 0,
        smooth_rounds: int = 3,
        consensus: bool = True,
        random_state: int | None = 0,
    ) -> None:
        self.n_clusters = n_clusters
        self.n_init = n_init
        self.consensus = consensus
        self.smooth_neighbours = smooth_neighbours
        self.smooth_rounds = smooth_rounds
        self.random_state = random_state

    def fit(self, vectors: np.ndarray) -> SphericalClusterer:
        # k-means++ makes thousands of small BLAS calls; threaded BLAS spends more
        # on synchronising them than it saves (4x slower on 2 busy cores).
        with threadpool_limits(1, user_api="blas"):
            return self._fit(vectors)

    def _fit(self, vectors: np.ndarray) -> SphericalClusterer:
        n_distinct = len(np.unique(vectors.round(5), axis=0))
        k = max(1, min(self.n_clusters, n_distinct))
        n_init = max(1, min(self.n_init, RESTART_BUDGET // max(1, len(vectors) * k)))
        if self.consensus and n_init >= 3 and k >= 2:
            labels = consensus_labels(vectors, k, n_init, self.random_state)
        else:
            labels = _kmeans(vectors, k, n_init, self.random_state)
        if self.smooth_neighbours > 0 and len(vectors) > self.smooth_neighbours:
            labels = smooth_labels(vectors, labels, k, self.smooth_neighbours, self.smooth_rounds)
        self.labels_ = relabel_dense(labels)
        self.centroids_ = centroids_of(vectors, self.labels_)
        return self


def _kmeans(vectors: np.ndarray, k: int, n_init: int, random_state: int | None) -> np.ndarray:
    """Best of `n_init` k-means restarts (mini-batches past MINIBATCH_THRESHOLD vectors)."""
    if len(vectors) > MINIBATCH_THRESHOLD:
        model: KMeans | MiniBatchKMeans = MiniBatchKMeans(
            k, n_init=n_init, batch_size=4096, random_state=random_state
        )
    else:
        model = KMeans(k, n_init=n_init, random_state=random_state)
    return np.asarray(model.fit_predict(vectors), dtype=np.int64)


def consensus_labels(
    vectors: np.ndarray, k: int, runs: int, random_state: int | None
) -> np.ndarray:
    """k clusters agreed by `runs` single k-means runs (see module docstring)."""
    rng = np.random.default_rng(random_state)
    n = len(vectors)
    blocks = []
    for seed in rng.integers(0, 2**31 - 1, size=runs).tolist():
        found = _kmeans(vectors, k, 1, seed)
        blocks.append(sparse.csr_matrix((np.ones(n), (np.arange(n), found)), shape=(n, k)))
    membership = sparse.hstack(blocks).tocsr()
    dims = max(1, min(k, membership.shape[1] - 1))
    reduced = TruncatedSVD(dims, random_state=random_state).fit_transform(membership)
    # float64: k-means++ on float32 input upcasts chunk by chunk, which is slower here.
    return _kmeans(np.asarray(normalize(reduced), dtype=np.float64), k, runs, random_state)


def relabel_dense(labels: np.ndarray) -> np.ndarray:
    """Renumber labels 0..m-1 by decreasing cluster size (ties: smaller old label first)."""
    values, counts = np.unique(labels, return_counts=True)
    order = values[np.lexsort((values, -counts))]
    mapping = np.empty(int(values.max()) + 1, dtype=np.int64)
    mapping[order] = np.arange(len(order))
    return np.asarray(mapping[labels], dtype=np.int64)


def centroids_of(vectors: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Unit-length mean vector of each label 0..max(labels)."""
    k = int(labels.max()) + 1
    sums = np.zeros((k, vectors.shape[1]), dtype=np.float64)
    np.add.at(sums, labels, vectors)
    return np.asarray(normalize(sums), dtype=np.float32)


def smooth_labels(
    vectors: np.ndarray, labels: np.ndarray, k: int, neighbours: int, rounds: int
) -> np.ndarray:
    """Majority vote of each point and its nearest neighbours, repeated `rounds` times."""
    index = NearestNeighbors(n_neighbors=neighbours + 1).fit(vectors)
    neighbourhoods = index.kneighbors(vectors, return_distance=False)
    rows = np.repeat(np.arange(len(labels)), neighbourhoods.shape[1])
    for _ in range(rounds):
        votes = np.zeros((len(labels), k), dtype=np.float32)
        # Own label counts slightly more, so ties keep the current label.
        np.add.at(votes, (np.arange(len(labels)), labels), 0.5)
        np.add.at(votes, (rows, labels[neighbourhoods].ravel()), 1.0)
        new_labels = votes.argmax(axis=1)
        if np.array_equal(new_labels, labels):
            break
        labels = new_labels
    return labels


DEFAULT_CANDIDATES: tuple[int, ...] = (2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80)


def choose_n_themes(
    vectors: np.ndarray,
    candidates: tuple[int, ...] = DEFAULT_CANDIDATES,
    sample_size: int = 2000,
    random_state: int | None = 0,
) -> tuple[int, dict[int, float]]:
    """k with the best cosine silhouette on a sample, and every candidate's score.

    Silhouette keeps rising with k on small, sparse text samples, so the
    candidates are capped by the rule of thumb k <= sqrt(n / 2), n being the
    number of vectors (not the sample), and at a tenth of the sample (a theme
    should hold at least ~10 answers to be worth reading).
    """
    cap = max(2, min(int(np.sqrt(len(vectors) / 2)), min(len(vectors), sample_size) // 10))
    rng = np.random.default_rng(random_state)
    if len(vectors) > sample_size:
        vectors = vectors[rng.choice(len(vectors), sample_size, replace=False)]
    usable = [k for k in candidates if 2 <= k <= cap]
    scores: dict[int, float] = {}
    for k in usable:
        labels = KMeans(k, n_init=1, random_state=random_state).fit_predict(vectors)
        if len(np.unique(labels)) < 2:
            continue
        scores[k] = float(silhouette_score(vectors, labels, metric="cosine"))
    if not scores:
        return 1, scores
    return max(scores, key=lambda k: scores[k]), scores
