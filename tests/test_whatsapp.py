"""WhatsApp residents through the real service and the fake Cloud API: the same
journeys and guarantees as Telegram's (every answer once and in order, redelivered
and forged calls, consent, their data as words), within WhatsApp's limits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.app import Service
from conversations.storage.db import make_engine
from conversations.storage.models import Answer, ChannelIdentity, SafeguardingFlag
from tests.fakes.whatsapp_api import FakeWhatsApp
from tests.web_helpers import web_client
from tests.whatsapp_harness import (
    VERIFY_TOKEN,
    Chat,
    complete_example,
    running_service,
    until,
    whatsapp_config,
)

NEED = "The buses stop at six, so I can't get home from my evening shift."


@pytest.fixture
async def wa() -> AsyncIterator[FakeWhatsApp]:
    async with FakeWhatsApp() as fake:
        yield fake


@pytest.fixture
async def service(wa: FakeWhatsApp, db_url: str) -> AsyncIterator[Service]:
    async with running_service(whatsapp_config(wa, db_url), wa) as running:
        yield running


async def take_part(chat: Chat) -> None:
    """Join the example consultation and consent: its first question is next."""
    await chat.send("start example")
    await chat.expect("Are you happy to take part?")
    await chat.choose("Yes, I'm happy to take part")
    await chat.expect("Which part of the borough")


def stored(db_url: str) -> list[tuple[str, str]]:
    db = make_engine(db_url)
    with Session(db) as session:
        rows = session.exec(select(Answer.step_id, Answer.value).order_by(col(Answer.id))).all()
    db.dispose()
    return [(step, value) for step, value in rows]


async def test_a_resident_completes_the_consultation_on_whatsapp(
    wa: FakeWhatsApp, service: Service, db_url: str
) -> None:
    chat = Chat(wa, "447700900001")
    await complete_example(chat, NEED)
    answers = stored(db_url)
    assert ("need", NEED) in answers
    assert [step for step, _ in answers][:3] == ["area", "age", "need"]
    assert len(answers) == len(set(answers))
    # Within WhatsApp's limits every time (the fake refuses anything else).
    assert not wa.errors_by_code


async def test_meta_subscription_check_needs_the_verify_token(
    wa: FakeWhatsApp, service: Service
) -> None:
    assert await wa.verify(VERIFY_TOKEN)
    assert not await wa.verify("not the token")


async def test_forged_and_malformed_calls_are_refused_and_store_nothing(
    wa: FakeWhatsApp, service: Service, db_url: str
) -> None:
    status = await wa.forge("447700900002", "start example")
    assert status == 403
    assert wa.chats.get("447700900002", []) == []
    async with aiohttp.ClientSession() as client:
        signed_junk = b"{not json"
        async with client.post(
            wa.webhook_url, data=signed_junk, headers={"X-Hub-Signature-256": wa.sign(signed_junk)}
        ) as response:
            assert response.status == 400
        async with client.post(wa.webhook_url, data=b"{}") as response:
            assert response.status == 403
    db = make_engine(db_url)
    with Session(db) as session:
        assert session.exec(select(ChannelIdentity)).all() == []
    db.dispose()


async def test_without_whatsapp_its_webhook_is_not_there(db: Engine) -> None:
    async with web_client(db) as client:
        assert (await client.get("/whatsapp/webhook?hub.mode=subscribe")).status == 404
        assert (await client.post("/whatsapp/webhook", data=b"{}")).status == 404


async def test_a_redelivered_call_is_handled_once(
    wa: FakeWhatsApp, service: Service, db_url: str
) -> None:
    chat = Chat(wa, "447700900003")
    await take_part(chat)
    await chat.choose("North (Hillside, Oakfield)")
    await chat.expect("How old are you?")
    await chat.choose("35 to 64")
    await chat.expect("In your own words")
    wamid = await chat.send(NEED)
    await chat.expect("Who else does this affect?")
    before = len(wa.chats[chat.wa_id])
    assert await wa.redeliver(wamid)
    await wa.drain()
    assert stored(db_url).count(("need", NEED)) == 1
    assert len(wa.chats[chat.wa_id]) == before  # its replies were delivered: not sent again


async def test_commands_are_words_and_the_resident_controls_their_data(
    wa: FakeWhatsApp, service: Service, db_url: str
) -> None:
    chat = Chat(wa, "447700900004")
    await chat.send("help")
    await chat.expect("MYDATA – see everything we hold about you")
    await complete_example(chat, NEED)
    # Help follows the language they choose (WhatsApp does not say theirs).
    await chat.send("iaith")
    await chat.expect("Which language would you like?")
    await chat.choose("Cymraeg")
    await chat.expect("Bydda i'n siarad Cymraeg o hyn ymlaen.")
    await chat.send("help")
    await chat.expect("Anfonwch un o'r geiriau hyn")
    await chat.send("language")
    await chat.expect("Pa iaith hoffech chi?")
    await chat.choose("English")
    await chat.expect("I'll speak English from now on.")
    await chat.send("mydata")
    await chat.expect("Here is what we hold about you")
    document = next(s for s in wa.chats[chat.wa_id] if s.type == "document")
    assert document.filename and document.filename.endswith(".json")
    await chat.send("forget")
    await chat.expect("Delete everything?")
    await chat.choose("Yes, delete everything")
    await chat.expect("Everything we held about you has been deleted")
    assert stored(db_url) == []


async def test_voice_notes_stickers_and_odd_text_get_a_sensible_answer(
    wa: FakeWhatsApp, service: Service
) -> None:
    chat = Chat(wa, "447700900005")
    await chat.send("start example")
    await chat.expect("Are you happy to take part?")
    await wa.send_other(chat.wa_id, "audio")
    await chat.expect("voice")
    await wa.send_other(chat.wa_id, "sticker")
    await until(lambda: len(wa.chats[chat.wa_id]) >= 3, 10, "no answer to a sticker")
    await chat.send("\u202e\x00" + "x" * 10_000)
    await until(lambda: len(wa.chats[chat.wa_id]) >= 4, 10, "no answer to odd text")
    assert not wa.errors_by_code


async def test_a_disclosure_of_harm_gets_help_at_once_and_a_flag(
    wa: FakeWhatsApp, service: Service, db_url: str
) -> None:
    chat = Chat(wa, "447700900006")
    await take_part(chat)
    await chat.send("My partner hits me and I am scared to go home tonight")
    await chat.expect("999")
    db = make_engine(db_url)
    with Session(db) as session:
        flags = session.exec(select(SafeguardingFlag)).all()
    db.dispose()
    assert len(flags) == 1 and flags[0].channel == "whatsapp"


async def test_a_flood_gets_one_slow_down_then_silence(db_url: str) -> None:
    # Meta's pair rate would hold the replies back for minutes: not what this checks.
    async with (
        FakeWhatsApp(pair_burst=1000) as wa,
        running_service(whatsapp_config(wa, db_url), wa),
    ):
        chat = Chat(wa, "447700900007")
        await chat.send("start example")
        await chat.expect("Are you happy to take part?")
        for n in range(40):
            await wa.send_text(chat.wa_id, f"message number {n}")
        await wa.drain()
        await until(lambda: any("a lot of messages" in t for t in chat.texts), 20,
                    "no slow down")  # fmt: skip
        settled = len(chat.texts)
        await wa.send_text(chat.wa_id, "and one more")
        await wa.drain()
        await asyncio.sleep(0.5)
    assert sum("a lot of messages" in t for t in chat.texts) == 1
    assert len(chat.texts) == settled  # silence for the rest of the window
