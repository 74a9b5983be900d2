"""The composition root: builds and runs everything `needsfirst run` starts."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import suppress
from typing import Any

from aiohttp import web
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from telegram.ext import Application

from bot.actions.consultations import load_consultation, script_path
from bot.actions.public_results import results_url_pattern
from bot.actions.staff_access import LOGIN_LIFETIME, public_base_url
from bot.actions.staff_roster import StaffRoster
from bot.channels.metrics import DATABASE_QUEUE
from bot.config import Config
from bot.database_setup import open_database
from bot.database_thread import DatabaseThread
from bot.notify.email import NotifyEmail
from bot.notify.messages import NotifyMessages, Templates
from bot.notify.sender import NotifySender, NotifySettings
from bot.scheduling.digest_job import Digests
from bot.scheduling.jobs import Jobs, registry
from bot.scheduling.leadership import INTERVAL as LOCK_INTERVAL
from bot.scheduling.leadership import Leadership
from bot.scheduling.safeguarding_alerts import report_at_start_up
from bot.scheduling.scheduler import JobContext, start_scheduler, stop_scheduler
from bot.telegram.application import build_application
from bot.telegram.broadcaster import Broadcaster
from bot.telegram.durable_updates import DurableInbox
from bot.telegram.other_senders import OtherSenders
from bot.telegram.shared_budget import SharedSendBudget
from bot.telegram.staff import StaffCommands
from bot.telegram.start import RETRY_DELAYS, TelegramStarter, stop_application
from bot.web.app import build_web_app
from bot.whatsapp.channel import WhatsAppChannel
from bot.whatsapp.receipts import Receipts
from bot.whatsapp.reminders import WhatsAppReminders
from bot.whatsapp.sender import WhatsAppSender
from bot.whatsapp.webhook import WhatsAppWebhook
from conversations.residents.service import ConversationService
from conversations.storage.db import redact_url
from conversations.storage.liveness import AliveMark
from conversations.storage.scheduler_lock import SchedulerLock

log = logging.getLogger(__name__)


def prepare_database(config: Config) -> Engine:
    """The engine, with the schema migrated and configured scripts loaded."""
    db = open_database(config, create=True)
    for name in config.consultations.load:
        load_consultation(
            db,
            script_path(name),
            actor="system:start-up",
            open_first_round=config.consultations.open_first_round,
        )
    return db


def sign_in_mailer(config: Config) -> Callable[[str, str], Awaitable[None]] | None:
    """Emails staff their sign-in links through Notify, when [staff] lists addresses."""
    notify = config.notify
    if not (config.staff.emails and notify.api_key and notify.sign_in_template_id):
        return None
    email = NotifyEmail(notify.api_key, notify.sign_in_template_id, notify.base_url)
    minutes = str(int(LOGIN_LIFETIME.total_seconds() // 60))

    async def send(address: str, link: str) -> None:
        await email.send(address, {"link": link, "minutes": minutes}, "staff-sign-in")

    return send


class Service:
    """Everything one process runs: web server, Telegram bot (when configured)."""

    def __init__(self, config: Config, db: Engine, *, urgent: Executor | None = None,
                 telegram_retry: Sequence[float] = RETRY_DELAYS,
                 lock_interval: float = LOCK_INTERVAL) -> None:  # fmt: skip
        self.config = config
        self.telegram_retry = telegram_retry  # pauses between tries to reach Telegram
        self.db = db
        self.urgent = urgent  # database work that must not queue (None: the default's)
        self.conversations = ConversationService(db, results_url=results_url_pattern(config))
        self.status: dict[str, Any] = {"telegram": "off"}
        self.telegram: Application | None = None  # type: ignore[type-arg]
        self.runner: web.AppRunner | None = None
        self.broadcaster: Broadcaster | None = None
        self.notify_sender: NotifySender | None = None
        self.whatsapp: WhatsAppChannel | None = None
        self.whatsapp_sender: WhatsAppSender | None = None
        self.receipts: Receipts | None = None
        self.jobs: Jobs | None = None
        self.scheduler: BackgroundScheduler | None = None
        self.digests: Digests | None = None
        self.starter: TelegramStarter | None = None
        self.roster = StaffRoster(config)  # [staff], re-read when the file changes
        self.leadership: Leadership | None = None  # with [scheduler] enabled: the lock
        self.alive = AliveMark(db, self.conversations.boot_id)  # seen by other workers
        self.lock_interval = lock_interval  # seconds between tries of the scheduler's lock

    async def start(self) -> None:
        # Before any update is handled: other workers may ask whether this one runs.
        await asyncio.to_thread(self.alive.take)
        telegram = self.config.telegram
        if telegram.token:
            durable = DurableInbox(self.db, self.urgent)
            staff = StaffCommands(self.config, self.db, self.roster)
            self.telegram = build_application(telegram, self.conversations, staff, durable)
            self.starter = TelegramStarter(
                self.telegram, telegram, durable, self.status, self._telegram_started,
                delays=self.telegram_retry,
            )  # fmt: skip
            # Telegram out of reach must not keep the web chat and dashboard down.
            await self.starter.start()
        await asyncio.to_thread(
            report_at_start_up, self.config, self.db, telegram=self.telegram is not None
        )
        webhook = await self._start_whatsapp()
        if self.config.scheduler.enabled:  # a candidate: it leads once it holds the lock
            self.leadership = Leadership(SchedulerLock(self.db), self._lead, self._step_down,
                                         self.status, interval=self.lock_interval)  # fmt: skip
            await self.leadership.start()
        app = build_web_app(
            self.db,
            self.config,
            telegram=self.telegram,
            status=self.status,
            conversations=self.conversations,
            roster=self.roster,
            whatsapp=webhook,
            sign_in_mailer=sign_in_mailer(self.config),
        )
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, self.config.web.host, self.config.web.port)
        await site.start()

    async def _lead(self) -> None:
        """This process holds the scheduler's lock: the scheduler and the one sender of
        broadcasts for the whole deployment start here."""
        bot = self.telegram.bot if self.telegram else None
        budget = self.telegram.bot_data["send_budget"] if self.telegram else None
        self.jobs = jobs = Jobs(self.config, self.db, bot, budget=budget)
        self.digests = Digests(self.config, self.db, bot, budget)
        scheduled = registry(jobs) | self.digests.registry()
        self.scheduler = start_scheduler(
            JobContext(self.config, self.db, scheduled), weekly={"digest": "officers' digest"}
        )
        self._start_notify()
        if self.status.get("telegram") == "ok":
            self._telegram_started()
        if self.whatsapp is not None:
            self._start_whatsapp_sender(self.whatsapp)

    def _leading(self) -> bool:
        return self.leadership is not None and self.leadership.leading

    def _telegram_started(self) -> None:
        """Once Telegram answers: the one sender for the whole deployment starts.

        That is the process that runs the scheduler (webhook workers would each pace
        themselves alone)."""
        if self.telegram is None or not self._leading() or self.broadcaster is not None:
            return
        budget = self.telegram.bot_data["send_budget"]
        # With a shared budget every process's sends are counted exactly: nothing to estimate.
        others = None if isinstance(budget, SharedSendBudget) else (
            OtherSenders(self.db, budget, self.conversations.boot_id))  # fmt: skip
        self.broadcaster = Broadcaster(self.db, self.telegram.bot, budget, others=others)
        self.broadcaster.start()

    def _start_notify(self) -> None:
        """Text messages and emails to web-chat residents, from the one sender process."""
        notify = self.config.notify
        if not notify.api_key:
            return
        templates = Templates(notify.sms_template_id, notify.email_template_id)
        client = NotifyMessages(notify.api_key, templates, notify.base_url)
        self.notify_sender = NotifySender(self.db, client, public_base_url(self.config),
                                          NotifySettings(per_minute=notify.per_minute))  # fmt: skip
        self.notify_sender.start()

    async def _start_whatsapp(self) -> WhatsAppWebhook | None:
        """WhatsApp residents, by webhook on this process's web server."""
        if not self.config.whatsapp.phone_number_id:
            return None
        self.whatsapp = WhatsAppChannel(self.config.whatsapp, self.db, self.conversations)
        await self.whatsapp.start()
        # Receipts in every process (any may take the webhook); the sender only in the leader.
        self.receipts = Receipts(self.db, expecting=self._whatsapp_sending)
        self.whatsapp.on_status = self.receipts.on_status
        self.status["whatsapp"] = "ok"
        return WhatsAppWebhook(self.whatsapp)

    def _whatsapp_sending(self) -> bool:
        return self.whatsapp_sender is not None and self.whatsapp_sender.sending()

    def _start_whatsapp_sender(self, channel: WhatsAppChannel) -> None:
        """Broadcasts and reminders as templates, from the one sender process, sharing the
        channel's rate window and session."""
        sender = WhatsAppSender(self.db, channel.api, channel.window, self.config.whatsapp,
                                public_base_url(self.config))  # fmt: skip
        self.whatsapp_sender = sender
        sender.start()
        if self.jobs is not None:
            self.jobs.whatsapp_reminders = WhatsAppReminders(sender).remind

    async def _step_down(self) -> None:
        """Stop what only the lock's holder runs (also at the end of a run)."""
        if self.whatsapp_sender is not None:  # before the channel closes its session
            await self.whatsapp_sender.stop()
            self.whatsapp_sender = None
        if self.notify_sender is not None:
            await self.notify_sender.stop()
            self.notify_sender = None
        if self.broadcaster is not None:
            await self.broadcaster.stop()
            self.broadcaster = None
        if self.scheduler is not None:
            await stop_scheduler(self.scheduler)
            self.scheduler = None
        if self.digests is not None:
            self.digests.close()
            self.digests = None
        self.jobs = None

    async def stop(self) -> None:
        if self.leadership is not None:
            await self.leadership.stop()  # steps down if it leads, then lets go of the lock
            self.leadership = None
        if self.starter is not None:
            await self.starter.stop()
        if self.telegram is not None:
            await stop_application(self.telegram)
        if self.runner is not None:
            await self.runner.cleanup()
        if self.whatsapp is not None:  # after the web server: no call comes in meanwhile
            await self.whatsapp.stop()
            self.whatsapp = None
        if self.receipts is not None:
            await self.receipts.close()
            self.receipts = None
        await asyncio.to_thread(self.alive.release)


def database_executor(url: str) -> Executor:
    """The threads that run blocking database work (asyncio.to_thread uses them).

    SQLite gets one thread with an urgent lane (bot/database_thread.py); PostgreSQL
    a pool."""
    if make_url(url).get_backend_name() == "sqlite":
        return DatabaseThread()
    return ThreadPoolExecutor(max_workers=16, thread_name_prefix="database")


def settle_memory() -> None:
    """Tune the garbage collector for a long-running bot, once start-up is done.

    Each update allocates many short-lived objects (python-telegram-bot's above all),
    so the collector ran often and each full pass re-examined every module, script and
    model loaded at start-up. Freezing those and collecting the young generation less
    often took the conversation benchmark from about 360 to 430 updates a second."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


async def run(config: Config) -> None:
    """Run until SIGINT or SIGTERM."""
    # First of all, so that a stop asked for while migrations run waits for them and
    # then stops cleanly.
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with suppress(NotImplementedError):
            loop.add_signal_handler(sig, stopping.set)
    executor = database_executor(config.database.url)
    loop.set_default_executor(executor)
    if isinstance(executor, DatabaseThread):
        DATABASE_QUEUE.set_function(executor.queued)
    log.info("database: %s", redact_url(config.database.url))
    db = await asyncio.to_thread(prepare_database, config)
    service = Service(
        config, db, urgent=executor.urgent if isinstance(executor, DatabaseThread) else None
    )
    await service.start()
    settle_memory()
    web_url = f"http://{config.web.host}:{config.web.port}/"
    print(f"Needs First is running. Web: {web_url}  (health check: {web_url}healthz)", flush=True)
    if service.status.get("telegram") == "unreachable":
        print(
            f"Telegram cannot be reached at {config.telegram.base_url} "
            f"({service.status.get('telegram_error')}).\nThe web chat and dashboard are up; "
            "the bot keeps trying and starts by itself once Telegram answers.",
            flush=True,
        )
    if not config.telegram.token:
        print(
            "Telegram is off. To turn it on, get a token from @BotFather and put it in\n"
            'config.toml as [telegram] token = "..." (copy config.example.toml), or set\n'
            "the NEEDSFIRST_TELEGRAM_TOKEN environment variable, then run again.",
            flush=True,
        )
    try:
        await stopping.wait()
    finally:
        await service.stop()
        db.dispose()
