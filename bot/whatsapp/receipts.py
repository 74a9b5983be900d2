"""What became of our broadcasts' templates, from WhatsApp's status webhooks.

Each status names its message by wamid; the row with that `provider_ref` gets the
receipt (delivered, read, or failed with Meta's code). A message the resident cannot
get (131026: not on WhatsApp, or they blocked us) makes them unreachable, as a block
does on Telegram. Any process that takes the webhook records them: the database is
all it needs. A status can arrive before its send is recorded (Meta answers the send
and posts the status at once): where a send is under way here, an unmatched status is
tried once more a moment later. Statuses of replies match no row and are let go.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from bot.channels.batching import GroupCommit
from bot.whatsapp.client import RE_ENGAGEMENT
from bot.whatsapp.inbound import Status
from conversations.staff import whatsapp_recipients
from conversations.staff.whatsapp_recipients import RECEIPT_ORDER, Receipt
from conversations.storage.models import utcnow

log = logging.getLogger(__name__)
RECORDED = ("delivered", "read", "failed")  # "sent" says only that Meta took it


class Receipts:
    def __init__(self, db: Engine, *, expecting: Callable[[], bool] = lambda: False,
                 again_after: float = 1.0, now: Callable[[], datetime] = utcnow) -> None:  # fmt: skip
        self.db, self.expecting, self.again_after, self.now = db, expecting, again_after, now
        self.recorded = 0
        self._later: set[asyncio.Task[None]] = set()
        # Meta posts two or three statuses for every message, replies included: the
        # calls that arrive together share one transaction.
        self.batches: GroupCommit[list[Receipt], set[str] | None] = GroupCommit(
            self._write_many, fallback=None
        )

    async def on_status(self, statuses: Sequence[Status]) -> None:
        """The WhatsApp channel's hook for the statuses in one webhook call."""
        receipts = [
            Receipt(s.wamid, s.status, s.error_code) for s in statuses if s.status in RECORDED
        ]
        if receipts:
            await self._record(receipts, again=self.expecting())

    async def _record(self, receipts: list[Receipt], *, again: bool) -> None:
        unmatched = await self.batches.submit(receipts)
        if unmatched is None:  # a lost receipt costs a figure, never a message
            log.warning("could not record %d WhatsApp receipts", len(receipts))
            return
        self.recorded += len(receipts) - len([r for r in receipts if r.wamid in unmatched])
        for receipt in receipts:
            if receipt.wamid in unmatched or receipt.status != "failed":
                continue
            if receipt.error_code == RE_ENGAGEMENT:  # only free-form messages meet it
                log.warning("a WhatsApp template failed with 131047 (outside 24 hours)")
            else:
                log.info("a WhatsApp broadcast message failed: %s", receipt.error_code)
        if unmatched and again:
            rest = [r for r in receipts if r.wamid in unmatched]
            task = asyncio.create_task(self._again(rest))
            self._later.add(task)
            task.add_done_callback(self._later.discard)

    async def _again(self, receipts: list[Receipt]) -> None:
        await asyncio.sleep(self.again_after)
        await self._record(receipts, again=False)

    def _write_many(self, batches: Sequence[list[Receipt]]) -> list[set[str] | None]:
        # In order of what happens: a webhook call's "read" after its "delivered".
        every = [receipt for receipts in batches for receipt in receipts]
        ordered = sorted(every, key=lambda r: RECEIPT_ORDER[r.status])
        with Session(self.db) as session, session.begin():
            unmatched = whatsapp_recipients.record_receipts(
                session=session, receipts=ordered, at=self.now()
            )
        return [{r.wamid for r in receipts} & unmatched for receipts in batches]

    async def close(self) -> None:
        for task in list(self._later):
            task.cancel()
        await asyncio.gather(*self._later, return_exceptions=True)
