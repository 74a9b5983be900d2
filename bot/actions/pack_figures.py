"""Gather an evidence pack's figures from the database into analysis.evidence's EvidencePack.

The themes are the codebook's reviewed themes in the latest analysis run (proposed
themes may still change, so they are counted, never reported on). Answers are
those the run themed, withheld ones left out; residents are counted, never named;
quotes are scrubbed, and one that still holds a personal detail is not quoted.
Who is affected, priorities and decisions: bot/actions/pack_groups.py and
pack_priority.py.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from analysis.evidence.data import (
    FEW,
    Alongside,
    EvidencePack,
    Quote,
    Size,
    ThemeEvidence,
    Week,
)
from analysis.personal_details.scrub import find_personal_details
from analysis.themes.quote_range import range_quotes
from bot.actions.analysis_runs import shown_quote
from bot.actions.pack_groups import Groups
from bot.actions.pack_limits import pack_limits, theme_limits
from bot.actions.pack_priority import decisions_on, priority_of
from bot.actions.priorities import PriorityReport, priorities
from bot.actions.theme_languages import unread_in
from conversations.flow.script import Script
from conversations.staff import codebook, coded_answers, public_results, themes
from conversations.staff import theme_evidence as evidence
from conversations.staff.coverage import MIN_RESPONDENTS
from conversations.storage import store
from conversations.storage.models import AnalysisRun, Consultation, RunTheme, utcnow

QUOTES = 5
QUOTE_CANDIDATES = 2000  # a theme's answers read for quotes, spread evenly over its answers


class Themed:
    """A run's themed answers, by theme: answers, residents, and when they were given."""

    def __init__(self, rows: Sequence[evidence.ThemedAnswer]) -> None:
        self.answers: dict[int, list[evidence.ThemedAnswer]] = defaultdict(list)
        self.residents: dict[int, set[int]] = defaultdict(set)
        for row in rows:
            self.answers[row.theme_id].append(row)
            self.residents[row.theme_id].add(row.resident_id)
        self.total = len({row.answer_id for row in rows})


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    """A stored time in `zone` (SQLite gives back UTC times without their zone)."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(zone)


def _monday(moment: datetime, zone: ZoneInfo) -> date:
    local = _local(moment, zone).date()
    return local - timedelta(days=local.weekday())


def weeks(
    rows: Sequence[evidence.ThemedAnswer], since: datetime | None, now: datetime, zone: ZoneInfo
) -> tuple[Week, ...]:
    """Answers and residents each week from the opening (or the first answer) to now."""
    if not rows and since is None:
        return ()
    first = _monday(since or min(r.answered_at for r in rows), zone)
    if rows:
        first = min(first, _monday(min(r.answered_at for r in rows), zone))
    answers: dict[date, int] = defaultdict(int)
    residents: dict[date, set[int]] = defaultdict(set)
    for row in rows:
        week = _monday(row.answered_at, zone)
        answers[week] += 1
        residents[week].add(row.resident_id)
    result, week = [], first
    while week <= _monday(now, zone):
        result.append(Week(week, answers.get(week, 0), len(residents.get(week, ()))))
        week += timedelta(days=7)
    return tuple(result)


def quotes(
    session: Session, rows: Sequence[evidence.ThemedAnswer], groups: Groups
) -> tuple[Quote, ...]:
    """Scrubbed quotes showing the theme's range, from different groups (analysis.themes.quote_range)."""
    step = max(1, -(-len(rows) // QUOTE_CANDIDATES))
    sampled = list({r.answer_id: r for r in rows}.values())[::step]
    texts = evidence.answer_texts(session=session, answer_ids=[r.answer_id for r in sampled])
    shown, said = [], []
    for row in sampled:
        if row.answer_id not in texts:
            continue
        text = shown_quote(texts[row.answer_id])
        if text and not find_personal_details(text):
            shown.append(text)
            said.append(groups.said_by(row.resident_id))
    picked = range_quotes(shown, said, limit=QUOTES)
    return tuple(Quote(shown[i], said[i], n == 0) for n, i in enumerate(picked))


def summary(size: Size, keywords: Sequence[str], services: Sequence[str]) -> str:
    """A short plain summary built from the theme's answers."""
    said = (
        f"{size.residents} resident{'' if size.residents == 1 else 's'} "
        f"({size.share_of_residents:.0%} of those heard) raised this in {size.answers} "
        f"answer{'' if size.answers == 1 else 's'}."
    )
    if keywords:
        words = list(keywords[:5])
        listed = ", ".join(words[:-1]) + f" and {words[-1]}" if len(words) > 1 else words[0]
        said += f" The words they use most are {listed}."
    if services:
        said += f" It touches {', '.join(services)}."
    if size.residents < FEW:
        said += " That is too few residents to say how widely it is felt."
    return said


def _theme(
    session: Session,
    theme: RunTheme,
    themed: Themed,
    heard: set[int],
    groups: Groups,
    context: _Context,
) -> ThemeEvidence:
    rows = themed.answers.get(theme.theme_id, [])
    residents = themed.residents.get(theme.theme_id, set())
    size = Size(
        answers=len(rows),
        residents=len(residents),
        share_of_answers=len(rows) / themed.total if themed.total else 0.0,
        share_of_residents=len(residents) / len(heard) if heard else 0.0,
        weeks=weeks(rows, context.opened, context.now, context.zone),
    )
    keywords = tuple(json.loads(theme.keywords_json))
    services = tuple(d.replace("_", " ") for d in json.loads(theme.domains_json))
    alongside = sorted(
        (
            Alongside(other.theme_id, other.label, n, n / len(residents))
            for other in context.reviewed
            if other.theme_id != theme.theme_id
            and (n := len(residents & themed.residents.get(other.theme_id, set())))
        ),
        key=lambda a: (-a.residents, a.theme_id),
    )
    who = groups.who(residents, heard)
    priority = priority_of(context.ranking, theme.theme_id, groups.labels)
    return ThemeEvidence(
        theme_id=theme.theme_id,
        label=theme.label,
        summary=summary(size, keywords, services),
        keywords=keywords,
        quotes=quotes(session, rows, groups),
        size=size,
        who=who,
        services=services,
        alongside=tuple(alongside),
        priority=priority,
        decisions=decisions_on(context.decisions, theme.theme_id),
        limits=theme_limits(size, who, priority),
    )


class _Context:
    """What every theme's evidence shares."""

    def __init__(
        self,
        session: Session,
        consultation: Consultation,
        script: Script,
        run: AnalysisRun,
        reviewed: list[RunTheme],
        zone: ZoneInfo,
    ) -> None:
        assert consultation.id is not None
        self.zone = zone
        self.now = utcnow()
        self.reviewed = reviewed
        self.opened = evidence.opened_at(session=session, consultation_id=consultation.id)
        self.ranking: PriorityReport | None = priorities(session, consultation, script)
        self.decisions = public_results.decisions(session=session, consultation_id=consultation.id)


def reviewed_themes(session: Session, run: AnalysisRun, consultation_id: int) -> list[RunTheme]:
    """The run's current themes that are in the codebook, largest first."""
    assert run.id is not None
    book = codebook.reviewed(session=session, consultation_id=consultation_id)
    return [
        t
        for t in themes.themes_of_run(session=session, run_id=run.id)
        if themes.is_current(t) and t.theme_id in book
    ]


def gather(
    session: Session,
    *,
    consultation: Consultation,
    script: Script,
    zone: ZoneInfo,
    theme_id: int | None = None,
) -> EvidencePack:
    """One reviewed theme's evidence pack, or (theme_id None) the whole consultation's."""
    assert consultation.id is not None
    cid, slug = consultation.id, consultation.slug
    run = themes.latest_run(session=session, consultation_id=cid)
    if run is None or run.id is None:
        raise store.StoreError(f"'{slug}' has no themes yet: run the analysis first")
    reviewed = reviewed_themes(session, run, cid)
    if theme_id is not None and theme_id not in {t.theme_id for t in reviewed}:
        known = ", ".join(str(t.theme_id) for t in reviewed) or "none yet"
        raise store.StoreError(
            f"theme {theme_id} is not a reviewed theme of '{slug}' (reviewed themes: {known})"
        )
    rows = evidence.themed_answers(session=session, run_id=run.id)
    themed = Themed(rows)
    questions = script.theme_steps()
    heard = evidence.heard_residents(session=session, consultation_id=cid, questions=questions)
    groups = Groups(
        script,
        evidence.resident_profiles(session=session, consultation_id=cid),
        evidence.resident_sources(session=session, consultation_id=cid),
    )
    context = _Context(session, consultation, script, run, reviewed, zone)
    shown = [t for t in reviewed if theme_id is None or t.theme_id == theme_id]
    found = tuple(_theme(session, t, themed, heard, groups, context) for t in shown)
    answers = themes.themable_count(session=session, consultation_id=cid, questions=questions)
    unthemed = coded_answers.answers_page(
        session=session, consultation_id=cid, theme_id=None, per_page=1
    ).total
    in_book = {t.theme_id for t in reviewed}
    proposed = len(
        {r.answer_id for r in rows} - {r.answer_id for r in rows if r.theme_id in in_book}
    )
    heard_groups = groups.heard(heard)
    sources = groups.sources_of(heard)
    since = max(0, answers - run.answers)
    languages = tuple(sentence for _, sentence in unread_in(session, cid).sentences())
    return EvidencePack(
        slug=slug,
        title=script.title.get(script.default_language, slug),
        made_at=context.now.astimezone(zone),
        opened_at=_local(context.opened, zone) if context.opened else None,
        analysed_at=_local(run.created_at, zone),
        residents=len(heard),
        answers=answers,
        unthemed=unthemed,
        proposed=proposed,
        since_analysis=since,
        themes=found,
        heard=heard_groups,
        sources=sources,
        limits=pack_limits(len(heard), unthemed, proposed, since, heard_groups, sources, languages),
        min_respondents=MIN_RESPONDENTS,
        theme_id=theme_id,
        services=tuple(sorted({s for t in found for s in t.services})),
        co_raised=tuple(
            (
                t.theme_id,
                tuple(
                    len(
                        themed.residents.get(t.theme_id, set())
                        & themed.residents.get(o.theme_id, set())
                    )
                    for o in shown
                ),
            )
            for t in shown
        )
        if theme_id is None
        else (),
    )
