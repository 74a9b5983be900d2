"""When officers' digests are built and sent: weekly, on catch-up, and on demand.

The scheduler runs `Digests.weekly` at the [digest] day and time, and
`Digests.catch_up` on its tick, so a digest missed while the process was down
goes out when it is back. Both are idempotent: a week's digest is built at most
once (bot/actions/digests.py) and each part reaches each officer at most once
(bot/telegram/digest_delivery.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from functools import partial
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session
from telegram import Bot

from bot.actions.digests import WEEK, Documents, build, period_ending, store_digest, weekly_due
from bot.config import Config
from bot.telegram.digest_delivery import DigestSender, officers_bot
from bot.telegram.pacing import SendBudget
from conversations.staff import digest_records
from conversations.storage import store
from conversations.storage.models import utcnow

log = logging.getLogger(__name__)


class Digests:
    """The weekly job, and digests sent now, for one process."""

    def __init__(
        self, config: Config, db: Engine, bot: Bot | None, budget: SendBudget | None = None
    ) -> None:
        self.config = config
        self.db = db
        self.bot = bot
        self.budget = budget or SendBudget()
        self.zone = ZoneInfo(config.digest.timezone)
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="digest")
        self._lock = asyncio.Lock()
        self._failed: set[tuple[str, datetime]] = set()  # retried by the weekly run, not each tick

    def registry(self) -> dict[str, Callable[[], Awaitable[None]]]:
        """The scheduler's jobs: "digest" weekly; "digest-catch-up" on every tick."""
        return {"digest": self.weekly, "digest-catch-up": self.catch_up}

    async def weekly(self) -> None:
        """Build and send this week's digests (the scheduled run)."""
        self._failed.clear()
        await self.catch_up()

    async def catch_up(self, *, now: datetime | None = None) -> None:
        """Build any digest due for the latest week and send what is still unsent."""
        async with self._lock:
            end = period_ending(now or utcnow(), self.config.digest)
            officers = self.config.staff.officers
            for slug in await asyncio.to_thread(weekly_due, self.db, end):
                if (slug, end) in self._failed:
                    continue
                try:
                    await self._build_weekly(slug, end, officers)
                except Exception:
                    self._failed.add((slug, end))
                    log.exception("the digest for %s could not be built", slug)
            await self.send_outstanding()

    async def _build_weekly(self, slug: str, end: datetime, officers: tuple[int, ...]) -> int:
        documents, run_id = await asyncio.get_running_loop().run_in_executor(
            self.pool, partial(build, self.db, slug, start=end - WEEK, end=end, zone=self.zone)
        )
        digest_id = await asyncio.to_thread(
            partial(
                store_digest,
                self.db,
                slug=slug,
                kind="weekly",
                start=end - WEEK,
                end=end,
                documents=documents,
                run_id=run_id,
                officers=officers,
            )
        )
        if not officers:
            log.warning(
                "the digest for %s is built but no officers are configured to get it "
                "(add their Telegram ids to [staff] officers)",
                slug,
            )
        log.info("built the digest for %s, week to %s", slug, end)
        return digest_id

    async def send_outstanding(self) -> None:
        if self.bot is None:
            return  # Telegram is off: the deliveries wait until it is on
        sender = DigestSender(self.db, self.bot, self.budget, self.zone)
        for digest_id in await asyncio.to_thread(self._outstanding):
            counts = await sender.deliver(digest_id)
            log.info("digest %d: %s", digest_id, counts)

    def _outstanding(self) -> list[int]:
        with Session(self.db) as session:
            return digest_records.outstanding(session=session, kind="weekly")

    async def send_now(self, slug: str) -> tuple[Documents, dict[str, int]]:
        """Build now and send to every configured officer (`needsfirst digest --send`)."""
        end = utcnow()
        documents, run_id = await asyncio.get_running_loop().run_in_executor(
            self.pool, partial(build, self.db, slug, start=end - WEEK, end=end, zone=self.zone)
        )
        officers = self.config.staff.officers
        if not officers:
            log.warning("no officers are configured: add their Telegram ids to [staff] officers")
            return documents, {}
        if self.bot is None:
            raise store.StoreError("Telegram is off: set [telegram] token to send digests")
        digest_id = await asyncio.to_thread(
            partial(
                store_digest,
                self.db,
                slug=slug,
                kind="on-demand",
                start=end - WEEK,
                end=end,
                documents=documents,
                run_id=run_id,
                officers=officers,
            )
        )
        return documents, await DigestSender(self.db, self.bot, self.budget, self.zone).deliver(
            digest_id
        )

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


async def send_to_officers(
    config: Config, db: Engine, slug: str
) -> tuple[Documents, dict[str, int]]:
    """The command line's `digest --send`: build now and deliver with a bot of its own."""
    if not config.telegram.token:
        digests = Digests(config, db, None)
        try:
            if config.staff.officers:
                raise store.StoreError("Telegram is off: set [telegram] token to send digests")
            return await digests.send_now(slug)
        finally:
            digests.close()
    async with officers_bot(config.telegram) as bot:
        digests = Digests(config, db, bot)
        try:
            return await digests.send_now(slug)
        finally:
            digests.close()
