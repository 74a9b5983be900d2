"""Priority scores from residents' votes: Bradley-Terry for pairs, Polis-style consensus.

Pure: plain data in, plain data out (numpy only). Pairwise votes ("which matters
more?") give each theme a Bradley-Terry strength, fitted by Hunter's MM algorithm
with "both the same" as half a win each way and "can't say" left out. A weak prior
(one tied pseudo-comparison per theme) keeps every strength finite when a theme
has won or lost everything. Intervals come from resampling residents
(a bootstrap), since one resident's votes are not independent of each other.

Statements (agree / disagree / pass) give each theme its agreement, overall and
within each group of each profile dimension (area, age band). As Polis does, a
group's agreement is smoothed, (1 + agrees) / (2 + votes), and consensus is the
product over groups (here its geometric mean, so that it reads 0 to 1 whatever
the number of groups): a theme is common ground only if every group agrees, and
divisive when one group agrees and another does not.

Ranks are honest about the uncertainty (`standings`): themes whose intervals
overlap share a rank ("joint 2nd") and are said to be "too close to call", and a
theme whose interval spans 0 is not called above or below an average theme. This
is the one place for that rule; the dashboard, the digest, the public results and
the command line read it from here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from math import exp, log

import numpy as np

PRIOR = 1.0  # tied pseudo-comparisons per theme, so that no strength runs off to 0 or infinity
COMMON_GROUND = 0.6  # every group's agreement at least this
DIVIDED_GAP = 0.3  # one group's agreement this far above another's
MIN_GROUP_VOTES = 3  # smaller groups are shown but not judged
TOO_CLOSE = "too close to call"


@dataclass(frozen=True)
class Comparison:
    """One resident's answer on a pair: outcome 1 (first matters more), 0 (second), 0.5 (same)."""

    resident: str
    first: int
    second: int
    outcome: float


@dataclass(frozen=True)
class Reaction:
    """One resident's stance on a theme's statement: 1 agree, -1 disagree, 0 pass."""

    resident: str
    theme: int
    stance: int


@dataclass(frozen=True)
class GroupAgreement:
    group: str
    votes: int
    agree: int
    disagree: int
    agreement: float  # smoothed: (1 + agree) / (2 + votes)


@dataclass(frozen=True)
class ThemePriority:
    theme: int
    score: float  # log Bradley-Terry strength; 0 is an average theme
    low: float  # 95% bootstrap interval of the score
    high: float
    win_share: float  # chance it is preferred to another theme picked at random, by the model
    comparisons: int  # pair votes behind the score (can't-say not counted)
    wins: float  # of those, won (ties as half)
    agree: int = 0
    disagree: int = 0
    passes: int = 0
    agreement: float | None = None  # share of statement votes that agree (None: no votes)
    consensus: float | None = None  # 0 to 1: geometric mean of the groups' agreement
    common_ground: bool = False
    divisive: bool = False
    divided_by: tuple[str, ...] = ()  # the dimensions whose groups disagree
    groups: Mapping[str, tuple[GroupAgreement, ...]] = field(default_factory=dict)

    @property
    def statement_votes(self) -> int:
        return self.agree + self.disagree + self.passes


def bradley_terry(n_themes: int, first: np.ndarray, second: np.ndarray, outcome: np.ndarray,
                  weight: np.ndarray | None = None, *, prior: float = PRIOR,
                  start: np.ndarray | None = None, max_iter: int = 5000,
                  tol: float = 1e-8) -> np.ndarray:  # fmt: skip
    """Log strengths (mean 0) of themes 0..n-1 from comparisons as index arrays, by MM.

    The prior spreads `prior` tied pseudo-comparisons per theme over the others.
    `start` (log strengths, e.g. the full fit when bootstrapping) speeds convergence."""
    if n_themes < 2:
        return np.zeros(n_themes)  # nothing to compare a lone theme with
    w = np.ones(len(first)) if weight is None else weight
    won = np.bincount(first, w * outcome, n_themes) + np.bincount(
        second, w * (1 - outcome), n_themes
    )
    games = np.zeros((n_themes, n_themes))
    np.add.at(games, (first, second), w)
    spread = prior / max(n_themes - 1, 1)
    games = games + games.T + spread * (1 - np.eye(n_themes))
    wins = np.asarray(won, dtype=float) + prior / 2
    strength = np.ones(n_themes) if start is None else np.exp(start)
    for _ in range(max_iter):
        updated = wins / (games / (strength[:, None] + strength[None, :])).sum(axis=1)
        updated /= np.exp(np.mean(np.log(updated)))  # only differences matter: fix the mean
        change = float(np.max(np.abs(np.log(updated) - np.log(strength))))
        strength = updated
        if change < tol:
            break
    scores: np.ndarray = np.log(strength)
    return scores


def score(themes: Sequence[int], comparisons: Sequence[Comparison], reactions: Sequence[Reaction],
          groups: Mapping[str, Mapping[str, str]] | None = None, *, bootstrap: int = 200,
          random_state: int = 0) -> list[ThemePriority]:  # fmt: skip
    """Every theme's priority, highest score first.

    `groups` maps a resident to their group in each profile dimension
    ({"area": "north", "age_band": "18-34"}); residents not in it count overall only."""
    index = {theme: i for i, theme in enumerate(themes)}
    used = [
        c for c in comparisons if c.first in index and c.second in index and c.first != c.second
    ]
    first = np.array([index[c.first] for c in used], dtype=int)
    second = np.array([index[c.second] for c in used], dtype=int)
    outcome = np.array([c.outcome for c in used], dtype=float)
    scores = bradley_terry(len(themes), first, second, outcome)
    low, high = _intervals(used, first, second, outcome, scores, bootstrap, random_state)
    wins = np.bincount(first, outcome, len(themes)) + np.bincount(second, 1 - outcome, len(themes))
    games = np.bincount(first, minlength=len(themes)) + np.bincount(second, minlength=len(themes))
    strengths = np.exp(scores)
    stances = _stances(index, reactions, groups or {})
    result = []
    for i, theme in enumerate(themes):
        others = np.delete(strengths, i)
        share = float(np.mean(strengths[i] / (strengths[i] + others))) if len(others) else 0.5
        result.append(
            _with_agreement(
                ThemePriority(
                    theme=theme,
                    score=float(scores[i]),
                    low=float(low[i]),
                    high=float(high[i]),
                    win_share=share,
                    comparisons=int(games[i]),
                    wins=float(wins[i]),
                ),
                stances.get(theme, {}),
            )
        )
    return sorted(result, key=lambda p: (-p.score, p.theme))


def _intervals(used: Sequence[Comparison], first: np.ndarray, second: np.ndarray,
               outcome: np.ndarray, fitted: np.ndarray, bootstrap: int, random_state: int
               ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """95% intervals by resampling whole residents (their votes travel together)."""
    n_themes = len(fitted)
    residents = sorted({c.resident for c in used})
    if not residents or bootstrap < 2:
        return np.full(n_themes, -np.inf), np.full(n_themes, np.inf)
    of_resident = {r: i for i, r in enumerate(residents)}
    owner = np.array([of_resident[c.resident] for c in used], dtype=int)
    rng = np.random.default_rng(random_state)
    samples = np.empty((bootstrap, n_themes))
    for b in range(bootstrap):
        drawn = np.bincount(
            rng.integers(0, len(residents), len(residents)), minlength=len(residents)
        )
        weight = drawn[owner].astype(float)
        samples[b] = bradley_terry(n_themes, first, second, outcome, weight, start=fitted)
    low: np.ndarray = np.percentile(samples, 2.5, axis=0)
    high: np.ndarray = np.percentile(samples, 97.5, axis=0)
    return low, high


_Tally = dict[str, list[int]]  # group -> [agree, disagree, pass]


def _stances(index: Mapping[int, int], reactions: Sequence[Reaction],
             groups: Mapping[str, Mapping[str, str]]) -> dict[int, dict[str, _Tally]]:  # fmt: skip
    """theme -> dimension ("" for everyone) -> group -> [agree, disagree, pass]."""
    tallies: dict[int, dict[str, _Tally]] = defaultdict(lambda: defaultdict(dict))
    column = {1: 0, -1: 1, 0: 2}
    for reaction in reactions:
        if reaction.theme not in index or reaction.stance not in column:
            continue
        places = [("", "all"), *groups.get(reaction.resident, {}).items()]
        for dimension, group in places:
            tally = tallies[reaction.theme][dimension].setdefault(group, [0, 0, 0])
            tally[column[reaction.stance]] += 1
    return tallies


def _with_agreement(priority: ThemePriority, tally: Mapping[str, _Tally]) -> ThemePriority:
    agree, disagree, passes = tally.get("", {}).get("all", [0, 0, 0])
    votes = agree + disagree + passes
    if not votes:
        return priority
    by_dimension: dict[str, tuple[GroupAgreement, ...]] = {}
    for dimension, counts in sorted(tally.items()):
        if dimension:
            by_dimension[dimension] = tuple(
                GroupAgreement(group, sum(c), c[0], c[1], (1 + c[0]) / (2 + sum(c)))
                for group, c in sorted(counts.items())
            )
    judged = {
        dimension: [g for g in found if g.votes >= MIN_GROUP_VOTES]
        for dimension, found in by_dimension.items()
    }
    everyone = [GroupAgreement("all", votes, agree, disagree, (1 + agree) / (2 + votes))]
    pooled = [g for found in judged.values() for g in found] or everyone
    consensus = min(
        (_geometric_mean([g.agreement for g in found]) for found in judged.values() if found),
        default=everyone[0].agreement,
    )
    divided_by = tuple(
        dimension
        for dimension, found in judged.items()
        if len(found) >= 2
        and max(g.agreement for g in found) - min(g.agreement for g in found) >= DIVIDED_GAP
    )
    return ThemePriority(
        **{
            k: getattr(priority, k)
            for k in ("theme", "score", "low", "high", "win_share", "comparisons", "wins")
        },
        agree=agree,
        disagree=disagree,
        passes=passes,
        agreement=agree / votes,
        consensus=consensus,
        common_ground=all(g.agreement >= COMMON_GROUND for g in pooled) and not divided_by,
        divisive=bool(divided_by),
        divided_by=divided_by,
        groups=by_dimension,
    )


def _geometric_mean(values: Sequence[float]) -> float:
    return exp(sum(log(v) for v in values) / len(values))


@dataclass(frozen=True)
class Standing:
    """Where a theme stands, as far as the votes can tell."""

    rank: int  # shared by every theme in its band
    joint: bool  # shares its rank with another theme: too close to call
    against_average: str  # "above", "below" or "about" an average theme (score 0)

    @property
    def place(self) -> str:
        """ "1st", or "joint 2nd" where the votes cannot separate it from another."""
        return ("joint " if self.joint else "") + ordinal(self.rank)


def standings(ranked: Sequence[ThemePriority]) -> list[Standing]:
    """Rank bands for themes given highest score first, one Standing each, in order.

    A theme joins the band above it when its 95% interval overlaps the interval of
    that band's first theme: the votes cannot say it matters less. Comparing with
    the band's first theme, not the theme just above, stops a long chain of small
    overlaps from tying the top theme with the bottom one. Overlapping intervals are
    a cautious test (two themes can differ even when their intervals touch), and
    caution is right here: officers would rather hear "too close to call" than act
    on an order that is chance. Without intervals (no votes) every theme overlaps."""
    bands: list[list[int]] = []
    for i, priority in enumerate(ranked):
        if bands and priority.high >= ranked[bands[-1][0]].low:
            bands[-1].append(i)
        else:
            bands.append([i])
    result: list[Standing | None] = [None] * len(ranked)
    for band in bands:
        for i in band:
            result[i] = Standing(band[0] + 1, len(band) > 1, _against_average(ranked[i]))
    return [s for s in result if s is not None]


def too_close_to_call(ranked: Sequence[ThemePriority]) -> bool:
    """No theme can be told apart from the rest: every one shares the first rank."""
    return len(ranked) > 1 and all(s.rank == 1 for s in standings(ranked))


def _against_average(priority: ThemePriority) -> str:
    if priority.low > 0:
        return "above"
    if priority.high < 0:
        return "below"
    return "about"


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, ... 11th, 12th, 13th, ... 21st."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
