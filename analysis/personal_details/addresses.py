"""Street addresses in free text, English and Welsh, for :mod:`analysis.personal_details.scrub`.

An address is a flat, a house number or a house name, then a street, then the town when it
follows straight after a comma ("Flat 6, 28 Elm Grove, Barry"). English streets end in a
suffix ("Road", "Close"); Welsh streets start with a word that says street ("Heol y Felin",
"Maes y Coed", "Tan y Bryn", "Rhodfa'r Môr", "Bro Deg") and have no English suffix at all.
A street named alone ("Victoria Road potholes") is a public place, not someone's address, so
every address here starts with a number, a flat or a house name and a comma.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

__all__ = ["STREET_SUFFIX", "addresses"]

STREET_SUFFIX = (
    r"(?:Road|Rd|Street|St|Avenue|Ave|Lane|Ln|Close|Drive|Dr|Grove|Way|Court|Ct|Terrace|Crescent|"
    r"Place|Square|Gardens|Gdns|View|Walk|Row|Hill|Mews|Parade|Rise|Green|Park|Estate|Side)"
)
# Words that begin a Welsh street's name ("Heol", "Maes", "Tan", "Cwrt", "Gerddi", "Rhes"...).
_WELSH_STREET = (
    r"(?:Heol|Ffordd|Stryd|Lôn|Lon|Rhodfa|Maes|Cae|Bryn|Teras|Tan|Clos|Llys|Nant|Bro|Cwrt|Ael"
    r"|Gerddi|Rhes|Pant|Parc|Glan|Dôl|Dol|Erw|Coed|Cil|Pen|Tyn|Bryn|Heol|Lon|Ffordd)(?:'r)?"
)
_CAP_WORD = r"(?:St|The|[A-Z][\w'’-]+)"
_WELSH_WORD = r"(?:[A-ZŴŶÂÊÎÔÛ][\w'’-]*)"
_FLAT = r"(?:(?:[Ff]lat|Fflat|fflat|Apartment|Apt|Unit)\s+\d+(?:/\d+)?[A-Za-z]?,?\s+)"
# Endings that name a street only after a house number ("3 Fern Bank", "9a Mill Brow").
_NUMBERED_SUFFIX = (
    r"(?:Fold|Brow|Range|Bank|Top|Cottages|House|Buildings|Yard|Croft|Meadows?|Vale|Mount|Quay"
    r"|Wharf|Chase|Heights|Dale|Garth|Nook|Hey|Fields|Bottom|End|Wynd|Close|Cross)"
)
_NUMBER = r"(?<![\w.£$,/-])\d{1,4}[A-Za-z]?,?\s+"
_HOUSE_NAME = rf"(?:{_WELSH_WORD}(?:\s+(?:y|yr|{_WELSH_WORD})){{0,2}},\s+)"
_ENGLISH = re.compile(
    rf"(?=[\dFfAUNn])(?:{_FLAT}?(?:[Nn]o\.?\s+)?{_NUMBER}(?:{_CAP_WORD}\s+){{1,3}}(?:{STREET_SUFFIX}|{_NUMBERED_SUFFIX})\b"
    r"(?:\s+(?:East|West|North|South)\b)?"
    rf"|{_FLAT}(?:{_CAP_WORD}\s+){{1,3}}{STREET_SUFFIX}\b"
    rf"|{_FLAT}?{_NUMBER}[A-Z][a-z]+(?:way|gate)\b"
    rf"|{_FLAT}?{_NUMBER}The\s+[A-Z][a-z]+\b)"  # 12 The Paddocks
)
_WELSH = re.compile(
    rf"(?=[\dFfA-ZŴŶÂÊÎÔÛ])(?:{_FLAT}?{_NUMBER}|{_FLAT}?{_HOUSE_NAME}|{_FLAT})"
    rf"(?:{_WELSH_STREET}|Y|Yr)(?:\s+(?:(?:y|yr|'r)\s+)?{_WELSH_WORD}){{1,2}}(?!\w)"
)
# A house with a name and no number, then its street or town: an English house word
# ("Maple Cottage, Brindle Lane", "The Old Forge, Top Road") or a Welsh dwelling's first word
# and one more ("Tyddyn Isaf, Llanrug", "Bryn Awel, Old Road, Mossley").
_DWELLING = (
    r"(?:(?:The\s+)?(?:[A-Z][\w'’-]+\s+){1,2}(?:Cottage|Farm|House|Forge|Mill|Lodge|Barn|Grange"
    r"|Manor|Villa|Bungalow|Hall)"
    r"|(?:Ty|Tŷ|Ty'n|Tyn|Tyddyn|Hendre|Hafod|Bryn|Pant|Llwyn|Plas|Penlan|Glan|Nant|Fferm|Bod|Cefn"
    r"|Gwern|Ffynnon|Maes)(?:\s+(?:y|yr)\b)?\s+[A-ZŴŶÂÊÎÔÛ][\w'’-]+(?:\s+Farm)?)"
)
_NAMED_HOUSE = re.compile(
    rf"(?=[A-Z])(?<!Ysgol )(?<!Ysbyty )(?<!Canolfan )\b{_DWELLING}(?=,\s+[A-ZŴŶÂÊÎÔÛ])"
)
# Chunks of an address written before its number: a flat, a house or a building's name.
_BEFORE = re.compile(
    r"(?:(?:[Ff]lat|Fflat|fflat|Unit|Apartment)\s+\d+(?:/\d+)?[a-z]?|(?:The\s+)?(?:[A-ZŴŶÂÊÎÔÛ][\w'’-]*"
    r"\s+){0,2}[A-ZŴŶÂÊÎÔÛ][\w'’-]*|[a-zŵŷ']+ (?:y|yr) [a-zŵŷ']+),\s*$"
)
_CUE_BEFORE = re.compile(r"(?:^|[:(]|\b(?:at|in|yn|to|of|lives|live|byw|is|ydi)|,)\s*$", re.I)
# Another street after the first ("Tanner House, Rope Walk").
_STREET_AFTER = re.compile(rf",\s+(?:{_CAP_WORD}\s+){{1,3}}{STREET_SUFFIX}\b")


# The same in lower case ("56 tan y bryn", "35 chapel row"), checked more strictly.
_LOWER_FLAT = r"(?:(?:flat|apartment) \d+[a-z]?,? )"
_LOWER_ENGLISH = re.compile(
    rf"(?:{_LOWER_FLAT}|{_LOWER_FLAT}?(?<![\w.£$,/-])\d{{1,4}}[a-z]? )((?:[a-z']+ ){{1,2}})"
    r"(?:road|street|avenue|lane|close|drive|grove|way|court|terrace|crescent|view|walk|row"
    r"|parade|place|gardens|mews|rise|side|cottages)\b"
)
_LOWER_WELSH = re.compile(
    rf"(?=[\dFfA-ZŴŶÂÊÎÔÛ])(?:{_LOWER_FLAT}|(?<![\w.£$,/-]))\d{{1,4}}[a-z]? "
    r"(?:heol|ffordd|stryd|lôn|rhodfa|maes|cae|bryn|teras|tan|clos|llys|nant|bro|cwrt|ael"
    r"|gerddi|rhes|pant|parc|glan)(?:'r)?(?: (?:y|yr) [\wâêîôûŵŷ'-]+| [\wâêîôûŵŷ'-]+){1,2}(?!\w)"
)
_FUNCTION_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "at",
        "bus",
        "buses",
        "by",
        "for",
        "from",
        "in",
        "minutes",
        "mins",
        "of",
        "on",
        "or",
        "the",
        "to",
        "with",
        "years",
        "weeks",
        "each",
        "every",
        "per",
        "times",
    ]
)
_WELSH_STOP = frozenset(
    [
        "a",
        "ac",
        "ar",
        "am",
        "i",
        "o",
        "yn",
        "yw",
        "mae",
        "ond",
        "neu",
        "gyda",
        "efo",
        "send",
        "and",
        "the",
        "is",
        "at",
        "to",
        "for",
        "on",
        "my",
    ]
)
_ENGLISH_STOP = frozenset(
    [
        "y",
        "yr",
        "last",
        "next",
        "this",
        "year",
        "week",
        "month",
        "ago",
        "now",
        "today",
        "since",
        "before",
        "after",
        "when",
        "where",
        "every",
        "all",
    ]
)
# ", Town" straight after the street: one or two capitalised words that are not a new clause.
_TOWN = re.compile(
    r"(?:,\s+|\n)((?:Y\s+)?[A-Z][a-zâêîôûŵŷ][\w'’-]*(?:\s+[A-Z][a-zâêîôûŵŷ][\w'’-]*)?)"
)
_POSTCODE_NEXT = r",?\s+[A-Za-z]{1,2}\d[A-Za-z\d]?\s?\d[A-Za-z]{2}\b"
# A town in lower case, or with no comma, is believed before a postcode ("birch grove
# motherwell ml1 4ay") or at the end ("9 ffordd penrhos, bangor").
_LOWER_TOWN = re.compile(
    rf",\s+([a-zâêîôûŵŷ]{{3,}}(?: [a-zâêîôûŵŷ]{{3,}})?)(?={_POSTCODE_NEXT}|\s*$|\.)"
    rf"|\s+([A-Za-zâêîôûŵŷ]{{3,}})(?={_POSTCODE_NEXT})"
)
_NOT_TOWNS = frozenset(
    [
        "I",
        "I'm",
        "I've",
        "I'd",
        "We",
        "We're",
        "My",
        "Our",
        "The",
        "This",
        "That",
        "It",
        "Can",
        "Please",
        "Thanks",
        "Diolch",
        "Mae",
        "Dw",
        "Dwi",
        "Fy",
        "You",
        "He",
        "She",
        "They",
        "Cheers",
        "Regards",
        "Call",
        "Ring",
        "Text",
        "Email",
        "Tel",
        "Phone",
        "NHS",
        "NI",
        "DOB",
        "Postcode",
    ]
)


def _with_town(text: str, end: int) -> int:
    if lower := _LOWER_TOWN.match(text, end):
        return lower.end(1) if lower.group(1) else lower.end(2)
    m = _TOWN.match(text, end)
    if m is None:
        return end
    words = m.group(1).split()
    if words[0] in _NOT_TOWNS:
        return end
    # A last capitalised word that starts a new clause ("Barry Please ...") is not the town.
    if len(words) > 1 and words[-1] in _NOT_TOWNS:
        return m.start(1) + m.group(1).rindex(" ")
    return m.end()


def _extend(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen an address over a house's or flat's name before it and a street after it."""
    for _ in range(3):
        m = _BEFORE.search(text[max(0, start - 60) : start])
        if m is None or m.group().split()[0] in _NOT_TOWNS:
            break
        head = start - len(m.group())
        if not _CUE_BEFORE.search(text[max(0, head - 12) : head]):
            break
        start = head
    if m := _STREET_AFTER.match(text, end):
        end = m.end()
    return start, _with_town(text, end)


def addresses(text: str) -> Iterator[tuple[int, int]]:
    """Spans of street addresses, each with its town when one follows after a comma."""
    for pattern in (_ENGLISH, _WELSH):
        for m in pattern.finditer(text):
            yield _extend(text, m.start(), m.end())
    for m in _NAMED_HOUSE.finditer(text):
        yield _extend(text, m.start(), m.end())
    for m in _LOWER_ENGLISH.finditer(text):
        if not set(m.group(1).split()) & _FUNCTION_WORDS:
            yield _extend(text, m.start(), m.end())
    for m in _LOWER_WELSH.finditer(text):
        # The pattern takes up to two words after the street's first: drop any that are not
        # part of it ("5 tan y bryn on her own").
        words = m.group().split(" ")
        while words[-1] in _WELSH_STOP or words[-1] in _ENGLISH_STOP:
            words.pop()
        number = next(i for i, w in enumerate(words) if w[0].isdigit() and i != 1)
        if len(words) - number > 2:  # a number, the street's first word and another
            yield _extend(text, m.start(), m.start() + len(" ".join(words)))
