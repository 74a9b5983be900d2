"""Quotes that show a theme's range, not only its centre, and from different groups.

A theme's usual quotes are its most typical answers: the ones nearest its centre,
which all say much the same thing. An evidence pack needs the range of what
residents said: the first quote is the most typical answer, each next one the
answer farthest from those already chosen (farthest-point sampling), with a bonus
for an answer from a group not yet quoted (another area, age band or partner).
Outliers past the theme's `reach` (a quantile of the distances to its centre) are
left out: an answer the coder placed at the theme's edge may not belong in it.

Distances are cosines between the answers' vectors when the caller has them (the
semantic stage's embeddings), else between TF-IDF vectors of the texts themselves.
Pure: texts and labels in, positions out.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

GROUP_BONUS = 0.25  # a new group is worth this much distance (cosine distances run 0 to 2)


def _key(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalnum())


def _vectors(texts: Sequence[str]) -> np.ndarray | None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    try:
        matrix = TfidfVectorizer(sublinear_tf=True, stop_words="english").fit_transform(texts)
    except ValueError:  # nothing but stop words: no vocabulary
        return None
    dense: np.ndarray = np.asarray(matrix.toarray(), dtype=float)
    return dense


def _normalised(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit: np.ndarray = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
    return unit


def range_quotes(
    texts: Sequence[str],
    groups: Sequence[Sequence[str]],
    *,
    limit: int = 5,
    vectors: np.ndarray | None = None,
    reach: float = 0.9,
) -> list[int]:
    """Positions in `texts` of up to `limit` quotes: the most typical first, then the range.

    `groups[i]` are the group labels of the resident who wrote `texts[i]`. Texts
    that repeat another (ignoring case and punctuation) are quoted once."""
    if len(groups) != len(texts):
        raise ValueError("give one list of groups per text")
    seen: set[str] = set()
    candidates = []
    for i, text in enumerate(texts):
        key = _key(text)
        if key and key not in seen:
            seen.add(key)
            candidates.append(i)
    if not candidates or limit < 1:
        return []
    found = _vectors([texts[i] for i in candidates]) if vectors is None else vectors[candidates]
    if found is None:
        return candidates[:limit]
    unit = _normalised(np.asarray(found, dtype=float))
    centre = unit.mean(axis=0)
    distance = 1.0 - unit @ (centre / (np.linalg.norm(centre) or 1.0))
    if len(candidates) >= 10:  # past the theme's reach: perhaps not of the theme at all
        inside = distance <= np.quantile(distance, reach) + 1e-9
    else:
        inside = np.ones(len(candidates), dtype=bool)
    first = int(np.argmin(np.where(inside, distance, np.inf)))
    chosen = [first]
    quoted: set[str] = set(groups[candidates[first]])
    nearest = 1.0 - unit @ unit[first]  # each candidate's distance to the chosen set
    while len(chosen) < min(limit, int(inside.sum())):
        bonus = np.array(
            [
                GROUP_BONUS * len(set(groups[c]) - quoted) / max(len(groups[c]), 1)
                for c in candidates
            ]
        )
        score = np.where(inside, nearest + bonus, -np.inf)
        score[chosen] = -np.inf
        pick = int(np.argmax(score))  # ties: the earliest answer
        chosen.append(pick)
        quoted |= set(groups[candidates[pick]])
        nearest = np.minimum(nearest, 1.0 - unit @ unit[pick])
    return [candidates[i] for i in chosen]
