"""A hand-made DigestData for the digest's rendering tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from analysis.digest import (
    CoverageDimension,
    CoverageGroup,
    DecisionNote,
    DigestData,
    Headline,
    ThemeSummary,
    ThemeTrend,
)

LONDON = ZoneInfo("Europe/London")
END = datetime(2026, 11, 30, 9, 0, tzinfo=LONDON)


def sample_digest(**changes: object) -> DigestData:
    weeks = tuple(END - timedelta(weeks=n) for n in (3, 2, 1, 0))
    themes = (
        ThemeSummary(3, "Buses stop too early for shift workers", 42, 30, "growing",
                     ("transport",), ("The last bus leaves at 7pm so I can't get home",
                                      "No bus on Sundays so I can't visit my mum"),
                     {"Area": {"North": 20, "South": 12}, "Age band": {"35 to 64": 25}}),
        ThemeSummary(1, "Damp and mould in council flats", 35, 33, "shrinking",
                     ("housing", "health"), ("Black mould in the bedroom and the landlord won't fix it",),
                     {"Area": {"Central": 30}}),
        ThemeSummary(7, "Nowhere for teenagers to go", 12, None, "new", ("youth services",),
                     ("The youth club closed and kids hang around the shops",), {}),
    )  # fmt: skip
    data = DigestData(
        consultation_slug="riverside",
        consultation_title="What would make life better in Riverside?",
        period_start=END - timedelta(days=7),
        period_end=END,
        headline=Headline(14, 9, 51, 40, 0.71, 0.8),
        round_label="Round 1 (open)",
        themes=themes,
        analysis_note="Themes from the analysis of Mon 30 Nov 2026, 09:00, over 89 answers.",
        trend=ThemeTrend(
            weeks,
            {3: themes[0].label, 1: themes[1].label, 7: themes[2].label},
            {3: (10, 20, 30, 42), 1: (20, 30, 33, 35), 7: (None, None, None, 12)},
        ),
        coverage=(
            CoverageDimension(
                "Area",
                (
                    CoverageGroup("North (Hillside, Oakfield)", 40, 0.6, 0.3, False),
                    CoverageGroup("Central (Town centre, Quayside)", 20, 0.3, 0.3, False),
                    CoverageGroup("South (Marsh End, Brookvale)", 6, 0.1, 0.4, True),
                    CoverageGroup("Not said", 3, 0.0, None, False),
                ),
            ),
            CoverageDimension(
                "Age band",
                (
                    CoverageGroup("Under 18", 1, 0.02, 0.2, True),
                    CoverageGroup("35 to 64", 50, 0.98, 0.5, False),
                ),
            ),
            CoverageDimension(
                "Channel",
                (
                    CoverageGroup("Telegram", 48, 0.7, None, False),
                    CoverageGroup("Web chat", 21, 0.3, None, False),
                ),
                key="channel",
            ),
        ),
        decisions=(
            DecisionNote(
                3,
                themes[0].label,
                "The 7pm bus will run until 11pm from January.",
                END - timedelta(days=2),
                17,
            ),
        ),
    )
    return DigestData(**{**data.__dict__, **changes})  # type: ignore[arg-type]
