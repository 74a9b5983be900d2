"""When officers' digests are built and sent: weekly, on catch-up, and on demand.

The scheduler runs `Digests.weekly` at the [digest] day and time, and
`Digests.catch_up` on its tick, so a digest missed while the process was down
goes out when it is back. Both are idempotent: a week's digest is built at most
once (bot/actions/digests.py) and each part reaches each officer at most once, on
Telegram (bot/telegram/digest_delivery.py) and by email (bot/notify/digest_email.py).
The evidence pack ([digest] with_pack, or `--with-pack`) is one more part of it.
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

from bot.actions.digests import (
    ACTOR,
    WEEK,
    Documents,
    build,
    period_ending,
    store_digest,
    weekly_due,
    with_pack,
)
from bot.actions.staff_access import public_base_url
from bot.config import Config
from bot.notify.digest_email import DigestEmails
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
        self.emails = digest_emails(config, db, self.zone)

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
            for slug in await asyncio.to_thread(weekly_due, self.db, end):
                if (slug, end) in self._failed:
                    continue
                try:
                    await self._build_weekly(slug, end)
                except Exception:
                    self._failed.add((slug, end))
                    log.exception("the digest for %s could not be built", slug)
            await self.send_outstanding()

    @property
    def _addresses(self) -> tuple[str, ...]:
        """Officers' email addresses, when the digest can be emailed."""
        return self.config.staff.officer_emails if self.emails is not None else ()

    async def _built(self, slug: str, end: datetime, pack: bool, actor: str = ACTOR, *,
                     or_without: bool = False) -> tuple[Documents, int | None]:  # fmt: skip
        """The digest for the week to `end`, carrying the evidence pack if asked (its
        making audited with `actor`). A pack that cannot be made (no themes yet) stops
        a digest asked for with it; `or_without`, the digest goes without it."""
        loop = asyncio.get_running_loop()
        documents, run_id = await loop.run_in_executor(
            self.pool, partial(build, self.db, slug, start=end - WEEK, end=end, zone=self.zone)
        )
        if pack:
            try:
                documents = await loop.run_in_executor(
                    self.pool, partial(with_pack, self.db, documents, self.zone, actor=actor)
                )
            except store.StoreError as error:
                if not or_without:
                    raise
                log.warning("the digest for %s goes without its evidence pack: %s", slug, error)
        return documents, run_id

    async def _build_weekly(self, slug: str, end: datetime) -> int:
        officers = self.config.staff.officers
        documents, run_id = await self._built(
            slug, end, self.config.digest.with_pack, or_without=True
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
                emails=self._addresses,
            )
        )
        if not officers and not self._addresses:
            log.warning(
                "the digest for %s is built but no officers are configured to get it "
                "(add their Telegram ids to [staff] officers, or addresses to officer_emails)",
                slug,
            )
        log.info("built the digest for %s, week to %s", slug, end)
        return digest_id

    async def send_outstanding(self) -> None:
        """Send what is unsent, by email and on Telegram (the deliveries on a channel
        that is off wait until it is on)."""
        if self.emails is not None:
            for digest_id in await asyncio.to_thread(self._outstanding, False, True):
                counts = await self.emails.deliver(digest_id)
                log.info("digest %d: %s", digest_id, counts)
        if self.bot is not None:
            sender = DigestSender(self.db, self.bot, self.budget, self.zone)
            for digest_id in await asyncio.to_thread(self._outstanding, True, False):
                counts = await sender.deliver(digest_id)
                log.info("digest %d: %s", digest_id, counts)

    def _outstanding(self, telegram: bool, email: bool) -> list[int]:
        with Session(self.db) as session:
            return digest_records.outstanding(session=session, kind="weekly",
                                              telegram=telegram, email=email)  # fmt: skip

    async def send_now(self, slug: str, *, pack: bool = False,
                       actor: str = ACTOR) -> tuple[Documents, dict[str, int]]:  # fmt: skip
        """Build now and send to every configured officer (`needsfirst digest --send`;
        with `pack`, the evidence pack too, made by `actor`)."""
        officers = self.config.staff.officers if self.bot is not None else ()
        if self.bot is None and self.config.staff.officers and not self._addresses:
            raise store.StoreError("Telegram is off: set [telegram] token to send digests")
        end = utcnow()
        if not officers and not self._addresses:
            log.warning("no officers are configured: add their Telegram ids to [staff] officers"
                        " or their addresses to [staff] officer_emails")  # fmt: skip
            return (await self._built(slug, end, False))[0], {}
        documents, run_id = await self._built(slug, end, pack, actor)
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
                emails=self._addresses,
            )
        )
        counts: dict[str, int] = {}
        if self.emails is not None:
            counts = await self.emails.deliver(digest_id)
        if self.bot is not None:
            counts = await DigestSender(self.db, self.bot, self.budget, self.zone).deliver(
                digest_id
            )
        return documents, counts

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


async def send_to_officers(
    config: Config, db: Engine, slug: str, *, pack: bool = False, actor: str = ACTOR
) -> tuple[Documents, dict[str, int]]:
    """The command line's `digest --send [--with-pack]`: build now and deliver with a bot
    of its own."""
    if not config.telegram.token:
        digests = Digests(config, db, None)
        try:
            return await digests.send_now(slug, pack=pack, actor=actor)
        finally:
            digests.close()
    async with officers_bot(config.telegram) as bot:
        digests = Digests(config, db, bot)
        try:
            return await digests.send_now(slug, pack=pack, actor=actor)
        finally:
            digests.close()


def digest_emails(config: Config, db: Engine, zone: ZoneInfo) -> DigestEmails | None:
    """The digest's email sender, when officers have addresses and Notify is set up."""
    notify = config.notify
    if not (config.staff.officer_emails and notify.api_key and notify.digest_template_id):
        return None
    return DigestEmails(db, api_key=notify.api_key, template_id=notify.digest_template_id,
                        base_url=notify.base_url, public_url=public_base_url(config),
                        zone=zone)  # fmt: skip
