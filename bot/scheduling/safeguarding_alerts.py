"""Safeguarding alerts: every open flag to every lead, retried until it arrives.

The scheduler runs `SafeguardingAlerts.run` on its tick. Each pass adds the
deliveries open flags need (a lead configured since gets them; escalation and the
fallback come due by time), then sends what is due, by Telegram or by email through
GOV.UK Notify. An alert says only that there is a flag and where to read it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session
from telegram import Bot
from telegram.error import TelegramError

from bot.actions.staff_access import public_base_url
from bot.config import Config
from bot.notify.email import EmailFailed, NotifyEmail
from bot.telegram.paced_send import send_paced
from bot.telegram.pacing import SendBudget
from conversations.staff import safeguarding_flags as flags
from conversations.storage.models import utcnow

log = logging.getLogger(__name__)


def notify_email(config: Config) -> NotifyEmail | None:
    """The email route, when [safeguarding] has Notify's key and template."""
    settings = config.safeguarding
    if not (settings.notify_api_key and settings.notify_template_id):
        return None
    return NotifyEmail(
        settings.notify_api_key, settings.notify_template_id, settings.notify_base_url
    )


class SafeguardingAlerts:
    """Plans and sends the alerts for open flags; all state is in the database."""

    def __init__(self, config: Config, db: Engine, bot: Bot | None, *,
                 email: NotifyEmail | None = None,
                 clock: Callable[[], datetime] = utcnow,
                 budget: SendBudget | None = None) -> None:  # fmt: skip
        self.config = config
        self.budget = budget or SendBudget()  # a lead with two flags gets two messages
        self.db = db
        self.bot = bot
        self.email = email if email is not None else notify_email(config)
        self.clock = clock
        self._warned: tuple[int, int] | None = None  # what was last logged, not to repeat it

    def recipients(self) -> tuple[list[str], list[str]]:
        """(leads, fallback) this process can reach, as "telegram:<id>" / "email:<address>"."""
        settings = self.config.safeguarding

        def reachable(ids: tuple[int, ...], addresses: tuple[str, ...]) -> list[str]:
            found = [f"telegram:{i}" for i in dict.fromkeys(ids)] if self.bot else []
            if self.email is not None:
                found += [f"email:{a}" for a in dict.fromkeys(addresses)]
            return found

        return (
            reachable(self.config.staff.safeguarding, settings.emails),
            reachable(settings.fallback_telegram, settings.fallback_emails),
        )

    async def run(self) -> None:
        """One pass: plan, send what is due, and say loudly if flags wait for nobody."""
        leads, fallback = self.recipients()
        after = timedelta(minutes=self.config.safeguarding.escalate_after_minutes)
        now = self.clock()

        def plan() -> list[flags.Due]:
            with Session(self.db) as session, session.begin():
                flags.plan_deliveries(session=session, leads=leads, fallback=fallback,
                                      escalate_after=after, now=now)  # fmt: skip
            with Session(self.db) as session, session.begin():
                return flags.claim_due(session=session, now=now)

        for due in await asyncio.to_thread(plan):
            await self._deliver(due)
        await self._warn_if_waiting(leads)

    async def _deliver(self, due: flags.Due) -> None:
        channel, _, address = due.recipient.partition(":")
        try:
            if channel == "telegram" and self.bot is not None:
                await send_paced(self.bot, self.budget, int(address), self._telegram_text(due))
            elif channel == "email" and self.email is not None:
                await self.email.send(
                    address, self._personalisation(due), f"flag-{due.flag_id}-{due.purpose}"
                )
            else:
                raise EmailFailed(f"{channel} is not configured in this process", retry=True)
        except (TelegramError, EmailFailed) as error:
            reason = getattr(error, "message", None) or str(error)

            def record_failure() -> timedelta:
                with Session(self.db) as session, session.begin():
                    return flags.failed(session=session, delivery_id=due.delivery_id,
                                        error=reason, now=self.clock())  # fmt: skip

            wait = await asyncio.to_thread(record_failure)
            log.warning(
                "safeguarding alert about flag #%s to %s not delivered (attempt %d): %s; "
                "trying again in %s",
                due.flag_id, due.recipient, due.attempts + 1, reason, wait,
            )  # fmt: skip
            return

        def record_delivery() -> None:
            with Session(self.db) as session, session.begin():
                flags.delivered(session=session, delivery_id=due.delivery_id, now=self.clock())

        await asyncio.to_thread(record_delivery)
        log.info("safeguarding alert about flag #%s delivered to %s", due.flag_id, due.recipient)

    def link(self, flag_id: int) -> str:
        return f"{public_base_url(self.config)}/staff/safeguarding/{flag_id}"

    def _reason(self, due: flags.Due) -> str:
        minutes = self.config.safeguarding.escalate_after_minutes
        if due.purpose == "escalation":
            return f"No lead has acknowledged it in {minutes} minutes."
        if due.purpose == "fallback":
            return (
                f"No safeguarding lead has acknowledged it in {2 * minutes} minutes: "
                "you are the fallback."
            )
        return "A resident may be at risk."

    def _telegram_text(self, due: flags.Due) -> str:
        return (
            f"⚠️ Safeguarding flag #{due.flag_id} needs a lead. {self._reason(due)}\n"
            f"Raised: {due.raised_at:%Y-%m-%d %H:%M} UTC\n\n"
            "Read what they wrote, acknowledge it and record what was done on the "
            f"dashboard (sign in with /login):\n{self.link(due.flag_id)}\n\n"
            "The resident was shown where to get help at once."
        )

    def _personalisation(self, due: flags.Due) -> dict[str, str]:
        return {
            "flag": str(due.flag_id),
            "link": self.link(due.flag_id),
            "raised": f"{due.raised_at:%Y-%m-%d %H:%M} UTC",
            "reason": self._reason(due),
        }

    async def _warn_if_waiting(self, leads: list[str]) -> None:
        def count() -> flags.Waiting:
            with Session(self.db) as session:
                return flags.waiting(session=session)

        waiting = await asyncio.to_thread(count)
        state = (waiting.open, waiting.undelivered)
        if state == self._warned:
            return
        self._warned = state
        if waiting.undelivered and not leads:
            log.error(
                "SAFEGUARDING: %d flag(s) wait and no safeguarding lead can be reached: add "
                "Telegram ids to [staff] safeguarding or addresses to [safeguarding] emails "
                "(docs/safeguarding.md). Until then they are on the dashboard only.",
                waiting.undelivered,
            )
        elif waiting.undelivered:
            log.error(
                "SAFEGUARDING: %d flag(s) have not reached any lead yet; retrying",
                waiting.undelivered,
            )


def report_at_start_up(config: Config, db: Engine, *, telegram: bool) -> None:
    """Say loudly at start-up when flags wait or no safeguarding lead is configured."""
    with Session(db) as session:
        waiting = flags.waiting(session=session)
    settings = config.safeguarding
    has_email = bool(settings.notify_api_key and settings.emails)
    has_telegram = telegram and bool(config.staff.safeguarding)
    if not (has_email or has_telegram):
        log.error(
            "SAFEGUARDING: no safeguarding lead can be alerted (%s). Flags will wait on the "
            "dashboard (/staff/safeguarding) until one is configured: see docs/safeguarding.md.",
            "Telegram is off" if config.staff.safeguarding and not telegram
            else "[staff] safeguarding and [safeguarding] emails are empty",
        )  # fmt: skip
    if waiting.open:
        log.warning(
            "SAFEGUARDING: %d flag(s) open (not acknowledged), the oldest raised %s; "
            "%d have reached no lead yet",
            waiting.open,
            f"{waiting.oldest:%Y-%m-%d %H:%M}" if waiting.oldest else "?",
            waiting.undelivered,
        )
