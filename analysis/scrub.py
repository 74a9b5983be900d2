"""Personal-details scrubbing for free-text consultation answers.

Library choice: phone numbers use ``phonenumbers`` (Google's libphonenumber port): it knows every
country's numbering plan, which hand-written patterns never keep up with. Everything else is our
own patterns plus check digits (Luhn, NHS modulus 11, NI prefix rules), which are a few lines each.
Rejected: ``scrubadub`` (pins textblob 0.15.3, pulls faker/dateparser, and its name detector needs
NLTK corpora downloaded at run time) and ``presidio-analyzer`` (needs a spaCy model; the only
PyPI copies of ``en_core_web_sm`` are unofficial re-uploads, too heavy and untrustworthy to ship).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources

import phonenumbers

__all__ = ["KINDS", "PLACEHOLDERS", "Detail", "find_personal_details", "scrub"]

PLACEHOLDERS: dict[str, str] = {
    "email": "[email]",
    "url": "[url]",
    "card_number": "[card number]",
    "nhs_number": "[nhs number]",
    "ni_number": "[ni number]",
    "phone": "[phone]",
    "postcode": "[postcode]",
    "address": "[address]",
    "name": "[name]",
}
# Order is priority when two candidate spans overlap.
KINDS: tuple[str, ...] = tuple(PLACEHOLDERS)


@dataclass(frozen=True, order=True)
class Detail:
    """One personal detail found in a text: ``text[start:end]`` is of ``kind``."""

    start: int
    end: int
    kind: str


_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# "sarah dot jones at gmail dot com": people dodge spam filters this way.
_SPOKEN_EMAIL = re.compile(r"\b[\w.]+(?: dot [\w]+)* at [\w-]+(?: dot [a-z]{2,})+\b", re.IGNORECASE)
_TLD = r"(?:com|co\.uk|org\.uk|gov\.uk|ac\.uk|org|net|uk|ly|io|be|it|cymru|wales|info|me)"
_URL = re.compile(
    rf"(?:https?://|www\.)[^\s<>\"]+|\b[\w-]+(?:\.[\w-]+)*\.{_TLD}(?:/[^\s<>\"]*)?(?![\w.])",
    re.IGNORECASE,
)
_DIGIT_RUN = re.compile(r"(?<![\w+])\d(?:[ -]?\d){9,18}(?!\w)")
_NI = re.compile(
    r"\b([A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]) ?(\d{2}) ?(\d{2}) ?(\d{2}) ?([A-D])\b", re.IGNORECASE
)
_NI_UNUSED_PREFIXES = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}
_OUTWARD = r"[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]?"
_POSTCODE = re.compile(rf"\b{_OUTWARD} ?\d[ABD-HJLNP-UW-Z]{{2}}\b", re.IGNORECASE)
# An outward code alone ("BS5") is only a postcode when the words around it say so.
_OUTWARD_CUED = re.compile(
    rf"\b(?:post ?code(?: is|:)?|in the|in|from|around)\s+(?P<a>{_OUTWARD})\b(?!\s+(?:bus|traffic|motorway|road))"
    rf"|\b(?P<b>{_OUTWARD})\s+(?:post ?code|area|district)\b",
)
_STREET_SUFFIX = (
    r"(?:Road|Rd|Street|St|Avenue|Ave|Lane|Ln|Close|Drive|Dr|Grove|Way|Court|Ct|Terrace|Crescent|"
    r"Place|Square|Gardens|Gdns|View|Walk|Row|Hill|Mews|Parade|Rise|Green|Park|Estate)"
)
_WELSH_STREET = r"(?:Heol|Ffordd|Stryd|Lôn|Rhodfa|Maes|Cae|Bryn|Teras)"
_CAP_WORD = r"(?:St|The|[A-Z][\w'’-]+)"
_FLAT = r"(?:(?:Flat|Apartment|Apt|Unit)\s+\d+[A-Za-z]?,?\s+)"
_ADDRESS = re.compile(
    rf"(?:{_FLAT}?\d{{1,4}}[A-Za-z]?,?\s+(?:{_CAP_WORD}\s+){{1,3}}{_STREET_SUFFIX}\b(?:\s+(?:East|West|North|South)\b)?"
    rf"|{_FLAT}(?:{_CAP_WORD}\s+){{1,3}}{_STREET_SUFFIX}\b"
    rf"|\d{{1,4}}[A-Za-z]?\s+{_WELSH_STREET}(?:\s+(?:(?:y|yr)\s+)?[A-Z][\w'’-]+){{1,3}})"
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
    ]
)
_LOWER_ADDRESS = re.compile(
    r"\b(?:(?:flat|apartment) \d+[a-z]?,? )?\d{1,4}[a-z]? ((?:[a-z']+ ){1,2})"
    r"(?:road|street|avenue|lane|close|drive|grove|way|court|terrace|crescent|view|walk)\b"
)
_TITLE = r"(?:Dr|Mr|Mrs|Ms|Miss|Mx|Prof|Cllr|Councillor|Sir|Dame)\.?"
_NAME_WORD = r"[A-Z][a-z]*(?:['’-][A-Z]?[a-z]+)*"
_TITLED = re.compile(rf"\b{_TITLE}\s+(?:{_NAME_WORD}\s+){{0,2}}{_NAME_WORD}\b")
_RELATIONS = (
    r"neighbour|neighbor|son|sons|daughter|carer|husband|wife|partner|brother|sister|mum|mom|dad|"
    r"nan|nana|gran|grandson|granddaughter|grandad|friend|mate|boyfriend|girlfriend|advocate|"
    r"solicitor|social worker|support worker|caretaker|brother-in-law|sister-in-law|nephew|niece|"
    r"uncle|aunt|auntie|cousin|landlord|landlady|child|baby|GP"
)
_NAME_AFTER = r"\s+(?P<name>[A-Za-z][\w-]*(?:['’][a-rt-z]\w*)?(?:\s+[A-Z][\w-]*(?:['’][A-Z]\w*)?)?)"
# Strong cues accept any word; weak cues ("I'm ...") need a known given name ("I'm fed up").
_STRONG_CUE = re.compile(
    r"(?i:\bmy name(?:'s| is|s)|\bfy enw i yw|\bcall me|\bregards,?|\bthanks,|\bthank you,"
    r"|\bcheers,)" + _NAME_AFTER
)
_WEAK_CUE = re.compile(r"(?i:\bi'?m|\bi am|\bthis is|\bspeak to|\bask for)" + _NAME_AFTER)
_RELATION_CUE = re.compile(rf"(?i:\bmy (?:{_RELATIONS}),?)" + _NAME_AFTER)
_SIGN_OFF_NAME = re.compile(r"^\s*(?P<name>[A-Z][a-z]+)\s+here\b")
_CAPITALISED = re.compile(rf"\b{_NAME_WORD}(?:\s+{_NAME_WORD})?\b")
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
        "a",
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
        "100",
        "on",
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
    ]
)


@cache
def _name_list(filename: str) -> frozenset[str]:
    text = resources.files("analysis").joinpath("resources", filename).read_text("utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#"
    )


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _nhs_ok(digits: str) -> bool:
    check = 11 - sum(int(c) * (10 - i) for i, c in enumerate(digits[:9])) % 11
    return check != 10 and (check % 11) == int(digits[9])


def _numbers(text: str) -> Iterator[Detail]:
    for m in _DIGIT_RUN.finditer(text):
        raw = m.group()
        digits = re.sub(r"\D", "", raw)
        seps = set(re.findall(r"[ -]", raw))
        if len(seps) > 1:
            continue
        groups = [len(g) for g in re.split(r"[ -]", raw)]
        if len(digits) == 10 and (groups in ([10], [3, 3, 4])) and _nhs_ok(digits):
            yield Detail(m.start(), m.end(), "nhs_number")
        elif 13 <= len(digits) <= 19 and digits[0] in "23456" and _luhn_ok(digits):
            yield Detail(m.start(), m.end(), "card_number")


def _phones(text: str) -> Iterator[Detail]:
    matcher = phonenumbers.PhoneNumberMatcher(text, "GB", leniency=phonenumbers.Leniency.POSSIBLE)
    for match in matcher:
        raw = match.raw_string
        digits = re.sub(r"\D", "", raw)
        # POSSIBLE also matches years and sums; a dialable number starts with 0, ( or +.
        if raw[0] in "+(0" and len(digits) >= 10:
            yield Detail(match.start, match.end, "phone")


def _postcodes(text: str) -> Iterator[Detail]:
    for m in _POSTCODE.finditer(text):
        yield Detail(m.start(), m.end(), "postcode")
    for m in _OUTWARD_CUED.finditer(text):
        group = "a" if m.group("a") else "b"
        code = m.group(group)
        # Bare single-letter areas collide with roads (M6, A14); insist on a strong cue for those.
        if code.isupper() and (
            len(code) > 2 or code[1].isalpha() or group == "b" or "post" in m.group()
        ):
            yield Detail(m.start(group), m.end(group), "postcode")


def _addresses(text: str) -> Iterator[Detail]:
    for m in _ADDRESS.finditer(text):
        yield Detail(m.start(), m.end(), "address")
    for m in _LOWER_ADDRESS.finditer(text):
        if not set(m.group(1).split()) & _FUNCTION_WORDS:
            yield Detail(m.start(), m.end(), "address")


def _is_given_name(word: str, *, allow_ambiguous: bool) -> bool:
    low = word.lower()
    return low in _name_list("given_names.txt") or (
        allow_ambiguous and low in _name_list("ambiguous_names.txt")
    )


def _names(text: str) -> Iterator[Detail]:
    for m in _TITLED.finditer(text):
        yield Detail(m.start(), m.end(), "name")
    for cue in (_STRONG_CUE, _WEAK_CUE, _RELATION_CUE):
        for m in cue.finditer(text):
            words = m.group("name").split()
            first = words[0]
            if first.lower() in _NOT_NAMES:
                continue
            known = _is_given_name(first, allow_ambiguous=True)
            if (cue is _WEAK_CUE and not known) or (
                cue is _RELATION_CUE and not known and first[0].islower()
            ):
                continue
            with_surname = len(words) > 1 and words[1].lower() not in _NOT_NAMES
            if with_surname and cue is not _RELATION_CUE and re.fullmatch(_STREET_SUFFIX, words[1]):
                continue  # "I'm Victoria Road's ..." is a place, not a person
            end = m.end("name") if with_surname else m.start("name") + len(first)
            yield Detail(m.start("name"), end, "name")
    for m in _CAPITALISED.finditer(text):
        words = m.group().split()
        if not _is_given_name(words[0], allow_ambiguous=False):
            continue
        after = text[m.end() : m.end() + 30]
        if re.match(rf"\s+{_STREET_SUFFIX}\b", after) or (
            len(words) > 1 and re.fullmatch(_STREET_SUFFIX, words[1])
        ):
            continue  # "Iolo Morganwg Street", "Victoria Road"
        yield Detail(m.start(), m.end(), "name")
    if sign_off := _SIGN_OFF_NAME.match(text):
        yield Detail(sign_off.start("name"), sign_off.end("name"), "name")


def _candidates(text: str) -> Iterator[Detail]:
    for m in _EMAIL.finditer(text):
        yield Detail(m.start(), m.end(), "email")
    for m in _SPOKEN_EMAIL.finditer(text):
        yield Detail(m.start(), m.end(), "email")
    for m in _URL.finditer(text):
        end = m.end() - len(m.group()) + len(m.group().rstrip(".,;:!?)]'\""))
        yield Detail(m.start(), end, "url")
    yield from _numbers(text)
    for m in _NI.finditer(text):
        if m.group(1).upper() not in _NI_UNUSED_PREFIXES:
            yield Detail(m.start(), m.end(), "ni_number")
    yield from _phones(text)
    yield from _postcodes(text)
    yield from _addresses(text)
    yield from _names(text)


def find_personal_details(text: str) -> list[Detail]:
    """Return non-overlapping personal details in ``text``, sorted by position."""
    rank = {kind: i for i, kind in enumerate(KINDS)}
    chosen: list[Detail] = []
    for cand in sorted(_candidates(text), key=lambda d: (rank[d.kind], d.start - d.end)):
        if cand.end > cand.start and all(
            cand.end <= c.start or cand.start >= c.end for c in chosen
        ):
            chosen.append(cand)
    return sorted(chosen)


def _scrub_once(text: str) -> str:
    for d in reversed(find_personal_details(text)):
        text = text[: d.start] + PLACEHOLDERS[d.kind] + text[d.end :]
    return text


def scrub(text: str) -> str:
    """Replace personal details in ``text`` with placeholders such as ``[email]``.

    Runs to a fixed point, because removing one detail can expose another (so scrubbing is
    idempotent).
    """
    for _ in range(5):
        scrubbed = _scrub_once(text)
        if scrubbed == text:
            break
        text = scrubbed
    return text
