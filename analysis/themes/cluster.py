"""Cluster stage: unit vectors -> theme labels.

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
neighbours are reliable (sentence embeddings), not in sparse LSA space. Past
5,000 points the neighbours come from an inverted-file search
(`nearest_neighbours`), which finds about 95% of the exact ones in about a third of
the time on 20,000 x 484; the votes score the same (docs/benchmarks.md, Scale).

How many themes: analysis.themes.theme_count.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.decomposition import TruncatedSVD
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import normalize
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

# Past this many vectors, k-means restarts use mini-batches to bound time.
MINIBATCH_THRESHOLD = 50_000
# Restarts are cut so that vectors x clusters x restarts stays under this budget
# (about 8 s on 2 cores at 100 dimensions); small fits keep every restart.
RESTART_BUDGET = 6_000_000
# From this many float32 vectors, k-means is seeded by kmeans_plusplus_seeds (the same
# method as scikit-learn's, without its conversions to float64); smaller fits, where
# seeding costs little, keep scikit-learn's own seeds.
OWN_SEEDING_MIN_VECTORS = 5000
# Neighbour search for smoothing (an inverted file, see nearest_neighbours): lists
# probed per vector, sample points per list for the coarse k-means, vectors compared
# per block, and the count below which brute force (exact, and cheap there) is used.
PROBES = 24
PROBE_SAMPLE_PER_LIST = 30
PROBE_BLOCK = 2048
PROBE_MIN_VECTORS = 5000


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
            labels = smooth_labels(
                vectors,
                labels,
                k,
                self.smooth_neighbours,
                self.smooth_rounds,
                random_state=self.random_state,
            )
        self.labels_ = relabel_dense(labels)
        self.centroids_ = centroids_of(vectors, self.labels_)
        return self


def _kmeans(vectors: np.ndarray, k: int, n_init: int, random_state: int | None) -> np.ndarray:
    """Best of `n_init` k-means restarts (mini-batches past MINIBATCH_THRESHOLD vectors)."""
    if len(vectors) > MINIBATCH_THRESHOLD:
        model: KMeans | MiniBatchKMeans = MiniBatchKMeans(
            k, n_init=n_init, batch_size=4096, random_state=random_state
        )
        return np.asarray(model.fit_predict(vectors), dtype=np.int64)
    if vectors.dtype != np.float32 or len(vectors) < OWN_SEEDING_MIN_VECTORS:
        model = KMeans(k, n_init=n_init, random_state=random_state)
        return np.asarray(model.fit_predict(vectors), dtype=np.int64)
    # scikit-learn seeds float32 vectors by converting them to float64, chunk by
    # chunk, for every candidate centre: most of the time of a fit on 20,000 x 484.
    # The same greedy k-means++ seeding in float32 is 4x faster; Lloyd's iterations
    # stay scikit-learn's, in float32.
    rng = np.random.default_rng(random_state)
    fits = [
        KMeans(k, init=kmeans_plusplus_seeds(vectors, k, rng), n_init=1).fit(vectors)
        for _ in range(max(1, n_init))
    ]
    best = min(fits, key=lambda fit: float(fit.inertia_))  # the first of equals
    return np.asarray(best.labels_, dtype=np.int64)


def kmeans_plusplus_seeds(vectors: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k initial centres by greedy k-means++ (as scikit-learn seeds), in the vectors' dtype.

    Each new centre is the best (lowest total squared distance) of 2 + log(k)
    candidates drawn with probability proportional to their squared distance
    from the centres chosen so far.
    """
    n = len(vectors)
    trials = 2 + int(np.log(k))
    norms = np.einsum("ij,ij->i", vectors, vectors)

    def squared_distances(rows: np.ndarray) -> np.ndarray:
        products = vectors[rows] @ vectors.T
        return np.asarray(np.maximum(norms[rows, None] + norms[None, :] - 2 * products, 0.0))

    chosen = [int(rng.integers(n))]
    closest = squared_distances(np.array(chosen))[0].astype(np.float64)
    for _ in range(1, k):
        cumulative = np.cumsum(closest)
        if cumulative[-1] <= 0:  # every point is already a centre
            candidates = rng.integers(n, size=trials)
        else:
            drawn = np.searchsorted(cumulative, rng.random(trials) * cumulative[-1])
            candidates = np.minimum(drawn, n - 1)
        tried = np.minimum(closest, squared_distances(candidates))
        best = int(tried.sum(axis=1).argmin())
        chosen.append(int(candidates[best]))
        closest = tried[best]
    return np.asarray(vectors[chosen])


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
    vectors: np.ndarray,
    labels: np.ndarray,
    k: int,
    neighbours: int,
    rounds: int,
    random_state: int | None = 0,
) -> np.ndarray:
    """Majority vote of each point and its nearest neighbours, repeated `rounds` times."""
    neighbourhoods = nearest_neighbours(vectors, neighbours + 1, random_state)
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


def smoothing_neighbours(wanted: int, n_answers: int, n_themes: int) -> int:
    """Neighbours for label smoothing, at most half a theme's average size, or 0.

    Ten neighbours out-vote every theme of 22 answers about six subjects and leave
    one theme; fewer than 3 neighbours are noise, so small samples go unsmoothed.
    """
    neighbours = min(wanted, n_answers // max(1, n_themes) // 2)
    return neighbours if neighbours >= 3 else 0


def nearest_neighbours(
    vectors: np.ndarray,
    count: int,
    random_state: int | None = 0,
    probes: int = PROBES,
) -> np.ndarray:
    """Rows of each unit vector's `count` nearest vectors (itself included).

    An inverted-file search: a coarse spherical k-means on a sample splits the
    vectors into about sqrt(n) lists, and each vector is compared only with the
    members of the `probes` lists whose centre is nearest to it, not with every
    vector (about `probes` / sqrt(n) of the work). Below PROBE_MIN_VECTORS, or
    with as many probes as lists, the search is exhaustive and exact.
    """
    n = len(vectors)
    count = min(count, n)
    n_lists = int(np.sqrt(n))
    if probes >= n_lists or n < PROBE_MIN_VECTORS:
        index = NearestNeighbors(n_neighbors=count).fit(vectors)
        return np.asarray(index.kneighbors(vectors, return_distance=False), dtype=np.int64)
    rng = np.random.default_rng(random_state)
    sample = rng.choice(n, min(n, PROBE_SAMPLE_PER_LIST * n_lists), replace=False)
    centres = spherical_kmeans(vectors[np.sort(sample)], n_lists, rng, max_iter=10)
    closeness = vectors @ centres.T
    probed = np.argpartition(-closeness, probes - 1, axis=1)[:, :probes]
    lists = closeness.argmax(axis=1)
    norms = np.einsum("ij,ij->i", vectors, vectors)
    best_score = np.full((n, count), -np.inf, dtype=vectors.dtype)
    best_row = np.zeros((n, count), dtype=np.int64)
    for at in range(n_lists):
        members = np.flatnonzero(lists == at)
        if len(members) == 0:
            continue
        queries = np.flatnonzero((probed == at).any(axis=1))
        for start in range(0, len(queries), PROBE_BLOCK):
            block = queries[start : start + PROBE_BLOCK]
            # Nearest is largest 2 x.y - |y|^2 (|x|^2 is the same for every y).
            score = vectors[block] @ vectors[members].T
            score *= 2
            score -= norms[members][None, :]
            if len(members) > count:  # this list's best `count`, then merge
                top = np.argpartition(-score, count - 1, axis=1)[:, :count]
                score = np.take_along_axis(score, top, axis=1)
                rows = members[top]
            else:
                rows = np.broadcast_to(members, score.shape)
            merged_score = np.hstack([best_score[block], score])
            merged_row = np.hstack([best_row[block], rows])
            keep = np.argpartition(-merged_score, count - 1, axis=1)[:, :count]
            best_score[block] = np.take_along_axis(merged_score, keep, axis=1)
            best_row[block] = np.take_along_axis(merged_row, keep, axis=1)
    # Vectors whose probed lists held fewer than `count` others (many equal vectors,
    # say) are searched exhaustively.
    short = np.flatnonzero(np.isinf(best_score).any(axis=1))
    if len(short):
        index = NearestNeighbors(n_neighbors=count).fit(vectors)
        best_row[short] = index.kneighbors(vectors[short], return_distance=False)
    return best_row


def spherical_kmeans(
    vectors: np.ndarray, k: int, rng: np.random.Generator, max_iter: int = 30
) -> np.ndarray:
    """Unit centroids of one k-means++-seeded spherical k-means run (cosine throughout).

    A lean loop for the many small fits of `choose_n_themes`, where the set-up
    cost of scikit-learn's KMeans on 1,000 vectors outweighs the clustering.
    """
    n = len(vectors)
    k = min(k, n)
    trials = 2 + int(np.log(k))  # greedy k-means++, as scikit-learn seeds it
    centres = np.empty((k, vectors.shape[1]), dtype=vectors.dtype)
    centres[0] = vectors[rng.integers(n)]
    distance = np.maximum(1.0 - vectors @ centres[0], 0.0).astype(np.float64)
    for j in range(1, k):  # far points are likelier seeds; the best of a few tries is kept
        total = distance.sum()
        if total <= 0:
            candidates = rng.integers(n, size=trials)
        else:
            candidates = rng.choice(n, size=trials, p=distance / total)
        tried = np.minimum(distance, np.maximum(1.0 - vectors[candidates] @ vectors.T, 0.0))
        best = int(tried.sum(axis=1).argmin())
        centres[j] = vectors[candidates[best]]
        distance = tried[best]
    labels = np.full(n, -1)
    for _ in range(max_iter):
        new_labels = (vectors @ centres.T).argmax(axis=1)
        if np.array_equal(new_labels, labels):
            break
        labels = new_labels
        members = sparse.csr_matrix((np.ones(n), (labels, np.arange(n))), shape=(k, n))
        sums = np.asarray(members @ vectors)
        filled = np.linalg.norm(sums, axis=1) > 0  # an emptied cluster keeps its centre
        centres[filled] = normalize(sums[filled])
    return centres
