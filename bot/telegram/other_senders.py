"""An estimate of what other processes send with the bot's token, for the broadcaster.

Behind a load balancer, webhook workers answer residents while the scheduler's
process sends a broadcast, and Telegram counts them all against one limit. The
workers' sends are not in this process's `SendBudget`, but every update a worker
handles is written to the database's inbox (with the handling process's boot id)
just before its replies go out. So while a broadcast is going, the broadcaster
counts the Telegram updates other processes handled in the last few seconds and
holds places for their replies: `REPLIES_PER_UPDATE` each (a tap can bring an
edited keyboard and a message, or two messages), as a rate a second.

An estimate, not a guarantee: a sudden burst of replies shows up here a moment
late, and the 429 it may then earn pauses the broadcast (`SendBudget.flooded`).
In one process (polling, or the scheduler's own replies) nothing is counted twice:
that process's own updates are left out.
"""

from __future__ import annotations

import asyncio
import logging
import math
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from bot.telegram.pacing import SendBudget
from conversations.residents import inbox
from conversations.storage.models import utcnow

log = logging.getLogger(__name__)
REPLIES_PER_UPDATE = 2


class OtherSenders:
    """Keeps `budget.others` up to date from the inbox while a broadcast is going."""

    def __init__(self, db: Engine, budget: SendBudget, own_boot_id: str, *,
                 window: float = 2.0, interval: float = 0.5) -> None:  # fmt: skip
        self.db = db
        self.budget = budget
        self.own_boot_id = own_boot_id
        self.window = window  # seconds of handled updates to average over
        self.interval = interval  # seconds between two looks

    def handled_elsewhere(self) -> int:
        """Telegram updates handled by other processes in the last `window` seconds."""
        since = utcnow() - timedelta(seconds=self.window)
        with Session(self.db) as session:
            return inbox.handled_elsewhere(
                session=session, channel="telegram", since=since, boot_id=self.own_boot_id
            )

    def places(self, handled: int) -> int:
        """Places to hold for other processes' replies, from their recent updates."""
        return math.ceil(handled * REPLIES_PER_UPDATE / self.window)

    async def follow(self) -> None:
        """Look every `interval` seconds until cancelled; then hold no places."""
        try:
            while True:
                try:
                    handled = await asyncio.to_thread(self.handled_elsewhere)
                except Exception:  # the database may be away a moment: keep the last estimate
                    log.warning("could not count other processes' updates", exc_info=True)
                else:
                    places = self.places(handled)
                    if places != self.budget.others:
                        log.debug("holding %d places for other processes' replies", places)
                    self.budget.others = places
                await asyncio.sleep(self.interval)
        finally:
            self.budget.others = 0
