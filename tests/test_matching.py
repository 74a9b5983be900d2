"""Typed words matched to buttons (conversations/flow/matching.py): one button or none."""

from __future__ import annotations

import pytest

from conversations.flow.matching import match, parts

AREA = [
    ("north", ["North (Hillside, Oakfield)", "Gogledd (Hillside, Oakfield)", "north"]),
    ("south", ["South (Marsh End, Brookvale)", "De (Marsh End, Brookvale)", "south"]),
    ("prefer-not", ["Prefer not to say", "Mae'n well gen i beidio â dweud", "prefer not"]),
]
CONSENT = [
    (True, ["Yes, I'm happy to take part", "Ydw, rwy'n hapus i gymryd rhan", "yes"]),
    (False, ["No thanks", "Dim diolch", "no"]),
]
AFFECTS = [
    ("family", ["My family or household", "Fy nheulu neu fy aelwyd"]),
    ("neighbours", ["Neighbours or my street", "Cymdogion neu fy stryd"]),
    ("older", ["Older people", "Pobl hŷn"]),
]


@pytest.mark.parametrize(
    ("typed", "choices", "expected"),
    [
        ("south", AREA, "south"),
        ("  SOUTH! ", AREA, "south"),
        ("Marsh End", AREA, "south"),
        ("de", AREA, "south"),  # Welsh, in any conversation language
        ("hillside", AREA, "north"),
        ("prefer not", AREA, "prefer-not"),
        ("yes ok", CONSENT, True),
        ("ydw", CONSENT, True),
        ("ok", CONSENT, True),
        ("dim diolch", CONSENT, False),
        ("no thanks", CONSENT, False),
        ("na", CONSENT, False),
        ("hyn", AFFECTS, "older"),  # without the circumflex
        ("family", AFFECTS, "family"),
        # Nothing guessed: words in two labels, common words, politeness alone, other words.
        ("my", AFFECTS, None),
        ("or", AFFECTS, None),
        ("thanks", CONSENT, None),
        ("brookvale hillside", AREA, None),
        ("the buses are late", AREA, None),
        ("", AREA, None),
    ],
)
def test_typed_words_name_one_button_or_none(
    typed: str, choices: list[tuple[object, list[str]]], expected: object
) -> None:
    assert match(typed, choices) == expected


def test_several_options_typed_at_once() -> None:
    assert parts("family, neighbours and older people") == ["family", "neighbours", "older people"]
    assert parts("fy nheulu a'r stryd") == ["fy nheulu", "stryd"]
