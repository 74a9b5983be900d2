"""The WhatsApp channel in one process: what it keeps, what it runs, how it stops.

Residents' messages arrive by webhook (webhook.py), are written to the durable inbox
in groups (one transaction for all the calls that arrive together), and are then
handled one resident at a time in arrival order, many residents at once. At start-up
the messages a previous run accepted but did not finish are handled again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

import aiohttp
from sqlalchemy import Engine
from sqlmodel import Session

from bot.channels.batching import GroupCommit, KeyBatcher
from bot.channels.metrics import ChannelMeter
from bot.channels.ordering import InOrder
from bot.channels.rate_window import RateWindow
from bot.config import WhatsAppConfig
from bot.whatsapp.client import RE_ENGAGEMENT, CloudApi
from bot.whatsapp.inbound import Incoming, Status
from bot.whatsapp.residents import CHANNEL, WhatsAppResidents
from bot.whatsapp.sending import Outbox
from conversations.residents import inbox
from conversations.residents.service import ConversationService

log = logging.getLogger(__name__)
# A little over a second: Meta counts its window from when a request arrives.
WINDOW_SECONDS = 1.02
METER = ChannelMeter(CHANNEL)


class WhatsAppChannel:
    def __init__(self, config: WhatsAppConfig, db: Engine, service: ConversationService,
                 *, on_status: Callable[[Sequence[Status]], Awaitable[None]] | None = None
                 ) -> None:  # fmt: skip
        self.config, self.db, self.service = config, db, service
        # Replies and broadcasts share the number's messages a second.
        self.window = RateWindow(config.throughput, WINDOW_SECONDS)
        self.on_status = on_status
        self.session: aiohttp.ClientSession | None = None
        self.residents: WhatsAppResidents | None = None
        self.in_order = InOrder()
        self.tasks: set[asyncio.Task[None]] = set()
        self.kept: GroupCommit[list[tuple[str, str]], bool] = GroupCommit(
            self._keep, fallback=False
        )
        # Handled (off the inbox) and, where its replies went, delivered: one transaction.
        self.done = KeyBatcher(self._finished, what="handled WhatsApp messages")

    @property
    def api(self) -> CloudApi:
        assert self.session is not None, "start() first"
        config = self.config
        return CloudApi(self.session, base_url=config.base_url, version=config.api_version,
                        phone_number_id=config.phone_number_id,
                        access_token=config.access_token)  # fmt: skip

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(limit=256)
        self.session = aiohttp.ClientSession(
            connector=connector, timeout=aiohttp.ClientTimeout(total=30)
        )
        self.residents = WhatsAppResidents(self.service, Outbox(self.api, self.window))
        replayed = await self.replay()
        if replayed:
            log.info("handling %d WhatsApp message(s) accepted before the last stop", replayed)

    async def stop(self) -> None:
        if self.tasks:
            await asyncio.wait(self.tasks, timeout=10)
        await self.done.flush()
        if self.session is not None:
            await self.session.close()
            self.session = None

    async def accept(self, messages: list[Incoming], statuses: list[Status]) -> bool:
        """Keep the messages, then handle them after the caller answers Meta. False: not
        kept (Meta should send them again)."""
        received = time.monotonic()
        if messages:
            # vars(), not dataclasses.asdict: asdict deep-copies every field, per message.
            rows = [(m.key, json.dumps(vars(m))) for m in messages]
            if not await self.kept.submit(rows):
                return False
            for message in messages:
                self._spawn(self._handle(message, received))
        if statuses:
            self._spawn(self._statuses(statuses))
        return True

    async def replay(self) -> int:
        def load() -> list[tuple[str, str]]:
            with Session(self.db) as session:
                return inbox.pending(session=session, channel=CHANNEL)

        rows = await asyncio.to_thread(load)
        for key, payload in rows:
            try:
                message = Incoming(**json.loads(payload))
            except (ValueError, TypeError):  # one bad row must not stop every start
                self.done.add("h:" + key)
                continue
            self._spawn(self._handle(message, time.monotonic()))
        return len(rows)

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _handle(self, message: Incoming, received: float) -> None:
        assert self.residents is not None
        try:
            delivered = await self.in_order.run(message.wa_id, self.residents.handle(message))
        except Exception:  # one resident's failure must not stop the others
            log.exception("a WhatsApp message could not be handled")
            return  # kept in the inbox: handled again at the next start
        self.done.add(("d:" if delivered else "h:") + message.key)
        METER.replied(received)

    async def _statuses(self, statuses: list[Status]) -> None:
        for status in statuses:
            if status.status == "failed":
                if status.error_code == RE_ENGAGEMENT:
                    log.info("a reply was not delivered: 24 hours since the resident wrote")
                else:
                    log.info("a WhatsApp message failed: %s", status.error_code)
        if self.on_status is not None:
            await self.on_status(statuses)

    def _keep(self, batches: Sequence[list[tuple[str, str]]]) -> list[bool]:
        with self.db.begin() as connection:
            inbox.record(
                connection=connection, channel=CHANNEL,
                updates=[row for rows in batches for row in rows],
            )  # fmt: skip
        return [True] * len(batches)

    def _finished(self, marks: list[str]) -> None:
        """ "d:key": handled and its replies delivered; "h:key": handled, a reply not sent
        (a redelivery of it gets the replies again)."""
        self.service.finish(
            CHANNEL,
            handled=[mark[2:] for mark in marks],
            delivered=[mark[2:] for mark in marks if mark.startswith("d:")],
        )
