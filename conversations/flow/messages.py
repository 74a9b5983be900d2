"""What the bot says to a resident, in any channel: text, buttons, a file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from conversations.flow import callbacks
from conversations.flow.outcome import Reply

MAX_MESSAGE = 4096


@dataclass(frozen=True)
class ButtonSpec:
    label: str
    data: str


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime_type: str = "application/json"


@dataclass(frozen=True)
class Message:
    text: str
    buttons: tuple[tuple[ButtonSpec, ...], ...] = ()
    updates_prompt: bool = False
    attachment: Attachment | None = None

    def to_dict(self) -> dict[str, Any]:
        # By hand: dataclasses.asdict deep-copies every field, and this runs per reply.
        attachment = self.attachment
        return {
            "text": self.text,
            "buttons": [[{"label": b.label, "data": b.data} for b in row] for row in self.buttons],
            "updates_prompt": self.updates_prompt,
            "attachment": None
            if attachment is None
            else {
                "filename": attachment.filename,
                "content": attachment.content.decode("utf-8"),
                "mime_type": attachment.mime_type,
            },
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Message:
        attachment = data.get("attachment")
        return cls(
            text=data["text"],
            buttons=tuple(tuple(ButtonSpec(**b) for b in row) for row in data["buttons"]),
            updates_prompt=data["updates_prompt"],
            attachment=Attachment(
                attachment["filename"],
                attachment["content"].encode("utf-8"),
                attachment["mime_type"],
            )
            if attachment
            else None,
        )


def to_message(reply: Reply) -> Message:
    rows = tuple(
        tuple(
            ButtonSpec(b.label, callbacks.answer_data(b.step_id, b.iteration, b.option_id))
            for b in row
        )
        for row in reply.buttons
    )
    return Message(fit(reply.text), rows, reply.updates_prompt)


def fit(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"
