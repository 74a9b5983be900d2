"""The one gentle reminder, on WhatsApp: the reminder template to residents who stopped
part-way, from the scheduler's reminders job.

As on Telegram (bot/scheduling/jobs.py): each conversation is marked reminded before
anything is sent, so nobody gets two; never after the round closes, after STOP, or to
a resident WhatsApp said cannot be reached (who is then marked unreachable). It goes
through the WhatsApp sender's rate window and counts towards its daily limit tier;
with no reminder template set up, nobody is claimed (nor marked reminded).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from sqlmodel import Session

from bot.whatsapp import templates
from bot.whatsapp.client import PAIR_RATE, THROUGHPUT, UNDELIVERABLE, CloudError
from bot.whatsapp.residents import CHANNEL
from bot.whatsapp.sender import WhatsAppSender
from conversations.residents.texts import service_text
from conversations.staff import reminders
from conversations.staff.reminders import Reminder

log = logging.getLogger(__name__)
MOST = 200  # reminders claimed at one tick; the next tick takes the rest
TRIES = 3  # through Meta's "not now" (it did not take the message)


class WhatsAppReminders:
    def __init__(self, sender: WhatsAppSender) -> None:
        self.sender = sender

    async def remind(self, idle_since: datetime) -> int:
        """Remind WhatsApp residents idle since before `idle_since`; how many were sent."""
        name = self.sender.config.template("reminder")
        if not name:
            return 0
        room = await self.sender.room()
        most = MOST if room is None else min(MOST, room)
        if most <= 0:
            return 0
        due = await asyncio.to_thread(self._claim, idle_since, most)
        slots = asyncio.Semaphore(self.sender.concurrency)

        async def one(reminder: Reminder) -> bool:
            async with slots:
                return await self._send(name, reminder)

        async with asyncio.TaskGroup() as tasks:
            sent = [tasks.create_task(one(reminder)) for reminder in due]
        return sum(task.result() for task in sent)

    async def _send(self, name: str, reminder: Reminder) -> bool:
        sender = self.sender
        language = templates.language_code(sender.languages, reminder.language)
        text = service_text("reminder", reminder.language, channel=CHANNEL)
        link = f"{sender.public_url}/c/{reminder.slug}"
        payload = templates.payload(reminder.chat_id, name, language, text, link)
        for _ in range(TRIES):
            await sender.window.acquire()
            try:
                await sender.api.send(payload)
            except CloudError as error:
                if error.code == THROUGHPUT:
                    sender.window.pause(sender.settings.throughput_pause)
                    continue
                if error.code == PAIR_RATE:
                    await asyncio.sleep(sender.settings.pair_wait)
                    continue
                if error.code == UNDELIVERABLE:
                    await asyncio.to_thread(self._unreachable, reminder.chat_id)
                log.warning("a WhatsApp reminder was not sent: %s; not retried", error.code)
                return False
            except Exception as error:  # it may have gone: at most once
                log.warning("a WhatsApp reminder got no answer (%s); not retried",
                            type(error).__name__)  # fmt: skip
                return False
            sender.reminded()
            return True
        log.warning("a WhatsApp reminder was not sent: Meta kept asking to wait")
        return False

    def _claim(self, idle_since: datetime, most: int) -> list[Reminder]:
        with Session(self.sender.db) as session, session.begin():
            return reminders.claim_due(session=session, idle_since=idle_since,
                                       channel=CHANNEL, limit=most)  # fmt: skip

    def _unreachable(self, wa_id: str) -> None:
        with Session(self.sender.db) as session, session.begin():
            reminders.unreachable(session=session, chat_id=wa_id, channel=CHANNEL)
