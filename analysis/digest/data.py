"""What a digest says, as plain data: the database side fills it, the renderers read it.

Nothing here knows about the database, Telegram or resident identities: a
DigestData holds counts, theme summaries with scrubbed quotes, coverage shares
and decisions, so the same object renders as the HTML report, the Telegram
summary and the themes CSV.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Change = Literal["new", "growing", "shrinking", "steady"]
TOLERANCE = 0.1  # a share must move by more than a tenth of itself to count as change


def theme_change(size: int, total: int, previous_size: int | None, previous_total: int) -> Change:
    """A theme's change since last week, by its share of themed answers.

    Sizes grow as answers accumulate, so the share (not the count) says whether
    residents raise a theme more or less than before."""
    if not previous_size or not previous_total:
        return "new"
    share, before = size / max(total, 1), previous_size / previous_total
    if share > before * (1 + TOLERANCE):
        return "growing"
    if share < before * (1 - TOLERANCE):
        return "shrinking"
    return "steady"


@dataclass(frozen=True)
class Headline:
    """This week's figures beside last week's (None: nobody started, so no rate)."""

    new_residents: int
    new_residents_before: int
    answers: int
    answers_before: int
    completion_rate: float | None
    completion_rate_before: float | None


@dataclass(frozen=True)
class ThemeSummary:
    theme_id: int  # stable across weeks: officers quote it in /decide
    label: str
    size: int  # answers in the theme (cumulative, from the latest analysis)
    previous_size: int | None  # the same a week earlier (None: not there then)
    change: Change
    domains: tuple[str, ...] = ()
    quotes: tuple[str, ...] = ()  # scrubbed of personal details
    # Who raised it: dimension label -> group label -> residents.
    raised_by: Mapping[str, Mapping[str, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class ThemeTrend:
    """Sizes of the top themes at each weekly analysis, oldest first."""

    dates: tuple[datetime, ...]
    labels: Mapping[int, str]  # theme id -> label, in the order to draw
    sizes: Mapping[int, tuple[int | None, ...]]  # theme id -> one size per date


@dataclass(frozen=True)
class CoverageGroup:
    label: str
    respondents: int
    share: float  # of respondents who said their group
    population_share: float | None
    under_heard: bool
    # "under-heard", "too-few" (may be, the numbers cannot tell) or "ok": the rule is
    # conversations/staff/coverage.py's evidence_of, passed in.
    evidence: str = "ok"

    @property
    def verdict(self) -> str:
        """The group in a word or three, for the report's table."""
        if self.population_share is None:
            return "–"
        return {"under-heard": "Yes", "too-few": "Too few to say"}.get(self.evidence, "No")


@dataclass(frozen=True)
class CoverageDimension:
    name: str  # "Area", "Age band", "Where they came from"
    groups: tuple[CoverageGroup, ...]
    key: str = ""  # the dimension as stored: "area", "source", "channel"


@dataclass(frozen=True)
class Priority:
    """One theme as residents ranked it in a prioritisation (deliberation) round."""

    theme_id: int
    label: str
    support: float  # share of participants who put it in their top choices
    consensus: float | None = None  # 0 (divided) to 1 (agreed), when measured
    place: str = ""  # "1st", "joint 2nd" (analysis.priorities.standings)
    joint: bool = False  # too close to call with another theme


@dataclass(frozen=True)
class Priorities:
    round_number: int
    participants: int
    items: tuple[Priority, ...]
    too_close_to_call: bool = False  # the votes separate no theme from the rest


@dataclass(frozen=True)
class DecisionNote:
    theme_id: int
    theme_label: str
    text: str
    decided_at: datetime
    residents_told: int
    status: str = "agreed"  # agreed | under_way | done | not_going_ahead
    status_note: str = ""  # the officers' public note on it, if any

    @property
    def status_name(self) -> str:
        """The status as the report says it: "under way", "not going ahead"."""
        return self.status.replace("_", " ")


@dataclass(frozen=True)
class DigestData:
    consultation_slug: str
    consultation_title: str
    period_start: datetime  # aware, in the digest's time zone
    period_end: datetime
    headline: Headline
    round_label: str = ""  # e.g. "Round 1 (open)"
    themes: tuple[ThemeSummary, ...] = ()
    # Where the themes come from, or why there are none (said in the report).
    analysis_note: str = ""
    trend: ThemeTrend | None = None
    coverage: tuple[CoverageDimension, ...] = ()
    decisions: tuple[DecisionNote, ...] = ()
    # Filled once a prioritisation round exists; None says "no priorities yet".
    priorities: Priorities | None = None

    @property
    def nothing_new(self) -> bool:
        """A quiet week: no answers, no new residents and no decisions."""
        return (
            self.headline.answers == 0 and self.headline.new_residents == 0 and not self.decisions
        )

    def under_heard(self) -> list[tuple[str, CoverageGroup]]:
        return [(d.name, g) for d in self.coverage for g in d.groups if g.under_heard]

    def too_few_to_say(self) -> list[tuple[str, CoverageGroup]]:
        return [(d.name, g) for d in self.coverage for g in d.groups if g.evidence == "too-few"]

    def channels(self) -> tuple[CoverageGroup, ...]:
        """Residents by the channel they came through (no population share to compare)."""
        return next((d.groups for d in self.coverage if d.key == "channel"), ())
