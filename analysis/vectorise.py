"""Vectorise stage: token lists -> sparse vectors.

Two spaces with different jobs:

* `LexicalVectoriser` is TF-IDF over a vocabulary learned from the fit sample.
  It is the best lexical signal for clustering, but its columns change with
  every fit, so it is never used to compare runs.
* `CharVectoriser` is TF-IDF over character 3-5-grams within words. Short
  answers share few whole words; shared word pieces ("transfer"/"transferred",
  "top-up"/"topped up", typos) add the overlap that stems miss. The model
  joins it to the word space with a weight before LSA.
* `SignatureVectoriser` is a fixed signed hashing space (murmurhash3, constant
  seed, no fitted state). Theme centroids are expressed in it, so centroids from
  different weeks, fits or machines are comparable (see analysis.tracking).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.feature_extraction import FeatureHasher
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize


def _pre_tokenised(tokens: list[str]) -> list[str]:
    """Analyzer for documents that are already token lists (module-level: picklable)."""
    return tokens


class LexicalVectoriser:
    """Sublinear TF-IDF over stems and stem bigrams, L2-normalised rows."""

    def __init__(self, min_df: int = 2, max_features: int = 131_072) -> None:
        self.min_df = min_df
        self.max_features = max_features

    def fit(self, documents: Sequence[list[str]]) -> LexicalVectoriser:
        # With very few documents a min_df of 2 can leave no vocabulary at all.
        min_df = self.min_df if len(documents) >= 50 else 1
        self.tfidf_ = TfidfVectorizer(
            analyzer=_pre_tokenised,
            min_df=min_df,
            max_features=self.max_features,
            sublinear_tf=True,
            dtype=np.float32,
        )
        self.tfidf_.fit(documents)
        return self

    def transform(self, documents: Sequence[list[str]]) -> sparse.csr_matrix:
        return self.tfidf_.transform(documents).tocsr()

    @property
    def vocabulary_size(self) -> int:
        return len(self.tfidf_.vocabulary_)


class CharVectoriser:
    """Sublinear TF-IDF over character 3-5-grams inside word boundaries, L2-normalised rows."""

    def __init__(self, min_df: int = 3, max_features: int = 131_072) -> None:
        self.min_df = min_df
        self.max_features = max_features

    def fit(self, texts: Sequence[str]) -> CharVectoriser:
        min_df = self.min_df if len(texts) >= 50 else 1
        self.tfidf_ = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=(3, 5),
            min_df=min_df,
            max_features=self.max_features,
            sublinear_tf=True,
            lowercase=False,  # texts arrive as normalised words (analysis.normalise.words)
            dtype=np.float32,
        )
        self.tfidf_.fit(texts)
        return self

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        return self.tfidf_.transform(texts).tocsr()


def join_lexical(
    words: sparse.csr_matrix, chars: sparse.csr_matrix | None, char_weight: float
) -> sparse.csr_matrix:
    """Word and character TF-IDF side by side, characters weighted, rows re-normalised."""
    if chars is None or char_weight <= 0:
        return words
    joined = sparse.hstack([words, chars * np.float32(char_weight)]).tocsr()
    return normalize(joined).astype(np.float32).tocsr()


class SignatureVectoriser:
    """Stateless hashed bag of stems: the run-independent space for centroids."""

    def __init__(self, n_features: int = 1024) -> None:
        self.n_features = n_features

    def transform(self, documents: Sequence[list[str]]) -> sparse.csr_matrix:
        hasher = FeatureHasher(n_features=self.n_features, input_type="string", alternate_sign=True)
        counts = hasher.transform(documents).tocsr()
        counts.data = np.sign(counts.data) * np.log1p(np.abs(counts.data))
        return normalize(counts).astype(np.float32).tocsr()
