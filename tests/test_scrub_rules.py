"""Unit tests for the scrubber's issue 16 part 5 rules, on examples invented for these tests."""

from __future__ import annotations

import pytest

from analysis.personal_details.scrub import find_personal_details

FOUND = [
    # Names: a wider given-name list with a surname, no cue.
    ("the letter went to Wojciech Baranowski by mistake", "Wojciech Baranowski"),
    # Standing alone before an address, a number or the end.
    ("Oluwatobi Adebanjo, 41 Pelham Road, damp everywhere", "Oluwatobi Adebanjo"),
    ("the drains smell again. Teleri Fflur Prydderch.", "Teleri Fflur Prydderch"),
    # Particles, nicknames, a middle name that is a word, surnames shaped like one.
    ("please call Declan Ó Murchú about the flood", "Declan Ó Murchú"),
    ('the caretaker is Gwilym "Gwil" Protheroe', 'Gwilym "Gwil" Protheroe'),
    ("she said to write Edith May Cartwright on it", "Edith May Cartwright"),
    ("the lad upstairs, finn o'halloran, plays drums", "finn o'halloran"),
    ("her name's sadie hartigan and she is 80", "sadie hartigan"),
    # Addresses: a house name before the number, endings that need a number, Welsh houses.
    ("post it to Rose Villa, 7 Bracken Drive, Selby", "Rose Villa, 7 Bracken Drive, Selby"),
    ("we're at 5 Heather Brow, Todmorden now", "5 Heather Brow, Todmorden"),
    ("the farm is Tyddyn Uchaf, Llanegryn and the lane floods", "Tyddyn Uchaf, Llanegryn"),
    ("flat 4, 19 cedar road, rhyl", "flat 4, 19 cedar road, rhyl"),
    ("i'm at 8 elm grove prestatyn ll19 7hh", "8 elm grove prestatyn"),
    # Dates of birth in more forms.
    ("date of birth 1958-11-23 on the form", "1958-11-23"),
    ("dob the 3rd of the 9th 1966", "3rd of the 9th 1966"),
    ("ganwyd hi ar 3ydd o Fawrth 1940", "3ydd o Fawrth 1940"),
]

NOT_FOUND = [
    "The Robert Owen report on housing came out in May.",
    "Ysgol Syr Hugh Owen needs a new roof.",
    "The Dylan Thomas Centre is shut on Mondays.",
    "Tell Marks and Spencer to come back to the high street.",
    "I'm writing to ask for better lighting on the path.",
    "The scheme is called Warm Homes Fund and nobody knows it.",
    "Sept 2023 I applied and Jan 2024 they lost it.",
]


@pytest.mark.parametrize(("text", "span"), FOUND)
def test_finds_the_new_shapes(text: str, span: str) -> None:
    start = text.index(span)
    found = find_personal_details(text)
    assert any(d.start <= start and start + len(span) <= d.end for d in found), found


@pytest.mark.parametrize("text", NOT_FOUND)
def test_leaves_places_organisations_and_words(text: str) -> None:
    assert find_personal_details(text) == []
