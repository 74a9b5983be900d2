"""Staff commands in a private chat with the bot, for configured staff only.

Everyone else gets a polite refusal and nothing changes. Each command checks the
sender's role from the config, runs the same audited actions as the command
line, and answers malformed input with its usage. The commands are grouped by
subject (staff_rounds.py, staff_themes.py, staff_outreach.py; what they share in
staff_desk.py); this module routes to them behind the role check.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine
from functools import partial
from typing import Any

from sqlmodel import Session
from telegram import InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.actions.decisions import DecisionError
from bot.actions.staff_access import create_login_link
from bot.telegram.staff_desk import COMMANDS, FACILITATORS, UsageError, actor
from bot.telegram.staff_outreach import OutreachCommands
from bot.telegram.staff_rounds import RoundCommands
from bot.telegram.staff_themes import ThemeCommands
from bot.telegram.updates import STAFF_PREFIX
from conversations.flow.numbers import record_id
from conversations.locale import language_of
from conversations.residents.texts import service_text
from conversations.staff import broadcasts, theme_edits
from conversations.storage import store

log = logging.getLogger(__name__)
STAFF_DATA = re.compile(r"^s:bc:([0-9]{1,10}):(go|no)$")


class StaffCommands(RoundCommands, ThemeCommands, OutreachCommands):
    """Handlers for staff commands; thin adapters over the audited actions."""

    def register(self, application: Application) -> None:  # type: ignore[type-arg]
        self.application = application  # /digest sends files with its bot
        fresh = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
        guarded = {name: self._guard(name) for name in COMMANDS}

        async def route(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            message = update.effective_message
            word = (message.text or "").split(maxsplit=1)[0] if message else ""
            handler = guarded.get(word[1:].split("@")[0].lower())
            if handler is not None:
                await handler(update, context)

        # One handler for all: every resident's update is checked against it.
        application.add_handler(CommandHandler(list(COMMANDS), route, filters=fresh))
        application.add_handler(CallbackQueryHandler(self.press, pattern=f"^{STAFF_PREFIX}"))

    def _guard(
        self, name: str
    ) -> Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]:
        command = COMMANDS[name]
        action: Callable[[list[str], int], Awaitable[str | tuple[str, InlineKeyboardMarkup]]] = (
            getattr(self, f"do_{name}")
        )

        async def handle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            user, chat = update.effective_user, update.effective_chat
            if user is None or chat is None:
                return
            if not self.roster.roles(user.id) & command.roles:
                language = language_of(user.language_code) or "en"
                await chat.send_message(service_text("staff_only", language))
                return
            try:
                answer = await action(list(context.args or []), user.id)
            except UsageError as error:
                answer = (
                    f"{error}\nUsage: {command.usage}" if str(error) else f"Usage: {command.usage}"
                )
            except (
                store.StoreError,
                broadcasts.BroadcastError,
                theme_edits.ThemeEditError,
                DecisionError,
            ) as error:
                answer = f"Not done: {error}"
            if isinstance(answer, tuple):
                await chat.send_message(answer[0], reply_markup=answer[1])
            else:
                await chat.send_message(answer[:4096])

        return handle

    # --- commands -------------------------------------------------------------------

    async def do_staff(self, args: list[str], user_id: int) -> str:
        roles = self.roster.roles(user_id)
        lines = [f"Your roles: {', '.join(sorted(roles))}", ""]
        lines += [f"{c.usage}\n   {c.summary}" for c in COMMANDS.values() if roles & c.roles]
        return "\n".join(lines)

    async def do_login(self, args: list[str], user_id: int) -> str:
        link = await asyncio.to_thread(
            partial(create_login_link, self.db, self.config, user_id, roster=self.roster)
        )
        return f"Your sign-in link (works once, for 15 minutes; don't share it):\n{link}"

    async def press(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A staff button: the presser must be a facilitator now, not just when it was sent."""
        query = update.callback_query
        if query is None or query.from_user is None:
            return
        match = STAFF_DATA.match(query.data or "")
        allowed = self.roster.roles(query.from_user.id) & FACILITATORS
        try:
            await query.answer(None if match and allowed else "Not available")
        except TelegramError:
            log.debug("could not answer a staff callback", exc_info=True)
        if not match or not allowed or query.message is None:
            return
        broadcast_id, choice = record_id(match[1]), match[2]
        if broadcast_id is None:
            return
        presser = actor(query.from_user.id)
        chat_id, message_id = query.message.chat.id, query.message.message_id

        def act() -> str:
            with Session(self.db) as session, session.begin():
                if choice == "no":
                    broadcasts.cancel(session=session, broadcast_id=broadcast_id, actor=presser)
                    return f"Broadcast {broadcast_id} cancelled; nothing was sent."
                count = broadcasts.queue(
                    session=session, broadcast_id=broadcast_id, actor=presser,
                    progress_chat_id=str(chat_id), progress_message_id=message_id,
                )  # fmt: skip
                return f"Broadcast {broadcast_id} queued for {count} residents. Progress will show here."

        try:
            text = await asyncio.to_thread(act)
        except broadcasts.BroadcastError as error:
            text = f"Not done: {error}"
        try:
            await query.edit_message_text(text)
        except TelegramError:
            log.debug("could not edit a broadcast preview", exc_info=True)
