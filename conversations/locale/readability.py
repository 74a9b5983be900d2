"""How hard an English text is to read: the Flesch-Kincaid grade, and the reading age.

Flesch-Kincaid grade = 0.39 x (words per sentence) + 11.8 x (syllables per word) - 15.59
(Kincaid et al., 1975). A US school grade is read by children about five years older, so
reading age = grade + 5: GOV.UK's reading age of 9 is grade 4 or below.

Syllables come from pyphen's hyphenation dictionary (shipped inside the package: nothing
is downloaded, unlike textstat's cmudict) and a count of vowel groups; hyphenation alone
misses syllables that no line may break at ("ev-ery", "ready"), so a word counts the more
of the two. Placeholders ({label}, %(num)d) count as a one-syllable word, numbers (a phone
number) and /commands as one word each; a new line ends a sentence, as a list item does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import pyphen

READING_AGE_OFFSET = 5  # a US grade is read at about this age less five

_PLACEHOLDER = re.compile(r"\{\w*\}|%\(\w+\)[sd]|%[sd]|https?://\S+|/\w+")
_SENTENCE_END = re.compile(r"[.!?]+[\"”’)]*(?=\s|$)|\n+")
_WORD = re.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)*|\d[\d,.:]*")
_VOWELS = re.compile(r"[aeiouy]+")
# Vowels side by side that are two syllables (ra-di-o, cre-ate, go-ing), not one.
_HIATUS = re.compile(r"(?<![tsxc])i[ao](?!n)|(?<![tsxc])ia|ua|uo|iu|ii|oe(?!s?$)|[aeoy]ing$|eing")


@dataclass(frozen=True)
class Counts:
    words: int
    sentences: int
    syllables: int

    @property
    def grade(self) -> float:
        """The Flesch-Kincaid grade (0 for a text without words)."""
        if not self.words:
            return 0.0
        return 0.39 * self.words / self.sentences + 11.8 * self.syllables / self.words - 15.59

    @property
    def reading_age(self) -> float:
        return self.grade + READING_AGE_OFFSET


@cache
def _dictionary() -> pyphen.Pyphen:
    return pyphen.Pyphen(lang="en_US")


def syllables(word: str) -> int:
    """Syllables in one English word (at least one)."""
    word = word.lower().replace("’", "'").split("'")[0]
    if not word.isalpha():
        return 1
    hyphenated = len(_dictionary().positions(word)) + 1
    return max(hyphenated, _vowel_groups(word))


def _vowel_groups(word: str) -> int:
    count = len(_VOWELS.findall(word))
    if count > 1 and word.endswith("e") and not word.endswith(("le", "ee", "ie", "ye")):
        count -= 1  # a silent e: "make", "delete"
    elif count > 1 and word.endswith("le") and len(word) > 2 and word[-3] in "aeiouy":
        count -= 1  # "whole", "while"
    if (
        count > 1
        and re.search(r"[^aeiouy](es|ed)$", word)
        and not re.search(r"(ted|ded|ses|ces|zes|ges|xes|shes|ches)$", word)
    ):
        count -= 1  # "stored", "homes"; not "wanted", "houses"
    count += len(_HIATUS.findall(word))
    return max(1, count)


def counts(text: str) -> Counts:
    """Words, sentences and syllables in `text`."""
    plain = _PLACEHOLDER.sub("x", text)
    sentences = [part for part in _SENTENCE_END.split(plain) if _WORD.search(part)]
    words = _WORD.findall(plain)
    return Counts(
        words=len(words),
        sentences=max(1, len(sentences)),
        syllables=sum(syllables(word) for word in words),
    )


def grade(text: str) -> float:
    """The Flesch-Kincaid grade of `text`."""
    return counts(text).grade
