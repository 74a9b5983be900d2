"""Gather a digest's figures from the database into analysis.digest's DigestData.

Counts are of the consultation's own rows within the week; themes come from one
analysis run, compared with the run that was current a week earlier; coverage is
the current round's, as `needsfirst status` reports it. Nothing here names a
resident: only counts, labels and scrubbed quotes leave the database.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from analysis.digest import (
    CoverageDimension,
    CoverageGroup,
    DecisionNote,
    DigestData,
    Headline,
    ThemeSummary,
    ThemeTrend,
    theme_change,
)
from analysis.personal_details.scrub import find_personal_details
from bot.actions.analysis_runs import shown_quotes
from bot.actions.priorities import digest_priorities
from conversations.flow.script import Script
from conversations.staff import period_activity as activity
from conversations.staff import themes
from conversations.staff.coverage import round_status
from conversations.storage import store
from conversations.storage.models import AnalysisRun, Consultation, RunTheme

TREND_THEMES = 5
TREND_WEEKS = 8
DIMENSION_NAMES = {
    "area": "Area",
    "age_band": "Age band",
    "source": "Where residents came from",
    "channel": "Channel",
}


def dimension_name(dimension: str) -> str:
    return DIMENSION_NAMES.get(dimension, dimension.replace("_", " ").capitalize())


def headline(session: Session, consultation_id: int, start: datetime, end: datetime) -> Headline:
    """This period's counts beside the period before it."""
    before = start - (end - start)
    week, last_week = (start, end), (before, start)

    def new(period: tuple[datetime, datetime]) -> int:
        return activity.new_residents(
            session=session, consultation_id=consultation_id, start=period[0], end=period[1]
        )

    def answers(period: tuple[datetime, datetime]) -> int:
        return activity.answers_given(
            session=session, consultation_id=consultation_id, start=period[0], end=period[1]
        )

    def completion(period: tuple[datetime, datetime]) -> float | None:
        return activity.completion_rate(
            session=session, consultation_id=consultation_id, start=period[0], end=period[1]
        )

    return Headline(
        new_residents=new(week),
        new_residents_before=new(last_week),
        answers=answers(week),
        answers_before=answers(last_week),
        completion_rate=completion(week),
        completion_rate_before=completion(last_week),
    )


def _live(session: Session, run_id: int) -> list[RunTheme]:
    return [
        t
        for t in themes.themes_of_run(session=session, run_id=run_id)
        if themes.is_current(t) and t.size > 0
    ]


def safe_quotes(session: Session, theme: RunTheme, limit: int = 3) -> tuple[str, ...]:
    """Scrubbed quotes, only those with no personal detail left at all, and no near-repeats."""
    chosen: dict[str, str] = {}
    for quote in shown_quotes(session, theme):
        key = "".join(c for c in quote.lower() if c.isalnum())
        if key not in chosen and not find_personal_details(quote):
            chosen[key] = quote
    return tuple(chosen.values())[:limit]


def theme_summaries(
    session: Session, script: Script, run: AnalysisRun, previous: AnalysisRun | None
) -> tuple[ThemeSummary, ...]:
    assert run.id is not None
    current = _live(session, run.id)
    before = (
        {t.theme_id: t.size for t in _live(session, previous.id)}
        if previous and previous.id
        else {}
    )
    total, total_before = sum(t.size for t in current), sum(before.values())
    labels = _group_labels(script)
    result = []
    for theme in current:
        profile = themes.theme_profile(session=session, run_id=run.id, theme_id=theme.theme_id)
        raised_by = {
            dimension_name(dimension): {
                labels.get((dimension, g), _fallback(g)): n for g, n in groups.items()
            }
            for dimension, groups in profile.items()
        }
        previous_size = before.get(theme.theme_id)
        result.append(
            ThemeSummary(
                theme_id=theme.theme_id,
                label=theme.label,
                size=theme.size,
                previous_size=previous_size,
                change=theme_change(theme.size, total, previous_size, total_before),
                domains=tuple(d.replace("_", " ") for d in json.loads(theme.domains_json)),
                quotes=safe_quotes(session, theme),
                raised_by=raised_by,
            )
        )
    return tuple(result)


def _group_labels(script: Script) -> dict[tuple[str, str], str]:
    language = script.default_language
    return {
        (dimension, option.id): option.label.get(language, language)
        for dimension, step in script.profile_dimensions().items()
        for option in step.options
    }


def _fallback(group: str) -> str:
    return "Not said" if group == "not-said" else group


def trend(
    session: Session,
    consultation_id: int,
    run: AnalysisRun,
    top: Sequence[ThemeSummary],
    zone: ZoneInfo,
) -> ThemeTrend | None:
    """The top themes' sizes at the last run of each week, up to `run`."""
    weekly: dict[date, tuple[AnalysisRun, dict[int, int]]] = {}
    for past, sizes in themes.theme_sizes_over_runs(
        session=session, consultation_id=consultation_id, limit=TREND_WEEKS * 7
    ):
        if past.id is not None and run.id is not None and past.id <= run.id:
            local = past.created_at.astimezone(zone).date()
            weekly[local - timedelta(days=local.weekday())] = (past, sizes)
    points = [weekly[week] for week in sorted(weekly)][-TREND_WEEKS:]
    chosen = list(top[:TREND_THEMES])
    if len(points) < 2 or not chosen:
        return None
    return ThemeTrend(
        dates=tuple(p.created_at.astimezone(zone) for p, _ in points),
        labels={t.theme_id: t.label for t in chosen},
        sizes={t.theme_id: tuple(s.get(t.theme_id) or None for _, s in points) for t in chosen},
    )


def coverage(
    session: Session, script: Script, consultation: Consultation
) -> tuple[str, tuple[CoverageDimension, ...]]:
    """The current round's label and its coverage against the population."""
    assert consultation.id is not None
    round_ = store.current_round(session=session, consultation_id=consultation.id)
    if round_ is None:
        return "", ()
    status = round_status(
        session=session, script=script, round_=round_, consultation_slug=consultation.slug
    )
    dimensions = tuple(
        CoverageDimension(
            dimension_name(name),
            tuple(
                CoverageGroup(
                    g.label, g.respondents, g.share, g.population_share, g.under_heard, g.evidence
                )
                for g in groups
            ),
            key=name,
        )
        for name, groups in status.coverage.items()
        if groups
    )
    return f"Round {round_.number} ({round_.status})", dimensions


def decisions(
    session: Session, consultation_id: int, start: datetime, end: datetime, zone: ZoneInfo
) -> tuple[DecisionNote, ...]:
    rows = activity.decisions_made(
        session=session, consultation_id=consultation_id, start=start, end=end
    )
    return tuple(
        DecisionNote(
            d.theme_id,
            d.theme_label,
            d.text,
            d.decided_at.astimezone(zone),
            d.residents_told,
            d.status,
            d.status_note or "",
        )
        for d in rows
    )


def gather(
    session: Session,
    *,
    consultation: Consultation,
    script: Script,
    start: datetime,
    end: datetime,
    zone: ZoneInfo,
    run: AnalysisRun | None,
    analysis_note: str = "",
) -> DigestData:
    """Everything the digest says about one consultation and period."""
    assert consultation.id is not None
    round_label, dimensions = coverage(session, script, consultation)
    summaries: tuple[ThemeSummary, ...] = ()
    theme_trend = None
    if run is not None:
        summaries = theme_summaries(
            session,
            script,
            run,
            activity.run_at(session=session, consultation_id=consultation.id, moment=start),
        )
        theme_trend = trend(session, consultation.id, run, summaries, zone)
        analysis_note = analysis_note or (
            f"Themes from the analysis of {run.created_at.astimezone(zone):%a %d %b %Y, %H:%M}, "
            f"over {run.answers} answers."
        )
    return DigestData(
        consultation_slug=consultation.slug,
        consultation_title=script.title.get(script.default_language, script.default_language),
        period_start=start.astimezone(zone),
        period_end=end.astimezone(zone),
        headline=headline(session, consultation.id, start, end),
        round_label=round_label,
        themes=summaries,
        analysis_note=analysis_note,
        trend=theme_trend,
        coverage=dimensions,
        decisions=decisions(session, consultation.id, start, end, zone),
        priorities=digest_priorities(session, consultation, script),
    )
