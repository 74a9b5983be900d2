"""At-least-once Telegram updates in polling mode and webhook mode.

python-telegram-bot confirms a batch of updates to Telegram when it asks for the
next batch, which can be before the handlers of the first have run; a crash then
loses them. Here the getUpdates response is written to the durable inbox before
python-telegram-bot even sees it; a late handler group removes each update once
handled; at start-up, whatever is left is handled again.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session
from telegram import Update
from telegram._utils.types import ODVInput
from telegram.ext import Application, ContextTypes, TypeHandler
from telegram.request import BaseRequest, RequestData

from bot.batching import KeyBatcher
from bot.telegram_request import AiohttpRequest
from bot.telegram_updates import read_update
from conversations import inbox

log = logging.getLogger(__name__)
CHANNEL = "telegram"
LAST_GROUP = 1_000  # runs after every other handler group of an update


class DurableInbox:
    """Writes updates down before they are confirmed; removes them once handled."""

    def __init__(self, db: Engine) -> None:
        self.db = db
        self.done = KeyBatcher(self._forget, what="handled updates")

    async def keep(self, updates: list[dict[str, Any]]) -> None:
        rows = [(str(u["update_id"]), json.dumps(u)) for u in updates if "update_id" in u]
        await asyncio.to_thread(self._record, rows)

    def _record(self, rows: list[tuple[str, str]]) -> None:
        with self.db.begin() as connection:
            inbox.record(connection=connection, channel=CHANNEL, updates=rows)

    def register(self, application: Application) -> None:  # type: ignore[type-arg]
        application.add_handler(TypeHandler(Update, self._handled), group=LAST_GROUP)

    async def _handled(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Mark an update handled (in batches: one transaction for many updates)."""
        self.done.add(str(update.update_id))

    async def flush(self) -> None:
        await self.done.flush()

    def _forget(self, keys: list[str]) -> None:
        with self.db.begin() as connection:
            inbox.handled(connection=connection, channel=CHANNEL, keys=keys)

    async def replay(self, application: Application) -> int:  # type: ignore[type-arg]
        """Queue again the updates a previous run fetched but did not finish."""

        def load() -> list[tuple[str, str]]:
            with Session(self.db) as session:
                return inbox.pending(session=session, channel=CHANNEL)

        rows = await asyncio.to_thread(load)
        for key, payload in rows:
            try:
                data = json.loads(payload)
            except ValueError:
                data = None
            update = read_update(data, application.bot) if isinstance(data, dict) else None
            if update is None:  # one bad row must not stop every start from here on
                self.done.add(key)
                continue
            await application.update_queue.put(update)
        if rows:
            log.info("handling %d update(s) fetched before the last stop", len(rows))
        return len(rows)


class DurableUpdatesRequest(AiohttpRequest):
    """The getUpdates request: its result goes to the durable inbox before PTB sees it."""

    def __init__(self, durable: DurableInbox, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.durable = durable

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        status, body = await super().do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )
        if status == 200 and url.endswith("/getUpdates"):
            try:
                document = json.loads(body)
            except ValueError:
                document = None
            result = document.get("result") if isinstance(document, dict) else None
            if isinstance(result, list) and result:
                updates = readable(result)
                # If this fails, raise: PTB retries and Telegram keeps the batch.
                await self.durable.keep(updates)
                if updates != result:
                    body = json.dumps({**document, "result": updates}).encode()
        return status, body


def readable(result: list[Any]) -> list[dict[str, Any]]:
    """The batch, with each update the bot cannot read replaced by an empty one.

    PTB reads a batch in one go: one unreadable update would fail the whole batch,
    unconfirmed, on every poll, and no resident would hear from the bot again. An
    empty update with the same id is confirmed and handled as nothing."""
    updates: list[dict[str, Any]] = []
    for update in result:
        update_id = update.get("update_id") if isinstance(update, dict) else None
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            log.warning("dropped an update without an id")  # Telegram could not confirm it
            continue
        if read_update(update, None) is None:
            update = {"update_id": update_id}
        updates.append(update)
    return updates
