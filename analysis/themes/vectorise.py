"""Vectorise stage: token lists -> sparse vectors.

Two spaces with different jobs:

* `LexicalVectoriser` is TF-IDF over a vocabulary learned from the fit sample.
  It is the best lexical signal for clustering, but its columns change with
  every fit, so it is never used to compare runs.
* `CharVectoriser` is TF-IDF over character 3-5-grams within words. Short
  answers share few whole words; shared word pieces ("transfer"/"transferred",
  "top-up"/"topped up", typos) add the overlap that stems miss. The model
  joins it to the word space with a weight before LSA. Its `transform` counts
  each distinct word's n-grams once per call (answers repeat a few thousand
  words), which gives scikit-learn's matrix several times faster.
* `SignatureVectoriser` is a fixed signed hashing space (murmurhash3, constant
  seed, no fitted state). Theme centroids are expressed in it, so centroids from
  different weeks, fits or machines are comparable (see analysis.themes.tracking).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.feature_extraction import FeatureHasher
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from analysis.themes.normalise import words


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
        """The same matrix as `self.tfidf_.transform(documents)`, built faster."""
        vocabulary: dict[str, int] = self.tfidf_.vocabulary_
        columns: list[int] = []
        ends = np.empty(len(documents), dtype=np.int64)
        for row, tokens in enumerate(documents):
            columns.extend([vocabulary[t] for t in tokens if t in vocabulary])
            ends[row] = len(columns)
        return _tfidf_rows(self.tfidf_, columns, ends)

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
            lowercase=False,  # texts arrive as normalised words (analysis.themes.normalise.words)
            dtype=np.float32,
        )
        self.tfidf_.fit(texts)
        return self

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """The same matrix as `self.tfidf_.transform(texts)`, built word by word."""
        vocabulary: dict[str, int] = self.tfidf_.vocabulary_
        low, high = self.tfidf_.ngram_range
        known: dict[str, list[int]] = {}  # word -> columns of its n-grams
        columns: list[int] = []
        ends = np.empty(len(texts), dtype=np.int64)
        for row, text in enumerate(texts):
            for word in text.split():
                found = known.get(word)
                if found is None:
                    found = known[word] = [
                        vocabulary[g] for g in _word_ngrams(word, low, high) if g in vocabulary
                    ]
                columns.extend(found)
            ends[row] = len(columns)
        return _tfidf_rows(self.tfidf_, columns, ends)


def _word_ngrams(word: str, low: int, high: int) -> list[str]:
    """Character n-grams of one word padded with spaces, as scikit-learn's "char_wb"."""
    padded = f" {word} "
    if len(padded) <= low:
        return [padded]  # a short word counts once, whole
    return [
        padded[start : start + n]
        for n in range(low, min(high, len(padded)) + 1)
        for start in range(len(padded) - n + 1)
    ]


def _tfidf_rows(
    tfidf: TfidfVectorizer, columns: Sequence[int], ends: Sequence[int] | np.ndarray
) -> sparse.csr_matrix:
    """Rows of `tfidf`'s matrix from each row's vocabulary columns (`ends`: cumulative counts).

    Counts repeated columns, then applies the fitted weighting as scikit-learn does:
    sublinear term frequency, inverse document frequency, unit length.
    """
    indptr = np.concatenate([[0], np.asarray(ends, dtype=np.int64)])
    counts = sparse.csr_matrix(
        (
            np.ones(len(columns), dtype=np.float32),
            np.asarray(columns, dtype=np.int32),
            indptr,
        ),
        shape=(len(indptr) - 1, len(tfidf.vocabulary_)),
    )
    counts.sum_duplicates()  # sorts each row's columns and adds repeats
    if tfidf.sublinear_tf:
        np.log(counts.data, out=counts.data)
        counts.data += 1.0
    counts.data *= tfidf.idf_[counts.indices]
    return normalize(counts, copy=False).astype(np.float32, copy=False).tocsr()


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
        return normalize(counts, copy=False).astype(np.float32, copy=False).tocsr()


def spelled(text: str) -> str:
    """A text as its normalised words, for the character n-grams."""
    return " ".join(words(text))
