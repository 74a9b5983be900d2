"""Updates from Telegram, checked before python-telegram-bot or a handler reads them.

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
from dataclasses import dataclass, field
from typing import Any

from telegram import Bot, Update

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
