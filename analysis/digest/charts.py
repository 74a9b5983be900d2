"""The digest's pictures, drawn on the server with matplotlib (Agg, no network).

Each chart is an SVG image with a text alternative that states what it shows,
so a screen reader (or a printout without colour) loses nothing; the report
also gives every figure in a table. Colours are the Okabe-Ito palette, which
stays distinct with colour-blindness, and series also differ by hatching or
line style and marker, never by colour alone.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from analysis.digest.data import CoverageDimension, ThemeSummary, ThemeTrend

if TYPE_CHECKING:
    from matplotlib.figure import Figure

BLUE, ORANGE, GREEN, PINK, SKY, VERMILLION, BLACK = (
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000",
)  # fmt: skip
LINES = [(BLUE, "-", "o"), (VERMILLION, "--", "s"), (GREEN, "-.", "^"), (PINK, ":", "D"),
         (BLACK, "-", "v")]  # fmt: skip
STYLE: dict[Any, Any] = {
    "svg.fonttype": "none",  # text stays text: smaller, selectable, scales in print
    "svg.hashsalt": "needsfirst",  # the same data draws the same file
    "font.family": ["DejaVu Sans", "sans-serif"],
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


@dataclass(frozen=True)
class Chart:
    title: str
    alt: str  # the text alternative: what a reader who cannot see it needs
    svg: str

    @property
    def data_uri(self) -> str:
        encoded = base64.b64encode(self.svg.encode("utf-8")).decode("ascii")
        return f"data:image/svg+xml;base64,{encoded}"


@contextmanager
def styled_figure(width: float, height: float) -> Iterator[Figure]:
    """A figure in the digest's style. matplotlib is imported at the first chart: it takes
    most of a second, which commands that draw nothing should not pay."""
    import matplotlib
    from matplotlib.figure import Figure

    matplotlib.use("Agg")  # before anything imports pyplot: no display, no GUI toolkit
    with matplotlib.rc_context(STYLE):
        yield Figure(figsize=(width, height))


def svg_of(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    return buffer.getvalue()


def _short(label: str, limit: int = 38) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def theme_sizes(themes: Sequence[ThemeSummary], limit: int = 10) -> Chart | None:
    """Horizontal bars: the largest themes by answers, largest at the top."""
    shown = list(themes[:limit])
    if not shown:
        return None
    with styled_figure(7.5, 0.45 * len(shown) + 1.0) as figure:
        axes = figure.add_subplot()
        names = [f"{t.theme_id}. {_short(t.label)}" for t in reversed(shown)]
        sizes = [t.size for t in reversed(shown)]
        bars = axes.barh(names, sizes, color=BLUE)
        axes.bar_label(bars, padding=3)
        axes.set_xlabel("Answers in the theme")
        axes.margins(x=0.12)
        svg = svg_of(figure)
    listing = "; ".join(f"{t.label}: {t.size}" for t in shown)
    return Chart(
        "Themes by size",
        f"Bar chart of the {len(shown)} largest themes by number of answers. {listing}.",
        svg,
    )


def theme_trend(trend: ThemeTrend | None) -> Chart | None:
    """Lines: each top theme's size at each weekly analysis."""
    if trend is None or len(trend.dates) < 2 or not trend.labels:
        return None
    dates = [d.strftime("%d %b") for d in trend.dates]
    with styled_figure(7.5, 3.8) as figure:
        axes = figure.add_subplot()
        for (theme_id, label), (colour, dash, marker) in zip(
            trend.labels.items(), LINES, strict=False
        ):
            points = [float("nan") if s is None else s for s in trend.sizes[theme_id]]
            axes.plot(dates, points, color=colour, linestyle=dash, marker=marker,
                      linewidth=2, label=f"{theme_id}. {_short(label, 30)}")  # fmt: skip
        axes.set_ylabel("Answers in the theme")
        axes.set_xlabel("Analysis date")
        axes.set_ylim(bottom=0)
        axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        svg = svg_of(figure)
    changes = []
    for theme_id, label in list(trend.labels.items())[: len(LINES)]:
        known = [s for s in trend.sizes[theme_id] if s is not None]
        if known:
            changes.append(f"{label} from {known[0]} to {known[-1]}")
    return Chart(
        "How the top themes changed",
        f"Line chart of the top themes' sizes at each weekly analysis, {dates[0]} to "
        f"{dates[-1]}: " + "; ".join(changes) + ".",
        svg,
    )


def coverage(dimension: CoverageDimension) -> Chart | None:
    """Paired bars per group: share of respondents against share of the population."""
    groups = [g for g in dimension.groups if g.population_share is not None]
    if not groups:
        return None
    with styled_figure(7.5, 0.6 * len(groups) + 1.2) as figure:
        axes = figure.add_subplot()
        rows = list(range(len(groups)))[::-1]
        height = 0.38
        heard = [g.share * 100 for g in groups]
        population = [(g.population_share or 0.0) * 100 for g in groups]
        axes.barh([r + height / 2 for r in rows], heard, height, color=BLUE,
                  label="Share of respondents")  # fmt: skip
        axes.barh([r - height / 2 for r in rows], population, height, color=ORANGE,
                  hatch="//", edgecolor=BLACK, linewidth=0.5, label="Share of population")  # fmt: skip
        axes.set_yticks(rows, [_short(g.label) + (" (under-heard)" if g.under_heard else "")
                               for g in groups])  # fmt: skip
        for label, group in zip(axes.get_yticklabels(), groups, strict=True):
            if group.under_heard:
                label.set_fontweight("bold")
        axes.set_xlabel("Per cent")
        axes.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=2, frameon=False)
        axes.margins(x=0.05)
        svg = svg_of(figure)
    listing = "; ".join(
        f"{g.label}: {g.share:.0%} of respondents, {g.population_share or 0:.0%} of population"
        for g in groups
    )
    under = [g.label for g in groups if g.under_heard]
    alt = f"Paired bar chart by {dimension.name.lower()}. {listing}."
    alt += f" Under-heard: {', '.join(under)}." if under else " No group is under-heard."
    return Chart(f"Who has been heard, by {dimension.name.lower()}", alt, svg)
