"""A consultation's public "We asked, you said, we did", assembled for any reader.

What was asked (the needs questions, in the reader's language), how many took
part and who was under-heard, the reviewed themes with quotes scrubbed of personal
details, what residents prioritised, and each decision recorded on a theme with where
it stands (agreed, under way, done, not going ahead) and the officers' note. No
identity and no withheld answer reaches it; nothing is cached between requests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from bot.actions.analysis_runs import shown_quote
from bot.actions.priorities import QUICK_BOOTSTRAP, priorities
from bot.actions.staff_access import public_base_url
from bot.config import Config
from conversations.flow.script import Script
from conversations.staff import public_results
from conversations.staff.coverage import GroupCoverage, round_status
from conversations.storage import store
from conversations.storage.scripts import ScriptCache

RESULTS_PATH = "/c/{slug}/results?lang={lang}"  # a link sent on Telegram carries no cookie
MAX_QUOTES = 3


def results_url_pattern(config: Config) -> str:
    """The results page's public address with "{slug}" and "{lang}" left in, for the
    conversation service to fill."""
    return public_base_url(config) + RESULTS_PATH


@dataclass(frozen=True)
class UnderHeard:
    label: str
    share: float  # of those who took part and said
    population_share: float


@dataclass(frozen=True)
class DecisionShown:
    theme_label: str
    text: str
    decided_at: datetime
    residents_told: int
    status: str = "agreed"  # agreed | under_way | done | not_going_ahead
    status_changed_at: datetime | None = None  # None: as decided
    status_note: str = ""


@dataclass(frozen=True)
class ThemeShown:
    label: str
    size: int
    quotes: tuple[str, ...]  # scrubbed
    decided: bool


@dataclass(frozen=True)
class PriorityShown:
    rank: int
    label: str
    preferred: float  # the chance it is preferred to another theme
    joint: bool = False  # too close to call with another theme


@dataclass(frozen=True)
class PublicResults:
    slug: str
    title: str
    description: str
    languages: tuple[str, ...]
    is_open: bool
    questions: tuple[str, ...]
    residents: int
    completed: int
    under_heard: tuple[UnderHeard, ...]
    themes: tuple[ThemeShown, ...]
    prioritised_by: int
    priorities: tuple[PriorityShown, ...]
    priorities_too_close: bool  # the votes separate no theme from the rest
    decisions: tuple[DecisionShown, ...]
    next_opens: datetime | None
    next_closes: datetime | None


def public_results_of(db: Engine, slug: str, language: str,
                      scripts: ScriptCache | None = None) -> PublicResults | None:  # fmt: skip
    """The page's content in `language`, or None for a consultation that does not exist."""
    with Session(db) as session:
        consultation = store.consultation_by_slug(session=session, slug=slug)
        if consultation is None or consultation.id is None:
            return None
        cid = consultation.id
        script = (scripts or ScriptCache()).get(consultation)
        fallback = script.default_language
        round_ = public_results.heard_round(session=session, consultation_id=cid)
        status = (
            round_status(session=session, script=script, round_=round_, consultation_slug=slug)
            if round_ is not None
            else None
        )
        decisions = public_results.decisions(session=session, consultation_id=cid)
        decided = {d.theme_id for d in decisions}
        themes = tuple(
            ThemeShown(
                t.label,
                t.size,
                tuple(shown_quote(q) for q in t.quotes[:MAX_QUOTES]),
                t.theme_id in decided,
            )
            for t in public_results.reviewed_themes(session=session, consultation_id=cid)
        )
        ranked = priorities(session, consultation, script, bootstrap=QUICK_BOOTSTRAP)
        upcoming = store.next_scheduled_round(session=session, consultation_id=cid)
        return PublicResults(
            slug=slug,
            title=script.title.get(language, fallback),
            description=script.description.get(language, fallback) if script.description else "",
            languages=script.languages,
            is_open=store.open_round_of(session=session, consultation_id=cid) is not None,
            questions=_questions(script, language),
            residents=status.started if status else 0,
            completed=status.completed if status else 0,
            under_heard=tuple(
                _under_heard(script, dimension, group, language)
                for dimension, group in (status.under_heard() if status else [])
            ),
            themes=themes,
            prioritised_by=ranked.participants if ranked else 0,
            priorities=tuple(
                PriorityShown(t.rank, t.label, t.priority.win_share, t.joint) for t in ranked.themes
            )
            if ranked and ranked.participants
            else (),
            priorities_too_close=bool(ranked and ranked.participants and ranked.too_close_to_call),
            decisions=tuple(
                DecisionShown(
                    d.theme_label,
                    d.text,
                    d.decided_at,
                    d.residents_told,
                    d.status,
                    d.status_changed_at,
                    d.status_note or "",
                )
                for d in decisions
            ),
            next_opens=upcoming.opens_at if upcoming else None,
            next_closes=upcoming.closes_at if upcoming else None,
        )


def _questions(script: Script, language: str) -> tuple[str, ...]:
    """The needs questions (those whose answers are themed), as residents were asked them."""
    asked = set(script.theme_steps())
    return tuple(
        s.text.get(language, script.default_language) for s in script.steps if s.id in asked
    )


def _under_heard(script: Script, dimension: str, group: GroupCoverage,
                 language: str) -> UnderHeard:  # fmt: skip
    """The group named in the reader's language, from the script's own option."""
    step = script.profile_dimensions().get(dimension)
    option = step.option(group.group) if step is not None else None
    label = option.label.get(language, script.default_language) if option else group.label
    assert group.population_share is not None  # only groups with one are under-heard
    return UnderHeard(label, group.share, group.population_share)
