"""The python-telegram-bot Application: the bot, its send budget and every handler, in order.

Staff commands are registered before the residents' handlers, so that staff
buttons are not taken for residents' answers; the durable inbox's handler runs
last, once an update is handled.
"""

from __future__ import annotations

import logging

from telegram import BotCommand
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationBuilder

from bot.config import TelegramConfig
from bot.telegram.durable_updates import DurableInbox
from bot.telegram.lean_bot import LeanBot
from bot.telegram.ordering import PerChatUpdateProcessor
from bot.telegram.pacing import BudgetLimiter, SendBudget
from bot.telegram.request import AiohttpRequest
from bot.telegram.residents import TelegramResidents
from bot.telegram.shared_budget import SharedSendBudget, SharedWindow
from bot.telegram.staff import StaffCommands
from conversations.locale import LANGUAGES, NP_, SOURCE
from conversations.locale.catalogues import translate
from conversations.residents.service import ConversationService

log = logging.getLogger(__name__)


def build_application(config: TelegramConfig, service: ConversationService,
                      staff: StaffCommands | None = None,
                      durable: DurableInbox | None = None) -> Application:  # type: ignore[type-arg]  # fmt: skip
    """The python-telegram-bot Application with Needs First's handlers."""
    # Everything this bot sends counts; broadcasts get what is left.
    budget = send_budget(config)
    bot = LeanBot(
        config.token,
        base_url=config.base_url,
        base_file_url=config.base_file_url,
        # Residents' replies run in parallel; give them connections to match.
        request=AiohttpRequest(connection_pool_size=256),
        get_updates_request=AiohttpRequest(connection_pool_size=2),
        rate_limiter=BudgetLimiter(budget),
        inbox=durable,
    )
    builder = (
        ApplicationBuilder()
        .bot(bot)
        .concurrent_updates(PerChatUpdateProcessor(4096))
        .post_init(_post_init)
        .post_stop(_post_stop)
        # Our own scheduler runs jobs; PTB's would start a second one per worker.
        .job_queue(None)
    )
    if config.mode == "webhook":
        builder = builder.updater(None)
    application = builder.build()
    if durable is not None:
        durable.register(application)
        application.bot_data["durable"] = durable
    if staff is not None:
        staff.register(application)  # first, so that staff buttons are not residents'
    residents = TelegramResidents(service)
    residents.register(application)
    application.bot_data["residents"] = residents
    application.bot_data["send_budget"] = budget
    return application


# The command menu's descriptions; Telegram shows each user the menu in their app's
# language where we set one, else the default (English).
COMMANDS = (
    ("start", NP_("telegram", "Take part, or carry on")),
    ("help", NP_("telegram", "What I can do")),
    ("language", NP_("telegram", "Choose your language")),
    ("mydata", NP_("telegram", "See what we hold about you")),
    ("forget", NP_("telegram", "Delete what we hold about you")),
    ("stop", NP_("telegram", "No more invitations")),
)


def command_menu(language: str) -> list[BotCommand]:
    return [BotCommand(name, translate(language, said, "telegram")) for name, said in COMMANDS]


async def _post_init(application: Application) -> None:  # type: ignore[type-arg]
    try:
        await application.bot.set_my_commands(command_menu(SOURCE))
        for language in LANGUAGES:
            if language != SOURCE:
                await application.bot.set_my_commands(
                    command_menu(language), language_code=language
                )
    except TelegramError:
        log.warning("could not set the bot's command menu", exc_info=True)


def send_budget(config: TelegramConfig) -> SendBudget:
    """This process's budget; with [telegram] shared_budget, one shared with every process."""
    if not config.shared_budget:
        return SendBudget(headroom=config.broadcast_headroom)
    bot_id = config.token.split(":", 1)[0]
    window = SharedWindow(config.shared_budget, bot_id, headroom=config.broadcast_headroom)
    return SharedSendBudget(window, headroom=config.broadcast_headroom)


async def _post_stop(application: Application) -> None:  # type: ignore[type-arg]
    budget = application.bot_data.get("send_budget")
    if isinstance(budget, SharedSendBudget):
        await budget.close()
    residents = application.bot_data.get("residents")
    if isinstance(residents, TelegramResidents):
        await residents.deliveries.flush()
    durable = application.bot_data.get("durable")
    if isinstance(durable, DurableInbox):
        await durable.flush()
