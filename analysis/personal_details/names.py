"""People's names in free text, for :mod:`analysis.personal_details.scrub`.

No name list knows every name, and many names are words ("Hope Green", "Will Bishop"), so a
name is believed for a reason: a title ("Dr Patel", "mr o'brien"); a cue ("my name is", "ask
for", "put it under", "diolch,", "cofion,", "my client", "Gareth here"); a known given name
with a capitalised surname ("Osian Bowen"); or, for given names that are also words and for
names written in lower case, a surname from the shipped list ("rose bell", "shauna tudur").
Surnames may be hyphenated, have an apostrophe, start "Mc", or be Welsh patronymics ("ap
Dafydd"). A name followed by "estate", "park" or "road" is a place.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from importlib import resources

from analysis.personal_details.addresses import STREET_SUFFIX
from analysis.themes.normalise import stop_words

__all__ = ["names"]

_TITLE = r"(?:Dr|Mr|Mrs|Ms|Miss|Mx|Prof|Cllr|Councillor|Sir|Dame)\.?"
_NAME_WORD = r"[A-Z][a-z]*(?:['’-][A-Z]?[a-z]+)*"
_TITLED = re.compile(rf"\b{_TITLE}\s+(?:{_NAME_WORD}\s+){{0,2}}{_NAME_WORD}\b")
_TITLED_LOWER = re.compile(r"\b(?:dr|mr|mrs|ms|miss|cllr)\.? (?P<name>[a-z]+(?:['’-][a-z]+)*)\b")
_TOKEN = re.compile(r"[^\W\d_][\w]*(?:['’-][^\W\d_][\w]*)*")
_RELATIONS = (
    r"neighbour|neighbor|son|sons|daughter|carer|husband|wife|partner|brother|sister|mum|mom|dad|"
    r"nan|nana|gran|grandson|granddaughter|grandad|friend|mate|boyfriend|girlfriend|advocate|"
    r"solicitor|social worker|support worker|caretaker|brother-in-law|sister-in-law|nephew|niece|"
    r"uncle|aunt|auntie|cousin|landlord|landlady|child|baby|GP|client|tenant|mab|merch|ffrind"
)
# Strong cues accept any word; weak cues ("I'm ...") need a known given name ("I'm fed up").
_STRONG_CUE = re.compile(
    r"(?i:\bmy name(?:'s| is|s)|\bfy enw i yw|\bfy enw yw|\bcall me|\bregards,?|\bthanks,"
    r"|\bthank you,|\bcheers,?|\bdiolch,|\bcofion,?|\bput it under|\bask for|\bspeak to"
    r"|\bta,|\blove,|\bsigned,?|\bbest wishes,?|\bmany thanks,?|\bsincerely,?|\byours,"
    r"|\bname:|\benw:)\s+"
)
_WEAK_CUE = re.compile(r"(?i:\bi'?m|\bi am|\bthis is)\s+")
# Where a sign-off may stand: a known given name only ("- Mark Baker" is, "Hope the..." is not).
_SIGN_OFF = re.compile(r"(?i:\bfrom|\bgan|\bdiolch|\bthanks|(?:^|\s)[-–]|^)\s*")
_RELATION_CUE = re.compile(rf"(?i:\bmy (?:{_RELATIONS}),?)\s+")
_HERE = re.compile(r"\s+here\b")
_PLACE_AFTER = re.compile(
    rf"\s+(?:estate|park|play|area|road|street|school|centre|center|ward|hall|court|house|flats"
    rf"|surgery|library|field|fields|farm|{STREET_SUFFIX})\b",
    re.IGNORECASE,
)
_PLACE_BEFORE = re.compile(r"\b(?:on|in|at|near|to|by|off|round|from|the)\s+$", re.IGNORECASE)
_NOT_NAMES = frozenset(
    [
        "a",
        "an",
        "the",
        "not",
        "so",
        "just",
        "very",
        "really",
        "also",
        "still",
        "only",
        "from",
        "in",
        "at",
        "on",
        "of",
        "here",
        "there",
        "is",
        "was",
        "has",
        "had",
        "have",
        "be",
        "been",
        "being",
        "going",
        "gonna",
        "trying",
        "writing",
        "living",
        "staying",
        "struggling",
        "disabled",
        "unemployed",
        "homeless",
        "welsh",
        "english",
        "scottish",
        "irish",
        "british",
        "happy",
        "sorry",
        "fed",
        "tired",
        "worried",
        "sick",
        "angry",
        "glad",
        "afraid",
        "scared",
        "off",
        "over",
        "under",
        "retired",
        "pregnant",
        "single",
        "disgusted",
        "sure",
        "aware",
        "told",
        "please",
        "thanks",
        "back",
        "after",
        "asap",
        "anytime",
        "tomorrow",
        "later",
        "again",
        "when",
        "if",
        "any",
        "about",
        "it",
        "that",
        "this",
        "what",
        "who",
        "you",
        "me",
        "my",
        "your",
        "our",
        "we",
        "they",
        "he",
        "she",
        "i",
        "yn",
        "ar",
        "am",
    ]
)


@cache
def _word_list(filename: str) -> frozenset[str]:
    text = (
        resources.files("analysis.personal_details")
        .joinpath("resources", filename)
        .read_text("utf-8")
    )
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#"
    )


def _given(word: str, *, ambiguous: bool) -> bool:
    low = word.lower()
    return low in _word_list("given_names.txt") or (
        ambiguous and low in _word_list("ambiguous_names.txt")
    )


def _surname(word: str) -> bool:
    low = word.lower().replace("’", "'")
    return low in _word_list("surnames.txt") or any(
        part in _word_list("surnames.txt") for part in low.split("-") if "-" in low
    )


def _common(word: str) -> bool:
    low = word.lower()
    return low in _NOT_NAMES or low in stop_words()


def _stop(word: str) -> bool:
    """A word that does not start a name: common, unless a capitalised given name ("Will")."""
    return _common(word) and not (word[0].isupper() and _given(word, ambiguous=True))


def _read_name(text: str, start: int, *, loose: bool) -> int | None:
    """End of the name starting at ``start`` (a first word and up to three more), or None.
    ``loose`` (after a strong cue) accepts a lower-case surname not in the list when the
    name ends a sentence ("my name is declan haworth.")."""
    first = _TOKEN.match(text, start)
    if first is None or _stop(first.group()):
        return None
    end = first.end()
    for _ in range(3):
        gap = re.match(r"[ \t]+", text[end:])
        if gap is None:
            break
        token = _TOKEN.match(text, end + gap.end())
        if token is None:
            break
        word = token.group()
        if word.lower() in ("ap", "ab") and (after := _TOKEN.match(text, token.end() + 1)):
            end = after.end()
            continue
        if (re.fullmatch(STREET_SUFFIX, word) and not _surname(word)) or _common(word):
            break
        ends_sentence = re.match(r"\s*(?:[.,;!?\n]|$)", text[token.end() :]) is not None
        if (
            word[0].isupper()
            or _surname(word)
            or (loose and ("-" in word or "'" in word or ends_sentence))
        ):
            end = token.end()
            continue
        break
    return end


def names(text: str) -> Iterator[tuple[int, int]]:
    """Spans of people's names (a title, when written, is part of the span)."""
    for m in _TITLED.finditer(text):
        yield m.start(), m.end()
    for m in _TITLED_LOWER.finditer(text):
        if not _common(m.group("name")):
            yield m.start(), m.end()
    cues = ((_STRONG_CUE, True), (_RELATION_CUE, True), (_WEAK_CUE, False), (_SIGN_OFF, False))
    for cue, loose in cues:
        for m in cue.finditer(text):
            word = _TOKEN.match(text, m.end())
            if word is None or _stop(word.group()):
                continue
            # "I'm Grace" is a name, "Hope the council reads this" is not.
            capital = word.group()[0].isupper()
            known = _given(word.group(), ambiguous=cue is not _SIGN_OFF and capital)
            if cue in (_WEAK_CUE, _SIGN_OFF) and not known:
                continue
            if cue is _RELATION_CUE and not known and word.group()[0].islower():
                continue
            end = _read_name(text, m.end(), loose=loose)
            if end is not None and not _PLACE_AFTER.match(text, end):
                yield m.end(), end
    yield from _uncued(text)


def _uncued(text: str) -> Iterator[tuple[int, int]]:
    """Names with no cue: a known given name and a surname, or "<name> here"."""
    for m in _TOKEN.finditer(text):
        word = m.group()
        if not _given(word, ambiguous=True):
            continue
        end = _read_name(text, m.start(), loose=False)
        if end is None:
            continue
        after_here = _HERE.match(text, end)
        parts = text[m.start() : end].split()
        if _PLACE_AFTER.match(text, end) and not after_here:
            continue  # "Rose Hill estate", "Iolo Morganwg Street"
        if (
            after_here
            or (word[0].isupper() and _given(word, ambiguous=False))
            or (
                len(parts) > 1
                and _surname(parts[-1])
                and not _PLACE_BEFORE.search(text[max(0, m.start() - 8) : m.start()])
            )
        ):
            yield m.start(), end
