"""Split an answer into clauses, so one answer can carry more than one theme.

"rent is too high and the buses stop at 7" -> ["rent is too high",
"the buses stop at 7"]. Splits on sentence ends, semicolons, line breaks, and
on "and"/"but"/"also"/"plus" or commas; a piece with fewer than
`min_content_words` content words is too thin to be a theme of its own and is
dropped, which also stops "fish and chips" from being split apart.
"""

from __future__ import annotations

import re

from analysis.themes.normalise import stop_words, words

_BOUNDARY = re.compile(
    r"[.!?;\n]+\s*|,\s*|\s+(?:and also|and|but|also|plus|as well as|another thing is)\s+",
    re.IGNORECASE,
)


def clauses(text: str, min_content_words: int = 2) -> list[str]:
    """Clauses of `text` with enough content to stand alone (empty if none or only one)."""
    stops = stop_words()
    pieces = [p.strip() for p in _BOUNDARY.split(text) if p and p.strip()]
    kept = [
        p
        for p in pieces
        if sum(1 for w in words(p) if w not in stops and not w.isdigit()) >= min_content_words
    ]
    return kept if len(kept) >= 2 else []
