"""Round workflows a first-time operator broke: a scheduled next round hid the open one,
closing asked nothing, the schedule's "-" was refused, a returning web resident was told
"this round has closed" while a prioritise round was open, and the Priorities tab
showed a command-line error as its text."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine

from bot.actions.consultations import EXAMPLE_SCRIPT
from conversations.staff.rounds import Rounds
from conversations.storage.models import utcnow
from tests.command_line import needsfirst
from tests.prioritise_helpers import open_prioritise, seed_run
from tests.web_helpers import (
    FACILITATOR,
    OFFICER,
    WebResident,
    complete_example,
    sign_in,
    web_client,
    web_config,
)
from tests.web_seed import seed_answers


async def test_scheduling_the_next_round_keeps_the_open_one_in_view(db: Engine) -> None:
    config = web_config()
    async with web_client(db, config) as client:
        seed_answers(db)
        opens, closes = utcnow() + timedelta(days=3), utcnow() + timedelta(days=10)
        Rounds(db).schedule("example", actor="test", opens_at=opens, closes_at=closes)
        csrf = await sign_in(client, db, config, FACILITATOR)
        page = await (await client.get("/staff/c/example")).text()
        assert "Round 1: open" in page and "Round 2: draft" not in page
        assert "Close round 1" in page and "Open round 2" not in page
        assert f"Round 2 is scheduled: opens {opens:%Y-%m-%d %H:%M} UTC" in page
        assert "It waits until round 1 has closed." in page
        # The open round's figures, not the draft's zeros.
        assert "<dt>Residents</dt><dd>0</dd>" not in page
        home = await (await client.get("/staff/")).text()
        assert "round 1: <strong>open</strong>" in home
        # Closing asks first; confirmed, the draft becomes what "Open" opens.
        asked = await client.post("/staff/c/example/round", data={"action": "close", "csrf": csrf})
        assert "Yes, close round 1" in await asked.text() and "Keep it open" in await asked.text()
        sure = {"action": "close", "csrf": csrf, "confirm": "yes"}
        closed = await (await client.post("/staff/c/example/round", data=sure)).text()
        assert "Round 2: draft" in closed and "Open round 2" in closed
        assert f"Opens {opens:%Y-%m-%d %H:%M} UTC" in closed


def test_a_dash_leaves_a_schedule_time_unchanged(tmp_path: Path, db_url: str, db: Engine) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{db_url}"\n[consultations]\nload = []\n', "utf-8")
    assert needsfirst(config, "consultation", "load", str(EXAMPLE_SCRIPT)).returncode == 0
    assert needsfirst(config, "round", "open", "example").returncode == 0
    closes = (utcnow() + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M+00:00")
    # As the guide says: "-" leaves the opening time as it is, and sets when round 1 closes.
    result = needsfirst(config, "round", "schedule", "example", "--opens", "-", "--closes", closes)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("example: round 1 (needs, open) opens - closes ")


async def test_a_returning_web_resident_joins_the_open_prioritise_round(db: Engine) -> None:
    async with web_client(db) as client:
        resident = WebResident(client)
        await complete_example(resident)
        left_open = resident.page.text_form()  # the page as they left it, in another tab
        seed_run(db, ["Buses stop early", "Dark streets", "Library hours"])
        open_prioritise(db)
        # Coming back to the page, they are offered the open round.
        page = await resident.open()
        assert any("Take part" in button[2] for form in page.forms for button in form.buttons)
        # Typing into the old page takes them to the open round, not "this round has closed".
        assert await resident.submit(left_open, {"text": "hello again"}) == 200
        assert "round has closed" not in " ".join(resident.page.bot_texts)
        assert "Are you happy to take part?" in resident.last
        await resident.press("happy to take part")
        assert "round has closed" not in " ".join(resident.page.bot_texts)


async def test_the_priorities_tab_explains_itself_without_a_command_line_error(
    db: Engine,
) -> None:
    config = web_config()
    async with web_client(db, config) as client:
        await sign_in(client, db, config, OFFICER)
        page = await (await client.get("/staff/c/example/priorities")).text()
        assert "There has been no prioritise round yet." in page
        assert "needsfirst round open" not in page and "--kind" not in page
        assert (await client.get("/staff/c/nowhere/priorities")).status == 404
