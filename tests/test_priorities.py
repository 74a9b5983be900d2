"""Priority scores, pure: Bradley-Terry from pairs, Polis-style consensus from statements."""

from __future__ import annotations

import math
import random

import numpy as np
from scipy.stats import kendalltau

from analysis.priorities import Comparison, Reaction, bradley_terry, score
from conversations.flow.deliberation import plan_pairs


def simulated(truth: dict[int, float], residents: int, pairs: int, seed: int) -> list[Comparison]:
    rng = random.Random(seed)
    votes = []
    for resident in range(residents):
        for a, b in plan_pairs(sorted(truth), pairs, rng, {}):
            p = 1 / (1 + math.exp(truth[b] - truth[a]))
            votes.append(Comparison(str(resident), a, b, 1.0 if rng.random() < p else 0.0))
    return votes


def test_the_ranking_of_200_residents_over_10_themes_is_recovered() -> None:
    truth = {theme: (theme - 5.5) / 3 for theme in range(1, 11)}
    ranked = score(sorted(truth), simulated(truth, 200, 8, seed=3), [], bootstrap=50)
    tau = kendalltau([truth[p.theme] for p in ranked], [p.score for p in ranked]).statistic
    assert tau >= 0.9
    assert all(p.low <= p.score <= p.high for p in ranked)
    assert ranked[0].win_share > 0.5 > ranked[-1].win_share
    assert sum(p.comparisons for p in ranked) == 2 * 200 * 8


def test_ties_are_half_wins_and_scores_stay_finite_when_a_theme_wins_everything() -> None:
    tied = bradley_terry(2, np.array([0, 0]), np.array([1, 1]), np.array([0.5, 0.5]))
    assert np.allclose(tied, 0)
    swept = bradley_terry(3, np.array([0, 0, 0]), np.array([1, 2, 1]), np.array([1.0, 1.0, 1.0]))
    assert np.all(np.isfinite(swept)) and swept[0] > swept[1] and swept[0] > swept[2]
    assert abs(swept.mean()) < 1e-9
    nothing = score([1, 2], [], [])
    assert [p.score for p in nothing] == [0.0, 0.0] and nothing[0].comparisons == 0


def test_common_ground_needs_every_group_and_one_opposed_group_divides() -> None:
    groups = {f"r{i}": {"area": ["north", "south", "central"][i % 3]} for i in range(30)}
    reactions = [Reaction(r, 1, 1) for r in groups]
    reactions += [Reaction(r, 2, -1 if g["area"] == "south" else 1) for r, g in groups.items()]
    reactions += [Reaction(r, 3, 0) for r in groups]
    found = {p.theme: p for p in score([1, 2, 3], [], reactions, groups, bootstrap=0)}
    assert found[1].common_ground and not found[1].divisive
    assert found[2].divisive and found[2].divided_by == ("area",) and not found[2].common_ground
    assert not found[3].common_ground and not found[3].divisive  # everyone passed
    assert found[2].agreement is not None and math.isclose(found[2].agreement, 20 / 30)
    assert found[1].consensus is not None and found[2].consensus is not None
    assert found[1].consensus > found[2].consensus
    assert found[1].statement_votes == 30


def test_small_groups_are_shown_but_not_judged() -> None:
    groups = {f"r{i}": {"age_band": "65-plus" if i == 0 else "18-34"} for i in range(10)}
    reactions = [Reaction(r, 1, -1 if r == "r0" else 1) for r in groups]
    found = score([1], [], reactions, groups, bootstrap=0)[0]
    assert found.common_ground and not found.divisive
    assert {g.group: g.votes for g in found.groups["age_band"]} == {"18-34": 9, "65-plus": 1}
