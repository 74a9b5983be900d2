"""Which words can be part of a name, from the word lists in ``resources/``, for :mod:`names`.

Three kinds of given name: the curated list (``given_names.txt``: a capitalised one is a name
on its own, "Jenny at the library"); the wider list generated from Faker's locales
(``world_given_names.txt``: believed only with a surname after it, "Zbigniew Kowal"); and
names that are words (``ambiguous_names.txt``: "Grace", "Will"), believed only after a cue or
with a listed surname. Surnames come from ``surnames.txt`` and ``world_surnames.txt``, or
look like one: "Mc"/"Mac"/"O'"/"Fitz" and a name, or parts joined by hyphens.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from importlib import resources

from analysis.themes.normalise import stop_words

__all__ = ["common", "given", "stop", "surname", "surname_shaped", "word_list", "world_given"]

_SURNAME_SHAPE = re.compile(r"(?:mc|o'|fitz|d')[a-zà-ÿ]{3,}|(?:el|al)-[a-z]{3,}")
# "Mac" only before a capital ("MacLeod"): "machine" and "Machynlleth" are not surnames.
_MAC = re.compile(r"Mac[A-Z][a-zà-ÿ]{2,}")


@cache
def word_list(filename: str) -> frozenset[str]:
    """One of the shipped lists, lower case, comments left out."""
    text = (
        resources.files("analysis.personal_details")
        .joinpath("resources", filename)
        .read_text("utf-8")
    )
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#"
    )


@lru_cache(maxsize=8192)
def given(word: str, *, ambiguous: bool) -> bool:
    """A curated given name (or, with ``ambiguous``, one that is also a word)."""
    low = word.lower()
    return any(
        part in word_list("given_names.txt")
        or (ambiguous and part in word_list("ambiguous_names.txt"))
        for part in (low, *low.split("-")[:1])  # "Mary-Kate"
    )


@lru_cache(maxsize=8192)
def world_given(word: str) -> bool:
    """A given name from any list, the generated one included."""
    return given(word, ambiguous=False) or word.lower() in word_list("world_given_names.txt")


def _one_surname(low: str) -> bool:
    return (
        low in word_list("surnames.txt")
        or low in word_list("world_surnames.txt")
        or _SURNAME_SHAPE.fullmatch(low) is not None
    )


@lru_cache(maxsize=8192)
def surname(word: str) -> bool:
    """A listed surname, one shaped like a surname, or hyphenated parts one of which is."""
    low = word.lower().replace("’", "'")
    return (
        _one_surname(low)
        or _MAC.fullmatch(word) is not None
        or ("-" in low and any(_one_surname(p) for p in low.split("-")))
    )


def surname_shaped(word: str) -> bool:
    """A surname by its look alone ("o'hara", "mcbride", "o'donnell-pryce")."""
    low = word.lower().replace("’", "'")
    return any(_SURNAME_SHAPE.fullmatch(part) for part in (low, *low.split("-"))) or any(
        _MAC.fullmatch(part) for part in word.split("-")
    )


@lru_cache(maxsize=8192)
def common(word: str) -> bool:
    """An everyday word that never starts or continues a name."""
    low = word.lower()
    return low in word_list("not_names.txt") or low in stop_words()


def stop(word: str) -> bool:
    """A word that does not start a name: common, unless a capitalised given name ("Will")."""
    return common(word) and not (word[0].isupper() and given(word, ambiguous=True))
