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

import phonenumbers

from analysis.personal_details.addresses import addresses
from analysis.personal_details.identifiers import birth_dates, handles, plates
from analysis.personal_details.names import names

__all__ = ["KINDS", "PLACEHOLDERS", "Detail", "find_personal_details", "scrub"]

PLACEHOLDERS: dict[str, str] = {
    "email": "[email]",
    "url": "[url]",
    "card_number": "[card number]",
    "nhs_number": "[nhs number]",
    "ni_number": "[ni number]",
    "phone": "[phone]",
    "date_of_birth": "[date of birth]",
    "postcode": "[postcode]",
    "vehicle_reg": "[vehicle registration]",
    "social_handle": "[social media handle]",
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


_PHONE_NO_ZERO = re.compile(
    r"(?i:\b(?:number|mobile|mob|phone|tel|ring|call|text|whatsapp|ffôn|ffonio|rhif)\b)"
    r"[^\d\n]{0,12}(?P<n>(?<![\d+])[1-9]\d{2,4}[ -]?\d{3}[ -]?\d{3,4})(?![\d])"
)


_OTHER_NUMBER = re.compile(
    r"(?i:\b(nhs|gig|card|cerdyn|reference|ref|case|account|ni|insurance|yswiriant|policy|order"
    r"|tracking|claim|invoice|crime|planning|application|customer|tenancy|council tax)\b)"
)


def _phones(text: str) -> Iterator[Detail]:
    matcher = phonenumbers.PhoneNumberMatcher(text, "GB", leniency=phonenumbers.Leniency.POSSIBLE)
    for match in matcher:
        raw = match.raw_string
        digits = re.sub(r"\D", "", raw)
        # POSSIBLE also matches years and sums; a dialable number starts with 0, ( or +.
        if raw[0] in "+(0" and len(digits) >= 10:
            yield Detail(match.start, match.end, "phone")
    # Without its leading 0 ("my number's 7700 900123") a number is a phone only after a cue.
    for m in _PHONE_NO_ZERO.finditer(text):
        if 9 <= len(re.sub(r"\D", "", m.group("n"))) <= 10 and not _OTHER_NUMBER.search(
            text[max(0, m.start() - 30) : m.start("n")]
        ):
            yield Detail(m.start("n"), m.end("n"), "phone")


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
    for kind, spans in (
        ("date_of_birth", birth_dates(text)),
        ("vehicle_reg", plates(text)),
        ("social_handle", handles(text)),
    ):
        for start, end in spans:
            yield Detail(start, end, kind)
    yield from _postcodes(text)
    for start, end in addresses(text):
        yield Detail(start, end, "address")
    for start, end in names(text):
        yield Detail(start, end, "name")


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
