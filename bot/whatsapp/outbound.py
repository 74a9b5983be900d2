"""The engine's messages as Cloud API messages, within WhatsApp's limits.

Up to three buttons with short labels become reply buttons; more, or longer labels,
a list (up to ten rows a list; more rows, more lists). A button's data travels as
the reply's or row's id, so a press comes back as the same data the engine gave,
on any worker, with nothing remembered in between. Where a label does not fit a
title, the options are also numbered in full in the text, and the rows start with
the same numbers. Pure but for the catalogues, read once from the package.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from conversations.flow.messages import Attachment, ButtonSpec, Message
from conversations.locale import NP_
from conversations.locale.catalogues import translate

CONTEXT = "whatsapp"  # the catalogues' context for its words
# WhatsApp's limits (Cloud API reference, interactive and text messages).
TEXT_MOST = 4096
BUTTON_BODY_MOST = 1024
LIST_BODY_MOST = 4096
REPLY_BUTTONS_MOST = 3
REPLY_TITLE_MOST = 20
REPLY_ID_MOST = 256
LIST_ROWS_MOST = 10
ROW_TITLE_MOST = 24
ROW_DESCRIPTION_MOST = 72
ROW_ID_MOST = 200
LIST_BUTTON_MOST = 20
CAPTION_MOST = 1024
# Documents WhatsApp takes as they are; other text (a resident's data, JSON) goes as
# plain text, under its own file name.
DOCUMENT_TYPES = frozenset({"text/plain", "application/pdf"})

# The few words of WhatsApp's own controls (translated by the catalogues).
WORDS = {
    "choose": NP_("whatsapp", "Choose"),
    "more": NP_("whatsapp", "More choices"),
    "pick": NP_("whatsapp", "Choose one:"),
}


@dataclass(frozen=True)
class Document:
    """A file to upload, then send with its caption."""

    attachment: Attachment
    caption: str

    @property
    def mime_type(self) -> str:
        given = self.attachment.mime_type
        return given if given in DOCUMENT_TYPES else "text/plain"


Outgoing = dict[str, Any] | Document


def render(message: Message, language: str | None) -> list[Outgoing]:
    """One engine message as the Cloud API messages that show it (without "to")."""
    words = {key: translate(language or "en", said, CONTEXT) for key, said in WORDS.items()}
    buttons = [b for row in message.buttons for b in row if len(b.data) <= ROW_ID_MOST]
    if message.attachment is not None:
        if len(message.text) <= CAPTION_MOST:
            return [Document(message.attachment, message.text)]
        return [*_text(message.text), Document(message.attachment, "")]
    if not buttons:
        return _text(message.text)
    text = message.text or words["pick"]
    if (
        len(buttons) <= REPLY_BUTTONS_MOST
        and all(len(b.label) <= REPLY_TITLE_MOST for b in buttons)
        and len(text) <= BUTTON_BODY_MOST
    ):
        return [_reply_buttons(text, buttons)]
    return _lists(text, buttons, words)


def _text(text: str) -> list[Outgoing]:
    chunks = [text[i : i + TEXT_MOST] for i in range(0, len(text), TEXT_MOST)] or [""]
    return [
        {"type": "text", "text": {"body": chunk, "preview_url": False}} for chunk in chunks if chunk
    ]


def _reply_buttons(text: str, buttons: list[ButtonSpec]) -> dict[str, Any]:
    replies = [{"type": "reply", "reply": {"id": b.data, "title": b.label}} for b in buttons]
    return {
        "type": "interactive",
        "interactive": {"type": "button", "body": {"text": text}, "action": {"buttons": replies}},
    }


def _lists(text: str, buttons: list[ButtonSpec], words: dict[str, str]) -> list[Outgoing]:
    numbered = any(len(b.label) > ROW_TITLE_MOST for b in buttons)
    if numbered:
        text += "\n\n" + "\n".join(f"{i}. {b.label}" for i, b in enumerate(buttons, 1))
    sent: list[Outgoing] = []
    if len(text) > LIST_BODY_MOST:  # the text alone, then the choices under a short prompt
        sent += _text(text)
        text = words["pick"]
    pages = [buttons[i : i + LIST_ROWS_MOST] for i in range(0, len(buttons), LIST_ROWS_MOST)]
    for page_number, page in enumerate(pages):
        first = page_number * LIST_ROWS_MOST + 1
        rows = [_row(b, first + i, numbered) for i, b in enumerate(page)]
        body = text if page_number == 0 else f"{words['more']} ({page_number + 1}/{len(pages)})"
        sent.append(
            {
                "type": "interactive",
                "interactive": {
                    "type": "list",
                    "body": {"text": body},
                    "action": {
                        "button": words["choose"][:LIST_BUTTON_MOST],
                        "sections": [{"rows": rows}],
                    },
                },
            }
        )
    return sent


def _row(button: ButtonSpec, number: int, numbered: bool) -> dict[str, str]:
    label = f"{number}. {button.label}" if numbered else button.label
    row = {"id": button.data, "title": _cut(label, ROW_TITLE_MOST)}
    if len(label) > ROW_TITLE_MOST:
        row["description"] = _cut(label[ROW_TITLE_MOST - 1 :], ROW_DESCRIPTION_MOST)
    return row


def _cut(text: str, most: int) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"
