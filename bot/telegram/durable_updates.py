"""At-least-once Telegram updates in polling mode and webhook mode.

python-telegram-bot confirms a batch of updates to Telegram when it asks for the
next batch, which can be before the handlers of the first have run; a crash then
loses them. Here each getUpdates batch (bot/telegram/lean_bot.py) and each webhook update
is written to the durable inbox before any handler sees it; a late handler group
removes each update once handled; at start-up, whatever is left is handled again.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from concurrent.futures import Executor
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session
from telegram import Update
from telegram.ext import Application, BaseHandler, ContextTypes

from bot.channels.batching import GroupCommit, KeyBatcher
from bot.telegram.updates import ResidentUpdate, read_any
from conversations.residents import inbox

log = logging.getLogger(__name__)
CHANNEL = "telegram"
LAST_GROUP = 1_000  # runs after every other handler group of an update


class DurableInbox:
    """Writes updates down before they are confirmed; removes them once handled."""

    def __init__(self, db: Engine, urgent: Executor | None = None) -> None:
        self.db = db
        self.done = KeyBatcher(self._forget, what="handled updates")
        # Webhook calls bring one update each: those arriving together share a transaction.
        self.kept: GroupCommit[tuple[str, str], bool] = GroupCommit(self._keep_many, fallback=False)
        # The next poll for updates waits for `keep`: it must not queue behind the
        # residents' transactions (bot/database_thread.py). None: the default executor.
        self.urgent = urgent

    async def keep(self, updates: list[dict[str, Any]]) -> None:
        rows = [(str(u["update_id"]), json.dumps(u)) for u in updates if "update_id" in u]
        await asyncio.get_running_loop().run_in_executor(self.urgent, self._record, rows)

    async def keep_delivered(self, update: dict[str, Any]) -> bool:
        """A webhook's update, written down with the other calls' now arriving; False if
        the database could not take it (Telegram is then asked to send it again)."""
        if "update_id" not in update:
            return True
        return await self.kept.submit((str(update["update_id"]), json.dumps(update)))

    def _keep_many(self, rows: Sequence[tuple[str, str]]) -> list[bool]:
        self._record(list(rows))
        return [True] * len(rows)

    def _record(self, rows: list[tuple[str, str]]) -> None:
        with self.db.begin() as connection:
            inbox.record(connection=connection, channel=CHANNEL, updates=rows)

    def register(self, application: Application) -> None:  # type: ignore[type-arg]
        application.add_handler(EveryUpdate(self._handled), group=LAST_GROUP)

    async def _handled(
        self, update: Update | ResidentUpdate, context: ContextTypes.DEFAULT_TYPE
    ) -> None:
        """Mark an update handled (in batches: one transaction for many updates)."""
        self.done.add(str(update.update_id))

    async def flush(self) -> None:
        """Write the last handled marks."""
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
            update = read_any(data, application.bot) if isinstance(data, dict) else None
            if update is None:  # one bad row must not stop every start from here on
                self.done.add(key)
                continue
            await application.update_queue.put(update)
        if rows:
            log.info("handling %d update(s) fetched before the last stop", len(rows))
        return len(rows)


class EveryUpdate(BaseHandler[Update | ResidentUpdate, ContextTypes.DEFAULT_TYPE, None]):
    """Matches every update from Telegram, as PTB's or as a `ResidentUpdate`."""

    def check_update(self, update: object) -> bool:
        return isinstance(update, Update | ResidentUpdate)
