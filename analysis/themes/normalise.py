"""Normalise stage: text -> surface words and content stems.

The tokeniser is a plain regular expression and the stemmer NLTK's Snowball,
so nothing needs downloaded corpora. Stems are cached: answers repeat the same
few thousand words, and stemming dominates the cost of a million-answer run.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from importlib import resources
from itertools import pairwise
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nltk.stem.snowball import SnowballStemmer

# Words, keeping inner apostrophes ("don't") and programming-style suffixes ("c++", "c#").
# Letters of any script ("zgubiłem", "ŵyr", "کارڈ"): an answer in another language is
# words, not a non-answer (analysis.themes.languages says which language).
_LETTERS = r"[^\W_]+"
_WORD = re.compile(rf"{_LETTERS}(?:['.#+]{_LETTERS})*[#+]*")
_CASED_WORD = re.compile(_WORD.pattern, re.IGNORECASE)
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})


@cache
def stop_words() -> frozenset[str]:
    """The shipped English stop-word list (analysis/themes/resources/stopwords.txt)."""
    text = resources.files("analysis.themes").joinpath("resources/stopwords.txt").read_text("utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


@cache
def _stemmer() -> SnowballStemmer:
    # Imported at the first stem: importing nltk takes over a second, which reading
    # (and rejecting) a CSV should not pay.
    from nltk.stem.snowball import SnowballStemmer

    return SnowballStemmer("english")


@cache
def stem(word: str) -> str:
    """Snowball stem of one lower-case word (memoised)."""
    return str(_stemmer().stem(word))


def words(text: str) -> list[str]:
    """Lower-case surface words of a text, apostrophes unified."""
    return _WORD.findall(_fold(text).lower())


def cased_words(text: str) -> list[str]:
    """Surface words as written (for readable labels), same segmentation as `words`."""
    return _CASED_WORD.findall(_fold(text))


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).translate(_APOSTROPHES)


class Normaliser:
    """Turns a text into content stems (stop words and bare numbers dropped).

    `bigrams=True` adds pairs of consecutive content stems ("bus_late"), which
    carry much of the meaning of short answers.
    """

    def __init__(self, bigrams: bool = True) -> None:
        self.bigrams = bigrams

    def content_stems(self, text: str) -> list[str]:
        """Stems of the non-stop words of a text, in order."""
        stops = stop_words()
        return [stem(w) for w in words(text) if w not in stops and not w.isdigit()]

    def tokens(self, text: str) -> list[str]:
        """Features of a text: content stems, plus their bigrams when enabled."""
        stems = self.content_stems(text)
        if not self.bigrams:
            return stems
        return stems + [f"{a}_{b}" for a, b in pairwise(stems)]
