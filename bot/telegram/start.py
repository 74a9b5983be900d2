"""Starting the Telegram bot without holding up the rest of the service.

Telegram may be out of reach when the service starts (no network yet, a wrong
base_url, the Bot API down). The web chat, the dashboard and the scheduler need no
Telegram, so they start anyway; the bot is tried again with growing pauses, and its
state is kept in the service's status for /healthz and the dashboard.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any

from telegram.error import TelegramError
from telegram.ext import Application

from bot.config import TelegramConfig
from bot.telegram.durable_updates import DurableInbox
from conversations.storage.models import utcnow

log = logging.getLogger(__name__)
# Seconds between tries: quick at first (a network coming up), then once a minute.
RETRY_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
UPDATES = ["message", "edited_message", "callback_query"]


class TelegramStarter:
    """Brings one Application up, step by step, so that a failed try can resume."""

    def __init__(self, application: Application, config: TelegramConfig,  # type: ignore[type-arg]
                 durable: DurableInbox, status: dict[str, Any],
                 on_started: Callable[[], None],
                 delays: Sequence[float] = RETRY_DELAYS) -> None:  # fmt: skip
        self.application = application
        self.config = config
        self.durable = durable
        self.status = status
        self.on_started = on_started
        self.delays = delays
        self.task: asyncio.Task[None] | None = None
        self._replayed = False

    async def start(self) -> None:
        """Try once now; when Telegram cannot be reached, keep trying in the background."""
        self.status["telegram"] = "starting"
        if not await self._try():
            self.task = asyncio.create_task(self._keep_trying(), name="telegram-start")

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
            self.task = None

    async def _keep_trying(self) -> None:
        attempt = 0
        while True:
            delay = self.delays[min(attempt, len(self.delays) - 1)]
            self.status["telegram_next_try"] = f"in {delay:g} s"
            await asyncio.sleep(delay)
            attempt += 1
            if await self._try():
                return

    async def _try(self) -> bool:
        try:
            await self._bring_up()
        except (TelegramError, OSError) as error:
            self._failed(error)
            return False
        self.status["telegram"] = "ok"
        for key in ("telegram_error", "telegram_since", "telegram_next_try"):
            self.status.pop(key, None)
        self.on_started()
        return True

    async def _bring_up(self) -> None:
        application = self.application
        await application.initialize()  # get_me: the first call that needs Telegram
        if not application.running:
            # PTB calls post_init/post_stop only from its own run_polling/run_webhook.
            if application.post_init is not None:
                await application.post_init(application)
            await application.start()
        if not self._replayed:
            await self.durable.replay(application)
            self._replayed = True
        if self.config.mode == "webhook":
            await application.bot.set_webhook(
                self.config.webhook_url, secret_token=self.config.secret_token,
                allowed_updates=UPDATES,
            )  # fmt: skip
        else:
            assert application.updater is not None
            if not application.updater.running:
                await application.updater.start_polling(poll_interval=0.0, allowed_updates=UPDATES)

    def _failed(self, error: Exception) -> None:
        # The error's type and first line, without the token (InvalidToken quotes it):
        # /healthz is public and logs are read by many.
        words = str(error).splitlines()[0] if str(error) else ""
        if self.config.token:
            words = words.replace(self.config.token, "<token>")
        reason = f"{type(error).__name__}: {words}"
        if self.status.get("telegram") != "unreachable":
            self.status["telegram_since"] = utcnow().isoformat(timespec="seconds")
            log.warning(
                "Telegram cannot be reached at %s (%s); the web chat and dashboard run "
                "without it, and the bot keeps trying", self.config.base_url, reason,
            )  # fmt: skip
        self.status["telegram"] = "unreachable"
        self.status["telegram_error"] = reason


async def stop_application(application: Application) -> None:  # type: ignore[type-arg]
    """Stop whatever of the Application had started."""
    if application.updater is not None and application.updater.running:
        await application.updater.stop()
    if application.running:
        await application.stop()
        if application.post_stop is not None:  # flushes handled/delivered marks
            await application.post_stop(application)
    await application.shutdown()
