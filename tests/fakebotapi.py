"""A fake Telegram Bot API server for end-to-end tests and benchmarks.

``FakeBotAPI`` speaks the HTTP Bot API on loopback, so the real python-telegram-bot
``Application`` runs against it unchanged, in polling mode or in webhook mode::

    async with FakeBotAPI() as fake:
        app = (
            ApplicationBuilder()
            .token("123:ABC")
            .base_url(fake.base_url)
            .base_file_url(fake.base_file_url)
            .build()
        )
        ...  # initialize, start, start_polling
        ann = fake.user(1001, first_name="Ann")
        await ann.send_command("/start")
        reply = await ann.next_message()

Simulated users (:class:`FakeUser`) enqueue realistic updates and observe what the bot
sends them.  Knobs on the server add latency, flood limits, blocked users and injected
faults.  Only the methods our bot uses are implemented, but those validate input the way
Telegram does (text length, callback data size, "message is not modified", HTML markup...).

The server is single-threaded asyncio: every method handler except ``getUpdates`` runs
without awaiting, so each call is applied atomically and ordering is deterministic.

Notes for test authors:

* PTB builds ``RetryAfter`` for a 429 and, unless ``PTB_TIMEDELTA=true`` is set, warns
  while doing so; under ``filterwarnings = error`` that warning replaces the exception.
  Set the variable (``monkeypatch.setenv``) in tests that can meet a flood limit.
* PTB reports a 404 (a method this fake lacks) as ``InvalidToken``; look for 404s in
  ``fake.calls`` when that happens.
* ``parse_mode="HTML"`` is parsed into entities; Markdown modes are passed through as is.
* PTB's own ``Updater.start_webhook`` needs tornado; a small aiohttp receiver that puts
  ``Update.de_json(...)`` on ``app.update_queue`` works against this fake.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import math
import mimetypes
import random
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from types import TracebackType
from typing import Any, Final, Self

from aiohttp import ClientError, ClientSession, ClientTimeout, TCPConnector, web

JSON = dict[str, Any]

MAX_TEXT_LENGTH: Final = 4096
MAX_CAPTION_LENGTH: Final = 1024
MAX_CALLBACK_DATA_BYTES: Final = 64
MAX_CALLBACK_ANSWER_LENGTH: Final = 200

#: Methods that count against the flood limits (``rate_limit``, ``per_chat_limit``).
MESSAGE_METHODS: Final = frozenset(
    {"sendMessage", "sendDocument", "editMessageText", "editMessageReplyMarkup"}
)

CHAT_ACTIONS: Final = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)

# Update types Telegram withholds unless they are asked for explicitly.
_NOT_DELIVERED_BY_DEFAULT: Final = frozenset(
    {"chat_member", "message_reaction", "message_reaction_count"}
)

# PTB JSON-encodes every non-string parameter of a form request and sends strings raw, so
# form fields are JSON-decoded, except these, which are strings even when they look like JSON.
_STRING_FIELDS: Final = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "url",
        "secret_token",
        "ip_address",
        "action",
        "language_code",
        "file_id",
        "document",
        "photo",
        "sticker",
        "voice",
        "emoji",
        "title",
        "name",
        "description",
        "short_description",
        "business_connection_id",
        "message_effect_id",
    }
)

_INLINE_BUTTON_ACTIONS: Final = (
    "callback_data",
    "url",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)

_TOKEN_RE: Final = re.compile(r"^(\d+):[A-Za-z0-9_-]+$")
_COMMAND_RE: Final = re.compile(r"(?<![\w/@])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![\w/])")
_BOT_COMMAND_NAME_RE: Final = re.compile(r"^[a-z0-9_]{1,32}$")
_SECRET_TOKEN_RE: Final = re.compile(r"^[A-Za-z0-9_-]{1,256}$")

_dumps: Final = partial(json.dumps, ensure_ascii=False, separators=(",", ":"))


def _u16(text: str) -> int:
    """Length in UTF-16 code units, the unit of Bot API entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _now() -> int:
    return int(time.time())


# --------------------------------------------------------------------------- errors


class ApiError(Exception):
    """An error answer of the Bot API, raised inside method handlers."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def _bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


def _flood(retry_after: int) -> ApiError:
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Fault:
    """A fault served instead of a normal answer; see :meth:`FakeBotAPI.inject_fault`.

    ``hang_seconds`` stalls the call first (longer than the client's timeout, it simulates
    a lost response).  ``status=None`` then processes the call normally, so the effect
    happens even though the client gave up, which is what makes real timeouts tricky.
    """

    status: int | None = 500
    description: str = "Internal Server Error"
    retry_after: int | None = None
    hang_seconds: float = 0.0

    @classmethod
    def error(cls, status: int = 500, description: str = "Internal Server Error") -> Fault:
        return cls(status=status, description=description)

    @classmethod
    def flood(cls, retry_after: int = 5) -> Fault:
        return cls(429, f"Too Many Requests: retry after {retry_after}", retry_after)

    @classmethod
    def hang(cls, seconds: float, then: Fault | None = None) -> Fault:
        """Stall for ``seconds``; then answer like ``then``, or process the call normally."""
        if then is None:
            return cls(status=None, description="", hang_seconds=seconds)
        return cls(then.status, then.description, then.retry_after, seconds)


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request, as received."""

    filename: str | None
    data: bytes
    mime_type: str | None


@dataclass(frozen=True)
class StoredFile:
    """A file known to the server (uploaded by the bot or sent by a simulated user)."""

    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    filename: str | None
    mime_type: str | None

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class Call:
    """One Bot API call as received; ``status`` is filled in once it has been answered."""

    method: str
    params: JSON
    time: float
    files: dict[str, Upload] = field(default_factory=dict)
    status: int | None = None
    error: str | None = None
    answered_at: float | None = None  # when the response was ready, by the fake's clock


@dataclass(frozen=True)
class WebhookAttempt:
    """One POST of an update to the bot's webhook."""

    update_id: int
    url: str
    status: int | None
    error: str | None
    time: float


@dataclass
class _Webhook:
    url: str
    secret_token: str | None
    max_connections: int
    ip_address: str | None
    semaphore: asyncio.Semaphore


@dataclass(slots=True)
class _Pending:
    update_id: int
    update: JSON
    chat_id: int
    kind: str
    # A deliberate re-delivery of an update id the bot may already have confirmed.  It
    # survives confirmation until it has been handed out in a batch that is then confirmed.
    redelivery: bool = False
    batch_max: int | None = None


Handler = Callable[[JSON, dict[str, Upload]], Any]


class _Signal:
    """Wakes every current waiter at once; used instead of polling loops."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, seconds: float | None) -> bool:
        event = self._event
        try:
            async with asyncio.timeout(seconds):
                await event.wait()
        except TimeoutError:
            return False
        return True


async def _wait_until(
    signal: _Signal, predicate: Callable[[], bool], seconds: float, describe: Callable[[], str]
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not predicate():
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise TimeoutError(describe())
        await signal.wait(remaining)


# --------------------------------------------------------------------------- HTML markup

_TAG_RE: Final = re.compile(
    r"<(/?)([A-Za-z][A-Za-z0-9-]*)"
    r"((?:\s+[A-Za-z_:][-A-Za-z0-9_:.]*(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'=<>`]+))?)*)\s*>"
)
_ATTR_RE: Final = re.compile(
    r"([A-Za-z_:][-A-Za-z0-9_:.]*)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'=<>`]+)))?"
)
_CHARREF_RE: Final = re.compile(r"&(?:#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6})|(lt|gt|amp|quot));")
_PLAIN_RE: Final = re.compile(r"[^<&]+")
_NAMED_CHARREFS: Final = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SIMPLE_TAGS: Final = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}


def _entity_error(detail: str) -> ApiError:
    return _bad_request(f"can't parse entities: {detail}")


def _html_entity(
    tag: str, attrs: dict[str, str], stack: list[tuple[str, int, JSON | None]], where: str
) -> JSON | None:
    if tag == "code" and stack and stack[-1][0] == "pre":
        # <pre><code class="language-x"> is one pre entity carrying the language.
        pre = stack[-1][2]
        language = attrs.get("class", "")
        if pre is not None and language.startswith("language-"):
            pre["language"] = language.removeprefix("language-")
        return None
    if tag in _SIMPLE_TAGS:
        return {"type": _SIMPLE_TAGS[tag]}
    if tag == "span":
        if attrs.get("class") == "tg-spoiler":
            return {"type": "spoiler"}
        raise _entity_error(f'Tag "span" must have class "tg-spoiler" {where}')
    if tag == "a":
        href = attrs.get("href", "")
        return {"type": "text_link", "url": href} if href else None
    if tag == "blockquote":
        return {"type": "expandable_blockquote" if "expandable" in attrs else "blockquote"}
    if tag == "tg-emoji":
        return {"type": "custom_emoji", "custom_emoji_id": attrs.get("emoji-id", "")}
    raise _entity_error(f'Unsupported start tag "{tag}" {where}')


def parse_html(source: str) -> tuple[str, list[JSON]]:
    """Parse Telegram's HTML parse mode into plain text and entities (UTF-16 offsets).

    Strict like Telegram: unknown tags, mismatched tags and a bare ``<`` are errors, which
    catches user input interpolated into HTML without escaping.
    """
    out: list[str] = []
    pos16 = 0
    stack: list[tuple[str, int, JSON | None]] = []
    entities: list[JSON] = []
    i, n = 0, len(source)
    while i < n:
        char = source[i]
        if char == "<":
            where = f"at byte offset {len(source[:i].encode())}"
            tag_match = _TAG_RE.match(source, i)
            if tag_match is None:
                raise _entity_error(f"Unexpected end of name token {where}")
            closing, tag = bool(tag_match.group(1)), tag_match.group(2).lower()
            if closing:
                if not stack:
                    raise _entity_error(f'Unexpected end tag "{tag}" {where}')
                if stack[-1][0] != tag:
                    raise _entity_error(
                        f'Unmatched end tag {where}, expected "</{stack[-1][0]}>", found "</{tag}>"'
                    )
                _, start, entity = stack.pop()
                if entity is not None and pos16 > start:
                    entity["offset"] = start
                    entity["length"] = pos16 - start
                    entities.append(entity)
            else:
                attrs = {
                    a.group(1).lower(): next((g for g in a.group(2, 3, 4) if g is not None), "")
                    for a in _ATTR_RE.finditer(tag_match.group(3))
                }
                stack.append((tag, pos16, _html_entity(tag, attrs, stack, where)))
            i = tag_match.end()
            continue
        if char == "&" and (ref := _CHARREF_RE.match(source, i)) is not None:
            if ref.group(3) is not None:
                piece = _NAMED_CHARREFS[ref.group(3)]
            else:
                code = int(ref.group(1)) if ref.group(1) is not None else int(ref.group(2), 16)
                valid = 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF
                piece = chr(code) if valid else ref.group(0)
            i = ref.end()
        elif char == "&":
            piece, i = "&", i + 1  # a lone ampersand is kept as text
        else:
            plain = _PLAIN_RE.match(source, i)
            assert plain is not None
            piece, i = plain.group(0), plain.end()
        out.append(piece)
        pos16 += _u16(piece)
    if stack:
        raise _entity_error(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _command_entities(text: str) -> list[JSON]:
    """bot_command entities, which Telegram's server adds to any text containing commands."""
    return [
        {"type": "bot_command", "offset": _u16(text[: m.start()]), "length": _u16(m.group(0))}
        for m in _COMMAND_RE.finditer(text)
    ]


def _inline_buttons(message: JSON) -> list[JSON]:
    markup = message.get("reply_markup") or {}
    rows = markup.get("inline_keyboard") or []
    return [button for row in rows for button in row]


# --------------------------------------------------------------------------- users


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
        self._changed = _Signal()

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
        if entities := _command_entities(text):
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
            for button in _inline_buttons(message):
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
            with_keyboard = [m for m in visible if _inline_buttons(m)]
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
        new["edit_date"] = _now()
        if entities := _command_entities(new_text):
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
        await _wait_until(
            self._changed,
            lambda: len(self.messages) >= n,
            timeout,
            lambda: f"user {self.id}: expected {n} bot messages, got {self.texts!r}",
        )
        return list(self.messages)

    async def next_message(self, timeout: float = 30.0) -> JSON:  # noqa: ASYNC109
        """Return the oldest unread bot message, waiting for one if all have been read."""
        await _wait_until(
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
        await _wait_until(
            self._changed,
            predicate,
            timeout,
            lambda: f"user {self.id}: condition not met; messages: {self.texts!r}",
        )

    def last_keyboard_labels(self) -> list[str]:
        """Button labels of the most recent visible bot message with an inline keyboard."""
        for message in reversed(self.visible_messages):
            if buttons := _inline_buttons(message):
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
            "date": _now(),
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
        message["edit_date"] = _now()
        self._changed.notify()

    def _delete(self, message_id: int) -> None:
        self.deleted_message_ids.add(message_id)
        self._changed.notify()


# --------------------------------------------------------------------------- server


class FakeBotAPI:
    """A fake Telegram Bot API server on 127.0.0.1 (see the module docstring).

    Knobs, settable at construction or at any time:

    * ``delay``: seconds slept before answering each call (network latency), plus up to
      ``jitter`` seconds more, at random (so calls can overtake one another).
    * ``rate_limit``: message methods (:data:`MESSAGE_METHODS`) allowed per second in
      total; beyond it, 429 with an integer ``retry_after``.  ``per_chat_limit``: the same
      per chat (Telegram's guidance is 1).  Every 429 given is timestamped in
      ``too_many_requests``.  ``talking_limit``: a higher per-chat limit for a chat
      whose user sent the bot something in the last ``talking_seconds``: Telegram
      lets a bot answer a user it is talking with in a short burst (two messages at
      once), which it does not allow in a chat the bot writes to unprompted.
    * ``blocked``: chat ids that answer 403 "bot was blocked by the user".
    * Strict by default, as Telegram is: messages to a user who never wrote to the bot
      answer 403 "bot can't initiate conversation with a user" (a test says a user has
      written before with ``user(..., started=True)``), and the flood limits are on
      (30 a second overall, 1 a second per chat, a burst of ``talking_limit`` while the
      user is talking).  :meth:`relax` turns either off for a test that must.
    * :meth:`inject_fault`: errors, floods or hangs for the next N calls of a method.
    * ``clock``: the time source for flood windows and call timestamps (inject a fixed
      one for deterministic tests); long-poll and webhook timing always use real time.
    """

    def __init__(
        self,
        *,
        token: str | None = None,
        bot_username: str = "needs_first_test_bot",
        bot_first_name: str = "Needs First",
        delay: float = 0.0,
        jitter: float = 0.0,
        rate_limit: int | None = 30,
        per_chat_limit: int | None = 1,
        talking_limit: int | None = 10,
        talking_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        host: str = "127.0.0.1",
        port: int = 0,
        record_calls: bool = True,
        webhook_max_attempts: int = 5,
        webhook_retry_delay: float = 0.05,
        webhook_timeout: float = 10.0,
    ) -> None:
        #: If set, only this token is accepted (others get 401); otherwise any
        #: well-formed token is, and the bot id is its numeric prefix.
        self.token = token
        self.bot_id: int | None = int(token.split(":", 1)[0]) if token else None
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.delay = delay
        self.jitter = jitter
        self.rate_limit = rate_limit
        self.per_chat_limit = per_chat_limit
        self.talking_limit = talking_limit
        self.talking_seconds = talking_seconds
        self.clock = clock
        self.host = host
        self.record_calls = record_calls
        self.webhook_max_attempts = webhook_max_attempts
        self.webhook_retry_delay = webhook_retry_delay
        self.webhook_timeout = webhook_timeout

        self.blocked: set[int] = set()
        #: Deliver to users who never wrote to the bot (Telegram does not); see `relax`.
        self.deliver_unstarted = False
        self.calls: list[Call] = []
        self.too_many_requests: list[float] = []
        #: answerCallbackQuery calls: callback_query_id, user_id, data, text, show_alert,
        #: url, cache_time, time.
        self.answered_callbacks: list[JSON] = []
        self.files: dict[str, StoredFile] = {}
        #: setMyCommands state, keyed by (scope as sorted JSON, language_code).
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.webhook_attempts: list[WebhookAttempt] = []
        #: Updates dropped after ``webhook_max_attempts`` failed deliveries.
        self.webhook_failures: list[JSON] = []
        #: Update types requested with allowed_updates; None means Telegram's default.
        self.allowed_updates: list[str] | None = None

        self._port = port
        self._runner: web.AppRunner | None = None
        self._session: ClientSession | None = None
        self._closing = False
        self._stopping = asyncio.Event()
        self._users: dict[int, FakeUser] = {}
        self._update_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._open_callbacks: dict[str, JSON] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._faults: dict[str, deque[Fault]] = {}
        self._received: dict[str, list[Call]] = {}
        self._completed: dict[str, list[Call]] = {}
        self._calls_signal = _Signal()
        self._global_window: deque[float] = deque()
        self._chat_windows: dict[int, deque[float]] = {}
        self._spoke_at: dict[int, float] = {}  # when each user last sent the bot something
        # Polling mode: undelivered and unconfirmed updates, sorted by update_id.
        self._pending: deque[_Pending] = deque()
        self._updates_signal = _Signal()
        self._poll_generation = 0
        # Webhook mode: a queue and a delivery task per chat, so each chat is in order.
        self._webhook: _Webhook | None = None
        self._webhook_queues: dict[int, deque[_Pending]] = {}
        self._webhook_workers: dict[int, asyncio.Task[None]] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._last_webhook_error: tuple[int, str] | None = None

        self._handlers: dict[str, Handler] = {
            "getMe": self._get_me,
            "logOut": self._true,
            "close": self._true,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "setMyCommands": self._set_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "getMyCommands": self._get_my_commands,
            "sendMessage": self._send_message,
            "sendDocument": self._send_document,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "sendChatAction": self._send_chat_action,
            "answerCallbackQuery": self._answer_callback_query,
            "getFile": self._get_file,
        }
        # Telegram matches method names case-insensitively.
        self._canonical = {name.lower(): name for name in [*self._handlers, "getUpdates"]}

    # -- lifecycle

    async def start(self) -> None:
        self._closing = False
        self._stopping = asyncio.Event()
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        # No access log: it would dominate the cost of a call in benchmarks.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self._port)
        await site.start()
        self._port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        """Stop serving; pending long polls are answered with an empty list."""
        if self._runner is None:
            return
        self._closing = True
        self._stopping.set()
        self._updates_signal.notify()
        tasks = list(self._background)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._webhook_workers.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None
        await self._runner.cleanup()
        self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._runner is None:
            raise RuntimeError("FakeBotAPI is not running")
        return self._port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder().base_url()``; PTB appends the token."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``ApplicationBuilder().base_file_url()``."""
        return f"{self.url}/file/bot"

    # -- users and state

    def user(
        self,
        user_id: int,
        first_name: str = "Ann",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        started: bool = False,
    ) -> FakeUser:
        """The simulated user with this id, created on first use (later args are ignored).

        ``started=True``: the user wrote to the bot before the test began (staff who
        pressed Start once), so the bot may message them first."""
        existing = self._users.get(user_id)
        if existing is not None:
            existing.started = existing.started or started
            return existing
        created = FakeUser(self, user_id, first_name, last_name, username, language_code)
        created.started = started
        self._users[user_id] = created
        return created

    def relax(self, *, limits: bool = False, unstarted: bool = False) -> None:
        """Make the fake kinder than Telegram, for a test that is about something else."""
        if limits:
            self.rate_limit = self.per_chat_limit = self.talking_limit = None
        if unstarted:
            self.deliver_unstarted = True

    @property
    def users(self) -> dict[int, FakeUser]:
        return dict(self._users)

    @property
    def webhook_url(self) -> str | None:
        return self._webhook.url if self._webhook is not None else None

    @property
    def pending_update_count(self) -> int:
        return len(self._pending) + sum(len(q) for q in self._webhook_queues.values())

    def inject_fault(self, method: str, fault: Fault | None = None, times: int = 1) -> None:
        """Serve ``fault`` (default: a 500) to the next ``times`` calls of ``method``.

        ``method`` is a Bot API method name, or ``"*"`` for whatever call comes next.
        """
        name = "*" if method == "*" else self._canonical.get(method.lower(), method)
        self._faults.setdefault(name, deque()).extend([fault or Fault()] * times)

    def clear_faults(self) -> None:
        self._faults.clear()

    def calls_to(self, method: str) -> list[Call]:
        """Answered calls of ``method``, in the order they were answered."""
        return list(self._completed.get(method, []))

    async def wait_for_call(
        self,
        method: str,
        count: int = 1,
        timeout: float = 30.0,  # noqa: ASYNC109
        *,
        answered: bool = True,
    ) -> Call:
        """Wait until ``method`` has been answered (or, with ``answered=False``, merely
        received) ``count`` times; return that call.  Needs ``record_calls``."""
        calls = self._completed if answered else self._received
        await _wait_until(
            self._calls_signal,
            lambda: len(calls.get(method, [])) >= count,
            timeout,
            lambda: f"{method}: {len(calls.get(method, []))} calls, expected {count}",
        )
        return calls[method][count - 1]

    def my_commands(self, scope: JSON | None = None, language_code: str = "") -> list[JSON]:
        return list(self.commands.get(self._commands_key(scope, language_code), []))

    # -- HTTP

    async def _handle(self, request: web.Request) -> web.Response:
        name = request.match_info["method"]
        name = self._canonical.get(name.lower(), name)
        parse_error: ApiError | None = None
        try:
            params, files = await self._read_params(request)
        except ApiError as exc:
            params, files, parse_error = {}, {}, exc
        call = Call(name, params, self.clock(), files)
        if self.record_calls:
            self.calls.append(call)
            self._received.setdefault(name, []).append(call)
            self._calls_signal.notify()
        try:
            if parse_error is not None:
                raise parse_error
            result = await self._execute(request, name, params, files)
        except ApiError as exc:
            status, body = exc.status, exc.payload()
            call.error = exc.description
            if exc.status == 429:
                self.too_many_requests.append(self.clock())
        else:
            status, body = 200, {"ok": True, "result": result}
        call.status = status
        call.answered_at = self.clock()
        if self.record_calls:
            self._completed.setdefault(name, []).append(call)
            self._calls_signal.notify()
        return web.json_response(body, status=status, dumps=_dumps)

    async def _execute(
        self, request: web.Request, name: str, params: JSON, files: dict[str, Upload]
    ) -> Any:
        if self.delay > 0 or self.jitter > 0:
            await asyncio.sleep(self.delay + random.uniform(0.0, self.jitter))
        fault = self._take_fault(name)
        if fault is not None:
            if fault.hang_seconds > 0:
                await self._pause(fault.hang_seconds)
                transport = request.transport
                client_gone = transport is None or transport.is_closing()
                if name == "getUpdates" and client_gone:
                    # Nobody waits for this poll any more; running it would end the
                    # client's newer poll with 409 and confirm offsets nobody saw.
                    return []
            if fault.status is not None:
                raise ApiError(fault.status, fault.description, fault.retry_after)
        self._check_token(request.match_info["token"])
        if name == "getUpdates":
            return await self._get_updates(params)
        handler = self._handlers.get(name)
        if handler is None:
            raise ApiError(404, "Not Found: method not found")
        return handler(params, files)

    async def _read_params(self, request: web.Request) -> tuple[JSON, dict[str, Upload]]:
        params: JSON = {k: _decode_field(k, v) for k, v in request.query.items()}
        files: dict[str, Upload] = {}
        if not request.body_exists:
            return params, files
        if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    mime = value.content_type or None
                    files[key] = Upload(value.filename, value.file.read(), mime)
                elif isinstance(value, str):
                    params[key] = _decode_field(key, value)
                else:
                    params[key] = _decode_field(key, bytes(value).decode())
            return params, files
        # Telegram takes a JSON body whatever its content type claims.
        raw = await request.read()
        if raw.strip():
            try:
                body = json.loads(raw)
            except ValueError:
                raise _bad_request("can't parse request JSON object") from None
            if not isinstance(body, dict):
                raise _bad_request("request body must be a JSON object")
            params.update(body)
        return params, files

    async def _handle_file(self, request: web.Request) -> web.Response:
        stored = self._files_by_path.get(request.match_info["path"])
        if not _TOKEN_RE.match(request.match_info["token"]) or stored is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )

    def _check_token(self, token: str) -> None:
        match = _TOKEN_RE.match(token)
        if match is None:
            raise ApiError(404, "Not Found")
        if self.token is not None and token != self.token:
            raise ApiError(401, "Unauthorized")
        if self.bot_id is None:
            self.bot_id = int(match.group(1))

    def _take_fault(self, name: str) -> Fault | None:
        for key in (name, "*"):
            queue = self._faults.get(key)
            if queue:
                return queue.popleft()
        return None

    async def _pause(self, seconds: float) -> None:
        """Sleep, but wake early when the server stops."""
        try:
            async with asyncio.timeout(seconds):
                await self._stopping.wait()
        except TimeoutError:
            pass

    # -- update queue

    def _push(self, user: FakeUser, kind: str, payload: JSON) -> JSON:
        update: JSON = {"update_id": next(self._update_ids), kind: payload}
        user.last_update = update
        user.started = True
        self._spoke_at[user.id] = self.clock()
        self._enqueue(_Pending(update["update_id"], update, user.id, kind))
        return update

    def _push_again(self, user: FakeUser, update: JSON) -> JSON:
        kind = next(k for k in update if k != "update_id")
        self._enqueue(_Pending(update["update_id"], update, user.id, kind, redelivery=True))
        return update

    def _enqueue(self, pending: _Pending) -> None:
        if self._webhook is not None:
            if self._allowed(pending.kind):
                self._webhook_enqueue(pending)
            return
        if pending.redelivery:
            # Keep the queue sorted: Telegram batches are in update_id order, and PTB
            # confirms with the last id of a batch.
            index = sum(1 for p in self._pending if p.update_id <= pending.update_id)
            self._pending.insert(index, pending)
        else:
            self._pending.append(pending)
        self._updates_signal.notify()

    def _allowed(self, kind: str) -> bool:
        if self.allowed_updates is None:
            return kind not in _NOT_DELIVERED_BY_DEFAULT
        return kind in self.allowed_updates

    def _set_allowed(self, value: Any) -> None:
        if value is None:
            return
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _bad_request("can't parse allowed updates")
        # Like Telegram, the setting persists until changed; [] restores the default.
        self.allowed_updates = list(value) or None

    def _drop_pending(self) -> None:
        self._pending.clear()
        for queue in self._webhook_queues.values():
            queue.clear()

    def _confirm(self, offset: int) -> None:
        if offset < 0:
            while len(self._pending) > -offset:
                self._pending.popleft()
            return
        kept: list[_Pending] = []
        while self._pending and self._pending[0].update_id < offset:
            p = self._pending.popleft()
            if p.redelivery and (p.batch_max is None or p.batch_max >= offset):
                kept.append(p)
        self._pending.extendleft(reversed(kept))

    def _take_batch(self, limit: int) -> list[JSON]:
        batch: list[_Pending] = []
        unwanted = False
        for p in self._pending:
            if not self._allowed(p.kind):
                unwanted = True
                continue
            batch.append(p)
            if len(batch) >= limit:
                break
        if unwanted:
            self._pending = deque(p for p in self._pending if self._allowed(p.kind))
        if batch:
            for p in batch:
                if p.redelivery:
                    p.batch_max = batch[-1].update_id
        return [p.update for p in batch]

    async def _get_updates(self, params: JSON) -> list[JSON]:
        if self._webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = _int_param(params, "offset", 0)
        limit = min(max(_int_param(params, "limit", 100), 1), 100)
        timeout = max(_float_param(params, "timeout", 0.0), 0.0)
        self._set_allowed(params.get("allowed_updates"))
        self._confirm(offset)
        # A newer getUpdates ends an older long poll with 409, as on Telegram.  After PTB
        # cancels a poll on shutdown, this is what frees the abandoned handler.
        self._poll_generation += 1
        generation = self._poll_generation
        self._updates_signal.notify()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self._closing or self._webhook is not None:
                return []
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            batch = self._take_batch(limit)
            remaining = deadline - loop.time()
            if batch or remaining <= 0:
                return batch
            await self._updates_signal.wait(remaining)

    # -- webhook delivery

    def _enable_webhook(self, config: _Webhook) -> None:
        was_active = self._webhook is not None
        self._webhook = config
        if self._session is None:
            self._session = ClientSession(connector=TCPConnector(limit=0))
        if not was_active:
            pending, self._pending = self._pending, deque()
            for p in pending:
                self._webhook_enqueue(p)
        self._updates_signal.notify()  # a pending long poll returns now

    def _disable_webhook(self) -> None:
        if self._webhook is None:
            return
        self._webhook = None
        for task in self._webhook_workers.values():
            task.cancel()
        self._webhook_workers.clear()
        # Updates not yet delivered become fetchable with getUpdates, as on Telegram.
        leftovers = [p for queue in self._webhook_queues.values() for p in queue]
        self._webhook_queues.clear()
        self._pending = deque(sorted([*self._pending, *leftovers], key=lambda p: p.update_id))

    def _webhook_enqueue(self, pending: _Pending) -> None:
        queue = self._webhook_queues.setdefault(pending.chat_id, deque())
        queue.append(pending)
        if pending.chat_id not in self._webhook_workers:
            task = asyncio.get_running_loop().create_task(
                self._webhook_worker(pending.chat_id, queue)
            )
            self._webhook_workers[pending.chat_id] = task
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _webhook_worker(self, chat_id: int, queue: deque[_Pending]) -> None:
        try:
            while queue:
                item = queue[0]
                await self._deliver(item)
                # The queue may have been cleared meanwhile (drop_pending_updates).
                if queue and queue[0] is item:
                    queue.popleft()
        finally:
            if self._webhook_workers.get(chat_id) is asyncio.current_task():
                del self._webhook_workers[chat_id]

    async def _deliver(self, item: _Pending) -> None:
        body = _dumps(item.update).encode()
        for attempt in range(1, self.webhook_max_attempts + 1):
            config, session = self._webhook, self._session
            if config is None or session is None:
                return
            headers = {"Content-Type": "application/json"}
            if config.secret_token:
                headers["X-Telegram-Bot-Api-Secret-Token"] = config.secret_token
            status: int | None = None
            error: str | None = None
            try:
                async with (
                    config.semaphore,
                    session.post(
                        config.url,
                        data=body,
                        headers=headers,
                        timeout=ClientTimeout(total=self.webhook_timeout),
                    ) as response,
                ):
                    status = response.status
                    await response.read()
            except (ClientError, TimeoutError) as exc:
                error = f"{type(exc).__name__}: {exc}"
            self.webhook_attempts.append(
                WebhookAttempt(item.update_id, config.url, status, error, self.clock())
            )
            if status is not None and 200 <= status < 300:
                return
            self._last_webhook_error = (
                _now(),
                error or f"Wrong response from the webhook: {status}",
            )
            if attempt < self.webhook_max_attempts:
                await self._pause(min(2.0, self.webhook_retry_delay * 2 ** (attempt - 1)))
        self.webhook_failures.append(item.update)

    # -- flood control

    def _check_flood(self, chat_id: int) -> None:
        now = self.clock()
        if self.rate_limit is not None:
            _check_window(self._global_window, self.rate_limit, now)
        limit = self.per_chat_limit
        spoke_at = self._spoke_at.get(chat_id)
        if (
            self.talking_limit is not None
            and spoke_at is not None
            and now - spoke_at < self.talking_seconds
        ):
            limit = max(limit or 0, self.talking_limit)
        if limit is not None:
            _check_window(self._chat_windows.setdefault(chat_id, deque()), limit, now)

    def _count_sent(self, chat_id: int) -> None:
        now = self.clock()
        if self.rate_limit is not None:
            self._global_window.append(now)
        if self.per_chat_limit is not None or self.talking_limit is not None:
            self._chat_windows.setdefault(chat_id, deque()).append(now)

    # -- helpers for method handlers

    def _bot_user(self) -> JSON:
        return {
            "id": self.bot_id or 0,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def _new_callback_id(self) -> str:
        return str(4_000_000_000_000_000 + next(self._callback_ids))

    def _store_file(
        self, kind: str, data: bytes, filename: str | None, mime_type: str | None
    ) -> StoredFile:
        number = next(self._file_ids)
        suffix = ""
        if filename and "." in filename:
            suffix = "." + filename.rsplit(".", 1)[1]
        elif mime_type:
            suffix = mimetypes.guess_extension(mime_type) or ""
        stored = StoredFile(
            file_id=f"FAKE-{kind}-{number:06d}",
            file_unique_id=f"U{number:06d}",
            file_path=f"{kind}/file_{number}{suffix}",
            data=data,
            filename=filename,
            mime_type=mime_type,
        )
        self.files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def _chat(self, params: JSON) -> FakeUser:
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise _bad_request("chat_id is empty")
        user: FakeUser | None = None
        if isinstance(raw, int) and not isinstance(raw, bool):
            user = self._users.get(raw)
        elif isinstance(raw, str) and re.fullmatch(r"-?\d+", raw.strip()):
            user = self._users.get(int(raw))
        if user is None:
            raise _bad_request("chat not found")
        if user.id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if not (user.started or self.deliver_unstarted):
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        return user

    def _text(
        self,
        params: JSON,
        key: str = "text",
        entities_key: str = "entities",
        limit: int = MAX_TEXT_LENGTH,
    ) -> tuple[str | None, list[JSON] | None]:
        """Text and entities after applying parse_mode, validated like Telegram."""
        raw = params.get(key)
        is_caption = key == "caption"
        if raw is None or raw == "":
            if is_caption:
                return None, None
            raise _bad_request("message text is empty")
        text = raw if isinstance(raw, str) else str(raw)
        entities = params.get(entities_key)
        parse_mode = params.get("parse_mode") or ""
        if entities is not None:
            if not isinstance(entities, list):
                raise _bad_request(f"can't parse {entities_key} JSON object")
        elif not isinstance(parse_mode, str):
            raise _bad_request("unsupported parse_mode")
        elif parse_mode.lower() == "html":
            text, entities = parse_html(text)
        elif parse_mode.lower() not in ("", "markdown", "markdownv2"):
            raise _bad_request("unsupported parse_mode")
        # Markdown modes are passed through unparsed; our bot uses HTML.
        if not text.strip():
            if is_caption:
                return None, None
            raise _bad_request("message text is empty")
        if len(text) > limit:
            raise _bad_request(
                "message caption is too long" if is_caption else "message is too long"
            )
        return text, entities or None

    def _reply_markup(self, params: JSON) -> JSON | None:
        markup = params.get("reply_markup")
        if markup is None or markup == "":
            return None
        if isinstance(markup, str):
            try:
                markup = json.loads(markup)
            except ValueError:
                raise _bad_request("can't parse reply keyboard markup JSON object") from None
        if not isinstance(markup, dict):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            _validate_inline_keyboard(markup["inline_keyboard"])
        elif "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise _bad_request('field "keyboard" of the ReplyKeyboardMarkup should be an Array')
        elif not (markup.get("remove_keyboard") or markup.get("force_reply")):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        return markup

    def _reply_to(self, user: FakeUser, params: JSON) -> JSON | None:
        reply_parameters = params.get("reply_parameters")
        if isinstance(reply_parameters, dict):
            message_id = reply_parameters.get("message_id")
            allow = bool(reply_parameters.get("allow_sending_without_reply"))
        else:
            message_id = params.get("reply_to_message_id")
            allow = bool(params.get("allow_sending_without_reply"))
        if message_id is None:
            return None
        target = user._find_message(_int_param({"message_id": message_id}, "message_id"))
        if target is None:
            if allow:
                return None
            raise _bad_request("message to be replied not found")
        # Telegram does not nest replies inside reply_to_message.
        return {k: v for k, v in target.items() if k != "reply_to_message"}

    def _new_bot_message(self, user: FakeUser, content: JSON, markup: JSON | None) -> JSON:
        message: JSON = {
            "message_id": user._new_message_id(),
            "from": self._bot_user(),
            "chat": user.chat,
            "date": _now(),
        }
        message.update({k: v for k, v in content.items() if v is not None})
        # Message.reply_markup only ever carries inline keyboards.
        if markup is not None and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        user._add_bot_message(message, markup)
        self._count_sent(user.id)
        return message

    def _editable(self, params: JSON) -> tuple[FakeUser, JSON]:
        if params.get("inline_message_id") and not params.get("chat_id"):
            raise _bad_request("MESSAGE_ID_INVALID")
        user = self._chat(params)
        if params.get("message_id") in (None, ""):
            raise _bad_request("message identifier is not specified")
        message_id = _int_param(params, "message_id")
        message = user._bot_messages.get(message_id)
        if message is None or message_id in user.deleted_message_ids:
            if message_id in user._own_messages:
                raise _bad_request("message can't be edited")
            raise _bad_request("message to edit not found")
        return user, message

    @staticmethod
    def _commands_key(scope: Any, language_code: Any) -> tuple[str, str]:
        return json.dumps(scope or {"type": "default"}, sort_keys=True), str(language_code or "")

    # -- method handlers (synchronous, hence atomic)

    def _true(self, params: JSON, files: dict[str, Upload]) -> bool:
        return True

    def _get_me(self, params: JSON, files: dict[str, Upload]) -> JSON:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _set_webhook(self, params: JSON, files: dict[str, Upload]) -> bool:
        url = params.get("url") or ""
        if not isinstance(url, str):
            raise _bad_request("bad webhook: invalid URL")
        if url and not url.startswith(("https://", "http://")):
            # Real Telegram insists on HTTPS; plain HTTP is allowed here for loopback.
            raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not (isinstance(secret, str) and _SECRET_TOKEN_RE.match(secret)):
            raise _bad_request("secret token contains unallowed characters")
        max_connections = _int_param(params, "max_connections", 40)
        if not 1 <= max_connections <= 100:
            raise _bad_request("bad webhook: max_connections must be between 1 and 100")
        if params.get("drop_pending_updates"):
            self._drop_pending()
        self._set_allowed(params.get("allowed_updates"))
        if not url:
            self._disable_webhook()
            return True
        ip_address = params.get("ip_address")
        self._enable_webhook(
            _Webhook(
                url=url,
                secret_token=secret,
                max_connections=max_connections,
                ip_address=ip_address if isinstance(ip_address, str) else None,
                semaphore=asyncio.Semaphore(max_connections),
            )
        )
        return True

    def _delete_webhook(self, params: JSON, files: dict[str, Upload]) -> bool:
        if params.get("drop_pending_updates"):
            self._drop_pending()
        self._disable_webhook()
        return True

    def _get_webhook_info(self, params: JSON, files: dict[str, Upload]) -> JSON:
        info: JSON = {
            "url": self.webhook_url or "",
            "has_custom_certificate": False,
            "pending_update_count": self.pending_update_count,
        }
        if self._webhook is not None:
            info["max_connections"] = self._webhook.max_connections
            if self._webhook.ip_address:
                info["ip_address"] = self._webhook.ip_address
        if self.allowed_updates is not None:
            info["allowed_updates"] = list(self.allowed_updates)
        if self._last_webhook_error is not None:
            info["last_error_date"], info["last_error_message"] = self._last_webhook_error
        return info

    def _set_my_commands(self, params: JSON, files: dict[str, Upload]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad_request("can't parse commands JSON object")
        cleaned = []
        for command in commands:
            if not isinstance(command, dict):
                raise _bad_request("can't parse BotCommand JSON object")
            name, description = command.get("command"), command.get("description")
            if not isinstance(name, str) or not _BOT_COMMAND_NAME_RE.match(name):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": name, "description": description})
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        self.commands[key] = cleaned
        return True

    def _delete_my_commands(self, params: JSON, files: dict[str, Upload]) -> bool:
        self.commands.pop(
            self._commands_key(params.get("scope"), params.get("language_code")), None
        )
        return True

    def _get_my_commands(self, params: JSON, files: dict[str, Upload]) -> list[JSON]:
        return self.my_commands(params.get("scope"), params.get("language_code") or "")

    def _send_message(self, params: JSON, files: dict[str, Upload]) -> JSON:
        user = self._chat(params)
        text, entities = self._text(params)
        markup = self._reply_markup(params)
        reply_to = self._reply_to(user, params)
        self._check_flood(user.id)
        content = {"text": text, "entities": entities, "reply_to_message": reply_to}
        return self._new_bot_message(user, content, markup)

    def _send_document(self, params: JSON, files: dict[str, Upload]) -> JSON:
        user = self._chat(params)
        caption, caption_entities = self._text(
            params, "caption", "caption_entities", MAX_CAPTION_LENGTH
        )
        markup = self._reply_markup(params)
        reply_to = self._reply_to(user, params)
        stored = self._document_input(params, files)
        self._check_flood(user.id)
        document: JSON = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
        }
        if stored.filename:
            document["file_name"] = stored.filename
        if stored.mime_type:
            document["mime_type"] = stored.mime_type
        content = {
            "document": document,
            "caption": caption,
            "caption_entities": caption_entities,
            "reply_to_message": reply_to,
        }
        return self._new_bot_message(user, content, markup)

    def _document_input(self, params: JSON, files: dict[str, Upload]) -> StoredFile:
        value = params.get("document")
        upload: Upload | None = None
        if isinstance(value, str) and value.startswith("attach://"):
            upload = files.get(value.removeprefix("attach://"))
        elif "document" in files:
            upload = files["document"]
        elif isinstance(value, str) and value:
            if value in self.files:
                return self.files[value]  # resending by file_id
            raise _bad_request("wrong file identifier/HTTP URL specified")
        if upload is None:
            raise _bad_request("there is no document in the request")
        if not upload.data:
            raise _bad_request("file must be non-empty")
        mime = upload.mime_type
        if mime in (None, "application/octet-stream") and upload.filename:
            mime = mimetypes.guess_type(upload.filename)[0] or mime
        return self._store_file("documents", upload.data, upload.filename, mime)

    def _edit_message_text(self, params: JSON, files: dict[str, Upload]) -> JSON:
        user, message = self._editable(params)
        if "text" not in message:
            raise _bad_request("there is no text in the message to edit")
        text, entities = self._text(params)
        markup = self._inline_markup(params)
        if (text, entities, markup) == (
            message["text"],
            message.get("entities"),
            message.get("reply_markup"),
        ):
            raise _not_modified()
        self._check_flood(user.id)
        # Omitting reply_markup removes the inline keyboard, as on Telegram.
        user._edit_bot_message(
            message, {"text": text, "entities": entities, "reply_markup": markup}
        )
        self._count_sent(user.id)
        return message

    def _edit_message_reply_markup(self, params: JSON, files: dict[str, Upload]) -> JSON:
        user, message = self._editable(params)
        markup = self._inline_markup(params)
        if markup == message.get("reply_markup"):
            raise _not_modified()
        self._check_flood(user.id)
        user._edit_bot_message(message, {"reply_markup": markup})
        self._count_sent(user.id)
        return message

    def _inline_markup(self, params: JSON) -> JSON | None:
        markup = self._reply_markup(params)
        if markup is not None and "inline_keyboard" not in markup:
            raise _bad_request("inline keyboard expected")
        return markup

    def _delete_message(self, params: JSON, files: dict[str, Upload]) -> bool:
        user = self._chat(params)
        message_id = _int_param(params, "message_id")
        if user._find_message(message_id) is None:
            raise _bad_request("message to delete not found")
        user._delete(message_id)
        return True

    def _send_chat_action(self, params: JSON, files: dict[str, Upload]) -> bool:
        user = self._chat(params)
        action = params.get("action")
        if action not in CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        user.chat_actions.append(str(action))
        return True

    def _answer_callback_query(self, params: JSON, files: dict[str, Upload]) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        text = params.get("text")
        if isinstance(text, str) and len(text) > MAX_CALLBACK_ANSWER_LENGTH:
            raise _bad_request("MESSAGE_TOO_LONG")
        query = self._open_callbacks.pop(query_id, None)
        if query is None:
            raise _bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        self.answered_callbacks.append(
            {
                "callback_query_id": query_id,
                "user_id": query["from"]["id"],
                "data": query.get("data"),
                "text": text,
                "show_alert": bool(params.get("show_alert", False)),
                "url": params.get("url"),
                "cache_time": params.get("cache_time", 0),
                "time": self.clock(),
            }
        )
        return True

    def _get_file(self, params: JSON, files: dict[str, Upload]) -> JSON:
        stored = self.files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise _bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
            "file_path": stored.file_path,
        }


# --------------------------------------------------------------------------- validation


def _decode_field(key: str, value: str) -> Any:
    if key in _STRING_FIELDS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _int_param(params: JSON, name: str, default: int | None = None) -> int:
    value = params.get(name, default)
    if value is None or value == "":
        raise _bad_request(f"{name} is empty")
    if isinstance(value, bool):
        raise _bad_request(f"invalid {name} specified")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _bad_request(f"invalid {name} specified") from None


def _float_param(params: JSON, name: str, default: float) -> float:
    value = params.get(name, default)
    try:
        return float(value)
    except (TypeError, ValueError):
        raise _bad_request(f"invalid {name} specified") from None


def _check_window(window: deque[float], limit: int, now: float) -> None:
    """Sliding one-second window; raises 429 with the whole seconds until a slot frees."""
    while window and now - window[0] >= 1.0:
        window.popleft()
    if len(window) >= limit:
        raise _flood(max(1, math.ceil(1.0 - (now - window[0]))))


def _not_modified() -> ApiError:
    return _bad_request(
        "message is not modified: specified new message content and reply markup are "
        "exactly the same as a current content and reply markup of the message"
    )


def _validate_inline_keyboard(rows: Any) -> None:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise _bad_request(
            'field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays'
        )
    for row in rows:
        for button in row:
            if not isinstance(button, dict):
                raise _bad_request("can't parse inline keyboard button JSON object")
            if not isinstance(button.get("text"), str) or not button["text"]:
                raise _bad_request('can\'t find field "text"')
            if not any(action in button for action in _INLINE_BUTTON_ACTIONS):
                raise _bad_request("text buttons are unallowed in the inline keyboard")
            if "callback_data" in button:
                data = button["callback_data"]
                size = len(data.encode()) if isinstance(data, str) else 0
                if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                    raise _bad_request("BUTTON_DATA_INVALID")
            if "url" in button and not (isinstance(button["url"], str) and button["url"]):
                raise _bad_request("BUTTON_URL_INVALID")
