"""Coverage flags a group only when the evidence supports it, and says when numbers are too small."""

from __future__ import annotations

from collections import Counter

import pytest

from conversations.staff.coverage import (
    MIN_RESPONDENTS,
    _groups,
    evidence_of,
    wilson_upper,
)

POPULATION = {"north": 0.34, "central": 0.30, "south": 0.36}


def by_group(counts: dict[str, int]) -> dict[str, str]:
    return {g.group: g.evidence for g in _groups(Counter(counts), {}, POPULATION)}


def test_wilson_upper_bound_matches_the_formula_s_known_values() -> None:
    # 0 of 10: the textbook interval is [0, 0]; Wilson's reaches 0.278.
    assert wilson_upper(0, 10) == pytest.approx(0.2775, abs=1e-4)
    assert wilson_upper(5, 10) == pytest.approx(0.7634, abs=1e-4)
    assert wilson_upper(10, 10) == 1.0
    assert wilson_upper(0, 0) == 1.0


def test_three_respondents_flag_nobody_and_say_too_few() -> None:
    evidence = by_group({"north": 3})  # nobody from the centre or the south
    assert evidence == {"north": "too-few", "central": "too-few", "south": "too-few"}
    assert not any(g.under_heard for g in _groups(Counter({"north": 3}), {}, POPULATION))


def test_a_large_clear_gap_is_flagged() -> None:
    evidence = by_group({"north": 60, "central": 35, "south": 5})  # south: 5% against 36%
    assert evidence == {"north": "ok", "central": "ok", "south": "under-heard"}


def test_the_same_share_is_too_few_to_say_in_a_small_round_and_flagged_in_a_larger_one() -> None:
    # 6.7% against 20%: below half. Of 30 residents the gap may be chance; of 60 it is not.
    assert evidence_of(2, 30, 0.20) == "too-few"
    assert wilson_upper(2, 30) >= 0.20
    assert evidence_of(4, 60, 0.20) == "under-heard"
    assert wilson_upper(4, 60) < 0.20


def test_the_minimum_holds_even_where_the_interval_alone_would_flag() -> None:
    # 0 of 29 against 90%: the interval's top (0.12) is far below, but the round is small.
    assert MIN_RESPONDENTS == 30
    assert wilson_upper(0, MIN_RESPONDENTS - 1) < 0.9
    assert evidence_of(0, MIN_RESPONDENTS - 1, 0.9) == "too-few"
    assert evidence_of(0, MIN_RESPONDENTS, 0.9) == "under-heard"


def test_a_group_at_half_its_population_share_is_heard() -> None:
    assert evidence_of(18, 100, 0.36) == "ok"  # 18% is half of 36%: no gap worth acting on
    assert evidence_of(17, 100, 0.36) == "under-heard"
    assert evidence_of(5, 100, None) == "ok"  # no population figure: nothing to compare
