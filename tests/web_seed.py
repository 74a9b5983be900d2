"""Residents, answers and a theme run for the dashboard's theme and broadcast tests.

Residents take part through the conversation service on Telegram (so that a
broadcast can reach them), mostly from the north of the example borough, so
that the south and the centre come out under-heard.
"""

from __future__ import annotations

from sqlalchemy import Engine

from bot.actions.analysis_runs import RunResult
from bot.actions.theme_runs import analyse_consultation
from conversations.residents.service import ConversationService
from tests.example_consultation import TOPICS, Resident_

NORTH, CENTRAL, SOUTH = "North", "Central", "South"


def people() -> list[tuple[str, str, str]]:
    """(area, age band, need) for 15 residents: 12 in the north, 2 in the south, 1 central."""
    needs = [need for topic in TOPICS.values() for need in topic]
    areas = [SOUTH, SOUTH, CENTRAL] + [NORTH] * (len(needs) - 3)
    ages = ["18 to 34", "35 to 64", "35 to 64"] * (len(needs) // 3)
    return list(zip(areas, ages, needs, strict=True))


QUIET_NORTH = 15  # with the 15 above: 30 residents, enough to say who is under-heard


def seed_answers(db: Engine, residents: list[tuple[str, str, str]] | None = None,
                 first_id: int = 90000, quiet_north: int = 0) -> None:  # fmt: skip
    """Each resident agrees, gives an area and an age band, and says a need; then
    `quiet_north` more from the north give their area and age band and stop there
    (they count in coverage, and leave the answers to theme as they were)."""
    service = ConversationService(db)
    everyone = residents or people()
    for n, (area, age, need) in enumerate(everyone):
        resident = Resident_(service, str(first_id + n))
        resident.start("example")
        resident.press("happy to take part")
        resident.press(area)
        resident.press(age)
        resident.say(need)
    for n in range(quiet_north):
        resident = Resident_(service, str(first_id + len(everyone) + n))
        resident.start("example")
        resident.press("happy to take part")
        resident.press(NORTH)
        resident.press("35 to 64")


def seed_themes(db: Engine) -> RunResult:
    """The answers above, analysed into three themes by a facilitator."""
    seed_answers(db)
    return analyse_consultation(db, "example", actor="staff:11", n_themes=3)
