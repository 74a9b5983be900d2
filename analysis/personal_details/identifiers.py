"""Dates of birth, vehicle registrations and social media handles, for :mod:`analysis.personal_details.scrub`.

Each is a pattern with a reason to believe it: a date is a birth date only beside a birth cue
("dob", "born", "dyddiad geni"), because consultations are full of other dates; a plate is in
the DVLA's current or prefix format, and a lower-case one must not end in an everyday word
("ab12 the"); a handle is an @name (never an email, a time or "@ the library"), a word with an
underscore (no ordinary word has one), or a word after "find me on tiktok" and its kin.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

__all__ = ["birth_dates", "handles", "plates"]

_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
    r"|ionawr|chwefror|mawrth|ebrill|mai|mehefin|gorffennaf|awst|medi|hydref|tachwedd"
    r"|rhagfyr|fehefin|fawrth|fai|orffennaf|fedi|dachwedd|ragfyr|chwefror)"
)
# Welsh ordinals too: "2il o Fehefin", "1af o Fai".
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th|af|il|ydd|ed|fed|eg|ain)?"
_DATE = (
    rf"(?:{_DAY}[/.-](?:1[0-2]|0?[1-9])[/.-](?:\d{{4}}|\d{{2}})"
    r"|(?:19|20)\d\d-(?:1[0-2]|0[1-9])-(?:[12]\d|3[01]|0[1-9])"  # 1961-04-03
    rf"|{_DAY} of the (?:1[0-2]|0?[1-9])(?:st|nd|rd|th) \d{{4}}"  # the 8th of the 6th 1947
    rf"|{_DAY} o {_MONTHS},? \d{{4}}"
    rf"|{_DAY}(?: of)? {_MONTHS},? (?:\d{{4}}|'?\d{{2}})"
    rf"|{_MONTHS} {_DAY},? \d{{4}})"
)
_BIRTH_CUE = (
    r"(?:d\.?o\.?b\.?|date of birth|birth ?date|born(?: on)?|birthday(?: is)?|dyddiad geni|dyddiad"
    r" fy ngeni|dyd\w{3,5} geni|(?:ces i )?fy ngeni(?: ar)?|ganwyd(?: fi)?(?: ar)?"
    r"|fy mhen-?blwydd(?: yw)?|ganwyd (?:o|hi|e|fe) ar|pen-?blwydd \w+ (?:ydi|yw|ydy))"
)
_BIRTH_DATE = re.compile(
    rf"\b{_BIRTH_CUE}\s*(?:is|was|yw|:|-)?\s*(?:the |on the |on )?(?P<date>{_DATE})(?!\w)", re.I
)

_PLATE_CURRENT = re.compile(r"(?<![\w@])[A-Za-z]{2}\d{2} ?[A-Za-z]{3}(?![\w@])")
_PLATE_PREFIX = re.compile(r"(?<![\w@])[A-HJ-NP-Y]\d{1,3} ?[A-Z]{3}(?![\w@])")
_PLATE_CUE = re.compile(
    r"\b(?:reg|registration|plate|car|van|vehicle|fan|is|corsa|fiesta|focus|golf|polo|astra"
    r"|transit|clio|micra|yaris|bmw|audi|merc|mercedes|taxi|motorbike|bike)\b\W*$",
    re.I,
)
_PLATE_PREFIX_LOWER = re.compile(r"(?<![\w@])[a-hj-np-y]\d{1,3} ?[a-z]{3}(?![\w@])")
_EVERYDAY = frozenset(
    [
        "the",
        "and",
        "for",
        "bus",
        "but",
        "was",
        "are",
        "you",
        "our",
        "not",
        "all",
        "can",
        "had",
        "her",
        "his",
        "one",
        "out",
        "day",
        "get",
        "has",
        "him",
        "how",
        "man",
        "new",
        "now",
        "old",
        "see",
        "two",
        "way",
        "who",
        "did",
        "its",
        "let",
        "put",
        "say",
        "she",
        "too",
        "use",
        "yes",
        "mon",
        "tue",
        "wed",
        "thu",
        "fri",
        "sat",
        "sun",
        "per",
        "via",
        "ago",
        "off",
        "any",
        "own",
        "yet",
    ]
)

_AT_HANDLE = re.compile(r"(?<![\w.@])@(?P<h>[A-Za-z_][\w.]*[\w]|[A-Za-z_])")
_UNDERSCORED = re.compile(r"(?<![\w@.])[A-Za-z][\w.]*_[\w.]*(?<!\.)(?![\w@])")
_PLATFORMS = (
    r"(?:tiktok|tik tok|snapchat|snap|insta(?:gram)?|twitter|discord|twitch|threads|x"
    r"|facebook|fb|xbox|psn|playstation|steam)"
)
_HANDLE_CUE = re.compile(
    rf"(?i:\b{_PLATFORMS}\s*:|\b(?:on|ar|my|fy)\s+{_PLATFORMS}"
    r"(?:\s+(?:is|yw|name|handle|username|tag))?\s*:?"
    r"|\bgamertag(?:\s+is)?\s*:?|\b(?:i'?m|dw i'?n)(?=\s+\S+\s+(?:on there|arno fe|arno)\b))"
    r"\s+(?P<h>@?[A-Za-z][\w.]*\w(?: [A-Z][a-z]+(?:-[A-Z][a-z]+)?)?)"
)
_NOT_HANDLE = frozenset(
    [
        "a",
        "an",
        "the",
        "me",
        "my",
        "it",
        "is",
        "and",
        "or",
        "at",
        "if",
        "i",
        "as",
        "page",
        "fel",
        "are",
        "was",
    ]
)


def birth_dates(text: str) -> Iterator[tuple[int, int]]:
    """Spans of dates written after a birth cue (the date only, not the cue)."""
    for m in _BIRTH_DATE.finditer(text):
        yield m.start("date"), m.end("date")


def plates(text: str) -> Iterator[tuple[int, int]]:
    """Spans of UK vehicle registrations, current ("WY70 OKU") and prefix ("S663 KKY")."""
    for m in _PLATE_CURRENT.finditer(text):
        letters = m.group()[-3:].lower()
        cued = _PLATE_CUE.search(text[max(0, m.start() - 20) : m.start()])
        if m.group().isupper() or cued or letters not in _EVERYDAY:
            yield m.start(), m.end()
    for m in _PLATE_PREFIX.finditer(text):
        if not re.match(r"[ABM]\d{1,4} ?[A-Z]{3}$", m.group()) or _PLATE_CUE.search(
            text[max(0, m.start() - 20) : m.start()]
        ):
            yield m.start(), m.end()
    yield from _cued_lower_plates(text)


def _cued_lower_plates(text: str) -> Iterator[tuple[int, int]]:
    for m in _PLATE_PREFIX_LOWER.finditer(text):
        if _PLATE_CUE.search(text[max(0, m.start() - 20) : m.start()]):
            yield m.start(), m.end()


def handles(text: str) -> Iterator[tuple[int, int]]:
    """Spans of social media handles: @names, underscored names and names after a platform."""
    for m in _AT_HANDLE.finditer(text):
        if not re.fullmatch(r"\d+(?:[.:]\d+)?(?:am|pm)?", m.group("h"), re.I):
            yield m.start(), m.end()
    for m in _UNDERSCORED.finditer(text):
        yield m.start(), m.end()
    for m in _HANDLE_CUE.finditer(text):
        # A handle with a space is a display name ("Ffion Mai Jenkins"): the name rules take it.
        if m.group("h").lower() not in _NOT_HANDLE and " " not in m.group("h"):
            yield m.start("h"), m.end("h")
