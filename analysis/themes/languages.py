"""Which language an answer is in, and which languages a way of theming reads.

Themes are found in the words of English answers: the words-only path reads
English, and so does all-MiniLM-L6-v2. multilingual-e5-small (the option
`[themes] embedding_model = "multilingual-e5-small"`) also reads Polish and Urdu,
in Urdu script or typed in Latin letters, well enough to code them to the
English codebook (docs/benchmarks.md, "Answers in other languages"); Welsh only
about a third of the time, so Welsh is not counted as read. An answer in a
language the run does not read is kept out of coding and discovery (it cannot
fall into a wrong theme, or make a theme of its own by language) and the
officer's pages say how many there are, with a link to read them.

`detect` is small and explainable on purpose: Urdu by its script, or by common
Roman Urdu words; Polish by its letters and common words; Welsh by its common
words and its letters with circumflexes. Anything else reads as English; an
answer mostly in another script (Cyrillic, Bengali...) as "other".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import cache
from importlib import resources

from analysis.themes.normalise import words

ENGLISH = "en"
OTHER = "other"  # a script none of the checks know
NAMES = {"en": "English", "cy": "Welsh", "pl": "Polish", "ur": "Urdu", OTHER: "another language"}

# The embedding models a deployment may choose ([themes] embedding_model; the
# first is the default), by the names their vectors are stored under.
EMBEDDING_MODELS = ("all-MiniLM-L6-v2", "multilingual-e5-small")
# Which languages each way of theming reads: None is words only.
_READS = {
    None: frozenset({ENGLISH}),
    EMBEDDING_MODELS[0]: frozenset({ENGLISH}),
    EMBEDDING_MODELS[1]: frozenset({ENGLISH, "pl", "ur"}),
}

LANGUAGES = ("cy", "pl", "ur")  # the languages `detect` knows besides English
_CUE_FILE = "resources/language_cues.txt"
_ARABIC_SCRIPT = re.compile(r"[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")
_LATIN = re.compile(r"[a-zA-Z\u00c0-\u024f]")
_LETTER = re.compile(r"[^\W\d_]")
_POLISH_LETTERS = re.compile(r"[ąćęłńśźż]")
_WELSH_LETTERS = re.compile(r"[ŵŷâêîôû]")
# Beyond Latin letters and punctuation (curly quotes, dashes): worth counting scripts.
_BEYOND_LATIN = re.compile(r"[^\u0000-\u024f\u2000-\u206f]")


@cache
def _cues() -> dict[str, str]:
    """Word -> language, from the shipped lists (resources/language_cues.txt)."""
    text = resources.files("analysis.themes").joinpath(_CUE_FILE).read_text("utf-8")
    found: dict[str, str] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            language, _, listed = line.partition(":")
            found.update(dict.fromkeys(listed.split(), language.strip()))
    return found


def detect(text: str) -> str:
    """The language an answer is written in: "en", "cy", "pl", "ur" or "other"."""
    cues = _cues()
    scores = dict.fromkeys(LANGUAGES, 0)
    if not text.isascii():  # most English answers skip the script checks
        text = unicodedata.normalize("NFKC", text)  # full-width letters are Latin ones
        if _BEYOND_LATIN.search(text):
            letters = len(_LETTER.findall(text))
            if len(_ARABIC_SCRIPT.findall(text)) * 2 >= letters > 0:
                return "ur"
            if len(_LATIN.findall(text)) * 2 < letters:
                return OTHER
        lower = text.lower()
        scores["pl"] += len(_POLISH_LETTERS.findall(lower))
        scores["cy"] += len(_WELSH_LETTERS.findall(lower))
    found = words(text)
    for word in found:
        language = cues.get(word)
        if language is not None:
            scores[language] += 1
    best = max(scores, key=lambda language: scores[language])
    strength = scores[best]
    # Two cues, or one in an answer of one or two words ("Dim", "Nie wiem").
    if strength >= 2 or (strength == 1 and len(found) <= 2):
        return best
    return ENGLISH


def reads(model: str | None) -> frozenset[str]:
    """The languages a way of theming reads (None: words only; else an embedding model)."""
    return _READS.get(model, frozenset({ENGLISH}))


def unread(texts: Iterable[str], model: str | None) -> list[str | None]:
    """For each answer, its language when the way of theming does not read it, else None."""
    known = reads(model)
    found: list[str | None] = []
    for text in texts:
        language = detect(text)
        found.append(None if language in known else language)
    return found


def reads_phrase(model: str | None) -> str:
    """ "English", "English, Polish and Urdu": the languages themes are found in."""
    names = [NAMES[language] for language in sorted(reads(model), key=_order)]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _order(language: str) -> tuple[int, str]:
    return (0 if language == ENGLISH else 1, NAMES.get(language, language))
