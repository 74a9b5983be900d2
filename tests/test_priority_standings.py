"""Ranks say "too close to call" where the votes cannot separate themes (analysis.priorities)."""

from __future__ import annotations

import math

from analysis.priorities import (
    ThemePriority,
    ordinal,
    score,
    standings,
    too_close_to_call,
)
from tests.test_priorities import simulated


def theme(n: int, low: float, high: float) -> ThemePriority:
    return ThemePriority(n, (low + high) / 2, low, high, 0.5, 10, 5.0)


def places(ranked: list[ThemePriority]) -> list[str]:
    return [s.place for s in standings(ranked)]


def test_separate_intervals_rank_plainly() -> None:
    ranked = [theme(1, 1.0, 2.0), theme(2, 0.2, 0.8), theme(3, -2.0, -1.0)]
    assert places(ranked) == ["1st", "2nd", "3rd"]
    assert [s.against_average for s in standings(ranked)] == ["above", "above", "below"]
    assert not too_close_to_call(ranked)


def test_overlapping_intervals_share_a_rank() -> None:
    ranked = [theme(1, 1.0, 2.0), theme(2, 0.5, 1.5), theme(3, -2.0, -1.0), theme(4, -2.5, -0.5)]
    assert places(ranked) == ["joint 1st", "joint 1st", "joint 3rd", "joint 3rd"]


def test_a_chain_of_small_overlaps_does_not_tie_the_top_with_the_bottom() -> None:
    # 2 overlaps 1, 3 overlaps 2 but not 1: 3 starts a band of its own.
    ranked = [theme(1, 0.9, 1.1), theme(2, 0.5, 0.95), theme(3, 0.0, 0.6)]
    assert places(ranked) == ["joint 1st", "joint 1st", "3rd"]


def test_every_interval_spanning_zero_is_too_close_to_call() -> None:
    truth = {1: 0.3, 2: 0.1, 3: -0.1, 4: -0.3}
    ranked = score(sorted(truth), simulated(truth, 8, 3, seed=1), [], bootstrap=100)
    assert all(p.low <= 0 <= p.high for p in ranked)
    assert too_close_to_call(ranked)
    assert set(places(ranked)) == {"joint 1st"}
    assert {s.against_average for s in standings(ranked)} == {"about"}


def test_no_votes_at_all_is_too_close_to_call() -> None:
    ranked = score([1, 2, 3], [], [], bootstrap=0)
    assert all(math.isinf(p.low) for p in ranked) and too_close_to_call(ranked)


def test_many_residents_and_a_clear_order_are_told_apart() -> None:
    truth = {1: 2.0, 2: 0.0, 3: -2.0}
    ranked = score(sorted(truth), simulated(truth, 200, 3, seed=2), [], bootstrap=100)
    assert places(ranked) == ["1st", "2nd", "3rd"]
    assert [p.theme for p in ranked] == [1, 2, 3]


def test_ordinals() -> None:
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st", "111th"
    ]  # fmt: skip
