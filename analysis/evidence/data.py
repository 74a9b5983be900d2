"""What an evidence pack says, as plain data: bot/actions/pack_figures.py fills it,
the renderers (HTML, PDF, CSV, XLSX) read it.

A pack is a needs assessment of one reviewed theme, or of the whole consultation
(every reviewed theme in brief, with what cuts across them). Nothing here names a
resident: counts, group labels, shares, and quotes already scrubbed of personal
details. Each figure carries the flags the text needs to be honest about it
("too few to say", "too close to call"), decided once, where the figures are made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

FEW = 10  # fewer residents than this in a group: shown, but "too few to say"


@dataclass(frozen=True)
class Quote:
    text: str  # scrubbed of personal details
    said_by: tuple[str, ...]  # the speaker's groups as labels ("North", "35 to 64", ...)
    typical: bool  # the answer nearest the theme's centre; the others show its range


@dataclass(frozen=True)
class GroupRow:
    """One group of one profile dimension (or source), among a theme's residents."""

    label: str
    residents: int  # residents in the theme who said they are in this group
    share: float | None  # of the theme's residents who said which group (None: nobody said)
    heard_share: float | None  # the same group's share of every resident heard
    population_share: float | None  # from the consultation's script (None: not counted)
    under_heard: bool  # in the theme: share below half the population share, with enough said
    few: bool  # fewer than FEW residents: too few to say


@dataclass(frozen=True)
class Dimension:
    key: str  # "area", "age_band", "source", ...
    name: str  # "Area"
    groups: tuple[GroupRow, ...]
    said: int  # residents in the theme who answered this question (not "not said")

    @property
    def under_heard(self) -> tuple[str, ...]:
        return tuple(g.label for g in self.groups if g.under_heard)

    @property
    def population_known(self) -> bool:
        return any(g.population_share is not None for g in self.groups)


@dataclass(frozen=True)
class Week:
    start: date  # the Monday
    answers: int  # given that week, now in the theme
    residents: int  # residents who gave them


@dataclass(frozen=True)
class Size:
    answers: int  # in the theme (primary or further theme)
    residents: int
    share_of_answers: float  # of every themed answer
    share_of_residents: float  # of every resident heard
    weeks: tuple[Week, ...] = ()  # since the consultation opened, oldest first

    @property
    def direction(self) -> str:
        """The last two full weeks compared, in words ("" when there is too little to say)."""
        if len(self.weeks) < 3:
            return ""
        before, last = self.weeks[-3].answers, self.weeks[-2].answers
        if before + last < FEW:
            return "too few answers a week to say how it is moving"
        if last > before * 1.2:
            return "rising"
        if last < before * 0.8:
            return "falling"
        return "steady"


@dataclass(frozen=True)
class Alongside:
    """Another theme the same residents raised."""

    theme_id: int
    label: str
    residents: int  # who raised both
    share: float  # of this theme's residents


@dataclass(frozen=True)
class GroupAgreement:
    dimension: str  # "Area"
    label: str
    votes: int
    agree: int
    few: bool


@dataclass(frozen=True)
class Priority:
    """What residents made of the theme in the latest prioritise round."""

    round_number: int
    participants: int
    rank: int
    ranked: int  # themes in the ranking
    win_share: float  # the chance it is preferred to another theme
    score: float
    low: float  # 95% interval of the score
    high: float
    comparisons: int
    close_to: tuple[str, ...]  # themes whose intervals overlap this one's
    agreement: float | None
    statement_votes: int
    consensus: float | None
    common_ground: bool
    divided_by: tuple[str, ...]  # dimension names whose groups disagree
    groups: tuple[GroupAgreement, ...] = ()

    @property
    def verdict(self) -> str:
        """Where it stands, in plain words."""
        if self.participants < FEW:
            return f"Too few to say: only {self.participants} residents prioritised the themes."
        if self.close_to:
            return "Too close to call with " + ", ".join(self.close_to) + "."
        return f"Clearly ranked {self.rank} of {self.ranked}."


@dataclass(frozen=True)
class DecisionRow:
    text: str
    decided_at: datetime
    residents_told: int
    status: str  # as staff read it: agreed, under way, done, not going ahead
    status_note: str


@dataclass(frozen=True)
class ThemeEvidence:
    theme_id: int
    label: str
    summary: str  # a short plain summary built from the answers
    keywords: tuple[str, ...]
    quotes: tuple[Quote, ...]
    size: Size
    who: tuple[Dimension, ...]  # profile dimensions, then source
    services: tuple[str, ...]
    alongside: tuple[Alongside, ...]  # most co-raised first
    priority: Priority | None
    decisions: tuple[DecisionRow, ...]
    limits: tuple[str, ...]

    @property
    def partners(self) -> Dimension | None:
        return next((d for d in self.who if d.key == "source"), None)


@dataclass(frozen=True)
class HeardGroup:
    """A group across the whole consultation, against the population."""

    dimension: str
    label: str
    residents: int
    share: float
    population_share: float | None
    under_heard: bool
    few: bool


@dataclass(frozen=True)
class EvidencePack:
    slug: str
    title: str
    made_at: datetime
    opened_at: datetime | None  # when the first round opened
    analysed_at: datetime | None  # the analysis whose themes these are
    residents: int  # heard: gave at least one answer that is read for themes
    answers: int  # read for themes
    unthemed: int  # answers in no theme yet
    proposed: int  # answers only in proposed themes, not reviewed ones
    since_analysis: int  # answers given since the analysis
    themes: tuple[ThemeEvidence, ...]
    heard: tuple[HeardGroup, ...]
    sources: tuple[tuple[str, int], ...]  # (source, residents), largest first
    limits: tuple[str, ...]
    theme_id: int | None = None  # one theme's pack; None: the whole consultation
    # The whole consultation's cross-cutting tables.
    services: tuple[str, ...] = ()  # every service any theme touches
    co_raised: tuple[tuple[int, tuple[int, ...]], ...] = field(default=())  # theme -> residents

    @property
    def whole(self) -> bool:
        return self.theme_id is None

    @property
    def heading(self) -> str:
        if self.whole:
            return f"Evidence pack: {self.title}"
        return f"Evidence pack: {self.themes[0].label}"

    def file_stem(self) -> str:
        part = "all" if self.whole else f"theme-{self.theme_id}"
        return f"evidence-{self.slug}-{part}-{self.made_at:%Y-%m-%d}"
