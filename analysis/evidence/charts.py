"""An evidence pack's pictures, in the digest's style (analysis/digest/charts.py).

Every chart is an SVG image whose text alternative states its figures, and every
figure is also in a table beside it: the chart is for seeing the shape at a glance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from analysis.digest.charts import (
    BLUE,
    Chart,
    coverage,
    styled_figure,
    svg_of,
    theme_sizes,
)
from analysis.digest.data import CoverageDimension, CoverageGroup, ThemeSummary
from analysis.evidence.data import Dimension, ThemeEvidence, Week

WEEKS_DRAWN = 26  # the table gives every week; the picture the last half year


def weekly(label: str, weeks: Sequence[Week]) -> Chart | None:
    """Bars: the theme's answers given each week since the consultation opened."""
    shown = list(weeks[-WEEKS_DRAWN:])
    if len(shown) < 2:
        return None
    names = [w.start.strftime("%d %b") for w in shown]
    with styled_figure(7.5, 3.0) as figure:
        axes = figure.add_subplot()
        bars = axes.bar(names, [w.answers for w in shown], color=BLUE)
        axes.bar_label(bars, padding=2)
        axes.set_ylabel("Answers given")
        axes.set_xlabel("Week starting")
        axes.tick_params(axis="x", labelrotation=45)
        axes.margins(y=0.15)
        svg = svg_of(figure)
    listing = "; ".join(f"week of {n}: {w.answers}" for n, w in zip(names, shown, strict=True))
    return Chart(
        "Answers each week",
        f"Bar chart of the answers in the theme given each week, {names[0]} to {names[-1]}: "
        f"{listing}.",
        svg,
    )


def who(dimension: Dimension) -> Chart | None:
    """Paired bars: the theme's residents by group against the population (the digest's chart)."""
    drawn = coverage(
        CoverageDimension(
            dimension.name,
            tuple(
                CoverageGroup(
                    g.label, g.residents, g.share or 0.0, g.population_share, g.under_heard
                )
                for g in dimension.groups
            ),
            key=dimension.key,
        )
    )
    if drawn is None:
        return None
    return replace(
        drawn,
        title=f"Residents who raised it, by {dimension.name.lower()}, against the population",
        alt=drawn.alt.replace("of respondents", "of its residents"),
    )


def sizes(themes: Sequence[ThemeEvidence]) -> Chart | None:
    """Bars: every reviewed theme by answers (the digest's chart)."""
    ordered = sorted(themes, key=lambda t: (-t.size.answers, t.theme_id))
    return theme_sizes(
        [ThemeSummary(t.theme_id, t.label, t.size.answers, None, "steady") for t in ordered],
        limit=len(ordered),
    )
