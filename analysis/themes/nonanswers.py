"""Recognise answers that state no need ("nothing", "n/a", "don't know", an emoji).

Such answers go to the unthemed bucket (label -1) instead of forming a theme.
The test is deliberately narrow: the whole answer, once punctuation is removed,
must be one of a few stock phrases, so "nothing for young people" stays themable.
"""

from __future__ import annotations

import re

from analysis.themes.normalise import words

_STOCK_PHRASES = frozenset(
    {
        "",
        "no",
        "nope",
        "nah",
        "non",
        "none",
        "nil",
        "na",
        "n a",
        "nothing",
        "nothing really",
        "nothing else",
        "nothing at all",
        "nothing to add",
        "nothing to say",
        "nothing more",
        "nothing more to add",
        "nothing comes to mind",
        "nothing i can think of",
        "not really",
        "no comment",
        "no comments",
        "no thanks",
        "no thank you",
        "none really",
        "none at all",
        "don't know",
        "dont know",
        "do not know",
        "i don't know",
        "i dont know",
        "i do not know",
        "dunno",
        "not sure",
        "unsure",
        "no idea",
        "idk",
        "pass",
        "skip",
        "x",
        "ok",
        "okay",
        "yes",
        "test",
    }
)
# "n/a", "N.A." and the like, after words() splits on punctuation.
_SEPARATORS = re.compile(r"[\s./\\-]+")


def is_non_answer(text: str) -> bool:
    """True when an answer carries no need: empty, punctuation/emoji only, or a stock phrase."""
    tokens = words(text)
    if not tokens:
        return True  # empty, whitespace, punctuation or emoji only
    phrase = _SEPARATORS.sub(" ", " ".join(tokens)).strip()
    return phrase in _STOCK_PHRASES
