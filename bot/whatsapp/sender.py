"""The WhatsApp sender: an asyncio task that delivers queued broadcasts (invitations,
decisions) to WhatsApp residents as approved templates, within the number's limits.

Like Telegram's broadcaster and Notify's sender, each recipient is claimed (committed
as "sending") before the Cloud API is called and recorded after with its wamid, so a
restart can lose a message but never send one twice: a row found "sending" at start
is failed. Meta's "not now" (130429 throughput, 131056 pair rate, a 5xx, a connection
never made) means it did not take the message: the row goes back to pending and is
tried again later. A call whose answer was lost may have been taken, so it is failed.

Pacing is the channel's shared `RateWindow`: residents' replies take their places
first (urgent), broadcasts the rest. The daily messaging limit tier (unique residents
sent a template in a rolling 24 hours) stops the claiming at the limit; the rest wait,
pending, until the oldest sends leave the 24 hours. It runs only in the process that
runs the scheduler; receipts (bot/whatsapp/receipts.py) in any.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from bot.channels.batching import GroupCommit
from bot.channels.rate_window import RateWindow
from bot.config import WhatsAppConfig
from bot.config_whatsapp import template_languages
from bot.whatsapp import templates
from bot.whatsapp.client import PAIR_RATE, THROUGHPUT, UNDELIVERABLE, CloudApi, CloudError
from conversations.staff import whatsapp_recipients
from conversations.staff.whatsapp_recipients import Outcome, Tier, WhatsAppDelivery
from conversations.storage.models import utcnow

log = logging.getLogger(__name__)
# A connection that was never made cannot have carried the message: safe to try again.
NEVER_SENT = frozenset({"ClientConnectorError", "ClientConnectorDNSError",
                        "ConnectionTimeoutError", "ClientProxyConnectionError"})  # fmt: skip


@dataclass(frozen=True)
class SenderSettings:
    poll_interval: float = 2.0  # how often to look for newly queued broadcasts
    batch_seconds: float = 0.25  # claim what can go in this long: little left in "sending"
    max_batch: int = 250
    attempts: int = 5  # tries of one message through temporary errors
    backoff: float = 2.0  # the wait after a first temporary error, doubled after each
    pair_wait: float = 6.0  # after 131056: Meta's pair rate is about one each 6 seconds
    throughput_pause: float = 1.0  # after 130429: the whole number waits
    tier_check: float = 60.0  # seconds between reads of the tier while under it


class WhatsAppSender:
    """Sends queued broadcasts' WhatsApp rows until stopped."""

    def __init__(self, db: Engine, api: CloudApi, window: RateWindow, config: WhatsAppConfig,
                 public_url: str, settings: SenderSettings | None = None, *,
                 now: Callable[[], datetime] = utcnow) -> None:  # fmt: skip
        self.db, self.api, self.window, self.config = db, api, window, config
        self.public_url = public_url.rstrip("/")
        self.settings = settings or SenderSettings()
        self.now = now  # sent times and the tier's 24 hours (tests move it)
        self.languages = template_languages("whatsapp", config.template_languages)
        # Enough in flight to keep up at 50 ms a call: a tenth of a second's messages.
        self.concurrency = max(8, config.throughput // 10)
        self.records: GroupCommit[Outcome, bool] = GroupCommit(self._record, fallback=False)
        self.task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._held: dict[int, float] = {}  # recipient id -> monotonic time to try again
        self._tier_room: int | None = None  # claims left under the tier (None: unlimited)
        self._tier_read_at = -1e9
        self._at_limit = False
        self.last_sent = -1e9  # monotonic; receipts wait for a send recorded late
        self._next_at = 0.0  # monotonic: the next broadcast send's turn (see _pace)
        self.skipped_kinds: set[tuple[int, str]] = set()
        self.reminder_times: deque[datetime] = deque()

    def start(self) -> None:
        self._stopping.clear()
        self.task = asyncio.create_task(self.run(), name="whatsapp-sender")

    def wake(self) -> None:
        self._wake.set()

    def sending(self) -> bool:
        """Whether a send was under way here lately (a status may beat its record)."""
        return time.monotonic() - self.last_sent < 30

    async def stop(self) -> None:
        """Finish the sends in flight, put back what was claimed but not sent, and end."""
        self._stopping.set()
        self._wake.set()
        if self.task is not None and not self.task.done():
            try:
                await asyncio.wait_for(asyncio.shield(self.task), 40)
            except TimeoutError:
                self.task.cancel()
                with suppress(asyncio.CancelledError):
                    await self.task

    async def run(self) -> None:
        recovered = await asyncio.to_thread(self._recover)
        if recovered:
            log.warning("%d WhatsApp messages were being sent when the service stopped: "
                        "counted as failed, not retried", recovered)  # fmt: skip
        while not self._stopping.is_set():
            self._wake.clear()
            busy = False
            try:
                busy = await self.send_some()
            except Exception:  # the database may be away for a moment
                log.exception("the WhatsApp sender failed; trying again shortly")
                # Its sends were cancelled with it: rows left in "sending" may have gone.
                with suppress(Exception):
                    await asyncio.to_thread(self._recover)
            if not busy:
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.settings.poll_interval)

    async def send_some(self) -> bool:
        """Send what can be sent now; true if anything was claimed."""
        claimed: deque[WhatsAppDelivery] = deque()
        slots = asyncio.Semaphore(self.concurrency)
        claimed_any = False
        try:
            async with asyncio.TaskGroup() as tasks:
                while not self._stopping.is_set():
                    if not claimed:
                        claimed.extend(await self._claim())
                        if not claimed:
                            break
                        claimed_any = True
                    delivery = claimed.popleft()
                    skipped = self._without_sending(delivery)
                    if skipped is not None:
                        tasks.create_task(self.records.submit(skipped))
                        continue
                    await slots.acquire()
                    await self._pace()
                    await self.window.acquire()  # after any reply waiting for its place
                    tasks.create_task(self._deliver(delivery, slots))
        finally:
            if claimed:  # claimed but never sent (stopping, or a failure): they may go later
                ids = [d.recipient_id for d in claimed]
                await asyncio.to_thread(self._release, ids, False)
        return claimed_any

    # -- claiming, within the tier

    async def _claim(self) -> list[WhatsAppDelivery]:
        size = max(1, min(self.settings.max_batch,
                          int(self.config.throughput * self.settings.batch_seconds)))  # fmt: skip
        room = await self.room()
        if room is not None:
            size = min(size, room)
        if size <= 0:
            return []
        now = time.monotonic()
        self._held = {r: t for r, t in self._held.items() if t > now}
        claimed = await asyncio.to_thread(self._claim_rows, size, set(self._held))
        if self._tier_room is not None:
            self._tier_room -= len(claimed)
        return claimed

    async def room(self) -> int | None:
        """How many more residents a template may go to now (None: no limit)."""
        limit = self.config.daily_limit
        if not limit:
            return None
        loop_time = time.monotonic()
        stale = loop_time - self._tier_read_at >= self.settings.tier_check
        if self._tier_room is None or self._tier_room <= 0 or stale:
            tier = await asyncio.to_thread(self._tier)
            self._tier_read_at = loop_time
            self._tier_room = max(0, limit - tier.used - self._reminded())
            if not self._tier_room and not self._at_limit:
                log.warning("WhatsApp's daily limit of %d residents in 24 hours is reached: "
                            "no more templates (broadcasts wait, pending) until it allows",
                            limit)  # fmt: skip
            elif self._tier_room and self._at_limit:
                log.info("WhatsApp's daily limit allows sending again")
            self._at_limit = not self._tier_room
        return self._tier_room

    def _without_sending(self, delivery: WhatsAppDelivery) -> Outcome | None:
        """The outcome of a recipient not to be sent to at all, or None to send."""
        row = delivery.recipient_id
        if not delivery.invitations:
            return Outcome(row, "stopped")  # said stop after the broadcast was queued
        if delivery.unreachable:
            return Outcome(row, "blocked")  # another message found them unreachable
        if delivery.wa_id is None:
            return Outcome(row, "failed", note="no identity")
        if not self.config.template(delivery.kind):
            if (delivery.broadcast_id, delivery.kind) not in self.skipped_kinds:
                self.skipped_kinds.add((delivery.broadcast_id, delivery.kind))
                log.warning("broadcast %d: its WhatsApp residents are skipped: no "
                            "[whatsapp] %s_template is set up", delivery.broadcast_id,
                            delivery.kind)  # fmt: skip
            return Outcome(row, "skipped", note="no template")
        return None

    # -- one message

    async def _deliver(self, delivery: WhatsAppDelivery, slots: asyncio.Semaphore) -> None:
        try:
            outcome = await self._send(delivery)
        finally:
            slots.release()
        if outcome is not None:
            await self.records.submit(outcome)

    async def _send(self, delivery: WhatsAppDelivery) -> Outcome | None:
        """Send one template; its outcome, or None when it went back to pending."""
        assert delivery.wa_id is not None
        name = self.config.template(delivery.kind) or ""
        language = templates.language_code(self.languages, delivery.language)
        payload = templates.payload(delivery.wa_id, name, language, delivery.message,
                                    self._link(delivery))  # fmt: skip
        self.last_sent = time.monotonic()
        try:
            wamid = await self.api.send(payload)
        except CloudError as error:
            return await self._refused(delivery, error)
        except Exception as error:  # a timeout: Meta may have taken it, so never again
            log.warning("a WhatsApp template got no answer (%s); not retried",
                        type(error).__name__)  # fmt: skip
            return Outcome(delivery.recipient_id, "failed", note="no answer")
        self.last_sent = time.monotonic()
        return Outcome(delivery.recipient_id, "sent", wamid=wamid)

    def _link(self, delivery: WhatsAppDelivery) -> str:
        """Where it leads: the consultation on the web, or its results for a decision."""
        if delivery.kind == "decision":
            language = delivery.language if delivery.language in self.languages else "en"
            return f"{self.public_url}/c/{delivery.slug}/results?lang={language}"
        return f"{self.public_url}/c/{delivery.slug}"

    async def _refused(self, delivery: WhatsAppDelivery, error: CloudError) -> Outcome | None:
        row, code = delivery.recipient_id, error.code
        if code == THROUGHPUT:  # the number's messages a second: everyone waits
            self.window.pause(self.settings.throughput_pause)
            await asyncio.to_thread(self._release, [row], False)
            return None
        if code == PAIR_RATE:  # too many to this resident lately: them alone, later
            self._hold(row, self.settings.pair_wait)
            await asyncio.to_thread(self._release, [row], False)
            return None
        never_sent = error.status != 0 or error.detail in NEVER_SENT
        if error.temporary and never_sent and delivery.attempts < self.settings.attempts:
            self._hold(row, self.settings.backoff * 2 ** (delivery.attempts - 1))
            await asyncio.to_thread(self._release, [row], True)
            return None
        log.warning("a WhatsApp template was not sent: %s (HTTP %s)", code, error.status)
        if code == UNDELIVERABLE:
            return Outcome(row, "blocked", note=f"error {code}")
        return Outcome(row, "failed", note=f"error {code}")

    def reminded(self) -> None:
        """A reminder (a template too) went out: it counts towards the tier here."""
        self.reminder_times.append(self.now())
        if self._tier_room is not None:
            self._tier_room -= 1

    def _reminded(self) -> int:
        """Reminders this process sent in the last 24 hours (the rows count broadcasts)."""
        since = self.now() - whatsapp_recipients.DAY
        while self.reminder_times and self.reminder_times[0] <= since:
            self.reminder_times.popleft()
        return len(self.reminder_times)

    async def _pace(self) -> None:
        """One at a time at the window's rate rather than its limit at once: Meta counts
        a second from when each request arrives, and a burst's requests arrive spread
        out, so the next burst's first could land within the last one's second."""
        gap = self.window.seconds / self.window.limit
        now = time.monotonic()
        start = max(self._next_at, now - gap)  # a moment's catching up, never a burst
        self._next_at = start + gap
        if start > now:
            await asyncio.sleep(start - now)

    def _hold(self, recipient_id: int, seconds: float) -> None:
        self._held[recipient_id] = time.monotonic() + seconds

    # -- database (worker threads)

    def _recover(self) -> int:
        with Session(self.db) as session, session.begin():
            return whatsapp_recipients.recover(session=session)

    def _claim_rows(self, limit: int, held: set[int]) -> list[WhatsAppDelivery]:
        with Session(self.db) as session, session.begin():
            return whatsapp_recipients.claim(session=session, limit=limit, now=self.now(),
                                             held=held)  # fmt: skip

    def _release(self, recipient_ids: list[int], counted: bool) -> None:
        with Session(self.db) as session, session.begin():
            whatsapp_recipients.release(session=session, recipient_ids=recipient_ids,
                                        counted=counted)  # fmt: skip

    def _record(self, outcomes: Sequence[Outcome]) -> list[bool]:
        with Session(self.db) as session, session.begin():
            whatsapp_recipients.record(session=session, outcomes=outcomes, at=self.now())
        return [True] * len(outcomes)

    def _tier(self) -> Tier:
        with Session(self.db) as session:
            return whatsapp_recipients.tier_used(session=session, now=self.now())
