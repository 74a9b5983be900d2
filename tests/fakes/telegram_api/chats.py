"""The simulated users: each a private chat with the bot, and everything said in it."""

from __future__ import annotations

import copy
import mimetypes
from collections.abc import Callable
from typing import TYPE_CHECKING

from tests.fakes.telegram_api.errors import JSON
from tests.fakes.telegram_api.files import StoredFile
from tests.fakes.telegram_api.markup import command_entities, inline_buttons
from tests.fakes.telegram_api.rules import unix_now
from tests.fakes.waiting import Signal, wait_for

if TYPE_CHECKING:
    from tests.fakes.telegram_api.server import FakeBotAPI


class FakeUser:
    """A simulated Telegram user in a private chat with the bot (chat id == user id).

    Sending methods enqueue an update and return it.  Reading: :attr:`messages` holds every
    bot message to this chat in order, updated in place by later edits; a read cursor
    serves :meth:`next_message`.
    """

    def __init__(
        self,
        fake: FakeBotAPI,
        user_id: int,
        first_name: str,
        last_name: str | None,
        username: str | None,
        language_code: str | None,
    ) -> None:
        self._fake = fake
        self.id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code
        self.chat_instance = str(8_000_000_000_000_000 + user_id)
        #: Whether this user has ever written to the bot (pressed Start, sent anything):
        #: Telegram refuses a bot's first message to anyone who has not (403).
        self.started = False
        #: Every bot message sent to this chat, in order, reflecting later edits and
        #: including deleted ones (see :attr:`deleted_message_ids`).
        self.messages: list[JSON] = []
        self.deleted_message_ids: set[int] = set()
        #: The ``action`` of every sendChatAction to this chat.
        self.chat_actions: list[str] = []
        #: The reply keyboard currently shown (a ReplyKeyboardMarkup dict), if any.
        self.reply_keyboard: JSON | None = None
        self.last_update: JSON | None = None
        self._bot_messages: dict[int, JSON] = {}
        self._own_messages: dict[int, JSON] = {}
        self._last_message_id = 0
        self._cursor = 0
        self._changed = Signal()

    def __repr__(self) -> str:
        return f"FakeUser(id={self.id}, first_name={self.first_name!r})"

    # -- identity

    @property
    def as_user(self) -> JSON:
        """The Bot API ``User`` object of this user."""
        user: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    @property
    def chat(self) -> JSON:
        """The Bot API ``Chat`` object of the private chat with this user."""
        chat: JSON = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            chat["last_name"] = self.last_name
        if self.username:
            chat["username"] = self.username
        return chat

    # -- sending

    async def send_text(self, text: str) -> JSON:
        content: JSON = {"text": text}
        if entities := command_entities(text):
            content["entities"] = entities
        return self._send_message(content)

    async def send_command(self, command: str, args: str = "") -> JSON:
        command = command if command.startswith("/") else f"/{command}"
        return await self.send_text(f"{command} {args}" if args else command)

    async def press(self, label_or_data: str) -> JSON:
        """Press the button whose text or callback_data matches, on the most recent bot
        message that has one.  Falls back to a reply-keyboard button (sent as text)."""
        for message in reversed(self.messages):
            if message["message_id"] in self.deleted_message_ids:
                continue
            for button in inline_buttons(message):
                if label_or_data not in (button.get("text"), button.get("callback_data")):
                    continue
                if "callback_data" not in button:
                    raise ValueError(f"button {label_or_data!r} has no callback_data: {button}")
                return self._callback_query(message, button["callback_data"])
        if label_or_data in self.reply_keyboard_labels():
            return await self.send_text(label_or_data)
        raise LookupError(
            f"user {self.id}: no button {label_or_data!r}; "
            f"last inline keyboard: {self.last_keyboard_labels()}, "
            f"reply keyboard: {self.reply_keyboard_labels()}"
        )

    async def press_data(self, data: str, message_id: int | None = None) -> JSON:
        """Send a callback query with arbitrary (possibly forged or stale) data.

        Without ``message_id`` it is attached to the latest visible bot message with an
        inline keyboard (or the latest visible bot message).  An unknown or deleted
        ``message_id`` gives an inaccessible message (``date`` 0), as Telegram does.
        """
        message: JSON | None
        if message_id is None:
            visible = self.visible_messages
            with_keyboard = [m for m in visible if inline_buttons(m)]
            candidates = with_keyboard or visible
            message = candidates[-1] if candidates else None
        elif message_id in self._bot_messages and message_id not in self.deleted_message_ids:
            message = self._bot_messages[message_id]
        else:
            message = {"chat": self.chat, "message_id": message_id, "date": 0}
        return self._callback_query(message, data)

    async def send_sticker(self, emoji: str = "👍") -> JSON:
        stored = self._fake._store_file("stickers", b"RIFF fake webp", "sticker.webp", "image/webp")
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "file_size": stored.size,
        }
        return self._send_message({"sticker": sticker})

    async def send_photo(self, caption: str | None = None) -> JSON:
        sizes = []
        for width, height in ((90, 67), (800, 600)):
            stored = self._fake._store_file(
                "photos", b"\xff\xd8\xff\xe0 fake jpeg " + bytes(width), None, "image/jpeg"
            )
            sizes.append(
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "width": width,
                    "height": height,
                    "file_size": stored.size,
                }
            )
        content: JSON = {"photo": sizes}
        if caption:
            content["caption"] = caption
        return self._send_message(content)

    async def send_voice(self, duration: int = 3) -> JSON:
        stored = self._fake._store_file("voice", b"OggS fake opus", "voice.oga", "audio/ogg")
        voice = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": stored.size,
        }
        return self._send_message({"voice": voice})

    async def send_location(self, latitude: float, longitude: float) -> JSON:
        return self._send_message({"location": {"latitude": latitude, "longitude": longitude}})

    async def send_document(
        self,
        filename: str,
        content: bytes = b"fake document content\n",
        mime_type: str | None = None,
        caption: str | None = None,
    ) -> JSON:
        mime = mime_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        stored = self._fake._store_file("documents", content, filename, mime)
        document = {
            "file_name": filename,
            "mime_type": mime,
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
        }
        message: JSON = {"document": document}
        if caption:
            message["caption"] = caption
        return self._send_message(message)

    async def send_contact(
        self, phone_number: str = "+15550100", first_name: str | None = None
    ) -> JSON:
        """Share a contact; by default the user's own, as the "share my number" button does."""
        contact: JSON = {"phone_number": phone_number, "first_name": first_name or self.first_name}
        if first_name is None:
            contact["user_id"] = self.id
        return self._send_message({"contact": contact})

    async def edit_text(self, message_id: int, new_text: str) -> JSON:
        """Edit one of this user's own text messages (an ``edited_message`` update)."""
        old = self._own_messages.get(message_id)
        if old is None or "text" not in old:
            raise KeyError(f"user {self.id} has no text message {message_id}")
        new = {k: v for k, v in old.items() if k != "entities"}
        new["text"] = new_text
        new["edit_date"] = unix_now()
        if entities := command_entities(new_text):
            new["entities"] = entities
        # A new dict, so an undelivered earlier update keeps showing the original text.
        self._own_messages[message_id] = new
        return self._fake._push(self, "edited_message", new)

    async def resend_last_update(self) -> JSON:
        """Deliver this user's last update again with the same update_id, as Telegram may do
        after a crash or a lost webhook response."""
        if self.last_update is None:
            raise LookupError(f"user {self.id} has not sent anything yet")
        return self._fake._push_again(self, self.last_update)

    # -- reading

    @property
    def visible_messages(self) -> list[JSON]:
        """Bot messages the user can still see (not deleted)."""
        return [m for m in self.messages if m["message_id"] not in self.deleted_message_ids]

    @property
    def last_message(self) -> JSON | None:
        return self.messages[-1] if self.messages else None

    @property
    def texts(self) -> list[str]:
        """Text (or caption) of every bot message, in order."""
        return [str(m.get("text", m.get("caption", ""))) for m in self.messages]

    @property
    def documents(self) -> list[StoredFile]:
        """Files the bot sent to this chat with sendDocument, in order."""
        return [
            self._fake.files[m["document"]["file_id"]] for m in self.messages if "document" in m
        ]

    @property
    def unread(self) -> int:
        return len(self.messages) - self._cursor

    def mark_read(self) -> None:
        """Move the read cursor past every message received so far."""
        self._cursor = len(self.messages)

    # A timeout parameter (not asyncio.timeout) keeps test code short and the error specific.
    async def wait_for_messages(self, n: int, timeout: float = 30.0) -> list[JSON]:  # noqa: ASYNC109
        """Wait until at least ``n`` bot messages in total have been sent to this chat."""
        await wait_for(
            self._changed,
            lambda: len(self.messages) >= n,
            timeout,
            lambda: f"user {self.id}: expected {n} bot messages, got {self.texts!r}",
        )
        return list(self.messages)

    async def next_message(self, timeout: float = 30.0) -> JSON:  # noqa: ASYNC109
        """Return the oldest unread bot message, waiting for one if all have been read."""
        await wait_for(
            self._changed,
            lambda: len(self.messages) > self._cursor,
            timeout,
            lambda: f"user {self.id}: no new bot message; all so far: {self.texts!r}",
        )
        message = self.messages[self._cursor]
        self._cursor += 1
        return message

    async def wait_until(
        self,
        predicate: Callable[[], bool],
        timeout: float = 30.0,  # noqa: ASYNC109
    ) -> None:
        """Wait until ``predicate()`` holds; re-checked whenever this chat changes."""
        await wait_for(
            self._changed,
            predicate,
            timeout,
            lambda: f"user {self.id}: condition not met; messages: {self.texts!r}",
        )

    def last_keyboard_labels(self) -> list[str]:
        """Button labels of the most recent visible bot message with an inline keyboard."""
        for message in reversed(self.visible_messages):
            if buttons := inline_buttons(message):
                return [button.get("text", "") for button in buttons]
        return []

    def reply_keyboard_labels(self) -> list[str]:
        rows = (self.reply_keyboard or {}).get("keyboard") or []
        return [b if isinstance(b, str) else b.get("text", "") for row in rows for b in row]

    # -- internals used by FakeBotAPI

    def _new_message_id(self) -> int:
        # One id sequence per chat, shared by the user's and the bot's messages.
        self._last_message_id += 1
        return self._last_message_id

    def _send_message(self, content: JSON) -> JSON:
        message: JSON = {
            "message_id": self._new_message_id(),
            "from": self.as_user,
            "chat": self.chat,
            "date": unix_now(),
            **content,
        }
        self._own_messages[message["message_id"]] = message
        return self._fake._push(self, "message", message)

    def _callback_query(self, message: JSON | None, data: str) -> JSON:
        query: JSON = {
            "id": self._fake._new_callback_id(),
            "from": self.as_user,
            "chat_instance": self.chat_instance,
            "data": data,
        }
        if message is not None:
            # A snapshot: the bot sees the message as it was when the button was pressed.
            query["message"] = copy.deepcopy(message)
        self._fake._open_callbacks[query["id"]] = query
        return self._fake._push(self, "callback_query", query)

    def _find_message(self, message_id: int) -> JSON | None:
        if message_id in self.deleted_message_ids:
            return None
        return self._bot_messages.get(message_id) or self._own_messages.get(message_id)

    def _add_bot_message(self, message: JSON, markup: JSON | None) -> None:
        self.messages.append(message)
        self._bot_messages[message["message_id"]] = message
        if markup is not None and "keyboard" in markup:
            self.reply_keyboard = markup
        elif markup is not None and markup.get("remove_keyboard"):
            self.reply_keyboard = None
        self._changed.notify()

    def _edit_bot_message(self, message: JSON, changes: JSON) -> None:
        for key, value in changes.items():
            # Values are replaced, never mutated, so earlier snapshots stay intact.
            if value is None:
                message.pop(key, None)
            else:
                message[key] = value
        message["edit_date"] = unix_now()
        self._changed.notify()

    def _delete(self, message_id: int) -> None:
        self.deleted_message_ids.add(message_id)
        self._changed.notify()
