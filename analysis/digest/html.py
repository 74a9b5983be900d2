"""The full digest as one self-contained HTML page: inline CSS, charts as data URIs.

The page needs nothing from the network, prints cleanly, and is built for screen
readers: a language, one h1, sections under headings, tables with headers, and a
text alternative on every chart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from analysis.digest import charts
from analysis.digest.data import DigestData, Headline


@dataclass(frozen=True)
class HeadlineRow:
    name: str
    now: str
    before: str
    change: str


def headline_rows(headline: Headline) -> list[HeadlineRow]:
    """The headline figures as table rows, each with its change in words."""

    def counted(name: str, now: int, before: int) -> HeadlineRow:
        if now == before:
            change = "same as last week"
        else:
            change = f"{'up' if now > before else 'down'} {abs(now - before)}"
        return HeadlineRow(name, str(now), str(before), change)

    rate, before = headline.completion_rate, headline.completion_rate_before
    if rate is None or before is None:
        change = "no comparison" if rate is not None or before is not None else "nobody started"
    else:
        points = round((rate - before) * 100)
        change = "same as last week" if points == 0 else (
            f"{'up' if points > 0 else 'down'} {abs(points)} percentage points"
        )  # fmt: skip
    return [
        counted("New residents taking part", headline.new_residents, headline.new_residents_before),
        counted("Answers given", headline.answers, headline.answers_before),
        HeadlineRow(
            "Finished the questions (of those who started)", percent(rate), percent(before), change
        ),
    ]


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def day(moment: datetime) -> str:
    return moment.strftime("%a %d %b %Y, %H:%M")


def groups(counts: Mapping[str, int]) -> str:
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return ", ".join(f"{group} {n}" for group, n in ordered)


def figure(chart: charts.Chart | None) -> Markup:
    if chart is None:
        return Markup("")
    return Markup('<figure><img src="{}" alt="{}"><figcaption>{}</figcaption></figure>').format(
        chart.data_uri, chart.alt, chart.title
    )


@cache
def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("analysis.digest", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(day=day, percent=percent, groups=groups)
    return environment


@dataclass(frozen=True)
class DigestCharts:
    sizes: charts.Chart | None
    trend: charts.Chart | None
    coverage: dict[str, charts.Chart]


def draw(data: DigestData) -> DigestCharts:
    drawn = {d.name: c for d in data.coverage if (c := charts.coverage(d)) is not None}
    return DigestCharts(charts.theme_sizes(data.themes), charts.theme_trend(data.trend), drawn)


def render_html(data: DigestData) -> str:
    """The officers' full report."""
    under = "; ".join(f"{g.label} ({dimension.lower()})" for dimension, g in data.under_heard())
    template = _environment().get_template("digest.html")
    return template.render(
        d=data,
        headline=headline_rows(data.headline),
        under_heard=escape(under),
        charts=draw(data) if not data.nothing_new else DigestCharts(None, None, {}),
        figure=figure,
    )
