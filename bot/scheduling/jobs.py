"""What the scheduler runs in a process with the Telegram bot (see bot/scheduling/scheduler.py)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import Forbidden, TelegramError

from bot.actions.answer_vectors import AnswerEmbedder, EncoderChoice, resolve
from bot.actions.priorities import themes_to_prioritise
from bot.config import Config
from bot.scheduling.safeguarding_alerts import SafeguardingAlerts
from bot.telegram.paced_send import send_paced
from bot.telegram.pacing import SendBudget
from conversations.flow import callbacks
from conversations.residents.texts import service_text
from conversations.staff import broadcast_recipients, reminders
from conversations.staff.rounds import Rounds
from conversations.storage import retention, store
from conversations.storage.models import utcnow

log = logging.getLogger(__name__)
INBOX_KEEP = timedelta(days=7)


class Jobs:
    """The scheduler's jobs for one process; each reads what to do from the database."""

    def __init__(
        self,
        config: Config,
        db: Engine,
        bot: Bot | None,
        *,
        encoder: EncoderChoice = "auto",
        budget: SendBudget | None = None,
    ) -> None:
        self.config = config
        self.db = db
        self.bot = bot
        # Messages nobody is waiting for go at the broadcasts' pace (see bot/telegram/pacing.py).
        self.budget = budget or SendBudget()
        self.rounds = Rounds(db, themes_for=themes_to_prioritise)
        self.embedder = AnswerEmbedder(db, resolve(encoder))
        self.alerts = SafeguardingAlerts(config, db, bot, budget=self.budget)
        # Set once the WhatsApp sender runs in this process (bot/whatsapp/reminders.py).
        self.whatsapp_reminders: Callable[[datetime], Awaitable[int]] | None = None

    async def rounds_due(self) -> None:
        """Open and close rounds at their scheduled times."""
        for change in await asyncio.to_thread(self.rounds.run_due):
            if not change.problem:
                log.info("scheduler %s", change)
                continue
            log.warning("scheduler %s", change)
            await self._tell_facilitators(
                f"⚠️ Round {change.number} of {change.slug} was due to open now and did not: "
                f"{change.problem}. Open it when ready (/open {change.slug} prioritise) or "
                "schedule it again."
            )

    async def _tell_facilitators(self, text: str) -> None:
        staff = self.config.staff
        if self.bot is None:
            return
        for chat_id in dict.fromkeys(staff.facilitators + staff.admins):
            try:
                await self._send(chat_id, text)
            except TelegramError:
                log.warning("could not tell facilitator %s: %s", chat_id, text, exc_info=True)

    async def housekeeping(self) -> None:
        """Drop handled updates after a week (their replies are long delivered)."""

        def prune() -> int:
            with Session(self.db) as session, session.begin():
                return store.prune_inbox(session=session, before=utcnow() - INBOX_KEEP)

        await asyncio.to_thread(prune)

    async def unsendable(self) -> None:
        """Skip broadcast rows on channels this service does not run (WhatsApp, Notify or
        Telegram switched off), so that a broadcast finishes instead of waiting forever."""
        channels = channels_off(self.config)

        def skip() -> int:
            with Session(self.db) as session, session.begin():
                return broadcast_recipients.skip_channels(session=session, channels=channels)

        skipped = await asyncio.to_thread(skip) if channels else 0
        if skipped:
            log.warning("%d broadcast recipients skipped: their channel (%s) is not set up "
                        "on this service", skipped, ", ".join(sorted(channels)))  # fmt: skip

    async def embed_answers(self) -> None:
        """Store new answers' sentence embeddings for the analysis (semantic extra only)."""
        await self.embedder.run()

    async def drop_old_identities(self) -> None:
        """Drop identities some time after residents' rounds closed (answers stay)."""
        days = self.config.retention.identities_days
        if not days:
            return

        def drop() -> int:
            with Session(self.db) as session, session.begin():
                return retention.drop_identities(
                    session=session, closed_before=utcnow() - timedelta(days=days)
                )

        dropped = await asyncio.to_thread(drop)
        if dropped:
            log.info("retention: dropped the identities of %d residents", dropped)

    async def reminders(self) -> None:
        """One gentle reminder to residents who stopped part-way."""
        if not self.config.reminders.enabled:
            return
        idle_since = utcnow() - timedelta(hours=self.config.reminders.after_hours)
        if self.whatsapp_reminders is not None:  # the reminder template, on WhatsApp
            try:
                await self.whatsapp_reminders(idle_since)
            except Exception:
                log.warning("WhatsApp reminders could not be sent now", exc_info=True)
        if self.bot is None:
            return

        def claim() -> list[reminders.Reminder]:
            with Session(self.db) as session, session.begin():
                return reminders.claim_due(session=session, idle_since=idle_since)

        for reminder in await asyncio.to_thread(claim):
            button = InlineKeyboardButton(
                service_text("reminder_button", reminder.language),
                callback_data=callbacks.join_data(reminder.slug),
            )
            try:
                await self._send(
                    int(reminder.chat_id),
                    service_text("reminder", reminder.language),
                    InlineKeyboardMarkup([[button]]),
                )
            except Forbidden:
                await asyncio.to_thread(self._unreachable, reminder.chat_id)
            except TelegramError:
                log.warning("a reminder could not be sent; it is not retried", exc_info=True)

    async def _send(
        self, chat_id: int, text: str, markup: InlineKeyboardMarkup | None = None
    ) -> None:
        assert self.bot is not None
        await send_paced(self.bot, self.budget, chat_id, text, markup)

    def _unreachable(self, chat_id: str) -> None:
        with Session(self.db) as session, session.begin():
            reminders.unreachable(session=session, chat_id=chat_id)

    async def safeguarding_alerts(self) -> None:
        """Alert the safeguarding leads about open flags, retrying until each arrives."""
        await self.alerts.run()


def registry(jobs: Jobs) -> dict[str, Callable[[], Awaitable[None]]]:
    """The jobs the scheduler runs on its tick, by the names they are stored under."""
    return {
        "rounds": jobs.rounds_due,
        "reminders": jobs.reminders,
        "safeguarding": jobs.safeguarding_alerts,
        "housekeeping": jobs.housekeeping,
        "unsendable": jobs.unsendable,
        "retention": jobs.drop_old_identities,
        "embeddings": jobs.embed_answers,
    }


def channels_off(config: Config) -> frozenset[str]:
    """The residents' channels this service cannot send on, as configured."""
    off = set()
    if not config.telegram.token:
        off.add("telegram")
    if not config.whatsapp.phone_number_id:
        off.add("whatsapp")
    if not config.notify.api_key:
        off |= {"email", "sms"}
    return frozenset(off)
