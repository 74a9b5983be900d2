"""How many themes: the choice of k for the cluster stage (analysis.themes.cluster).

`choose_n_themes` picks k on a sample of the vectors (the documented automatic
method; details in its docstring and docs/benchmarks.md (Themes)). ThemeModel
asks it for k-means stability under resampling (Lange et al. 2004) without
embeddings: do two halves of the answers give the same themes? With
embeddings it asks for the mean cosine silhouette, which works in a dense embedding space but not in
lexical LSA space, where answers that share no word are all about equally far
apart and silhouette rewards ever-smaller clusters; stability in turn prefers
the few coarse groups of an embedding space (5-8 on Banking77). Tried and not
adopted: Calinski-Harabasz, Davies-Bouldin, agreement (ARI) between k-means
runs on the same answers, silhouette minus a permuted null, gap statistic,
prediction strength, PAC of consensus, BIC and cross-validated likelihood of
a von Mises-Fisher mixture, kNN-graph modularity and eigengap.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from analysis.themes.cluster import spherical_kmeans

DEFAULT_CANDIDATES: tuple[int, ...] = (2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80)
# Candidates are capped so that a theme holds on average this many answers of the sample
# (so half as many in each half of a stability split)...
MIN_SAMPLE_PER_THEME = 20
# ...except in small samples, where a theme may be as small as this many answers, up to
# sqrt(2n) themes: 22 answers about six subjects may have 7 themes, not 2 (issue 15).
MIN_SMALL_THEME = 3


def max_n_themes(n: int) -> int:
    """The largest number of themes worth trying on `n` answers (at least 2).

    n / MIN_SAMPLE_PER_THEME for large samples (100 at 2,000 answers); for small
    ones up to sqrt(2n) themes of at least MIN_SMALL_THEME answers: 7 at 22
    answers, 10 at 50, 20 at 200, 44 at 1,000.
    """
    small = min(n // MIN_SMALL_THEME, int(np.ceil(np.sqrt(2 * n))))
    return max(2, n // MIN_SAMPLE_PER_THEME, small)


CRITERIA = ("stability", "silhouette")
# Samples this small average the silhouette over SILHOUETTE_RUNS k-means runs.
SMALL_SAMPLE = 500
SILHOUETTE_RUNS = 5


def choose_n_themes(
    vectors: np.ndarray,
    candidates: tuple[int, ...] = DEFAULT_CANDIDATES,
    sample_size: int = 2000,
    criterion: str = "stability",
    splits: int = 10,
    random_state: int | None = 0,
) -> tuple[int, dict[int, float]]:
    """The number of themes chosen on a sample, and every candidate's score (higher is better).

    `criterion="stability"` (the lexical default): k-means stability under
    resampling (Lange, Roth, Braun and Buhmann, "Stability-based validation of
    clustering solutions", Neural Computation 16, 2004). Each split halves the
    sample at random; k-means on each half gives two sets of centroids; every
    answer of the sample is assigned to its nearest centroid of each; the
    disagreement of the two labellings under the best one-to-one matching of
    clusters (Hungarian) is divided by the disagreement of the same labellings
    with one of them shuffled, which removes the bias of the raw disagreement
    towards small k. The score is 1 minus that ratio, averaged over `splits`;
    k is the candidate whose score minus its standard error over the splits is
    highest, so a small k that is stable on some splits and not on others (as
    k = 2-5 often are) does not win on a lucky average. Candidates before the
    first k where that bound stops falling are skipped: a few very different
    groups of answers (two languages, say) are most stable at k = 2-3, and
    officers need the themes inside them. It asks whether the same themes come
    back from different answers, which is what officers need of them week to
    week.

    `criterion="silhouette"` (the default with embeddings): mean cosine
    silhouette of one k-means run per candidate (the mean of SILHOUETTE_RUNS
    runs on samples of up to SMALL_SAMPLE answers); the best score after the
    falling start wins (the same skip as for stability).

    Candidates are capped by `max_n_themes` (all of DEFAULT_CANDIDATES, up to 80,
    for a sample of 2,000 answers; every k from 2 to 7 for 22 answers). The cap sqrt(n / 2) kept
    Banking77 (3,080 answers, 77 intents) under 40; the cap n / 20 alone left
    22 answers about six subjects only k = 2 to try.
    """
    if criterion not in CRITERIA:
        raise ValueError(f"criterion must be one of {CRITERIA}, not {criterion!r}")
    cap = max_n_themes(min(len(vectors), sample_size))
    rng = np.random.default_rng(random_state)
    if len(vectors) > sample_size:
        vectors = vectors[rng.choice(len(vectors), sample_size, replace=False)]
    usable = [k for k in candidates if 2 <= k <= cap]
    if cap <= 10 and candidates == DEFAULT_CANDIDATES:  # a small sample: try every k
        usable = list(range(2, cap + 1))
    scores: dict[int, float] = {}
    errors: dict[int, float] = {}
    # One k-means run per candidate is noise on a few hundred answers: average five.
    silhouette_seeds: list[int | None] = [random_state]
    if len(vectors) <= SMALL_SAMPLE:
        silhouette_seeds = rng.integers(0, 2**31 - 1, size=SILHOUETTE_RUNS).tolist()
    with threadpool_limits(1, user_api="blas"):
        for k in usable:
            if criterion == "silhouette":
                found = [
                    KMeans(k, n_init=1, random_state=seed).fit_predict(vectors)
                    for seed in silhouette_seeds
                ]
                values = [
                    float(silhouette_score(vectors, labels, metric="cosine"))
                    for labels in found
                    if len(np.unique(labels)) >= 2
                ]
                if values:
                    scores[k] = float(np.mean(values))
                    errors[k] = 0.0
            else:
                runs = [_split_stability(vectors, k, rng) for _ in range(splits)]
                scores[k] = float(np.mean(runs))
                errors[k] = float(np.std(runs) / np.sqrt(len(runs)))
    if not scores:
        return 1, scores
    # The best lower bound (mean minus one standard error): a small k whose splits
    # disagree wildly does not win on one lucky average.
    bound = {k: scores[k] - errors[k] for k in scores}
    # A few very different groups of answers (two languages, two services, "nothing"
    # against everything else) are stable, and well separated, at k = 2-3, less so
    # as k grows, before the themes within them emerge: skip that falling start (up
    # to the first k where the bound stops falling), so the themes inside are chosen.
    ordered = sorted(bound)
    start = 0
    while start + 1 < len(ordered) and bound[ordered[start + 1]] < bound[ordered[start]]:
        start += 1
    bound = {k: bound[k] for k in ordered[start:]}
    return max(bound, key=lambda k: bound[k]), scores


def _split_stability(vectors: np.ndarray, k: int, rng: np.random.Generator) -> float:
    """1 - (disagreement of k-means fitted on two halves) / (the same with labels shuffled)."""
    order = rng.permutation(len(vectors))
    halves = order[: len(order) // 2], order[len(order) // 2 :]
    first, second = (
        (vectors @ spherical_kmeans(vectors[half], k, rng).T).argmax(axis=1) for half in halves
    )
    observed = _matched_disagreement(first, second, k)
    chance = _matched_disagreement(rng.permutation(first), second, k)
    return 1.0 - observed / chance if chance > 0 else 0.0


def _matched_disagreement(first: np.ndarray, second: np.ndarray, k: int) -> float:
    """Share of points labelled differently under the best one-to-one matching of labels."""
    table = np.zeros((k, k))
    np.add.at(table, (first, second), 1.0)
    rows, cols = linear_sum_assignment(-table)
    return float(1.0 - table[rows, cols].sum() / len(first))
