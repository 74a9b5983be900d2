"""Tests for analysis.personal_details.scrub: each kind, ordinary answers, readability, recall floor, properties."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.personal_details.scrub import Detail, find_personal_details, scrub

DATA = Path(__file__).parent / "data" / "pii_labelled.jsonl"

EXAMPLES = [
    ("email me at jo.bloggs99@gmail.com please", "email", "jo.bloggs99@gmail.com"),
    ("my mobile is 07700 900123", "phone", "07700 900123"),
    ("or +44 7700 900123 from abroad", "phone", "+44 7700 900123"),
    ("landline 020 7946 0958", "phone", "020 7946 0958"),
    ("surgery on (0161) 496 0000 never answers", "phone", "(0161) 496 0000"),
    ("my cousin in Dublin: +353 87 123 4567", "phone", "+353 87 123 4567"),
    ("postcode SW1A 1AA", "postcode", "SW1A 1AA"),
    ("we're in cf10 3nq", "postcode", "cf10 3nq"),
    ("anyone in the BS5 area knows", "postcode", "BS5"),
    ("I live at 12 Acacia Avenue now", "address", "12 Acacia Avenue"),
    ("Flat 3, 45 High St is above the chippy", "address", "Flat 3, 45 High St"),
    ("NHS number 943 476 5919", "nhs_number", "943 476 5919"),
    ("NI number AB 12 34 56 C", "ni_number", "AB 12 34 56 C"),
    ("card 4111 1111 1111 1111 was charged", "card_number", "4111 1111 1111 1111"),
    ("see https://example.org/petition?id=4 for more", "url", "https://example.org/petition?id=4"),
    ("my name is Sarah Thompson", "name", "Sarah Thompson"),
    ("Dr Patel is lovely", "name", "Dr Patel"),
    ("my neighbour Dave dumps rubbish", "name", "Dave"),
    ("I'm Gareth from Pontypridd", "name", "Gareth"),
    # Issue 16: dates of birth, plates, handles, Welsh streets and names without cues.
    ("dob: 03/11/1958 and the GP never calls back", "date_of_birth", "03/11/1958"),
    ("I was born on 2nd March 1961, I need a carer", "date_of_birth", "2nd March 1961"),
    ("ganwyd 9 Gorffennaf 1948, dw i angen help", "date_of_birth", "9 Gorffennaf 1948"),
    ("the white van KL19 WRT parks on the pavement", "vehicle_reg", "KL19 WRT"),
    ("my car is y482 hdn and the bay is always taken", "vehicle_reg", "y482 hdn"),
    ("DM me @huw_the_bus if you need more", "social_handle", "@huw_the_bus"),
    ("add me on snapchat ceri.lou02 thanks", "social_handle", "ceri.lou02"),
    ("Mam lives at 14 Heol y Felin, Tonypandy now", "address", "14 Heol y Felin, Tonypandy"),
    ("we moved to 3 maes y coed last year", "address", "3 maes y coed"),
    ("send it to Bryn Haul, Lôn Goch please", "address", "Bryn Haul, Lôn Goch"),
    ("put it under Will Bishop", "name", "Will Bishop"),
    ("the bins are never emptied. Gwenllian ap Rhys", "name", "Gwenllian ap Rhys"),
    ("cheers, haf morgan-jones", "name", "haf morgan-jones"),
    ("Nerys O'Connor here, the lift is broken", "name", "Nerys O'Connor"),
    ("please ask mr o'brien", "name", "mr o'brien"),
    ("ta, bryn", "name", "bryn"),
    ("text me, my number's 7700 900456", "phone", "7700 900456"),
    ("my date of birth is the 4th of May 1949", "date_of_birth", "4th of May 1949"),
]

ORDINARY = [
    "The bloody buses are always late and the 38 never comes on a Sunday.",
    "Bath is lovely but parking costs a fortune.",
    "Reading has better buses than we do.",
    "May I suggest weekly bin collections?",
    "I waited 45 minutes on London Road for the number 12 bus.",
    "The M6 is gridlocked and the A14 is no better.",
    "I've paid £1,250 a month since 2019, reference 2024/00123.",
    "My B12 injections keep getting cancelled at the GP.",
    "I'm fed up, I'm Welsh, and I'm 67.",
    "Monday and Thursday would suit me, or Sunday.",
    "The survey code 123 456 7890 didn't work.",
    "Victoria Park and Charles Street need more bins.",
    "Council tax went up 4.99%, i.e. far too much.",
    "My son's school has no crossing patrol.",
    "Rose Hill estate has no play area and the 23 bus stops at 6.",
    "Hope the council reads this, the A470 is a car park at 5pm.",
    "The fair is on 12/08/2026 and tickets are £2.50 each way.",
    "Meet @ the library on Heol y Felin, it's grand.",
    "We need more buses on the B4436 and the M4 junction 33.",
    "the kids love the Dawn Field play area",
]


@pytest.mark.parametrize(("text", "kind", "span"), EXAMPLES)
def test_finds_each_kind(text: str, kind: str, span: str) -> None:
    found = find_personal_details(text)
    assert Detail(text.index(span), text.index(span) + len(span), kind) in found


@pytest.mark.parametrize("text", ORDINARY)
def test_no_false_positives_on_ordinary_answers(text: str) -> None:
    assert find_personal_details(text) == []
    assert scrub(text) == text


def test_check_digits_reject_lookalikes() -> None:
    assert find_personal_details("NHS number 943 476 5918") == []  # bad modulus-11 digit
    assert find_personal_details("card 4111 1111 1111 1112") == []  # fails Luhn
    assert find_personal_details("NI number GB 12 34 56 C") == []  # unallocated prefix


def test_scrubbed_text_stays_readable() -> None:
    text = "My name is Sarah, I live at 12 Acacia Avenue, LS6 2QT and the bins are late."
    expected = "My name is [name], I live at [address], [postcode] and the bins are late."
    assert scrub(text) == expected


def _recall_and_precision() -> tuple[float, float]:
    tp = fn = fp = 0
    for line in DATA.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        found = find_personal_details(row["text"])
        for g in row["details"]:
            if any(f.start <= g["start"] and g["end"] <= f.end for f in found):
                tp += 1
            else:
                fn += 1
        fp += sum(
            not any(f.start < g["end"] and g["start"] < f.end for g in row["details"])
            for f in found
        )
    return tp / (tp + fn), tp / (tp + fp)


def test_recall_and_precision_on_labelled_set() -> None:
    # Measured 100% recall and 99.7% precision over dev+test; floors sit just under.
    recall, precision = _recall_and_precision()
    assert recall >= 0.98
    assert precision >= 0.98


EMAIL_LIKE = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
words = st.lists(st.sampled_from(["the", "bins", "are", "late", "call", "me", "on", "or", "at"]))
emails = st.from_regex(r"[a-z][a-z0-9._]{0,10}@[a-z]{2,8}\.(com|co\.uk|org)", fullmatch=True)
phones = st.builds(
    lambda d, fmt: fmt.format(d[:4], d[4:]),
    st.text("0123456789", min_size=10, max_size=10).map(lambda s: "7" + s[1:]),
    st.sampled_from(["0{} {}", "+44 {} {}", "0{}{}", "(0{}) {}"]),
)


@settings(max_examples=150, deadline=None)
@given(st.text())
def test_scrub_never_raises_and_is_idempotent(text: str) -> None:
    once = scrub(text)
    assert scrub(once) == once


@settings(max_examples=150, deadline=None)
@given(words, emails, phones, words)
def test_scrub_leaves_no_email_or_phone(
    before: list[str], email: str, phone: str, after: list[str]
) -> None:
    text = " ".join([*before, email, "or", phone, *after])
    out = scrub(text)
    assert not EMAIL_LIKE.search(out)
    assert re.sub(r"\D", "", phone)[-9:] not in re.sub(r"\D", "", out)
