"""Server-drawn charts: the geometry of small inline SVG bars (no JavaScript, no library).

A coverage bar shows a group's share of respondents against its share of the
population; the figures are always in the table beside it, so the drawing is
decoration for sighted readers and hidden from screen readers.
"""

from __future__ import annotations

from dataclasses import dataclass

from conversations.coverage import GroupCoverage

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
