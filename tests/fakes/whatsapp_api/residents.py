"""The residents' side: what a WhatsApp user sends the business, and reading receipts.

Each helper builds the inbound message exactly as Meta's webhook carries it, opens the
24-hour window for that user, queues the event for the bot and returns its wamid.
"""

from __future__ import annotations

import re
import secrets
from typing import Any, Final

from tests.fakes.whatsapp_api.records import JSON, Sent
from tests.fakes.whatsapp_api.webhooks import Webhooks

USER: Final = re.compile(r"^\d{8,15}$")
DEFAULT_NAME: Final = "Resident"


class NoSuchButton(AssertionError):
    """press(): the user has no message with that button or list row to press."""


def _media(mime_type: str) -> JSON:
    return {"mime_type": mime_type, "sha256": secrets.token_hex(32),
            "id": str(10**15 + secrets.randbelow(9 * 10**15))}  # fmt: skip


#: What send_other() sends for each kind (fields can be overridden by keyword).
OTHER_KINDS: Final = (
    "image", "audio", "video", "sticker", "location", "contacts", "document", "reaction",
    "unsupported",
)  # fmt: skip


def other_content(kind: str, last_wamid: str | None) -> JSON:
    if kind == "image":
        return _media("image/jpeg")
    if kind == "audio":
        return {**_media("audio/ogg; codecs=opus"), "voice": True}
    if kind == "video":
        return _media("video/mp4")
    if kind == "sticker":
        return {**_media("image/webp"), "animated": False}
    if kind == "document":
        return {**_media("application/pdf"), "filename": "letter.pdf"}
    if kind == "location":
        return {"latitude": 51.5072, "longitude": -0.1276, "name": "Town Hall",
                "address": "1 High Street"}  # fmt: skip
    if kind == "contacts":
        return {"name": {"formatted_name": "Sam Neighbour", "first_name": "Sam"},
                "phones": [{"phone": "+44 7700 900999", "wa_id": "447700900999",
                            "type": "CELL"}]}  # fmt: skip
    if kind == "reaction":
        return {"message_id": last_wamid or "wamid.unknown", "emoji": "👍"}
    if kind == "unsupported":
        return {"type": "edit"}
    raise ValueError(f"send_other: kind must be one of {', '.join(OTHER_KINDS)}, not {kind!r}")


class Residents(Webhooks):
    """Simulated WhatsApp users; mixed into FakeWhatsApp."""

    async def send_text(
        self, user: str, text: str, name: str | None = None, *,
        reply_to: str | None = None, wait: bool = True,
    ) -> str:  # fmt: skip
        """``user`` writes ``text`` (shown to the bot as from ``name``, by default
        "Resident" or the name the user last used); ``reply_to``: a wamid it quotes."""
        message: JSON = {"type": "text", "text": {"body": text}}
        if reply_to is not None:
            message["context"] = {"from": self.display_phone_number, "id": reply_to}
        return await self._inbound(user, name, message, wait)

    async def press(
        self, user: str, button_id: str, *, on: str | None = None, name: str | None = None,
        wait: bool = True,
    ) -> str:  # fmt: skip
        """``user`` presses a reply button or picks a list row (by id, or else by title)
        of the last message sent to them that had any (or of message ``on``, a wamid).

        Raises NoSuchButton if that message has no such choice."""
        sent = self._pressable(user, on)
        choice = next((c for c in sent.choices if c[0] == button_id), None)
        choice = choice or next((c for c in sent.choices if c[1] == button_id), None)
        if choice is None:
            raise NoSuchButton(
                f"{user}: no button or row {button_id!r} on {sent.wamid}; "
                f"it offers {list(sent.choices)}"
            )
        choice_id, title = choice
        message: JSON = {"context": {"from": self.display_phone_number, "id": sent.wamid}}
        if sent.type == "template":
            message |= {"type": "button", "button": {"payload": choice_id, "text": title}}
        elif sent.interactive == "button":
            message |= {"type": "interactive", "interactive": {
                "type": "button_reply", "button_reply": {"id": choice_id, "title": title}}}  # fmt: skip
        else:
            row: JSON = {"id": choice_id, "title": title}
            if choice_id in sent.row_descriptions:
                row["description"] = sent.row_descriptions[choice_id]
            message |= {"type": "interactive",
                        "interactive": {"type": "list_reply", "list_reply": row}}  # fmt: skip
        return await self._inbound(user, name, message, wait)

    async def press_row(
        self, user: str, row_id: str, *, on: str | None = None, wait: bool = True
    ) -> str:
        """Like press, but the message must be a list."""
        sent = self._pressable(user, on)
        if sent.interactive != "list":
            raise NoSuchButton(f"{user}: {sent.wamid} is not a list message")
        return await self.press(user, row_id, on=sent.wamid, wait=wait)

    async def send_other(
        self, user: str, kind: str, *, name: str | None = None, wait: bool = True,
        **fields: Any,
    ) -> str:  # fmt: skip
        """``user`` sends something other than text: one of :data:`OTHER_KINDS`
        (audio is a voice note); ``fields`` override parts of that kind's object."""
        history = self.chats.get(user) or []
        content = other_content(kind, history[-1].wamid if history else None) | fields
        message: JSON = {"type": kind}
        if kind == "contacts":
            message["contacts"] = [content]
        elif kind == "unsupported":
            message["errors"] = [{
                "code": 131051, "title": "Message type unknown", "message": "Message type unknown",
                "error_data": {"details": "Message type is currently not supported."},
            }]  # fmt: skip
            message["unsupported"] = content
        else:
            message[kind] = content
        return await self._inbound(user, name, message, wait)

    async def read(self, user: str, *, wait: bool = True) -> list[str]:
        """``user`` opens the chat: every delivered message to them becomes read (the
        bot gets "read" statuses).  Returns their wamids."""
        unread = [s for s in self.chats.get(user, []) if s.status == "delivered"]
        now = str(int(self.clock()))
        statuses: list[JSON] = []
        for sent in unread:
            sent.status = "read"
            statuses.append({"id": sent.wamid, "status": "read", "timestamp": now,
                             "recipient_id": user})  # fmt: skip
        self._changed()
        for status in statuses:
            event = self._emit("status", {"statuses": [status]}, user, (status["id"],))
            await self._deliver(event, wait=wait)
        return [s.wamid for s in unread]

    # -- inside ------------------------------------------------------------------------

    def _pressable(self, user: str, on: str | None) -> Sent:
        history = self.chats.get(user, [])
        if on is not None:
            found = next((s for s in history if s.wamid == on), None)
            if found is None or not found.choices:
                raise NoSuchButton(f"{user}: {on} is not a message with buttons in their chat")
            return found
        found = next((s for s in reversed(history) if s.choices), None)
        if found is None:
            raise NoSuchButton(f"{user}: no message with buttons or a list was sent to them")
        return found

    async def _inbound(self, user: str, name: str | None, message: JSON, wait: bool) -> str:
        if not USER.match(user):
            raise ValueError(f"a WhatsApp user is 8 to 15 digits, not {user!r}")
        self._client()  # running, with a webhook_url
        if name is not None:
            self._names[user] = name
        wamid = self._new_wamid()
        now = self.clock()
        full: JSON = {"from": user, "id": wamid, "timestamp": str(int(now)), **message}
        value = {
            "contacts": [{"profile": {"name": self._names.get(user, DEFAULT_NAME)},
                          "wa_id": user}],
            "messages": [full],
        }  # fmt: skip
        event = self._emit("message", value, user, (wamid,))
        self._inbound_events[wamid] = event
        self._last_inbound[user] = now
        await self._deliver(event, wait=wait)
        return wamid
