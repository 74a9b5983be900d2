"""An evidence pack as one self-contained HTML page: inline CSS, charts as data URIs,
no JavaScript.

Built for screen readers and for print, as the digest is: a language, one h1,
headings in order, tables with captions and scoped headers, a text alternative on
every chart stating its figures, and page breaks between a whole consultation's
themes. The PDF is this page, printed (analysis/evidence/pdf.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from analysis.digest.charts import Chart
from analysis.digest.html import figure, percent
from analysis.evidence import charts
from analysis.evidence.data import FEW, EvidencePack, GroupRow, HeardGroup, ThemeEvidence


def day(moment: datetime | None) -> str:
    return "–" if moment is None else moment.strftime("%a %d %b %Y")


def reading(group: GroupRow | HeardGroup) -> str:
    """A group's line in plain words."""
    if group.under_heard:
        return "Under-heard"
    if group.few:
        return "Too few to say"
    if group.population_share is None:
        return "–"
    return "Heard"


def interval(low: float, high: float) -> str:
    if low == float("-inf") or high == float("inf"):
        return "not known"
    return f"{low:+.2f} to {high:+.2f}"


@cache
def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("analysis.evidence", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(day=day, percent=percent, reading=reading)
    environment.globals.update(figure=figure, interval=interval, few=FEW)
    return environment


@dataclass(frozen=True)
class ThemeCharts:
    weekly: Chart | None
    who: dict[str, Chart]  # by dimension key


def draw(theme: ThemeEvidence, brief: bool) -> ThemeCharts:
    if brief:
        return ThemeCharts(None, {})
    drawn = {d.key: c for d in theme.who if (c := charts.who(d)) is not None}
    return ThemeCharts(charts.weekly(theme.label, theme.size.weeks), drawn)


def render_html(pack: EvidencePack) -> str:
    """The pack as an accessible, printable page."""
    brief = pack.whole
    return (
        _environment()
        .get_template("pack.html")
        .render(
            p=pack,
            brief=brief,
            drawn={t.theme_id: draw(t, brief) for t in pack.themes},
            sizes=charts.sizes(pack.themes) if pack.whole else None,
            labels={t.theme_id: t.label for t in pack.themes},
        )
    )
