"""The broadcast sender: an asyncio task that sends queued invitations within Telegram's limits.

Each batch of recipients is claimed (moved to "sending") in a committed
transaction before any of them is sent, and each outcome recorded after, so a
crash can lose an invitation but never send one twice. Everything needed to carry
on is in the database: after a restart the sender recovers and picks up the
recipients still pending. Pacing comes from the process's `SendBudget`, which
residents' replies share and always come first in.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from contextlib import suppress
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlmodel import Session
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

from bot.telegram.other_senders import OtherSenders
from bot.telegram.pacing import SendBudget, Slot, Spread, paced, seconds_of
from conversations.flow import callbacks
from conversations.staff import broadcast_recipients, broadcasts
from conversations.staff.broadcast_recipients import Delivery
from conversations.staff.broadcasts import Progress
from conversations.storage.models import Broadcast, Consultation, in_language, utcnow

log = logging.getLogger(__name__)
BUTTON = "Take part / Cymryd rhan"  # the message is the facilitator's, in their language


@dataclass(frozen=True)
class SenderSettings:
    poll_interval: float = 2.0  # how often to look for newly queued broadcasts
    progress_interval: float = 5.0  # how often to edit the facilitator's progress message
    batch_seconds: float = 0.25  # claim what can go in this long: little is left in "sending"
    max_batch: int = 10
    send_timeout: float = 10.0
    concurrency: int = 16  # sends in flight at once


@dataclass
class Job:
    """One broadcast being sent, as read from the database."""

    broadcast_id: int
    slug: str
    message: str
    translations: str | None  # the message in other languages (JSON), for a decision
    window_minutes: int
    progress_chat_id: str | None
    progress_message_id: int | None
    outcomes: dict[int, str] = field(default_factory=dict)  # recorded with the next claim
    spread: Spread = field(default_factory=Spread)
    reported_at: float = 0.0
    reporting: bool = False  # an edit is on its way: the next waits for it
    last_text: str = ""

    @property
    def markup(self) -> InlineKeyboardMarkup:
        button = InlineKeyboardButton(BUTTON, callback_data=callbacks.join_data(self.slug))
        return InlineKeyboardMarkup([[button]])


class Broadcaster:
    """Sends queued broadcasts, one after another, until stopped."""

    def __init__(self, db: Engine, bot: Bot, budget: SendBudget,
                 settings: SenderSettings | None = None,
                 others: OtherSenders | None = None) -> None:  # fmt: skip
        self.db = db
        self.bot = bot
        self.budget = budget
        self.settings = settings or SenderSettings()
        self.others = others  # webhook workers' replies, estimated while sending
        self.task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._claim_seconds = 0.01  # how long a claim takes, lately

    def start(self) -> None:
        self._stopping.clear()
        self.task = asyncio.create_task(self.run(), name="broadcaster")

    def wake(self) -> None:
        """Look for queued broadcasts now rather than at the next poll."""
        self._wake.set()

    async def stop(self) -> None:
        """Finish the sends in flight, put back what was claimed but not sent, and end."""
        self._stopping.set()
        self._wake.set()
        if self.task is None or self.task.done():
            return
        try:
            await asyncio.wait_for(asyncio.shield(self.task), self.settings.send_timeout + 5)
        except TimeoutError:
            self.task.cancel()
            with suppress(asyncio.CancelledError):
                await self.task

    async def run(self) -> None:
        recovered = await asyncio.to_thread(self._recover)
        if recovered:
            log.warning(
                "%d invitations were being sent when the bot stopped: counted as failed, "
                "not retried, so that nobody gets one twice",
                recovered,
            )
        while not self._stopping.is_set():
            self._wake.clear()
            busy = False
            try:
                for job in await asyncio.to_thread(self._active):
                    if self._stopping.is_set():
                        break
                    busy = await self._send(job) or busy
            except Exception:  # the database may be away for a moment; try again later
                log.exception("the broadcast sender failed; trying again shortly")
                # Its sends were cancelled with it: rows it left in "sending" may have gone.
                with suppress(Exception):
                    await asyncio.to_thread(self._recover)
            if not busy:
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.settings.poll_interval)

    # -- one broadcast

    async def _send(self, job: Job) -> bool:
        """Send what is left of a broadcast; true if anything was sent or it finished."""
        if self.others is None:
            return await self._send_job(job)
        follower = asyncio.create_task(self.others.follow(), name="other-senders")
        try:
            return await self._send_job(job)
        finally:
            follower.cancel()
            with suppress(asyncio.CancelledError):
                await follower

    async def _send_job(self, job: Job) -> bool:
        await self._plan(job)
        claimed: deque[Delivery] = deque()
        sent_any = False
        slots = asyncio.Semaphore(self.settings.concurrency)
        async with asyncio.TaskGroup() as tasks:
            while not self._stopping.is_set():
                if not claimed:
                    await job.spread.wait()
                    # Claim just in time: as a place is about to free, so that the
                    # database's round trip overlaps the wait instead of adding to it, and
                    # a crash finds few recipients claimed but not yet handed to Telegram.
                    await self.budget.ready(within=self._lead)
                    claimed.extend(await self._claim(job))
                    if not claimed:
                        break
                    sent_any = True
                delivery = claimed.popleft()
                if self._now_due(job):
                    tasks.create_task(self._report(job))
                if not delivery.invitations or delivery.unreachable or delivery.chat_id is None:
                    job.outcomes[delivery.recipient_id] = _without_sending(delivery)
                    continue
                await slots.acquire()
                if self.budget.chat_wait(delivery.chat_id) > self.budget.wait_time():
                    # This resident just heard from the bot: wait for them alone. (Not
                    # wait_time(chat) > wait_time(): read a moment apart, the first is
                    # larger whenever any wait is left, and every recipient waited alone,
                    # up to `concurrency` of them claimed and unsent at once.)
                    tasks.create_task(self._deliver(job, delivery, slots, None))
                    continue
                slot = await self.budget.acquire(delivery.chat_id)
                tasks.create_task(self._deliver(job, delivery, slots, slot))
        if claimed:  # stopping: claimed but never sent, so they may go after the restart
            await asyncio.to_thread(self._release, job, [d.recipient_id for d in claimed])
        finished = await asyncio.to_thread(self._finish, job)
        if finished:
            await self._report(job, final=True)
            log.info("broadcast %d finished", job.broadcast_id)
        return sent_any or finished

    @property
    def _lead(self) -> float:
        """How long before a place frees to start claiming: a claim's usual time, and some."""
        return min(0.25, 0.003 + 2 * self._claim_seconds)

    async def _claim(self, job: Job) -> list[Delivery]:
        if job.spread.spacing > 0:
            size = 1
        else:
            per_batch = int(self.budget.cap * self.settings.batch_seconds)
            size = max(1, min(self.settings.max_batch, self.budget.room(), per_batch))
        outcomes, job.outcomes = job.outcomes, {}

        def claim() -> list[Delivery]:
            with Session(self.db) as session, session.begin():
                broadcast_recipients.record_many(session=session, outcomes=outcomes)
                return broadcast_recipients.claim(
                    session=session, broadcast_id=job.broadcast_id, limit=size
                )

        started = time.monotonic()
        try:
            claimed = await asyncio.to_thread(claim)
        except BaseException:
            job.outcomes.update(outcomes)  # kept for the next attempt
            raise
        # A moving average, so that one slow claim does not hold the next ones back long.
        self._claim_seconds += (time.monotonic() - started - self._claim_seconds) / 8
        return claimed

    async def _deliver(self, job: Job, delivery: Delivery, slots: asyncio.Semaphore,
                       slot: Slot | None) -> None:  # fmt: skip
        """Send one invitation and note its outcome (recorded with the next claim)."""
        try:
            if slot is None:
                slot = await self.budget.acquire(delivery.chat_id)
            job.outcomes[delivery.recipient_id] = await self._invite(job, delivery, slot)
        finally:
            slots.release()

    async def _invite(self, job: Job, delivery: Delivery, slot: Slot) -> str:
        assert delivery.chat_id is not None
        timeout = self.settings.send_timeout
        try:
            while True:
                try:
                    with paced():
                        await self.bot.send_message(
                            int(delivery.chat_id),
                            in_language(job.message, job.translations, delivery.language),
                            reply_markup=job.markup,
                            read_timeout=timeout,
                            write_timeout=timeout,
                            connect_timeout=timeout,
                            pool_timeout=timeout,
                        )
                    return "sent"
                except RetryAfter as error:
                    # Not sent, so trying again cannot duplicate it; the row is still "sending".
                    seconds = seconds_of(error)
                    log.info("Telegram asked to slow down for %.0f s", seconds)
                    self.budget.done(slot)
                    self.budget.flooded(seconds)
                    slot = await self.budget.acquire(delivery.chat_id)
                except Forbidden:
                    return "blocked"
                except BadRequest as error:  # a subclass of NetworkError, but not a timeout
                    log.warning("an invitation could not be sent: %s", error)
                    return "failed"
                except NetworkError as error:  # it may have been delivered: at most once
                    log.warning("an invitation timed out or was lost (%s); not retried", error)
                    return "failed"
                except Exception:
                    log.warning("an invitation could not be sent", exc_info=True)
                    return "failed"
        finally:
            self.budget.done(slot)  # answered: it holds its place one second more

    # -- progress

    def _now_due(self, job: Job) -> bool:
        if job.progress_chat_id is None or job.progress_message_id is None:
            return False
        now = time.monotonic()
        if job.reporting or now - job.reported_at < self.settings.progress_interval:
            return False
        job.reported_at = now
        return True

    async def _report(self, job: Job, *, final: bool = False) -> None:
        """Edit the facilitator's progress message."""
        if job.progress_chat_id is None or job.progress_message_id is None:
            return
        job.reporting = True
        try:
            report = await asyncio.to_thread(self._progress, job)
            rate = 1 / job.spread.spacing if job.spread.spacing else self.budget.broadcast_rate()
            text = broadcasts.format_progress(report, rate)
            if text == job.last_text:
                return
            async with self.budget.sending(job.progress_chat_id):
                await self.bot.edit_message_text(
                    text, chat_id=job.progress_chat_id, message_id=job.progress_message_id
                )
            job.last_text = text
        except BadRequest as error:
            if "not modified" not in str(error).lower():
                log.warning("could not edit broadcast %d's progress: %s", job.broadcast_id, error)
        except Exception:
            level = logging.WARNING if final else logging.INFO
            log.log(level, "could not report broadcast %d's progress", job.broadcast_id,
                    exc_info=True)  # fmt: skip
        finally:
            job.reporting = False

    async def _plan(self, job: Job) -> None:
        """Pace a broadcast with a window to end when its window does."""
        if not job.window_minutes:
            return
        report = await asyncio.to_thread(self._progress, job)
        start = report.started_at.timestamp() if report.started_at else utcnow().timestamp()
        seconds_left = start + job.window_minutes * 60 - utcnow().timestamp()
        job.spread.plan(report.pending, seconds_left)

    # -- database (run in worker threads)

    def _recover(self) -> int:
        with Session(self.db) as session, session.begin():
            return broadcast_recipients.recover(session=session)

    def _active(self) -> list[Job]:
        with Session(self.db) as session:
            jobs = []
            for broadcast in broadcast_recipients.active(session=session):
                consultation = session.get(Consultation, broadcast.consultation_id)
                assert broadcast.id is not None and consultation is not None
                jobs.append(_job(broadcast, consultation.slug))
            return jobs

    def _release(self, job: Job, recipient_ids: list[int]) -> None:
        with Session(self.db) as session, session.begin():
            broadcast_recipients.record_many(session=session, outcomes=job.outcomes)
            job.outcomes = {}
            broadcast_recipients.release(session=session, recipient_ids=recipient_ids)

    def _finish(self, job: Job) -> bool:
        with Session(self.db) as session, session.begin():
            broadcast_recipients.record_many(session=session, outcomes=job.outcomes)
            job.outcomes = {}
            return broadcast_recipients.finish_if_done(
                session=session, broadcast_id=job.broadcast_id
            )

    def _progress(self, job: Job) -> Progress:
        with Session(self.db) as session:
            return broadcasts.progress(session=session, broadcast_id=job.broadcast_id)


def _job(broadcast: Broadcast, slug: str) -> Job:
    assert broadcast.id is not None
    return Job(
        broadcast_id=broadcast.id,
        slug=slug,
        message=broadcast.message,
        translations=broadcast.translations,
        window_minutes=broadcast.window_minutes,
        progress_chat_id=broadcast.progress_chat_id,
        progress_message_id=broadcast.progress_message_id,
    )


def _without_sending(delivery: Delivery) -> str:
    """The outcome for a recipient not to be sent to at all."""
    if not delivery.invitations:
        return "stopped"  # said /stop after the broadcast was queued
    if delivery.unreachable:
        return "blocked"  # blocked the bot, as another message found out meanwhile
    return "failed"  # no Telegram chat any more
