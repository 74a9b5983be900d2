"""The whole consultation's evidence pack sent to officers beside a digest on request
(`needsfirst digest --send --with-pack`), on the fake Telegram Bot API."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from telegram import Bot

from bot.actions.packs import make_pack
from bot.telegram.pacing import SendBudget
from bot.telegram.pack_delivery import send_pack
from tests.fakes.telegram_api import FakeBotAPI
from tests.pack_seed import seed_pack


async def test_each_officer_gets_the_pack_and_a_blocked_one_is_counted(
    fake: FakeBotAPI, telegram_bot: Bot, sqlite_db: Engine
) -> None:
    seed_pack(sqlite_db)
    pack = make_pack(sqlite_db, "example", theme_id=None, fmt="pdf", actor="cli:test",
                     zone=ZoneInfo("Europe/London"))  # fmt: skip
    fake.user(201, started=True)
    fake.user(202, started=True)
    fake.blocked.add(202)
    counts = await send_pack(telegram_bot, (201, 202), pack, SendBudget(per_chat=0.0))
    assert counts == {"pack sent": 1, "pack failed": 1}
    (document,) = fake.user(201).documents
    assert document.filename == pack.name and pack.name.endswith(".pdf")
    assert document.data == pack.content and document.data.startswith(b"%PDF")
    assert fake.user(202).documents == []
