"""Officers' digests over Telegram: each part to each officer at most once.

A delivery counts a part as sent before sending it (conversations/staff/digest_records.py),
so after a crash an officer gets the rest of a digest, never the same part twice.
Sends wait out Telegram's flood limits within the process's send budget.
"""

from __future__ import annotations

import asyncio
import logging
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session
from telegram import Bot
from telegram.error import Forbidden, RetryAfter, TelegramError

from bot.actions.digests import Documents, documents_to_send
from bot.config import TelegramConfig
from bot.telegram.pacing import SendBudget, seconds_of
from conversations.staff import digest_records

log = logging.getLogger(__name__)
PACK_CAPTION = (
    "The evidence pack: every reviewed theme, its figures and the limits of the evidence."
)


def officers_bot(config: TelegramConfig) -> Bot:
    """A bot of its own, for a process without the Telegram application (the command line)."""
    return Bot(config.token, base_url=config.base_url, base_file_url=config.base_file_url)


async def send_part(
    bot: Bot, budget: SendBudget, chat_id: int, documents: Documents, part: int
) -> None:
    """Send one part (its place in `documents.part_names`), waiting out Telegram's flood
    limits (a 429 means it was not sent)."""
    name = documents.part_names[part]
    while True:
        try:
            async with budget.sending(chat_id):
                if name == "summary":
                    await bot.send_message(chat_id, documents.summary[:4096])
                elif name == "pack":
                    assert documents.pack is not None
                    await bot.send_document(chat_id, documents.pack,
                                            filename=documents.pack_filename(),
                                            caption=PACK_CAPTION)  # fmt: skip
                elif name == "report":
                    await bot.send_document(
                        chat_id,
                        documents.html.encode("utf-8"),
                        filename=documents.filename("html"),
                        caption="The full report: open it in a web browser, or print it.",
                    )
                else:
                    await bot.send_document(
                        chat_id,
                        documents.csv.encode("utf-8"),
                        filename=documents.filename("csv"),
                        caption="The themes as a table, for a spreadsheet.",
                    )
            return
        except RetryAfter as error:
            budget.flooded(seconds_of(error))


async def send_documents(bot: Bot, budget: SendBudget, chat_id: int, documents: Documents) -> None:
    """All parts to one chat, unrecorded (/digest answers the asker this way)."""
    for part in range(documents.parts):
        await send_part(bot, budget, chat_id, documents, part)


class DigestSender:
    """Sends stored digests to their officers, each part at most once."""

    def __init__(self, db: Engine, bot: Bot, budget: SendBudget | None = None,
                 zone: ZoneInfo | None = None) -> None:  # fmt: skip
        self.db = db
        self.bot = bot
        self.budget = budget or SendBudget()
        self.zone = zone or ZoneInfo("Europe/London")

    async def deliver(self, digest_id: int) -> dict[str, int]:
        """Send what is left of one digest; returns each delivery state's count."""
        documents = await asyncio.to_thread(documents_to_send, self.db, digest_id, self.zone)
        if documents is not None:
            for delivery_id in await asyncio.to_thread(self._open_deliveries, digest_id):
                await self._deliver_one(delivery_id, documents)
        return await asyncio.to_thread(self._settle, digest_id)

    async def _deliver_one(self, delivery_id: int, documents: Documents) -> None:
        failed = False
        while (
            claimed := await asyncio.to_thread(self._claim_part, delivery_id, documents)
        ) is not None:
            officer, part = claimed
            try:
                await send_part(self.bot, self.budget, officer, documents, part)
            except Forbidden:
                log.warning(
                    "officer %s has blocked the bot or never started a chat with it; "
                    "they get no digest until they do",
                    officer,
                )
                await asyncio.to_thread(self._finish, delivery_id, "blocked")
                return
            except TelegramError:
                log.warning(
                    "the digest's %s could not be sent to officer %s",
                    documents.part_names[part],
                    officer,
                    exc_info=True,
                )
                failed = True
        await asyncio.to_thread(self._finish, delivery_id, "failed" if failed else "sent")

    # -- database (worker threads)

    def _open_deliveries(self, digest_id: int) -> list[int]:
        with Session(self.db) as session:
            return digest_records.open_deliveries(session=session, digest_id=digest_id)

    def _claim_part(self, delivery_id: int, documents: Documents) -> tuple[int, int] | None:
        with Session(self.db) as session, session.begin():
            return digest_records.claim_part(
                session=session, delivery_id=delivery_id, parts=documents.parts
            )

    def _finish(self, delivery_id: int, state: str) -> None:
        with Session(self.db) as session, session.begin():
            digest_records.finish_delivery(session=session, delivery_id=delivery_id, state=state)

    def _settle(self, digest_id: int) -> dict[str, int]:
        """Each state's count; once none is left to send, the documents go (they quote residents)."""
        with Session(self.db) as session, session.begin():
            return digest_records.settle(session=session, digest_id=digest_id)
