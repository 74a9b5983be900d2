"""Quotes that show a theme's range (analysis/themes/quote_range.py): the most typical
answer first, then the farthest from those chosen, from groups not yet quoted."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.themes.quote_range import range_quotes

BUSES = [
    "The bus is late every morning",
    "The bus is late again this morning",
    "The bus is always late in the morning",
    "No bus on Sundays to visit my mother in hospital",
    "Bus fares are too expensive for pensioners",
]


def test_the_first_quote_is_the_most_typical_and_the_rest_show_the_range() -> None:
    picked = range_quotes(BUSES, [()] * len(BUSES), limit=3)
    assert picked[0] in (0, 1, 2)  # one of the three that say the usual thing
    # The range: the two answers unlike the centre, not two more "late" ones.
    assert set(picked[1:]) == {3, 4}


def test_a_new_group_wins_over_a_slightly_farther_answer() -> None:
    angles = np.radians([0.0, 10.0, 20.0, 30.0, 38.0])  # the centre is near 20 degrees
    vectors = np.column_stack([np.cos(angles), np.sin(angles)])
    texts = ["a", "b", "c", "d", "e"]
    groups = [("North",), ("North",), ("North",), ("North",), ("South",)]
    without = range_quotes(texts, [()] * 5, limit=2, vectors=vectors)
    with_groups = range_quotes(texts, groups, limit=2, vectors=vectors)
    assert without == [2, 0]  # the centre, then the farthest from it
    assert with_groups == [2, 4]  # nearly as far, and from a group not yet quoted


def test_repeats_are_quoted_once_and_the_limit_holds() -> None:
    texts = ["Damp flat!", "damp flat", "Mould in the bedroom", "Damp, flat."]
    picked = range_quotes(texts, [()] * 4, limit=5)
    assert sorted(picked) == [0, 2]


def test_outliers_past_the_reach_are_left_out() -> None:
    texts = [f"the bus is late on route {n}" for n in range(11)] + ["my cat likes fish"]
    picked = range_quotes(texts, [()] * len(texts), limit=12)
    assert 11 not in picked and len(picked) < len(texts)


def test_texts_with_no_words_to_compare_keep_their_order() -> None:
    assert range_quotes(["the", "and it", "of"], [(), (), ()], limit=2) == [0, 1]
    assert range_quotes([], [], limit=3) == []


def test_groups_must_match_texts() -> None:
    with pytest.raises(ValueError, match="one list of groups per text"):
        range_quotes(["a", "b"], [()])
