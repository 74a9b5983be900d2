"""ThemeModel: cluster residents' answers into themes, with scikit-learn conventions.

Pipeline (each stage its own module, replaceable):
normalise (analysis.themes.normalise) -> vectorise (analysis.themes.vectorise) -> reduce
(analysis.themes.reduce; plus optional embeddings from analysis.themes.embed) -> cluster
(analysis.themes.cluster) -> describe (analysis.themes.describe, analysis.themes.domains).

Scale: `fit` streams its input. The space and the clusters are learned on a
sample of at most `sample_size` answers (a random sample when `texts` is a
sequence, the first answers when it is an iterator), then every answer is
assigned in batches of `batch_size`, so memory depends on the sample size and
the batch size, not on the number of answers.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from analysis.themes.clauses import clauses
from analysis.themes.cluster import SphericalClusterer, centroids_of, smoothing_neighbours
from analysis.themes.describe import describe_groups
from analysis.themes.embed import Embedder
from analysis.themes.nonanswers import is_non_answer
from analysis.themes.normalise import Normaliser
from analysis.themes.reduce import LsaReducer, join_spaces
from analysis.themes.stable_space import stable_centroids, stable_vectors, sum_rows_by_label
from analysis.themes.streaming import answer_batches, chain_head
from analysis.themes.theme_count import choose_n_themes
from analysis.themes.vectorise import (
    CharVectoriser,
    LexicalVectoriser,
    SignatureVectoriser,
    join_lexical,
    spelled,
)

UNTHEMED = -1


@dataclass
class _Batch:
    """Vectors of one batch of answers; rows of `vectors` are the themable answers."""

    themable: np.ndarray  # bool mask over the batch
    lexical: np.ndarray  # LSA vectors of themable answers
    vectors: np.ndarray  # model-space vectors of themable answers
    signature: sparse.csr_matrix  # stable-space vectors of themable answers
    semantic: np.ndarray | None  # embeddings of themable answers


class ThemeModel:
    """Themes of free-text answers.

    Parameters
    ----------
    n_themes: number of themes; None chooses it (analysis.themes.theme_count.choose_n_themes).
    n_themes_criterion: how it is chosen: "stability" or "silhouette"; None means
        silhouette with embeddings, stability without.
    lexical_weight: share of the lexical (LSA) space when embeddings are given.
    char_weight: weight of character 3-5-grams beside word stems before LSA
        (0 turns them off).
    n_components: LSA dimensions.
    n_init: k-means runs (combined by consensus, see analysis.themes.cluster).
    smooth_neighbours: kNN label smoothing; None means 10 with embeddings, 0 without.
    secondary_threshold: minimum cosine between a clause and another theme's
        lexical centroid for that theme to become a secondary theme.
    sample_size, batch_size: streaming (see module docstring).
    signature_features: dimensions of the stable space of `centroids_`.
    embedder: computes embeddings when `fit`/`predict` get none (optional).
    random_state: seed for every random step.

    Learned attributes: `labels_` (primary theme per answer, -1 unthemed),
    `secondary_labels_` ((n, 2) array, -1 padded), `themes_` (list of Theme,
    `themes_[i].id == i`), `centroids_` (per theme, in the run-independent
    signature space, plus the embedding space when embeddings were used),
    `n_themes_`, `n_themes_scores_` (score per candidate k when chosen
    automatically, higher is better).
    """

    def __init__(
        self,
        n_themes: int | None = None,
        *,
        n_themes_criterion: str | None = None,
        lexical_weight: float = 0.2,
        char_weight: float = 0.7,
        n_components: int = 100,
        n_init: int = 20,
        smooth_neighbours: int | None = None,
        secondary_threshold: float = 0.2,
        sample_size: int = 20_000,
        batch_size: int = 10_000,
        signature_features: int = 1024,
        embedder: Embedder | None = None,
        random_state: int | None = 0,
    ) -> None:
        self.n_themes = n_themes
        self.n_themes_criterion = n_themes_criterion
        self.lexical_weight = lexical_weight
        self.char_weight = char_weight
        self.n_components = n_components
        self.n_init = n_init
        self.smooth_neighbours = smooth_neighbours
        self.secondary_threshold = secondary_threshold
        self.sample_size = sample_size
        self.batch_size = batch_size
        self.signature_features = signature_features
        self.embedder = embedder
        self.random_state = random_state

    # ----------------------------------------------------------------- fitting
    def fit(
        self, texts: Iterable[str], embeddings: np.ndarray | Iterable[np.ndarray] | None = None
    ) -> ThemeModel:
        """Learn themes from answers; `embeddings[i]` is the stored vector of `texts[i]`."""
        self.normaliser_ = Normaliser()
        self.signature_ = SignatureVectoriser(self.signature_features)
        sample_texts, sample_vectors, rest = self._split_sample(texts, embeddings)
        self._fit_sample(sample_texts, sample_vectors)
        self._assign_all(sample_texts, rest)
        return self

    def _split_sample(
        self, texts: Iterable[str], embeddings: np.ndarray | Iterable[np.ndarray] | None
    ) -> tuple[list[str], np.ndarray | None, Iterator[tuple[list[str], np.ndarray | None]]]:
        """The fit sample, and a stream of (texts, embeddings) batches for the assignment pass."""
        if isinstance(texts, Sequence) and len(texts) > self.sample_size:
            rng = np.random.default_rng(self.random_state)
            picked = np.sort(rng.choice(len(texts), self.sample_size, replace=False))
            sample = [texts[int(i)] for i in picked]
            vectors = None if embeddings is None else np.asarray(embeddings)[picked]
            self._sample_rows = picked
            self._resampled = True
            self._head_vectors = None
            return (
                sample,
                vectors,
                answer_batches(texts, embeddings, self.batch_size, self.embedder),
            )
        stream = answer_batches(texts, embeddings, self.batch_size, self.embedder)
        sample_parts: list[list[str]] = []
        vector_parts: list[np.ndarray] = []
        count = 0
        for batch_texts, batch_vectors in stream:
            sample_parts.append(batch_texts)
            if batch_vectors is not None:
                vector_parts.append(batch_vectors)
            count += len(batch_texts)
            if count >= self.sample_size:
                break
        sample = [t for part in sample_parts for t in part]
        self._sample_rows = np.arange(len(sample))
        self._resampled = False
        stacked = np.vstack(vector_parts) if vector_parts else None
        self._head_vectors = stacked
        # The sample's own rows come first in the assignment pass.
        return sample, stacked, stream

    def _fit_sample(self, texts: list[str], embeddings: np.ndarray | None) -> None:
        tokens = [self.normaliser_.tokens(t) for t in texts]
        themable = np.array(
            [bool(tok) and not is_non_answer(t) for t, tok in zip(texts, tokens, strict=True)]
        )
        if themable.sum() < 2:
            raise ValueError("themes need at least 2 answers that state a need")
        kept_tokens = [tok for tok, keep in zip(tokens, themable, strict=True) if keep]
        kept_texts = [t for t, keep in zip(texts, themable, strict=True) if keep]
        self.vectoriser_ = LexicalVectoriser().fit(kept_tokens)
        self.char_vectoriser_ = (
            CharVectoriser().fit([spelled(t) for t in kept_texts]) if self.char_weight > 0 else None
        )
        matrix = self._lexical_matrix(kept_tokens, kept_texts)
        self.reducer_ = LsaReducer(self.n_components, self.random_state).fit(matrix)
        lexical = self.reducer_.transform(matrix)
        self.uses_embeddings_ = embeddings is not None
        semantic = None if embeddings is None else embeddings[themable]
        vectors = join_spaces(lexical, semantic, self.lexical_weight)

        if self.n_themes is None:
            criterion = self.n_themes_criterion
            if criterion is None:
                criterion = "silhouette" if self.uses_embeddings_ else "stability"
            self.n_themes_, self.n_themes_scores_ = choose_n_themes(
                vectors, criterion=criterion, random_state=self.random_state
            )
        else:
            self.n_themes_, self.n_themes_scores_ = self.n_themes, {}
        smooth = self.smooth_neighbours
        if smooth is None:
            smooth = 10 if self.uses_embeddings_ else 0
        smooth = smoothing_neighbours(smooth, len(vectors), self.n_themes_)
        clusterer = SphericalClusterer(
            self.n_themes_, self.n_init, smooth, random_state=self.random_state
        ).fit(vectors)
        labels = clusterer.labels_
        self.n_themes_ = int(labels.max()) + 1
        self.model_centroids_ = clusterer.centroids_
        self.lexical_centroids_ = centroids_of(lexical, labels)
        self._sample_labels = np.full(len(texts), UNTHEMED, dtype=np.int64)
        self._sample_labels[themable] = labels
        self._describe_from_sample(texts, themable, labels, vectors)

    def _describe_from_sample(
        self,
        texts: list[str],
        themable: np.ndarray,
        labels: np.ndarray,
        vectors: np.ndarray,
    ) -> None:
        kept_texts = [t for t, keep in zip(texts, themable, strict=True) if keep]
        # Describing needs a few hundred answers per theme, not all of them.
        rng = np.random.default_rng(self.random_state)
        members = [_at_most(np.flatnonzero(labels == c), 500, rng) for c in range(self.n_themes_)]
        # Sizes are counted over all answers in the assignment pass.
        self.themes_ = describe_groups(
            [[kept_texts[i] for i in rows] for rows in members],
            [vectors[rows] @ self.model_centroids_[c] for c, rows in enumerate(members)],
        )

    def _assign_all(
        self, sample: list[str], rest: Iterator[tuple[list[str], np.ndarray | None]]
    ) -> None:
        """Label every answer in batches; accumulate sizes and stable-space centroids."""
        k = self.n_themes_
        labels: list[np.ndarray] = []
        secondary: list[np.ndarray] = []
        signature_sums = np.zeros((k, self.signature_features), dtype=np.float64)
        semantic_sums: np.ndarray | None = None
        resampled = self._resampled
        if resampled:
            batches: Iterable[tuple[list[str], np.ndarray | None]] = rest
        else:
            # Iterator input: the sample is the stream's head, its labels are known.
            batches = chain_head(sample, self._head_vectors, rest)
        known = None if resampled else self._sample_labels
        offset = 0
        for batch_texts, batch_vectors in batches:
            batch = self._vectorise(batch_texts, batch_vectors)
            primary = self._primary(batch)
            if known is not None and offset < len(known):
                head = known[offset : offset + len(batch_texts)]
                primary[: len(head)] = head
            elif resampled:
                self._keep_sample_labels(primary, offset)
            labels.append(primary)
            secondary.append(self._secondary(batch_texts, primary))
            themed = primary[batch.themable]
            signature_sums += sum_rows_by_label(batch.signature, themed, k)
            if batch.semantic is not None:
                part = sum_rows_by_label(batch.semantic, themed, k)
                semantic_sums = part if semantic_sums is None else semantic_sums + part
            offset += len(batch_texts)
        self.labels_ = np.concatenate(labels) if labels else np.zeros(0, dtype=np.int64)
        self.secondary_labels_ = (
            np.vstack(secondary) if secondary else np.zeros((0, 2), dtype=np.int64)
        )
        self.n_texts_ = len(self.labels_)
        sizes = np.bincount(self.labels_[self.labels_ >= 0], minlength=k)
        for theme in self.themes_:
            theme.size = int(sizes[theme.id])
        self.centroids_ = stable_centroids(signature_sums, semantic_sums)
        # Working state of the fit, not learned attributes.
        del self._sample_labels, self._sample_rows, self._head_vectors, self._resampled

    def _keep_sample_labels(self, primary: np.ndarray, offset: int) -> None:
        """Rows of a random sample keep the cluster they were fitted into."""
        rows = self._sample_rows
        lo, hi = np.searchsorted(rows, [offset, offset + len(primary)])
        primary[rows[lo:hi] - offset] = self._sample_labels[lo:hi]

    # -------------------------------------------------------------- assignment
    def _vectorise(self, texts: list[str], embeddings: np.ndarray | None) -> _Batch:
        tokens = [self.normaliser_.tokens(t) for t in texts]
        themable = np.array(
            [bool(tok) and not is_non_answer(t) for t, tok in zip(texts, tokens, strict=True)],
            dtype=bool,
        )
        kept = [tok for tok, keep in zip(tokens, themable, strict=True) if keep]
        kept_texts = [t for t, keep in zip(texts, themable, strict=True) if keep]
        if self.uses_embeddings_ and embeddings is None:
            if self.embedder is None:
                raise ValueError("this model was fitted with embeddings: pass them or an embedder")
            embeddings = self.embedder.embed(texts)
        semantic = None
        if self.uses_embeddings_ and embeddings is not None:
            semantic = np.asarray(embeddings, dtype=np.float32)[themable]
        if kept:
            lexical = self.reducer_.transform(self._lexical_matrix(kept, kept_texts))
        else:
            lexical = np.zeros((0, self.lexical_centroids_.shape[1]), dtype=np.float32)
        return _Batch(
            themable=themable,
            lexical=lexical,
            vectors=join_spaces(lexical, semantic, self.lexical_weight),
            signature=self.signature_.transform(kept),
            semantic=semantic,
        )

    def _lexical_matrix(self, tokens: list[list[str]], texts: list[str]) -> sparse.csr_matrix:
        """Word TF-IDF, joined with character n-grams when `char_weight` > 0."""
        matrix = self.vectoriser_.transform(tokens)
        if self.char_vectoriser_ is None:
            return matrix
        chars = self.char_vectoriser_.transform([spelled(t) for t in texts])
        return join_lexical(matrix, chars, self.char_weight)

    def _primary(self, batch: _Batch) -> np.ndarray:
        labels = np.full(len(batch.themable), UNTHEMED, dtype=np.int64)
        if len(batch.vectors):
            labels[batch.themable] = (batch.vectors @ self.model_centroids_.T).argmax(axis=1)
        return labels

    def _secondary(self, texts: list[str], primary: np.ndarray) -> np.ndarray:
        """Up to two other themes that a clause of the answer clearly belongs to."""
        result = np.full((len(texts), 2), UNTHEMED, dtype=np.int64)
        owners: list[int] = []
        pieces: list[list[str]] = []
        piece_texts: list[str] = []
        for row, text in enumerate(texts):
            if primary[row] == UNTHEMED:
                continue
            for clause in clauses(text):
                tokens = self.normaliser_.tokens(clause)
                if tokens:
                    owners.append(row)
                    pieces.append(tokens)
                    piece_texts.append(clause)
        if not pieces:
            return result
        lexical = self.reducer_.transform(self._lexical_matrix(pieces, piece_texts))
        similarity = lexical @ self.lexical_centroids_.T
        best = similarity.argmax(axis=1)
        strength = similarity[np.arange(len(best)), best]
        found: dict[int, dict[int, float]] = {}
        for row, theme, score in zip(owners, best.tolist(), strength.tolist(), strict=True):
            if theme != primary[row] and score >= self.secondary_threshold:
                themes = found.setdefault(row, {})
                themes[theme] = max(score, themes.get(theme, 0.0))
        for row, themes in found.items():
            ranked = sorted(themes, key=lambda t: -themes[t])[:2]
            result[row, : len(ranked)] = ranked
        return result

    def transform(self, texts: Sequence[str], embeddings: np.ndarray | None = None) -> np.ndarray:
        """Cosine similarity of each answer to each theme (zeros for unthemed answers)."""
        batch = self._vectorise(list(texts), embeddings)
        similarity = np.zeros((len(texts), self.n_themes_), dtype=np.float32)
        if len(batch.vectors):
            similarity[batch.themable] = batch.vectors @ self.model_centroids_.T
        return similarity

    def stable_vectors(
        self, texts: Sequence[str], embeddings: np.ndarray | None = None
    ) -> np.ndarray:
        """Answers in the run-independent space of `centroids_` (zeros when unthemed).

        These are what analysis.themes.tracking.split_theme divides.
        """
        texts = list(texts)
        if not self.uses_embeddings_:
            embeddings = None
        elif embeddings is None:
            if self.embedder is None:
                raise ValueError("this model was fitted with embeddings: pass them or an embedder")
            embeddings = self.embedder.embed(texts)
        return stable_vectors(texts, embeddings, signature_features=self.signature_features)

    def predict(self, texts: Sequence[str], embeddings: np.ndarray | None = None) -> np.ndarray:
        """Primary theme of new answers (-1 for answers that state no need)."""
        return self._primary(self._vectorise(list(texts), embeddings))

    def predict_secondary(
        self, texts: Sequence[str], embeddings: np.ndarray | None = None
    ) -> np.ndarray:
        """(n, 2) secondary themes of new answers, -1 padded."""
        texts = list(texts)
        return self._secondary(texts, self.predict(texts, embeddings))


def _at_most(rows: np.ndarray, limit: int, rng: np.random.Generator) -> np.ndarray:
    """`rows` itself, or a sorted random subset of `limit` of them."""
    if len(rows) <= limit:
        return rows
    return np.sort(rng.choice(rows, limit, replace=False))
