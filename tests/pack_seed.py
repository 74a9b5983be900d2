"""A consultation for the evidence pack's tests: residents across areas, age bands and a
partner's link, their needs analysed into three themes that officers reviewed, over
three weeks since the consultation opened.

Thirteen residents raise buses (enough to say something: FEW is 10), five damp and
five youth (too few to say); nobody under 18 or over 65 takes part, so those age
bands are under-heard everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.actions.consultations import EXAMPLE_SCRIPT, load_consultation
from bot.actions.theme_runs import analyse_consultation
from conversations.residents.service import ConversationService
from conversations.staff import theme_edits, themes
from conversations.storage.models import Answer, AnswerTheme, Round
from tests.example_consultation import TOPICS, Resident_

MORE_BUSES = [
    "The bus to the hospital only runs twice a day",
    "Buses never come on time so I am late for work",
    "The night bus was cut and I walk home in the dark",
    "No bus goes to the retail park, the bus map is useless",
    "Bus fares went up and the bus is still late",
    "The bus stop by the school has no timetable",
    "Our village bus stopped running last spring",
    "The bus driver cannot take my wheelchair when the bus is full",
]
BUSES = TOPICS["buses"] + MORE_BUSES
AREAS = ["North", "South", "Central"]
AGES = ["18 to 34", "35 to 64"]
PARTNER = "tenants"


@dataclass(frozen=True)
class Seeded:
    run_id: int
    buses: int  # theme ids
    damp: int
    youth: int
    by_text: dict[str, tuple[str, str, str]]  # need -> (area, age band, source)


def _largest_theme_of(session: Session, run_id: int, texts: list[str]) -> int:
    """The theme holding most of these answers, as their primary theme."""
    counts: dict[int, int] = {}
    for theme_id in session.exec(
        select(AnswerTheme.theme_id)
        .join(Answer, col(Answer.id) == col(AnswerTheme.answer_id))
        .where(AnswerTheme.run_id == run_id, AnswerTheme.rank == 0, col(Answer.value).in_(texts))
    ).all():
        counts[theme_id] = counts.get(theme_id, 0) + 1
    return max(counts, key=lambda k: counts[k])


def seed_pack(db: Engine, *, load: bool = True) -> Seeded:
    """Residents answer, the answers are analysed, every theme is reviewed; half the
    answers are moved two weeks back, the opening three weeks back."""
    if load:  # else loaded already, its first round open (as tests/web_helpers.py's web_client)
        load_consultation(db, EXAMPLE_SCRIPT, actor="test", open_first_round=True)
    service = ConversationService(db)
    needs = BUSES + TOPICS["damp"] + TOPICS["youth"]
    by_text = {}
    for n, need in enumerate(needs):
        area, age = AREAS[n % len(AREAS)], AGES[n % len(AGES)]
        source = PARTNER if n % 4 == 0 else "direct"
        resident = Resident_(service, str(70000 + n))
        resident.start(f"example--{PARTNER}" if source == PARTNER else "example")
        resident.press("happy to take part")
        resident.press(area)
        resident.press(age)
        resident.say(need)
        by_text[need] = (area, age, source)
    run = analyse_consultation(db, "example", actor="staff:11", n_themes=3).run
    assert run.id is not None
    with Session(db) as session, session.begin():
        ids = {}
        for topic, texts in (
            ("buses", BUSES),
            ("damp", TOPICS["damp"]),
            ("youth", TOPICS["youth"]),
        ):
            ids[topic] = _largest_theme_of(session, run.id, texts)
        for theme in themes.themes_of_run(session=session, run_id=run.id):
            theme_edits.confirm(
                session=session, slug="example", theme_id=theme.theme_id, actor="staff:22"
            )
        needs_given = session.exec(select(Answer).where(Answer.step_id == "need")).all()
        for answer in sorted(needs_given, key=lambda a: a.id or 0)[::2]:
            answer.answered_at = answer.answered_at - timedelta(days=14)
            session.add(answer)
        for round_ in session.exec(select(Round)).all():
            assert round_.opened_at is not None
            round_.opened_at = round_.opened_at - timedelta(days=21)
            session.add(round_)
    return Seeded(run.id, ids["buses"], ids["damp"], ids["youth"], by_text)
