"""Server-drawn charts: the geometry of small inline SVG drawings (no JavaScript, no library).

A coverage bar shows a group's share of respondents against its share of the
population; a theme chart ranks themes by size; a trend line follows one theme
over the last runs. The figures are always written out beside them, so the
drawings are for sighted readers and say so to screen readers in one line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from conversations.staff.coverage import GroupCoverage

WIDTH = 160  # px of the whole bar: a share of 100%


@dataclass(frozen=True)
class ShareBar:
    width: float  # the respondents' share, in px
    marker: float | None  # where the population share falls, in px
    under_heard: bool


def share_bar(group: GroupCoverage) -> ShareBar:
    """The bar for one group (shares are fractions of 1)."""
    marker = None
    if group.population_share is not None:
        marker = round(min(group.population_share, 1.0) * WIDTH, 1)
    return ShareBar(
        width=round(min(group.share, 1.0) * WIDTH, 1), marker=marker, under_heard=group.under_heard
    )


# --- theme sizes --------------------------------------------------------------------

CHART_WIDTH = 400  # the viewBox: wide enough for a label line, narrow enough for a phone
BAR_SPACE = 250  # px for the longest bar; its figure and status are written after it
ROW = 52  # a label line, a bar and a gap
LABEL_CHARS = 42  # a longer label is cut in the drawing (the list below has it whole)


@dataclass(frozen=True)
class SizeRow:
    label: str
    size: int
    status: str
    y: int  # the top of this row
    width: float  # the bar's length


@dataclass(frozen=True)
class SizeChart:
    rows: list[SizeRow]
    width: int
    height: int


def size_chart(themes: Sequence[tuple[str, int, str]]) -> SizeChart:
    """Horizontal bars for (label, size, status), in the order given (largest first)."""
    largest = max((size for _, size, _ in themes), default=0) or 1
    rows = [
        SizeRow(
            label=label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1].rstrip() + "…",
            size=size,
            status=status,
            y=index * ROW,
            width=max(round(size / largest * BAR_SPACE, 1), 2.0),
        )
        for index, (label, size, status) in enumerate(themes)
    ]
    return SizeChart(rows=rows, width=CHART_WIDTH, height=max(len(rows) * ROW, ROW))


# --- a theme's trend ------------------------------------------------------------------

TREND_WIDTH = 120
TREND_HEIGHT = 32


@dataclass(frozen=True)
class Trend:
    sizes: list[int]  # oldest run first
    points: str  # the polyline's "x,y x,y ..."
    last: tuple[float, float]  # where the latest run's dot goes


def trend_line(sizes: Sequence[int]) -> Trend | None:
    """A small line of a theme's size over runs; None until there are two runs."""
    if len(sizes) < 2:
        return None
    top = max(sizes) or 1
    step = (TREND_WIDTH - 8) / (len(sizes) - 1)
    coordinates = [
        (round(4 + i * step, 1), round(TREND_HEIGHT - 4 - size / top * (TREND_HEIGHT - 8), 1))
        for i, size in enumerate(sizes)
    ]
    return Trend(
        sizes=list(sizes),
        points=" ".join(f"{x},{y}" for x, y in coordinates),
        last=coordinates[-1],
    )
