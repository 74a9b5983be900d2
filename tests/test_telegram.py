"""End to end: the real python-telegram-bot Application, over HTTP, against a fake Bot API.

Residents are simulated by the fake server; the answers are read back through the
`needsfirst export` command, as an officer would.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json

from sqlmodel import Session, select

from bot.app import Service
from conversations.storage.db import make_engine
from conversations.storage.models import Answer
from tests.command_line import needsfirst
from tests.fakes.telegram_api import FakeBotAPI
from tests.telegram_harness import complete_example, expect


def stored_needs(db_url: str) -> list[str]:
    db = make_engine(db_url)
    try:
        with Session(db) as session:
            return [
                a.value for a in session.exec(select(Answer).where(Answer.step_id == "need")).all()
            ]
    finally:
        db.dispose()


async def test_residents_complete_the_example_and_it_shows_in_export(
    fake: FakeBotAPI, bot: Service, db_url: str, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    needs = {
        1001: "The last bus is at 7pm and my shift ends at 10.",
        1002: "Rent went up 20% and the flat is damp.",
        1003: "Nowhere for teenagers to go in the evening 🏀",
    }
    await asyncio.gather(*(complete_example(fake.user(uid), need) for uid, need in needs.items()))

    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "{db_url}"\n[consultations]\nload = []\n', encoding="utf-8"
    )
    exported = await asyncio.to_thread(needsfirst, config, "export", "example", "--format", "csv")
    assert exported.returncode == 0, exported.stderr
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    by_resident: dict[str, list[str]] = {}
    for row in rows:
        by_resident.setdefault(row["resident"], []).append(row["question"])
    assert len(by_resident) == 3
    for questions in by_resident.values():  # every answer, in the order given
        assert questions == ["area", "age", "need", "affects", "difference", "ideas-ask"]
    assert sorted(r["answer"] for r in rows if r["question"] == "need") == sorted(needs.values())
    assert {r["source"] for r in rows} == {"tenants"}
    telegram_ids = {str(uid) for uid in needs}  # Telegram ids never leave their table
    assert not any(value in telegram_ids for row in rows for value in row.values())


async def test_things_we_cannot_read_get_a_polite_request(fake: FakeBotAPI, bot: Service) -> None:
    ann = fake.user(2001)
    await ann.send_command("/start")
    await expect(ann, "Are you happy to take part?")
    await ann.press("Yes, I'm happy to take part")
    await expect(ann, "Which part of the borough")
    await ann.send_sticker()
    await expect(ann, "I can only read typed messages")
    await ann.send_voice()
    await expect(ann, "can't listen to voice messages yet")
    for send in (
        ann.send_photo,
        lambda: ann.send_location(51.5, -0.1),
        lambda: ann.send_document("x.pdf"),
    ):
        await send()
        await expect(ann, "Please type your answer")
    await ann.send_command("/frobnicate")
    await expect(ann, "I don't know that command")


async def test_edits_and_duplicate_updates_do_not_duplicate_answers(
    fake: FakeBotAPI, bot: Service, db_url: str
) -> None:
    ann = fake.user(2002)
    await ann.send_command("/start")
    await expect(ann, "happy to take part")
    await ann.press("Yes, I'm happy to take part")
    await expect(ann, "Which part")
    await ann.press("Prefer not to say")
    await expect(ann, "How old are you?")
    await ann.press("Prefer not to say")
    await expect(ann, "In your own words")
    sent = await ann.send_text("Potholes everywhere")
    await expect(ann, "Who else does this affect?")
    await ann.resend_last_update()  # Telegram delivers the same update again
    await ann.edit_text(sent["message"]["message_id"], "Potholes everywhere on Station Road")
    await expect(ann, "changed your answer to match your edit")
    assert stored_needs(db_url) == ["Potholes everywhere on Station Road"]
    assert sum("Who else does this affect?" in t for t in ann.texts) == 1


async def test_over_long_text_is_stored_whole(fake: FakeBotAPI, bot: Service, db_url: str) -> None:
    ann = fake.user(2003)
    await ann.send_command("/start")
    await expect(ann, "happy to take part")
    await ann.press("Yes, I'm happy to take part")
    await expect(ann, "Which part")
    await ann.press("Prefer not to say")
    await expect(ann, "How old")
    await ann.press("Prefer not to say")
    await expect(ann, "In your own words")
    essay = "Our estate has no lift that works and my mum cannot get out. " * 80  # 4,880 characters
    await ann.send_text(essay)
    await expect(ann, "Who else does this affect?")
    assert stored_needs(db_url) == [essay]
    await ann.press("▫️ Mainly me")
    await ann.wait_until(lambda: "✅ Mainly me" in ann.last_keyboard_labels())
    await ann.press("Done")
    await expect(ann, "what difference would it make")
    await ann.send_text(essay)
    await expect(ann, "Here is what I heard")  # the play-back quotes the essay: shortened
    # The fake refuses an over-long message (400), so look at what Telegram refused,
    # not at what arrived: a message the bot tried and failed to send is lost.
    refused = [c for c in fake.calls if c.status != 200 and c.method != "getUpdates"]
    assert refused == []


async def test_old_and_forged_buttons_do_not_corrupt_state(
    fake: FakeBotAPI, bot: Service, db_url: str
) -> None:
    ann = fake.user(2004)
    await ann.send_command("/start")
    await expect(ann, "happy to take part")
    await ann.press("Yes, I'm happy to take part")
    await expect(ann, "Which part")
    area_prompt = ann.messages[-1]["message_id"]
    await ann.press("South (Marsh End, Brookvale)")
    await expect(ann, "How old are you?")
    await ann.press_data("a:area:1:north", message_id=area_prompt)  # an old button
    await expect(ann, "earlier question")
    for forged in ["a:need:1:_skip", "j:nope", "zzz", "a:age:1:" + "x" * 40]:
        await ann.press_data(forged)
    await ann.press("65 or over")
    await expect(ann, "In your own words")
    db = make_engine(db_url)
    with Session(db) as session:
        rows = session.exec(select(Answer.step_id, Answer.value).order_by(Answer.id)).all()  # type: ignore[arg-type]
    db.dispose()
    assert [tuple(r) for r in rows] == [("area", "south"), ("age", "65-plus")]
    assert len(fake.answered_callbacks) >= 8  # every press is acknowledged


async def test_unknown_consultation_offers_the_open_ones(fake: FakeBotAPI, bot: Service) -> None:
    ann = fake.user(2005)
    await ann.send_command("/start", "no-such-consultation")
    await expect(ann, "couldn't find a consultation")
    await expect(ann, "Which consultation")
    await ann.press("What would make life better in Riverside?")
    await expect(ann, "Are you happy to take part?")


async def test_mydata_and_forget(fake: FakeBotAPI, bot: Service, db_url: str) -> None:
    ann = fake.user(2006)
    await complete_example(ann, "Damp in every room")
    await ann.send_command("/mydata")
    await expect(ann, "Here is what we hold about you")
    document = json.loads(ann.documents[-1].data)
    assert any(a["answer"] == "Damp in every room" for a in document["answers"])
    await ann.send_command("/forget")
    await expect(ann, "Delete everything?")
    await ann.press("Yes, delete everything")
    await expect(ann, "Everything we held about you has been deleted")
    assert stored_needs(db_url) == []


async def test_help_language_and_stop(fake: FakeBotAPI, bot: Service) -> None:
    ann = fake.user(2007, language_code="cy")
    await ann.send_command("/help")
    await expect(ann, "/mydata")
    await ann.send_command("/start")
    await expect(ann, "Ydych chi'n hapus i gymryd rhan?")  # Telegram's language code is honoured
    await ann.send_command("/language")
    await expect(ann, "Pa iaith")
    await ann.press("English")
    await expect(ann, "Are you happy to take part?")
    await ann.send_command("/stop")
    await expect(ann, "won't send you any more invitations")


async def test_typed_options_are_understood_in_any_language(
    fake: FakeBotAPI, bot: Service, db_url: str
) -> None:
    """Typing an option instead of pressing it: the engine matches it, so Telegram gains too."""
    ann = fake.user(2101)
    await ann.send_command("/start")
    await expect(ann, "Are you happy to take part?")
    await ann.send_text("ydw")  # Welsh "yes", typed in an English conversation
    await expect(ann, "Which part of the borough")
    await ann.send_text("Marsh End")  # a place inside the option's brackets
    await expect(ann, "How old are you?")
    await ann.send_text("over 65")
    await expect(ann, "In your own words")
    await ann.send_text("The buses stop at 7pm.")
    await expect(ann, "Who else does this affect?")
    await ann.press("▫️ My family or household")
    await ann.wait_until(lambda: "✅ My family or household" in ann.last_keyboard_labels())
    await ann.press("▫️ Mainly me")
    said = await expect(ann, "with other answers")
    assert "Mainly me" in said  # the untick is said, not silent
    await ann.send_text("family and older people")
    await expect(ann, "what difference would it make")
    db = make_engine(db_url)
    try:
        with Session(db) as session:
            answers = {a.step_id: a.value for a in session.exec(select(Answer)).all()}
    finally:
        db.dispose()
    assert answers == {
        "area": "south",
        "age": "65-plus",
        "need": "The buses stop at 7pm.",
        "affects": "family,older",
    }


async def test_polish_and_urdu_from_the_app_language_and_the_language_command(
    fake: FakeBotAPI, bot: Service
) -> None:
    ola = fake.user(2008, language_code="pl")
    await ola.send_command("/start")
    await expect(ola, "Czy chcesz wziąć udział?")  # Telegram's language code is honoured
    await ola.send_command("/language")
    await expect(ola, "Jaki język wybierasz?")
    await ola.press("اردو")
    await expect(ola, "کیا آپ حصہ لینا چاہتے ہیں؟")
    await ola.send_command("/help")
    await expect(ola, "/mydata – دیکھیں ہمارے پاس آپ کے بارے میں کیا کچھ ہے")
