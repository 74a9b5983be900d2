"""Typed words matched to a question's buttons, in every language the script has.

People type instead of pressing: on the web chat, on a screen reader, and on
channels without buttons. "south", "Marsh End", "yes ok" and Welsh "ydw" each
name one button; a word that fits two buttons names none, so nothing is guessed.
Pure and channel-free, like the engine that calls it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Hashable, Iterable, Sequence
from typing import TypeVar

T = TypeVar("T", bound=Hashable)

# Words that answer a yes/no question on their own, in English and Welsh (Welsh
# answers "yes" with the verb of the question: ydw, ydy, oes, do...).
YES = frozenset(
    {"yes", "y", "yeah", "yep", "yup", "sure", "ok", "okay", "agree", "correct", "right",
     "ie", "ia", "ydw", "ydy", "ydyn", "ydych", "oes", "do", "iawn", "cytuno", "cywir"}
)  # fmt: skip
NO = frozenset({"no", "n", "nope", "nah", "na", "nac", "naddo", "nage", "dim"})
# Politeness around an answer, dropped when other words remain ("yes ok", "no thanks").
FILLER = frozenset(
    {"ok", "okay", "please", "thanks", "thank", "you", "cheers", "plis", "diolch", "iawn"}
)
# Words too common to name a button by themselves ("my" is in several labels).
COMMON = frozenset(
    {"my", "me", "i", "the", "a", "an", "or", "and", "of", "to", "in", "is", "it", "for",
     "fy", "yn", "o", "neu", "y", "yr", "ac", "at", "i'r", "mae", "ei"}
)  # fmt: skip


def words(text: str) -> tuple[str, ...]:
    """Lower-case words without accents or punctuation ("Hŷn!" -> ("hyn",))."""
    plain = unicodedata.normalize("NFKD", text.casefold().replace("’", "'"))
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return tuple(w.strip("'") for w in re.findall(r"[\w']+", plain) if w.strip("'"))


def _names(label: str) -> list[tuple[str, ...]]:
    """A label, its part before brackets, and each place listed inside them:
    "South (Marsh End, Brookvale)" -> south marsh end brookvale, south, marsh end, brookvale."""
    names = [words(label)]
    head, bracket, rest = label.partition("(")
    if bracket:
        names.append(words(head))
        names += [words(part) for part in re.split(r"[,;/]", rest.rstrip(") "))]
    return [n for n in names if n]


def _unique(found: Iterable[T]) -> T | None:
    distinct = list(dict.fromkeys(found))
    return distinct[0] if len(distinct) == 1 else None


def match(typed: str, choices: Sequence[tuple[T, Sequence[str]]]) -> T | None:
    """The one choice whose names (labels in any language, id) the typed text names.

    Tried in turn, each needing exactly one choice: the whole name (or the part
    before brackets, or a place inside them); a bare yes or no for the choice
    whose name starts with one; then words that all appear in one choice's name."""
    said = words(typed)
    given = tuple(w for w in said if w not in FILLER)
    named = [(value, _names(label)) for value, labels in choices for label in labels]
    if not given:
        # Only politeness ("ok", "thanks"): an answer only where it means yes.
        given = said
        if not given or not all(w in YES for w in given):
            return None
    exact = _unique(value for value, names in named if given in names)
    if exact is not None:
        return exact
    for polar in (YES, NO):
        if all(w in polar for w in given):
            starts = _unique(value for value, names in named if names[0][0] in polar)
            if starts is not None:
                return starts
    if all(w in COMMON for w in given):
        return None
    return _unique(value for value, names in named if set(given) <= set(names[0]))


def parts(typed: str) -> list[str]:
    """Several answers typed at once: "family, neighbours and older people"."""
    pieces = re.split(r"[,;/&+]|\band\b|\ba'r\b", typed, flags=re.IGNORECASE)
    return [p for p in (piece.strip() for piece in pieces) if words(p)]
