"""The Notify sender: an asyncio task that delivers queued broadcasts (invitations,
decisions) by text message or email to web-chat residents who left contact details,
and collects delivery receipts.

Like Telegram's broadcaster, each recipient is claimed (committed as "sending")
before Notify is called and recorded after with Notify's notification id, so a
restart can lose a message but never send one twice. A 429 from Notify means it
did not take the message: the row goes back to pending and the sender waits.

Receipts are polled (`get_notification_by_id`) rather than taken from Notify's
callback: the callback needs a public HTTPS endpoint registered by hand in
Notify's admin with a bearer token, and a service on one machine behind a
council firewall may have none; polling needs nothing inbound, and a message's
status settles within hours, so a slow poll of the few unsettled rows suffices.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from bot.channels.rate_window import RateWindow
from bot.notify.messages import NotifyMessages, NotNow, Refused
from conversations.staff import broadcast_recipients, notify_recipients
from conversations.staff.notify_recipients import NotifyDelivery

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NotifySettings:
    per_minute: int = 2900  # Notify allows 3,000; a little kept for safeguarding emails
    window_seconds: float = 60.0  # Notify's rolling window (shorter only in tests)
    poll_interval: float = 5.0
    batch: int = 50
    concurrency: int = 8  # messages in flight at once
    receipt_interval: float = 300.0  # how often to ask Notify about unsettled messages
    not_now_seconds: float = 10.0  # wait after a 429 RateLimitError


class NotifySender:
    def __init__(self, db: Engine, notify: NotifyMessages, public_url: str,
                 settings: NotifySettings | None = None) -> None:  # fmt: skip
        self.db, self.notify, self.public_url = db, notify, public_url.rstrip("/")
        self.settings = settings or NotifySettings()
        # A little longer than Notify's window: its count starts when a request arrives.
        window = self.settings.window_seconds
        self.window = RateWindow(self.settings.per_minute, window * 1.02)
        self.task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._receipts_at = 0.0

    def start(self) -> None:
        self._stopping.clear()
        self.task = asyncio.create_task(self.run(), name="notify-sender")

    def wake(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self.task is not None:
            with suppress(asyncio.CancelledError):
                await self.task

    async def run(self) -> None:
        recovered = await asyncio.to_thread(self._recover)
        if recovered:
            log.warning("%d Notify messages were being sent when the service stopped: "
                        "counted as failed, not retried", recovered)  # fmt: skip
        while not self._stopping.is_set():
            self._wake.clear()
            busy = False
            try:
                busy = await self.send_some()
                loop_time = asyncio.get_running_loop().time()
                if loop_time - self._receipts_at >= self.settings.receipt_interval:
                    self._receipts_at = loop_time
                    await self.collect_receipts()
            except Exception:
                log.exception("the Notify sender failed; trying again shortly")
            if not busy:
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.settings.poll_interval)

    async def send_some(self) -> bool:
        """Claim and send one batch; true if there was anything to send."""
        claimed = await asyncio.to_thread(self._claim)
        # Several in flight: one at a time, Notify's round trip would cap the rate
        # well below its limit (at 50 ms, 1,200 a minute).
        slots = asyncio.Semaphore(self.settings.concurrency)

        async def one(delivery: NotifyDelivery) -> None:
            async with slots:
                if self._stopping.is_set():
                    await asyncio.to_thread(self._release, delivery.recipient_id)
                    return
                outcome, notify_id = await self._deliver(delivery)
                await asyncio.to_thread(self._record, delivery, outcome, notify_id)

        async with asyncio.TaskGroup() as tasks:
            for delivery in claimed:
                tasks.create_task(one(delivery))
        return bool(claimed)

    async def _deliver(self, delivery: NotifyDelivery) -> tuple[str, str | None]:
        if not delivery.invitations:
            return "stopped", None
        if delivery.address is None:
            return "failed", None  # they removed their contact details meanwhile
        personalisation = {
            "message": delivery.message,
            "link": f"{self.public_url}/c/{delivery.slug}",
        }
        reference = f"broadcast-{delivery.broadcast_id}-recipient-{delivery.recipient_id}"
        while True:
            await self.window.acquire()
            try:
                notify_id = await self.notify.send(
                    delivery.channel, delivery.address, personalisation, reference
                )
                return "sent", notify_id
            except NotNow as error:
                # Not accepted, so sending it again later cannot duplicate it.
                wait = 3600.0 if error.daily else self.settings.not_now_seconds
                log.warning("Notify asked to wait (%s); waiting %.0f s", error, wait)
                self.window.pause(wait)
                if self._stopping.is_set():
                    return "failed", None
            except Refused as error:
                log.warning("a Notify message was refused: %s", error)
                return "failed", None

    async def collect_receipts(self, limit: int = 500) -> int:
        """Ask Notify how the unsettled messages fared; how many receipts were recorded."""
        pending = await asyncio.to_thread(self._awaiting, limit)
        recorded = 0
        for recipient_id, notify_id in pending:
            await self.window.acquire()  # reads count towards the same limit
            try:
                status, at = await self.notify.status(notify_id)
            except (NotNow, Refused) as error:
                log.info("no receipt for a Notify message now: %s", error)
                break
            await asyncio.to_thread(self._receipt, recipient_id, status, at)
            recorded += 1
        return recorded

    # -- database (worker threads)

    def _recover(self) -> int:
        with Session(self.db) as session, session.begin():
            return broadcast_recipients.recover(
                session=session, channels=notify_recipients.CHANNELS
            )

    def _claim(self) -> list[NotifyDelivery]:
        with Session(self.db) as session, session.begin():
            return notify_recipients.claim(session=session, limit=self.settings.batch)

    def _release(self, recipient_id: int) -> None:
        with Session(self.db) as session, session.begin():
            notify_recipients.release(session=session, recipient_id=recipient_id)

    def _record(self, delivery: NotifyDelivery, outcome: str, notify_id: str | None) -> None:
        with Session(self.db) as session, session.begin():
            notify_recipients.record(session=session, recipient_id=delivery.recipient_id,
                                     outcome=outcome, notify_id=notify_id)  # fmt: skip
            broadcast_recipients.finish_if_done(session=session, broadcast_id=delivery.broadcast_id)

    def _awaiting(self, limit: int) -> list[tuple[int, str]]:
        with Session(self.db) as session:
            return notify_recipients.awaiting_receipt(session=session, limit=limit)

    def _receipt(self, recipient_id: int, status: str, at: str | None) -> None:
        when = datetime.fromisoformat(at.replace("Z", "+00:00")) if at else None
        with Session(self.db) as session, session.begin():
            notify_recipients.record_receipt(session=session, recipient_id=recipient_id,
                                             status=status, at=when)  # fmt: skip
