"""A small linear text classifier shipped as data, for the safeguarding and abuse detectors.

The curated patterns catch the phrasings their authors thought of; this model catches the
neighbours of those phrasings ("my fella batters me", "been thinking bout ending things") that
no pattern names. It is TF-IDF over word stems, stem pairs and character n-grams, with one
logistic regression per label, trained by ``training/train_safety.py`` on texts written for it
(``training/*.jsonl``). The trained weights are plain JSON in ``resources/`` (no pickles), and
scoring is a dictionary walk in pure Python, so an answer costs well under a millisecond.

:func:`features` is the one feature extractor, used both to train and to score, so the two can
never drift apart.
"""

from __future__ import annotations

import gzip
import json
import math
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import TYPE_CHECKING

from conversations.screening.spellings import CLASSIFIERS, spell_out

if TYPE_CHECKING:
    from nltk.stem.snowball import SnowballStemmer

__all__ = ["LinearTextModel", "features", "load", "normalise"]

_APOSTROPHES = re.compile(r"['’‘`]")
_WORD = re.compile(r"[a-z0-9\u00e0-\u00ff\u0175\u0177]+")
_NEGATION = frozenset(
    {"not", "no", "never", "nobody", "nothing", "dont", "didnt", "doesnt", "isnt", "wasnt",
     "arent", "werent", "wont", "wouldnt", "cant", "couldnt", "havent", "hasnt", "aint",
     "ddim", "dim", "nid"}
)  # fmt: skip
_CLAUSE_END = re.compile(r"[.!?;,:\n]|\b(?:but|and|because|so|though)\b")
# Words too common to mean anything alone ("I", "have", "of"): a word-count model trained on a
# few hundred disclosures would otherwise learn that talking about oneself is a risk. They still
# count in pairs with another word ("hits me", "kill myself", "not safe").
_FUNCTION_WORDS = frozenset(
    re.findall(
        r"\w+",
        """
    i me my we us our you your it its is am are was were be been being have has had do does
    did doing the a an to of in on at for with by from and or but so that this these those
    there they them their he she him her his what how when where who which would could
    should will can shall may might must just more very really all some any about as if
    than then too also up out get got go going one thing things time day days like want
    feel know think make made see said say well much many lot here now still even only back
    over again every always often sometimes
    """,
    )
)


@cache
def _stemmer() -> SnowballStemmer:
    # Importing nltk takes over a second (it pulls in scipy and scikit-learn), so commands
    # that never score a text do not pay for it.
    from nltk.stem.snowball import SnowballStemmer

    return SnowballStemmer("english")


@lru_cache(maxsize=20_000)
def _stem(word: str) -> str:
    return str(_stemmer().stem(word))


@cache
def _function_stems() -> frozenset[str]:
    return frozenset({"^"} | {_stem(w) for w in _FUNCTION_WORDS})


def normalise(text: str) -> str:
    """Lower case without apostrophes, texting forms spelt out, runs of letters shortened."""
    low = _APOSTROPHES.sub("", text.lower())
    low = re.sub(r"([a-z])\1{2,}", r"\1\1", low)  # "pleeeease" -> "pleease"
    return spell_out(low, CLASSIFIERS, _WORD)


def features(text: str) -> list[str]:
    """The model's features: stems, stem pairs, negated stems and words' character 3-5-grams."""
    norm = normalise(text)
    function_stems = _function_stems()
    out: list[str] = []
    words: list[str] = []
    for clause in _CLAUSE_END.split(norm):
        if not clause:
            continue
        negated = False
        previous = "^"
        for word in _WORD.findall(clause):
            stem = _stem(word)
            common = word in _FUNCTION_WORDS
            if not common:
                words.append(word)
                out.append("w:" + stem)
                if negated:
                    out.append("n:" + stem)
            if not (common and previous in function_stems):
                out.append(f"b:{previous}_{stem}")
            negated = negated or word in _NEGATION
            previous = stem
    for word in words:
        padded = f" {word} "
        for n in (3, 4, 5):
            out.extend("c:" + padded[i : i + n] for i in range(len(padded) - n + 1))
    return out


@dataclass(frozen=True)
class LinearTextModel:
    """One logistic regression per label over L2-normalised, sublinear TF-IDF features."""

    labels: tuple[str, ...]
    intercepts: tuple[float, ...]
    # feature -> (idf, weight for each label)
    weights: dict[str, tuple[float, ...]]
    thresholds: dict[str, float]

    def probabilities(self, text: str) -> dict[str, float]:
        """Each label's probability for ``text`` (exactly what scikit-learn would compute)."""
        counts: dict[str, int] = {}
        for feature in features(text):
            if feature in self.weights:
                counts[feature] = counts.get(feature, 0) + 1
        scores = list(self.intercepts)
        norm = 0.0
        values: list[tuple[float, tuple[float, ...]]] = []
        for feature, count in counts.items():
            row = self.weights[feature]
            value = (1.0 + math.log(count)) * row[0]
            norm += value * value
            values.append((value, row))
        if norm:
            scale = 1.0 / math.sqrt(norm)
            for value, row in values:
                for i in range(len(scores)):
                    scores[i] += value * scale * row[i + 1]
        return {label: _sigmoid(s) for label, s in zip(self.labels, scores, strict=True)}

    def reasons(self, text: str, label: str, k: int = 3) -> tuple[str, ...]:
        """The ``k`` word stems (or stem pairs) that pushed ``label`` up the most."""
        i = self.labels.index(label) + 1
        found = {f for f in features(text) if f[0] in "wb" and f in self.weights}
        # Ties broken by the feature itself: a set's order follows the hash seed, and the
        # evidence a safeguarding lead reads must not change from one process to the next.
        ranked = sorted(found, key=lambda f: (-self.weights[f][0] * self.weights[f][i], f))
        return tuple(f[2:].replace("_", " ") for f in ranked[:k] if self.weights[f][i] > 0)

    def flagged(self, text: str) -> dict[str, float]:
        """The labels whose probability reaches their threshold, with that probability."""
        return {
            label: p
            for label, p in self.probabilities(text).items()
            if p >= self.thresholds.get(label, 0.5)
        }


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def from_json(data: dict[str, object]) -> LinearTextModel:
    """Build a model from the shipped JSON document (see ``training/train_safety.py``)."""
    labels = tuple(str(x) for x in data["labels"])  # type: ignore[attr-defined]
    intercepts = tuple(float(x) for x in data["intercepts"])  # type: ignore[attr-defined]
    weights = {
        str(k): tuple(v)  # JSON numbers are floats already
        for k, v in data["weights"].items()  # type: ignore[attr-defined]
    }
    thresholds = {str(k): float(v) for k, v in data["thresholds"].items()}  # type: ignore[attr-defined]
    for row in weights.values():
        if len(row) != len(labels) + 1:
            raise ValueError("a feature's row must hold its idf and one weight per label")
    return LinearTextModel(labels, intercepts, weights, thresholds)


@cache
def load(name: str) -> LinearTextModel:
    """The shipped model ``resources/<name>.json.gz``, read once, with the stemmer it scores
    with (so that whoever loads a model at start-up does not wait for nltk on the first text)."""
    source = resources.files("conversations.screening").joinpath("resources", f"{name}.json.gz")
    _function_stems()
    return from_json(json.loads(gzip.decompress(source.read_bytes()).decode("utf-8")))
