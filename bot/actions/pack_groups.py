"""Who is in a group, for an evidence pack: residents by profile answer and source,
against every resident heard and the population.

The rule here is the pack's own, written once: a group is under-heard among a
theme's residents when its share is below half its population share and at least
FEW residents said which group they are in (fewer, and nothing can be said); a
group with fewer than FEW residents is flagged "too few to say". Shares are of
residents whose group the population counts, as conversations/staff/coverage.py
does, so "prefer not to say" does not dilute them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping

from analysis.evidence.data import FEW, Dimension, GroupRow, HeardGroup
from bot.actions.digest_figures import dimension_name
from conversations.flow.script import Script
from conversations.staff.coverage import NOT_SAID, UNDER_HEARD_RATIO
from conversations.staff.theme_evidence import DIRECT

SOURCE = "source"


class Groups:
    """Residents' groups in a consultation, with the script's labels and population."""

    def __init__(
        self, script: Script, profiles: Mapping[int, Mapping[str, str]], sources: Mapping[int, str]
    ) -> None:
        self.script = script
        self.profiles = profiles
        self.sources = sources
        language = script.default_language
        self.dimensions = list(script.profile_dimensions())
        self.labels = {
            (dimension, option.id): option.label.get(language, language)
            for dimension, step in script.profile_dimensions().items()
            for option in step.options
        }

    def group_of(self, resident: int, dimension: str) -> str:
        if dimension == SOURCE:
            return self.sources.get(resident, DIRECT)
        return self.profiles.get(resident, {}).get(dimension) or NOT_SAID

    def label(self, dimension: str, group: str) -> str:
        if group == NOT_SAID:
            return "Not said"
        if dimension == SOURCE and group == DIRECT:
            return "Direct (no partner's link)"
        return self.labels.get((dimension, group), group)

    def said_by(self, resident: int) -> tuple[str, ...]:
        """A resident's groups as labels (for a quote), leaving out what they did not say."""
        found = []
        for dimension in [*self.dimensions, SOURCE]:
            group = self.group_of(resident, dimension)
            if group not in (NOT_SAID, DIRECT, "prefer-not"):
                found.append(self.label(dimension, group))
        return tuple(found)

    def _in_shares(self, dimension: str, group: str) -> bool:
        """Whether a group's residents count in the shares."""
        population = self.script.population.get(dimension, {})
        return group in population if population else group != NOT_SAID

    def _counted(self, dimension: str, counts: Counter[str]) -> tuple[list[str], int]:
        """The groups in order (population's first), and how many residents the shares are of."""
        population = self.script.population.get(dimension, {})
        said = sum(n for group, n in counts.items() if self._in_shares(dimension, group))
        order = list(population) + sorted(g for g in counts if g not in population)
        return order, said

    def dimension(
        self, dimension: str, residents: Collection[int], heard: Collection[int]
    ) -> Dimension:
        """One dimension's groups among a theme's residents."""
        counts = Counter(self.group_of(r, dimension) for r in residents)
        everyone = Counter(self.group_of(r, dimension) for r in heard)
        population = self.script.population.get(dimension, {})
        order, said = self._counted(dimension, counts)
        _, heard_said = self._counted(dimension, everyone)
        rows = []
        for group in order:
            counted = self._in_shares(dimension, group)
            n = counts.get(group, 0)
            share = n / said if said and counted else None
            expected = population.get(group)
            rows.append(
                GroupRow(
                    label=self.label(dimension, group),
                    residents=n,
                    share=share,
                    heard_share=everyone.get(group, 0) / heard_said
                    if heard_said and counted
                    else None,
                    population_share=expected,
                    under_heard=expected is not None
                    and said >= FEW
                    and (share or 0.0) < UNDER_HEARD_RATIO * expected,
                    few=n < FEW,
                )
            )
        name = "Partner or source" if dimension == SOURCE else dimension_name(dimension)
        return Dimension(dimension, name, tuple(rows), said)

    def who(self, residents: Collection[int], heard: Collection[int]) -> tuple[Dimension, ...]:
        return tuple(self.dimension(d, residents, heard) for d in [*self.dimensions, SOURCE])

    def heard(self, heard: Collection[int]) -> tuple[HeardGroup, ...]:
        """Everyone heard, by each profile dimension, against the population."""
        result: list[HeardGroup] = []
        for dimension in self.dimensions:
            found = self.dimension(dimension, heard, heard)
            result.extend(
                HeardGroup(
                    found.name,
                    g.label,
                    g.residents,
                    g.share or 0.0,
                    g.population_share,
                    g.under_heard,
                    g.few,
                )
                for g in found.groups
            )
        return tuple(result)

    def sources_of(self, heard: Collection[int]) -> tuple[tuple[str, int], ...]:
        counts = Counter(self.sources.get(r, DIRECT) for r in heard)
        return tuple(
            (self.label(SOURCE, s), n)
            for s, n in sorted(counts.items(), key=lambda x: (-x[1], x[0]))
        )
