"""The weekly digest for officers: DigestData in, report, summary and CSV out.

Pure: no database, no Telegram. bot/actions/digests.py gathers the data;
bot/telegram/digest_delivery.py delivers.
"""

from analysis.digest.data import (
    CoverageDimension,
    CoverageGroup,
    DecisionNote,
    DigestData,
    Headline,
    Priorities,
    Priority,
    ThemeSummary,
    ThemeTrend,
    theme_change,
)
from analysis.digest.html import render_html
from analysis.digest.summary import render_summary
from analysis.digest.table import render_csv

__all__ = [
    "CoverageDimension",
    "CoverageGroup",
    "DecisionNote",
    "DigestData",
    "Headline",
    "Priorities",
    "Priority",
    "ThemeSummary",
    "ThemeTrend",
    "render_csv",
    "render_html",
    "render_summary",
    "theme_change",
]
