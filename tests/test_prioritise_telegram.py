"""A prioritise round through the real bot against the fake Bot API.

Residents tell the bot their needs, a facilitator opens a prioritise round with
/open, residents with known preferences weigh the themes by pressing buttons,
and the officers' /priorities (and the command line) rank the themes as they did.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.app import Service
from bot.config import StaffConfig
from conversations.storage.db import make_engine
from conversations.storage.models import Answer, PairVote, Round
from tests.command_line import needsfirst
from tests.fakes.telegram_api import FakeBotAPI, FakeUser
from tests.prioritise_helpers import seed_run
from tests.telegram_harness import bot_config, complete_example, expect, running_bot

FACILITATOR = 900_001
THEMES = ["Buses stop too early", "Damp and mould in homes", "Nothing for teenagers to do"]
RANKING = [2, 1, 3]  # every resident prefers damp, then buses, then teenagers


@pytest.fixture
def bot_staff() -> StaffConfig:
    return StaffConfig(facilitators=(FACILITATOR,))


async def weigh(user: FakeUser, missed: str) -> None:
    """Take part in the prioritise round, preferring themes in RANKING's order."""
    await user.send_command("/start", "example")
    await expect(user, "Are you happy to take part?")
    await user.press("Yes, I'm happy to take part")
    for number in range(1, 4):
        await expect(user, f"Which matters more to you? ({number} of 3)")
        shown = [label for label in user.last_keyboard_labels() if label in THEMES]
        assert len(shown) == 2
        await user.press(min(shown, key=lambda label: RANKING.index(THEMES.index(label) + 1)))
    for _ in range(3):
        await expect(user, "should be one of the council's top priorities")
        await user.press("Agree")
    await expect(user, "Did we miss something?")
    await user.send_text(missed)
    await expect(user, "Thank you. We will add up everyone's answers")


async def test_residents_prioritise_the_themes_through_the_bot(
    fake: FakeBotAPI, bot: Service, bot_db: Engine, db_url: str, tmp_path: Path
) -> None:
    await asyncio.gather(
        *(
            complete_example(fake.user(uid), need)
            for uid, need in [(2001, "The last bus is at 7pm.")]
        )
    )
    await asyncio.to_thread(seed_run, bot_db, THEMES)
    staff = fake.user(FACILITATOR)
    await staff.send_command("/close", "example")
    await expect(staff, "round 1 is closed")
    await staff.send_command("/open", "example prioritise")
    await expect(staff, "prioritise round 2 is open")

    residents = [fake.user(uid) for uid in (2001, 2002, 2003, 2004)]
    await asyncio.gather(*(weigh(user, f"Missed need {user.id}") for user in residents))
    # A press of an old pair's button changes nothing.
    await residents[0].press_data("a:pairs:1:_same")
    await expect(residents[0], "finished")

    await staff.send_command("/priorities", "example")
    table = await expect(staff, "4 residents voted: 12 pair votes")
    assert table.index(THEMES[1]) < table.index(THEMES[0]) < table.index(THEMES[2])

    with Session(bot_db) as session:
        assert len(session.exec(select(PairVote)).all()) == 12
        missed = session.exec(select(Answer).where(Answer.step_id == "missed")).all()
        assert sorted(a.value for a in missed) == [f"Missed need {u.id}" for u in residents]
        kinds = [r.kind for r in session.exec(select(Round).order_by(Round.number))]  # type: ignore[arg-type]
        assert kinds == ["needs", "prioritise"]
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "{db_url}"\n[consultations]\nload = []\n', encoding="utf-8"
    )
    shown = await asyncio.to_thread(needsfirst, config, "priorities", "example", "--format", "json")
    assert shown.returncode == 0, shown.stderr
    document = json.loads(shown.stdout)
    assert [t["id"] for t in document["themes"]] == RANKING
    assert all(t["common_ground"] or t["agree"] < 3 for t in document["themes"])


@pytest.mark.slow
async def test_two_hundred_residents_rank_ten_themes_through_the_bot(tmp_path: Path) -> None:
    """The issue's check through the real bot: 200 residents with Bradley-Terry
    preferences over 10 themes press the buttons; Kendall's tau >= 0.9."""
    import random

    from scipy.stats import kendalltau

    from bot.actions.priorities import priorities_report
    from tests.prioritise_helpers import bradley_terry_voter, open_prioritise

    labels = [f"Theme {n}" for n in range(1, 11)]
    rng = random.Random(11)
    truth = dict(zip(range(1, 11), rng.sample([x / 3 for x in range(-5, 5)], 10), strict=True))
    db_url = f"sqlite:///{tmp_path / 'needsfirst.db'}"
    async with FakeBotAPI() as fake, running_bot(bot_config(fake, db_url)):
        fake.relax(limits=True)  # 200 residents' replies at once: a test of the ranking
        db = make_engine(db_url)
        await asyncio.to_thread(seed_run, db, labels)
        await asyncio.to_thread(open_prioritise, db)

        async def vote(user: FakeUser) -> None:
            prefer = bradley_terry_voter(truth, random.Random(user.id))
            await user.send_command("/start", "example")
            await expect(user, "Are you happy to take part?")
            await user.press("Yes, I'm happy to take part")
            await expect(user, "Which matters more")
            while "Which matters more" in user.texts[-1]:
                data = {
                    b["callback_data"].rsplit(":", 1)[1]: b["callback_data"]
                    for row in user.messages[-1]["reply_markup"]["inline_keyboard"]
                    for b in row
                }
                ids = [int(k[1:]) for k in data if k.startswith("t")]
                before = user.texts[-1]
                await user.press(data[prefer(ids[0], ids[1])])
                # The next pair may arrive as a new message or in place of this one.
                await user.wait_until(lambda before=before: user.texts[-1] != before)

        await asyncio.gather(*(vote(fake.user(30_000 + n)) for n in range(200)))
        report = await asyncio.to_thread(priorities_report, db, "example", bootstrap=50)
        db.dispose()
    assert report.participants == 200
    estimated = {t.priority.theme: t.priority.score for t in report.themes}
    tau = kendalltau([truth[t] for t in truth], [estimated[t] for t in truth]).statistic
    assert tau >= 0.9
