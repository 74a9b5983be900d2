"""What Meta's webhook brings, read without trusting it: residents' messages and the
statuses of messages we sent.

A webhook call is signed (`X-Hub-Signature-256`, an HMAC-SHA256 of the raw body with
the app secret); anything unsigned or wrongly signed is refused before it is read.
A call may carry several changes and several messages; each message has Meta's id
(a wamid), which is the update's key: a call delivered twice is handled once.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

SIGNATURE_HEADER = "X-Hub-Signature-256"
# Kinds a resident can send that carry no words we can read.
VOICE = frozenset({"audio", "voice"})


def signed(body: bytes, header: str, app_secret: str) -> bool:
    """Whether `header` is the app secret's HMAC of the raw body."""
    if not app_secret or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header[len("sha256=") :].encode("ascii", "replace"),
                               expected.encode("ascii"))  # fmt: skip


@dataclass(frozen=True)
class Incoming:
    """One message from a resident."""

    key: str  # Meta's message id
    wa_id: str
    kind: str  # text | press | other
    text: str = ""  # the typed text, or a pressed button's title
    data: str = ""  # a pressed button's or list row's id
    other: str = ""  # what else it was: voice, image, sticker, location...
    timestamp: int = 0


@dataclass(frozen=True)
class Status:
    """What became of a message we sent."""

    wamid: str
    status: str  # sent | delivered | read | failed
    recipient: str
    error_code: int | None = None


def read(payload: object, phone_number_id: str) -> tuple[list[Incoming], list[Status]]:
    """The messages and statuses in a webhook call for our number; the rest ignored.

    Raises ValueError when the body is not a WhatsApp webhook call at all."""
    if not isinstance(payload, dict) or payload.get("object") != "whatsapp_business_account":
        raise ValueError("not a WhatsApp Business Account webhook call")
    messages: list[Incoming] = []
    statuses: list[Status] = []
    for entry in _list(payload.get("entry")):
        for change in _list(entry.get("changes")):
            value = change.get("value")
            if change.get("field") != "messages" or not isinstance(value, dict):
                continue
            metadata = value.get("metadata")
            if not isinstance(metadata, dict) or str(metadata.get("phone_number_id")) != (
                phone_number_id
            ):
                continue  # another number's, on the same app
            messages += [m for m in map(_message, _list(value.get("messages"))) if m]
            statuses += [s for s in map(_status, _list(value.get("statuses"))) if s]
    # Within one call, oldest first (Meta does not promise the order).
    messages.sort(key=lambda m: m.timestamp)
    return messages, statuses


def _list(value: object) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _text(value: object, most: int = 65_536) -> str:
    return value[:most] if isinstance(value, str) else ""


def _message(raw: dict[str, Any]) -> Incoming | None:
    key, wa_id = _text(raw.get("id"), 512), _text(raw.get("from"), 32)
    if not key or not wa_id.isdigit():
        return None
    try:
        timestamp = int(raw.get("timestamp", 0))
    except (TypeError, ValueError):
        timestamp = 0
    read = _reading(raw)
    if read is None:
        return None
    kind, text, data, other = read
    return Incoming(key, wa_id, kind, text, data, other, timestamp)


def _reading(raw: dict[str, Any]) -> tuple[str, str, str, str] | None:
    """(kind, text, data, other) of a message, or None for one that needs no answer."""
    kind = raw.get("type")
    part = raw.get(kind) if isinstance(kind, str) else None
    part = part if isinstance(part, dict) else {}
    if kind == "text":
        return "text", _text(part.get("body")), "", ""
    if kind == "interactive":
        reply = part.get("button_reply") or part.get("list_reply")
        if isinstance(reply, dict) and _text(reply.get("id")):
            return "press", _text(reply.get("title"), 200), _text(reply.get("id"), 512), ""
    if kind == "button" and _text(part.get("payload")):  # a template's quick-reply button
        return "press", _text(part.get("text"), 200), _text(part.get("payload"), 512), ""
    if kind == "audio":
        return "other", "", "", "voice" if part.get("voice") is True else "audio"
    if kind == "reaction":
        return None  # an emoji on one of our messages: nothing to answer
    return "other", "", "", _text(kind, 32) or "unknown"


def _status(raw: dict[str, Any]) -> Status | None:
    wamid, status = _text(raw.get("id"), 512), _text(raw.get("status"), 32)
    if not wamid or not status:
        return None
    errors = _list(raw.get("errors"))
    code = errors[0].get("code") if errors else None
    return Status(wamid, status, _text(raw.get("recipient_id"), 32),
                  code if isinstance(code, int) else None)  # fmt: skip
