"""Telegram: thin handlers from updates to the conversation service and back.

Handlers turn an update into a service call (run in a worker thread, since the
database is synchronous), then deliver the messages it returns. The flow itself
lives in the script and the state in the database; nothing here remembers a
resident between updates, so several webhook workers can share the load.
"""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections.abc import Callable

from telegram import Message as TelegramMessage
from telegram import Update
from telegram.constants import ChatType
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.channels.batching import GroupCommit, KeyBatcher
from bot.channels.metrics import ChannelMeter
from bot.telegram.lean_bot import LeanBot, keyboard
from bot.telegram.updates import ResidentUpdate
from conversations.flow.inputs import EditedText, Input, TextInput, Unsupported
from conversations.flow.messages import Message
from conversations.locale import language_of
from conversations.residents.service import ConversationService, Incoming, Joining, Who
from conversations.residents.texts import service_text

log = logging.getLogger(__name__)
CHANNEL = "telegram"
METER = ChannelMeter(CHANNEL)


def who_of(update: Update | ResidentUpdate) -> Who | None:
    if isinstance(update, ResidentUpdate):
        language = _language(update.language_code)
        return Who(CHANNEL, str(update.user_id), str(update.chat_id), language)
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or user.is_bot:
        return None
    return Who(CHANNEL, str(user.id), str(chat.id), _language(user.language_code))


def _language(code: str | None) -> str | None:
    return language_of(code) or ("en" if code else None)


class TelegramResidents:
    """The resident-facing handlers."""

    def __init__(self, service: ConversationService) -> None:
        self.service = service
        # Answers, presses and newcomers' /start from many residents share a transaction.
        self.answers: GroupCommit[Incoming | Joining, list[Message] | None] = GroupCommit(
            service.answer_many, fallback=None
        )
        # A redelivered update whose replies are not yet recorded as delivered gets
        # them again: the resident may see a question twice, never miss one.
        self.deliveries = KeyBatcher(
            lambda keys: service.mark_delivered(CHANNEL, *keys), what="deliveries"
        )

    def register(self, application: Application) -> None:  # type: ignore[type-arg]
        private = filters.ChatType.PRIVATE
        fresh = private & filters.UpdateType.MESSAGE  # an edited "/forget" is not a new request
        on = application.add_handler
        # Residents' answers and presses, read without PTB's objects: checked first.
        on(ResidentUpdateHandler(self.answer), group=-1)
        on(CommandHandler("start", self.start, filters=fresh))
        on(CommandHandler("help", self.help, filters=fresh))
        on(CommandHandler("language", self.language, filters=fresh))
        on(CommandHandler("mydata", self.my_data, filters=fresh))
        on(CommandHandler("forget", self.forget, filters=fresh))
        on(CommandHandler("stop", self.stop, filters=fresh))
        on(MessageHandler(private & filters.UpdateType.EDITED_MESSAGE, self.edited))
        on(MessageHandler(private & filters.COMMAND, self.unknown_command))
        on(MessageHandler(private & filters.TEXT, self.text))
        on(MessageHandler(private & ~filters.UpdateType.EDITED_MESSAGE, self.unsupported))
        on(CallbackQueryHandler(self.press))
        on(MessageHandler(filters.ChatType.GROUPS, self.group))
        application.add_error_handler(self.error)

    async def _serve(self, update: Update | ResidentUpdate, context: ContextTypes.DEFAULT_TYPE,
                     call: Callable[[Who, str], list[Message]],
                     *, edit_on: int | None = None) -> None:  # fmt: skip
        received = time.monotonic()
        who = who_of(update)
        if who is None:
            return
        key = str(update.update_id)
        messages = await asyncio.to_thread(call, who, key)
        await deliver(context.bot, int(who.chat_id), messages, edit_on=edit_on)
        self.deliveries.add(key)
        METER.replied(received)

    async def answer(self, update: ResidentUpdate, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A typed answer, a button press or a `/start` (the common updates, read lean)."""
        who = who_of(update)
        assert who is not None
        key = str(update.update_id)
        if update.starting:
            argument = update.argument
            await self._answer(
                who,
                key,
                Joining(who, key, argument),
                lambda: self.service.start(who, argument, update_key=key),
                context,
                update.received,
            )
            return
        if update.query_id is None:
            typed = TextInput(update.text or "", ref=str(update.message_id))
            await self._answer(
                who, key, typed, lambda: self.service.receive(who, typed, update_key=key),
                context, update.received,
            )  # fmt: skip
            return
        data = update.data or ""
        # Stop the button's spinner while the answer is stored, not before.
        answering = asyncio.create_task(_answer_query(context.bot, update.query_id))
        try:
            await self._answer(
                who,
                key,
                self.service.answer_input(data),
                lambda: self.service.press(who, data, update_key=key),
                context,
                update.received,
                edit_on=update.message_id,
            )
        finally:
            await answering

    async def _answer(self, who: Who, key: str, given: Input | Joining | None,
                      in_full: Callable[[], list[Message]], context: ContextTypes.DEFAULT_TYPE,
                      received: float, *, edit_on: int | None = None) -> None:  # fmt: skip
        """A plain answer or a newcomer joining, in a batch with other residents'
        (GroupCommit), else in full."""
        item = given if isinstance(given, Joining) or given is None else Incoming(who, key, given)
        messages = await self.answers.submit(item) if item else None
        if messages is None:
            messages = await asyncio.to_thread(in_full)
        await deliver(context.bot, int(who.chat_id), messages, edit_on=edit_on)
        self.deliveries.add(key)
        METER.replied(received)

    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/start [slug or slug--source]."""
        argument = context.args[0] if context.args else None
        await self._serve(
            update, context, lambda who, key: self.service.start(who, argument, update_key=key)
        )

    async def help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/help."""
        await self._serve(update, context, lambda who, key: self.service.help(who))

    async def language(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/language."""
        await self._serve(
            update, context, lambda who, key: self.service.language_menu(who, update_key=key)
        )

    async def my_data(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/mydata: what we hold, as a message and a JSON file."""
        await self._serve(
            update, context, lambda who, key: self.service.my_data(who, update_key=key)
        )

    async def forget(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/forget: asks to confirm before erasing."""
        await self._serve(
            update, context, lambda who, key: self.service.forget_request(who, update_key=key)
        )

    async def stop(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/stop: no more invitations."""
        await self._serve(update, context, lambda who, key: self.service.stop(who, update_key=key))

    async def text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Free text: an answer."""
        message = update.effective_message
        assert message is not None and message.text is not None
        given = TextInput(message.text, ref=str(message.message_id))
        await self._serve(
            update, context, lambda who, key: self.service.receive(who, given, update_key=key)
        )

    async def edited(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """An edited message: update the answer it gave, if it can still change."""
        message = update.edited_message
        if message is None or not message.text or message.text.startswith("/"):
            return
        given = EditedText(message.text, ref=str(message.message_id))
        await self._serve(
            update, context, lambda who, key: self.service.receive(who, given, update_key=key)
        )

    async def unsupported(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Stickers, photos, voice notes, locations, documents..."""
        message = update.effective_message
        if message is None:
            return
        kind = "voice" if (message.voice or message.audio or message.video_note) else "other"
        given = Unsupported(kind)
        await self._serve(
            update, context, lambda who, key: self.service.receive(who, given, update_key=key)
        )

    async def unknown_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A command we do not know."""
        who = who_of(update)
        if who is None or update.effective_chat is None:
            return
        await update.effective_chat.send_message(
            service_text("unknown_command", who.language or "en")
        )

    async def press(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A button press: its data is checked, never trusted."""
        query = update.callback_query
        assert query is not None
        # Stop the button's spinner while the answer is stored, not before.
        answering = asyncio.create_task(_answer_query(update.get_bot(), query.id))
        try:
            if query.message is None or query.message.chat.type != ChatType.PRIVATE:
                return
            data = query.data or ""
            pressed_on = query.message if isinstance(query.message, TelegramMessage) else None
            await self._serve(
                update,
                context,
                lambda who, key: self.service.press(who, data, update_key=key),
                edit_on=pressed_on.message_id if pressed_on is not None else None,
            )
        finally:
            await answering

    async def group(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """In groups we say nothing: answers are private."""

    async def error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log every error and keep the bot alive."""
        log.error("error while handling an update", exc_info=context.error)


async def deliver(bot: object, chat_id: int, messages: list[Message],
                  *, edit_on: int | None = None) -> None:  # fmt: skip
    """Send messages to a chat: buttons as inline keyboards, attachments as files.

    A message that updates the prompt a button was pressed on edits `edit_on` (that
    message's id) instead of arriving anew."""
    lean = _lean(bot)
    for message in messages:
        markup = keyboard(message)
        if message.updates_prompt and edit_on is not None:
            try:
                edit = {"chat_id": chat_id, "message_id": edit_on}
                await lean.call(
                    "editMessageText", {**edit, "text": message.text, "reply_markup": markup}
                )
                continue
            except BadRequest as error:
                if "not modified" in str(error).lower():
                    continue
                log.info("could not edit a prompt, sending it anew: %s", error)
        try:
            if message.attachment is not None:
                await lean.send_document(
                    chat_id,
                    document=io.BytesIO(message.attachment.content),
                    filename=message.attachment.filename,
                    caption=message.text[:1024] if len(message.text) <= 1024 else None,
                )
                if len(message.text) <= 1024:
                    continue
            await lean.call(
                "sendMessage", {"chat_id": chat_id, "text": message.text, "reply_markup": markup}
            )
        except Forbidden:
            log.info("a resident has blocked the bot; not delivering")
            return


async def _answer_query(bot: object, query_id: str) -> None:
    try:
        await _lean(bot).call("answerCallbackQuery", {"callback_query_id": query_id})
    except TelegramError:
        log.debug("could not answer a callback query", exc_info=True)


def _lean(bot: object) -> LeanBot:
    assert isinstance(bot, LeanBot), "the application is built with a LeanBot"
    return bot


class ResidentUpdateHandler(BaseHandler[ResidentUpdate, ContextTypes.DEFAULT_TYPE, None]):
    """Takes the `ResidentUpdate`s the update reader makes of answers, presses and `/start`."""

    def check_update(self, update: object) -> bool:
        return isinstance(update, ResidentUpdate)
