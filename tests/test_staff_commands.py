"""Staff commands through the real bot: only configured staff, audited, usage on bad input."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.app import Service
from bot.config import StaffConfig
from conversations.residents.service import ConversationService
from conversations.storage.models import AuditEntry, Broadcast, Round
from tests.example_consultation import Resident_
from tests.example_consultation import complete_example as complete_directly
from tests.fakes.telegram_api import FakeBotAPI
from tests.telegram_harness import bot_config, complete_example, expect, running_bot

FACILITATOR, OFFICER, STRANGER = 111, 222, 333


@pytest.fixture
async def bot(fake: FakeBotAPI, db_url: str) -> AsyncIterator[Service]:
    config = bot_config(fake, db_url)
    config = replace(
        config,
        staff=StaffConfig(facilitators=(FACILITATOR,), officers=(OFFICER,)),
        telegram=replace(config.telegram, bot_username="RiversideBot"),
    )
    async with running_bot(config) as service:
        yield service


@pytest.fixture
def db(bot_db: Engine) -> Engine:
    """Here the running bot's own database."""
    return bot_db


def snapshot(db: Engine) -> tuple[int, list[tuple[int, str]], int]:
    with Session(db) as session:
        audits = len(session.exec(select(AuditEntry)).all())
        rounds = [(r.number, r.status) for r in session.exec(select(Round))]
        broadcasts = len(session.exec(select(Broadcast)).all())
    return audits, rounds, broadcasts


async def test_a_stranger_trying_every_staff_command_changes_nothing(
    fake: FakeBotAPI, bot: Service, db: Engine
) -> None:
    before = snapshot(db)
    stranger = fake.user(STRANGER)
    commands = [
        ("/staff", ""), ("/consultations", ""), ("/status", "example"), ("/open", "example"),
        ("/close", "example"), ("/schedule", "example 2099-01-01T09:00"), ("/links", "example mosque"),
        ("/broadcast", "example Hello everyone"), ("/login", ""), ("/analyse", "example"),
        ("/themes", "example"), ("/rename", "example 1 x"), ("/merge", "example 1 2"),
        ("/split", "example 1"), ("/accept", "example 1"),
    ]  # fmt: skip
    for command, args in commands:
        await stranger.send_command(command, args)
        await expect(stranger, "only for the consultation team")
    await stranger.press_data("s:bc:1:go")
    await stranger.send_text("hello")  # still treated as a resident
    await expect(stranger, "Are you happy to take part?")
    assert snapshot(db) == before


async def test_facilitator_runs_a_round(fake: FakeBotAPI, bot: Service, db: Engine) -> None:
    staff = fake.user(FACILITATOR)
    await staff.send_command("/consultations")
    await expect(staff, "example: round 1 open")
    await staff.send_command("/close", "example")
    await expect(staff, "example: round 1 is closed.")
    await staff.send_command("/close", "example")
    await expect(staff, "Not done: 'example' has no open round to close")
    await staff.send_command("/open", "example")
    await expect(staff, "example: round 2 is open.")
    await staff.send_command("/open")
    await expect(staff, "Usage: /open SLUG")
    await staff.send_command("/schedule", "example tomorrow")
    await expect(staff, "is not a time like")
    await staff.send_command("/schedule", "example - 2099-01-31T17:00")
    await expect(staff, "closes Sat 31 Jan 2099 17:00")
    await staff.send_command("/schedule", "example - 2099-01-31T17:00 prioritise")
    await expect(staff, "Not done: round 2 is already open as a needs round")
    await staff.send_command("/login")
    link = await expect(staff, "Your sign-in link")
    assert "/staff/login/" in link
    await staff.send_command("/links", "example youth-club")
    await expect(staff, "https://t.me/RiversideBot?start=example--youth-club")
    await staff.send_command("/status", "example")
    await expect(staff, "By area:")
    with Session(db) as session:
        trail = [
            (a.actor, a.action) for a in session.exec(select(AuditEntry).order_by(AuditEntry.id))
        ]  # type: ignore[arg-type]
    assert trail[-3:] == [
        ("staff:111", "round.close"),
        ("staff:111", "round.open"),
        ("staff:111", "round.schedule"),
    ]
    # While round 2 is open, an opening time schedules the next round.
    await staff.send_command("/schedule", "example 2099-02-01T09:00 2099-02-08T17:00 prioritise")
    reply = await expect(staff, "example: prioritise round 3 opens Sun 01 Feb 2099 09:00")
    assert "the latest analysis's themes as they are when it opens" in reply
    await staff.send_command("/consultations")
    await expect(
        staff,
        "example: round 2 open, closes Sat 31 Jan 2099 17:00; "
        "then prioritise round 3 opens Sun 01 Feb 2099 09:00",
    )


async def test_an_officer_reads_but_cannot_open_rounds(
    fake: FakeBotAPI, bot: Service, db: Engine
) -> None:
    officer = fake.user(OFFICER)
    await officer.send_command("/status", "example")
    await expect(officer, "Residents:")
    before = snapshot(db)
    await officer.send_command("/close", "example")
    await expect(officer, "only for the consultation team")
    assert snapshot(db) == before


async def test_broadcast_preview_confirm_and_cancel(
    fake: FakeBotAPI, bot: Service, db: Engine
) -> None:
    staff = fake.user(FACILITATOR)
    await staff.send_command("/broadcast", "example Round two is open, come and have your say")
    await expect(staff, "Not done: no opted-in residents match")
    await complete_example(fake.user(5001), "Need one")
    await complete_example(fake.user(5002), "Need two")
    await staff.send_command("/broadcast", "example area=north window=30 Round two is open")
    preview = await expect(staff, "Preview of broadcast")
    assert "to 2 residents of example in area=north, spread over 30 minutes" in preview
    # Forged presses by people who are not facilitators: refused, and nothing queued.
    for presser in (fake.user(STRANGER), fake.user(OFFICER)):
        answered = len(fake.calls_to("answerCallbackQuery"))
        await presser.press_data("s:bc:1:go", message_id=999)
        await fake.wait_for_call("answerCallbackQuery", answered + 1)
        assert fake.answered_callbacks[-1]["user_id"] == presser.id
        assert fake.answered_callbacks[-1]["text"] == "Not available"
    with Session(db) as session:
        assert session.exec(select(Broadcast)).one().status == "draft"
    await staff.press("Send to 2")
    # The preview becomes the progress report, which the sender edits as it goes.
    await staff.wait_until(
        lambda: any(w in " ".join(staff.texts) for w in ("queued for 2", "Broadcast 1 (example)"))
    )
    await staff.send_command("/broadcast", "example Another one")
    await expect(staff, "Preview of broadcast")
    await staff.press("Cancel")
    await staff.wait_until(lambda: "cancelled; nothing was sent" in staff.texts[-1])
    with Session(db) as session:
        statuses = {b.id: b.status for b in session.exec(select(Broadcast))}
    assert statuses[1] in ("queued", "sending", "done") and statuses[2] == "cancelled"


async def test_analyse_and_edit_themes_from_telegram(
    fake: FakeBotAPI, bot: Service, db: Engine
) -> None:
    from conversations.residents.service import ConversationService
    from tests.example_consultation import seed

    seed(ConversationService(db), "t", copies=1)
    staff, officer, stranger = fake.user(FACILITATOR), fake.user(OFFICER), fake.user(STRANGER)
    await staff.send_command("/themes", "example")
    await expect(staff, "has not been analysed yet")
    await staff.send_command("/analyse", "example 3")
    listing = await expect(staff, "Analysis run 1: 15 answers.", timeout=60)
    first_id = int(listing.split("\n")[3].split(".")[0])
    await officer.send_command("/rename", f"example {first_id} Getting home after late shifts")
    await expect(officer, "is now called “Getting home after late shifts”")
    await officer.send_command("/merge", f"example {first_id} {first_id}")
    await expect(officer, "Not done: a theme cannot be merged into itself")
    await officer.send_command("/merge", "example one two")
    await expect(officer, "Usage: /merge SLUG THEME_ID INTO_ID")
    await stranger.send_command("/rename", f"example {first_id} Hacked")
    await expect(stranger, "only for the consultation team")
    await officer.send_command("/analyse", "example")
    await expect(officer, "only for the consultation team")  # officers read; facilitators run
    await officer.send_command("/themes", "example")
    listing = await expect(officer, "Getting home after late shifts")
    assert f"{first_id}. ✓ " in listing  # renamed: reviewed, in the codebook
    other = next(
        int(line.split(".")[0])
        for line in listing.split("\n")[1:]
        if line[:1].isdigit() and "✓" not in line
    )
    await officer.send_command("/accept", f"example {other}")
    await expect(officer, f"Theme {other} is in the codebook")
    await officer.send_command("/accept", f"example {other}")
    await expect(officer, "already in the codebook")
    await stranger.send_command("/accept", f"example {other}")
    await expect(stranger, "only for the consultation team")


async def test_an_officer_splits_a_theme_from_telegram(
    fake: FakeBotAPI, bot: Service, db: Engine
) -> None:
    from conversations.residents.service import ConversationService
    from tests.example_consultation import seed

    seed(ConversationService(db), "t", copies=2)
    staff, officer, stranger = fake.user(FACILITATOR), fake.user(OFFICER), fake.user(STRANGER)
    await staff.send_command("/analyse", "example 2")
    listing = await expect(staff, "Analysis run 1: 30 answers.", timeout=60)
    largest = int(listing.split("\n")[3].split(".")[0])  # listed largest first
    await officer.send_command("/split", "example")
    await expect(officer, "Usage: /split SLUG THEME_ID")
    await stranger.send_command("/split", f"example {largest}")
    await expect(stranger, "only for the consultation team")
    await officer.send_command("/split", f"example {largest}")
    done = await expect(officer, f"Theme {largest} (", timeout=60)
    assert "is split into theme" in done and "Both parts are in the codebook" in done
    found = re.search(r"into theme (\d+) “.*” \(\d+ answers\) and theme (\d+) “", done)
    assert found is not None, done
    first, second = int(found[1]), int(found[2])
    assert f"/rename example {first} NEW NAME" in done
    await officer.send_command("/themes", "example")
    themes_now = await expect(officer, "Themes of example")
    assert f"\n{first}. " in themes_now and f"\n{second}. " in themes_now
    assert f"\n{largest}. " not in themes_now
    await officer.send_command("/split", f"example {largest}")
    await expect(officer, f"Not done: there is no current theme {largest}")
    with Session(db) as session:
        trail = [(a.actor, a.action) for a in session.exec(select(AuditEntry))]
    assert ("staff:222", "theme.split") in trail


async def test_status_in_telegram_counts_residents_by_channel(
    fake: FakeBotAPI, bot: Service, db: Engine
) -> None:
    await complete_example(fake.user(5001), "The buses stop at 7pm.")
    web_resident = Resident_(ConversationService(db), "w0", channel="web")
    await asyncio.to_thread(complete_directly, web_resident)
    officer = fake.user(OFFICER)
    await officer.send_command("/status", "example")
    by_channel = (await expect(officer, "By channel:")).split("By channel:")[1]
    assert re.search(r"Telegram\s+1\s+50%", by_channel), by_channel
    assert re.search(r"Web chat\s+1\s+50%", by_channel), by_channel
    assert "population" not in by_channel
