"""Theme names an officer would write: a short clause a resident wrote, not a fragment.

`key_phrase` (analysis.themes.describe) finds the run of 2-5 words most shared by a
theme's answers; it reads as a fragment ("evening shifts without paying",
"home and feel very isolated") because it starts and stops wherever the shared
words do. `theme_name` instead takes whole clauses (cut at sentence ends,
commas and joining words such as "and", "so", "because") of the answers
nearest the theme's centre, keeps those of 2-9 words, and picks the clause
whose content words weigh most in the theme (class-based TF-IDF, per word),
so the name is a phrase a resident wrote that says what the theme is about:
"The buses stop running at 7pm". Nothing is generated and nothing is
downloaded; the caller scrubs the name like any label (analysis.personal_details.scrub).
`is_whole_clause` is the readability check used by bench/theme_names.py.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np

from analysis.themes.normalise import stem, stop_words, words

# Where a clause ends: sentence punctuation, commas, dashes, brackets, and words
# that join two clauses. A name never spans one of these.
_BOUNDARY = re.compile(
    r"[.!?;:\n()\"]+\s*|,\s*|\s+[-–—]\s+|\s+(?:and|but|or|so|because|cos|as|also|plus|"
    r"which|while|whereas|although|though|then|if|when|otherwise|especially|"
    r"particularly|e\.g\.|i\.e\.)\s+",
    re.IGNORECASE,
)
_LEADING_JOIN = re.compile(r"^(?:and|but|or|so)\s+", re.IGNORECASE)  # ", and taxis ..."
MIN_WORDS, MAX_WORDS = 2, 9
CENTRAL_ANSWERS = 15  # the name comes from one of the answers nearest the centre
# Words a name does not start with ("just", "also") though they open clauses.
# A clause about one resident ("my wife died") names a theme less well than one
# about the need, and says more about that resident.
_PERSONAL = frozenset({"i", "i'm", "i've", "me", "my", "we", "we're", "our", "us", "mine"})
PERSONAL_PENALTY = 0.6
_OPENERS = frozenset({"just", "also", "really", "well", "yes", "no", "oh", "please", "then"})


def clause_pieces(text: str) -> list[str]:
    """The clauses of an answer, as written, without their edge punctuation."""
    pieces = (_LEADING_JOIN.sub("", p.strip(" '\"-–—")) for p in _BOUNDARY.split(text))
    return [p for p in pieces if p]


def is_whole_clause(name: str, texts: Sequence[str]) -> bool:
    """Whether `name` (2-9 words) is one whole clause of one of `texts`, not a fragment."""
    wanted = words(name)
    if not MIN_WORDS <= len(wanted) <= MAX_WORDS:
        return False
    return any(words(piece) == wanted for text in texts for piece in clause_pieces(text))


def theme_name(
    weights: dict[str, float], texts: Sequence[str], similarities: np.ndarray | None = None
) -> str:
    """The best whole clause of the central answers; "" when none has 2-9 words."""
    order = range(len(texts)) if similarities is None else np.argsort(-similarities, kind="stable")
    stops = stop_words()
    best, best_score = "", 0.0
    for index in list(order)[:CENTRAL_ANSWERS]:
        for piece in clause_pieces(texts[int(index)]):
            cased = piece.split()
            while cased and cased[0].lower().strip(",'") in _OPENERS:
                cased = cased[1:]
            if not MIN_WORDS <= len(cased) <= MAX_WORDS:
                continue
            content = {
                stem(w) for w in words(" ".join(cased)) if w not in stops and not w.isdigit()
            }
            if len(content) < 2:
                continue
            # Heavy theme words, per word of the clause: long clauses pay for their length.
            score = sum(weights.get(s, 0.0) for s in content) / math.sqrt(len(cased))
            if _PERSONAL & {w.lower() for w in cased}:
                score *= PERSONAL_PENALTY  # "Damp flat" over "I live in a damp flat"
            if score > best_score:
                best, best_score = " ".join(cased), score
    return _sentence_case(best)


def _sentence_case(name: str) -> str:
    """Capital first letter; acronyms (GP, NHS) and the rest as written."""
    return name[:1].upper() + name[1:] if name else ""
