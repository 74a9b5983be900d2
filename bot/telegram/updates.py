"""Updates from Telegram, checked before python-telegram-bot or a handler reads them.

Most updates a consultation gets are a resident typing an answer or pressing a
button in a private chat. Those are read straight from the JSON into a small
`ResidentUpdate`: python-telegram-bot's objects for them (a button press carries
the whole message it was pressed on, keyboard and all) cost a third of the bot's
CPU, and the handler reads five fields. Every other update becomes PTB's `Update`.

python-telegram-bot turns whatever JSON arrives into objects without checking types:
a message without a chat, or with a list for its text, becomes an object that fails
deep inside a filter or a handler; JSON it cannot turn into objects at all fails the
whole getUpdates batch, again on every poll. Telegram sends neither, but a proxy, a
self-hosted Bot API server or a change in the API could. Such an update is read as
an empty one (same id, so it is confirmed and forgotten), and an operator is told.

Only the fields that PTB's filters and our handlers read are checked here.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from telegram import Bot, Update

# Button data of staff buttons: the staff handlers take those presses.
STAFF_PREFIX = "s:"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Shape:
    """A JSON object's fields: a type, a nested shape, or a list of a shape."""

    fields: dict[str, type | Shape | list[Shape]]
    required: frozenset[str] = field(default_factory=frozenset)

    def fits(self, value: Any) -> bool:
        if not isinstance(value, dict) or not self.required <= value.keys():
            return False
        return all(_fits(value[key], kind) for key, kind in self.fields.items() if key in value)


def _fits(value: Any, kind: type | Shape | list[Shape]) -> bool:
    if isinstance(kind, Shape):
        return kind.fits(value)
    if isinstance(kind, list):
        return isinstance(value, list) and all(kind[0].fits(item) for item in value)
    if kind is int:  # JSON's true is not an id
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


USER = Shape(
    {"id": int, "is_bot": bool, "first_name": str, "username": str, "language_code": str},
    frozenset({"id", "is_bot", "first_name"}),
)
CHAT = Shape({"id": int, "type": str}, frozenset({"id", "type"}))
ENTITY = Shape({"type": str, "offset": int, "length": int}, frozenset({"type", "offset", "length"}))
MESSAGE = Shape(
    {
        "message_id": int,
        "date": int,
        "chat": CHAT,
        "from": USER,
        "sender_chat": CHAT,
        "text": str,
        "caption": str,
        "entities": [ENTITY],
        "caption_entities": [ENTITY],
    },
    frozenset({"message_id", "date", "chat"}),
)
CALLBACK_QUERY = Shape(
    {"id": str, "from": USER, "message": MESSAGE, "data": str, "chat_instance": str},
    frozenset({"id", "from"}),
)
# Whatever else an update holds, PTB finds its user and chat under these names.
OTHER = Shape({"from": USER, "user": USER, "chat": CHAT, "sender_chat": CHAT})
MESSAGE_KINDS = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_message",
    "edited_business_message",
)
SHAPES = {kind: MESSAGE for kind in MESSAGE_KINDS} | {"callback_query": CALLBACK_QUERY}


def well_formed(data: dict[str, Any]) -> bool:
    """True if the fields the bot reads have Telegram's types."""
    for kind, payload in data.items():
        if kind == "update_id":
            continue
        shape = SHAPES.get(kind, OTHER)
        if not shape.fits(payload):
            return False
    return True


def read_update(data: dict[str, Any], bot: Bot | None) -> Update | None:
    """The update, or None if it is malformed (logged, without its content)."""
    update_id = data.get("update_id")
    if not well_formed(data):
        log.warning("update %s is malformed; skipped", update_id)
        return None
    try:
        return Update.de_json(data, bot)
    except Exception:  # PTB raises many kinds on bad JSON; all mean "cannot be read"
        log.warning("update %s cannot be read; skipped", update_id, exc_info=True)
        return None


@dataclass(frozen=True, slots=True)
class ResidentUpdate:
    """A typed answer, a button press or a `/start` in a private chat, without PTB's objects."""

    update_id: int
    user_id: int
    chat_id: int
    language_code: str | None
    text: str | None = None  # what was typed
    query_id: str | None = None  # a press: its callback query, to stop the spinner
    data: str | None = None  # a press: the button's data (untrusted)
    # The typed message, or the message the button was on (None if Telegram no
    # longer shows it to the bot, so it cannot be edited).
    message_id: int | None = None
    # /start, with its deep link's argument (if any): a newcomer joining, mostly.
    starting: bool = False
    argument: str | None = None
    # When it was read (time.monotonic()): its reply's latency counts from here.
    received: float = field(default_factory=time.monotonic, compare=False)


def read_resident_update(data: dict[str, Any]) -> ResidentUpdate | None:
    """The update as a `ResidentUpdate` if it is one; None for anything else."""
    if len(data) != 2:
        return None
    update_id = data.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        return None
    message = data.get("message")
    if message is not None:
        if not MESSAGE.fits(message):
            return None
        user, text = message.get("from"), message.get("text")
        if user is None or not text or not _private(message, user):
            return None  # everything but text goes to "unsupported"
        if text.startswith("/"):
            if not _is_start(message, text):
                return None  # other commands go to the command handlers
            words = text.split()
            return ResidentUpdate(
                update_id, user["id"], message["chat"]["id"], user.get("language_code"),
                message_id=message["message_id"], starting=True,
                argument=words[1] if len(words) > 1 else None,
            )  # fmt: skip
        return ResidentUpdate(
            update_id, user["id"], message["chat"]["id"], user.get("language_code"),
            text=text, message_id=message["message_id"],
        )  # fmt: skip
    query = data.get("callback_query")
    if query is not None:
        if not CALLBACK_QUERY.fits(query):
            return None
        user, pressed, on = query["from"], query.get("data"), query.get("message")
        if pressed is None or pressed.startswith(STAFF_PREFIX) or on is None:
            return None
        if not _private(on, user):
            return None
        return ResidentUpdate(
            update_id, user["id"], on["chat"]["id"], user.get("language_code"),
            query_id=query["id"], data=pressed,
            message_id=on["message_id"] if on["date"] else None,  # date 0: inaccessible
        )  # fmt: skip
    return None


def _is_start(message: dict[str, Any], text: str) -> bool:
    """`/start` or `/start ARGUMENT`, marked as a command (as PTB's CommandHandler asks);
    `/start@name` is left to PTB, which knows the bot's name."""
    entities = message.get("entities") or []
    first = entities[0] if entities else None
    return (
        first is not None
        and first["type"] == "bot_command"
        and first["offset"] == 0
        and first["length"] == len("/start")
        and text.split(maxsplit=1)[0] == "/start"
    )


def _private(message: dict[str, Any], user: dict[str, Any]) -> bool:
    return message["chat"]["type"] == "private" and not user["is_bot"]


def read_any(data: dict[str, Any], bot: Bot | None) -> ResidentUpdate | Update | None:
    """A `ResidentUpdate` where the update is one, else PTB's `Update`; None if malformed."""
    return read_resident_update(data) or read_update(data, bot)
