"""What a resident can send the engine: an opening, text, an edit, a button press, and so on."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Begin:
    """The resident (re)opened the conversation, e.g. with /start."""


@dataclass(frozen=True)
class TextInput:
    text: str
    ref: str | None = None  # the channel's message id, so that an edit can find the answer


@dataclass(frozen=True)
class EditedText:
    text: str
    ref: str


@dataclass(frozen=True)
class ChoiceInput:
    """A button pressed: which question (and pass through its loop) and which option."""

    step_id: str
    iteration: int
    option_id: str


@dataclass(frozen=True)
class Unsupported:
    """A sticker, photo, voice note, location or anything else we cannot read."""

    kind: str


@dataclass(frozen=True)
class SetLanguage:
    language: str


Input = Begin | TextInput | EditedText | ChoiceInput | Unsupported | SetLanguage
