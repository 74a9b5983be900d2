"""One coding pass: every answer coded against the codebook, officers' codes applied.

Pure: texts, vectors and codes in, each answer's themes out; the host
(bot.actions.theme_runs) reads and stores. Answers are vectorised in batches, so memory
depends on the batch, not on the number of answers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from analysis.themes.clauses import clauses
from analysis.themes.coding import NOT_A_NEED, NOT_CODED, ThemeCoder
from analysis.themes.stable_space import stable_vectors

BATCH = 10_000
# A clause's words alone (no embedding) must be at least this close to another
# theme's prototype for the answer to carry that theme too.
SECONDARY_MIN = 0.3
MAX_THEMES = 3  # a primary theme and up to two more


@dataclass(frozen=True)
class Example:
    """A row the coder learns from: `theme_id` None is "not a need"."""

    row: int
    theme_id: int | None
    by_hand: bool


@dataclass
class Coding:
    """Each answer's themes (primary first; empty when uncoded), and what describes them."""

    themes: list[tuple[int, ...]]
    score: np.ndarray  # similarity to the primary theme's nearest prototype (1 when by hand)
    not_a_need: np.ndarray  # bool: an officer said so
    by_hand: np.ndarray  # bool: an officer coded it
    centroids: dict[int, np.ndarray] = field(default_factory=dict)  # stable-space, unit
    # bool: in another language than the codebook's (never discovered: it would make
    # a theme of its own by language); None when every answer is in its language
    foreign: np.ndarray | None = None

    def primary(self) -> np.ndarray:
        return np.array([t[0] if t else NOT_CODED for t in self.themes], dtype=np.int64)

    def pool(self) -> np.ndarray:
        """Rows for discovery: fitting no reviewed theme, not "not a need", and in the
        codebook's language."""
        open_rows = (self.primary() == NOT_CODED) & ~self.not_a_need
        if self.foreign is not None:
            open_rows &= ~self.foreign
        return np.flatnonzero(open_rows)


def code_answers(
    texts: Sequence[str],
    embeddings: np.ndarray | None,
    examples: Sequence[Example],
    officer: Mapping[int, Sequence[int | None]],
    *,
    signature_features: int = 1024,
    random_state: int = 0,
    foreign: np.ndarray | None = None,
    unread: np.ndarray | None = None,
) -> Coding:
    """Code every row of `texts` against the themes of `examples`.

    `officer` maps a row to an officer's codes (primary first; [None] for "not a
    need"), which win over the coder. `foreign` marks answers in another language
    than the codebook's (English): coded by their embedding alone, never discovered.
    `unread` marks answers in a language the embedding does not read: not coded
    (only an officer's codes give them themes)."""
    n = len(texts)
    foreign = None if foreign is None else np.asarray(foreign, dtype=bool)
    skip = np.zeros(n, dtype=bool) if unread is None else np.asarray(unread, dtype=bool)
    if foreign is not None:
        foreign = foreign | skip
    elif skip.any():
        foreign = skip
    coder = _fit(texts, embeddings, examples, signature_features, random_state, foreign)
    themes: list[tuple[int, ...]] = [()] * n
    score = np.zeros(n, dtype=np.float32)
    sums: dict[int, np.ndarray] = {}
    for start in range(0, n, BATCH):
        rows = np.arange(start, min(start + BATCH, n))
        semantic = None if embeddings is None else embeddings[rows]
        vectors = stable_vectors(
            [texts[i] for i in rows.tolist()],
            semantic,
            signature_features=signature_features,
            foreign=None if foreign is None else foreign[rows],
        )
        if coder is not None:
            coded, similarity = coder.predict_with_similarity(vectors)
            coded[skip[rows]] = NOT_CODED
            score[rows] = np.where(skip[rows], 0.0, similarity)
            for offset, theme in enumerate(coded.tolist()):
                if theme != NOT_CODED:
                    themes[rows[offset]] = (theme,)
            english = rows if foreign is None else rows[~foreign[rows]]
            _add_secondary(coder, texts, english, themes, signature_features)
        for offset, row in enumerate(rows.tolist()):
            codes = officer.get(row)
            if codes is not None:
                themes[row] = tuple(t for t in codes if t is not None)[:MAX_THEMES]
                score[row] = 1.0
            if themes[row]:
                primary = themes[row][0]
                sums[primary] = sums.get(primary, 0) + vectors[offset]
    not_a_need = np.zeros(n, dtype=bool)
    by_hand = np.zeros(n, dtype=bool)
    for row, codes in officer.items():
        by_hand[row] = True
        not_a_need[row] = not any(t is not None for t in codes)
    centroids = {t: _unit(v) for t, v in sums.items()}
    return Coding(themes, score, not_a_need, by_hand, centroids, foreign)


def _fit(
    texts: Sequence[str],
    embeddings: np.ndarray | None,
    examples: Sequence[Example],
    signature_features: int,
    random_state: int,
    foreign: np.ndarray | None,
) -> ThemeCoder | None:
    if not any(e.theme_id is not None for e in examples):
        return None
    rows = np.array([e.row for e in examples], dtype=np.int64)
    semantic = None if embeddings is None else embeddings[rows]
    vectors = stable_vectors(
        [texts[i] for i in rows],
        semantic,
        signature_features=signature_features,
        foreign=None if foreign is None else foreign[rows],
    )
    labels = np.array(
        [NOT_A_NEED if e.theme_id is None else e.theme_id for e in examples], dtype=np.int64
    )
    anchors = np.array([e.by_hand for e in examples], dtype=bool)
    return ThemeCoder(random_state=random_state).fit(vectors, labels, anchors)


def _add_secondary(
    coder: ThemeCoder,
    texts: Sequence[str],
    rows: np.ndarray,
    themes: list[tuple[int, ...]],
    signature_features: int,
) -> None:
    """Another theme that a clause of a coded answer clearly belongs to (words alone)."""
    owners: list[int] = []
    pieces: list[str] = []
    for row in rows.tolist():
        if themes[row]:
            for clause in clauses(texts[row]):
                owners.append(row)
                pieces.append(clause)
    if not pieces:
        return
    vectors = stable_vectors(pieces, None, signature_features=signature_features)
    found, similarity = coder.similarity(vectors)
    for row, theme, strength in zip(owners, found.tolist(), similarity.tolist(), strict=True):
        given = themes[row]
        if (
            theme >= 0
            and strength >= SECONDARY_MIN
            and theme not in given
            and len(given) < MAX_THEMES
        ):
            themes[row] = (*given, theme)


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return np.asarray(vector / norm if norm else vector, dtype=np.float32)
