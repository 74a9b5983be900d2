"""The web chat's transcript: what a device's page shows, kept in the database.

Writing is idempotent per update: the same form submitted twice, or replies
handed back again after a crash before delivery, are recorded once. It is erased
with the resident (conversations.storage.erasure).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from conversations.flow.messages import ButtonSpec, Message
from conversations.storage.models import WebTranscriptEntry

KEPT = 300  # the most a page shows; older lines stay until erased


@dataclass(frozen=True)
class Line:
    """One line of the page: who said it, what, and the buttons offered with it."""

    id: int
    update_key: str
    sender: str
    text: str
    buttons: tuple[tuple[ButtonSpec, ...], ...]
    language: str


def record(*, session: Session, visitor: str, update_key: str, said: str | None,
           messages: Sequence[Message], language: str) -> None:  # fmt: skip
    """Add what the resident said and the replies, once per update key."""
    if not messages:
        # A repeat of an update whose replies are already shown (or on their way).
        return
    seen = session.exec(
        select(WebTranscriptEntry.id).where(
            WebTranscriptEntry.visitor == visitor, WebTranscriptEntry.update_key == update_key
        )
    ).first()
    if seen is not None:
        return
    rows: list[WebTranscriptEntry] = []
    if said is not None:
        rows.append(_row(visitor, update_key, 0, "resident", said, (), language))
    # A redrawn prompt alone edits the prompt in place; with a note beside it, it is
    # shown again below the note, so that its buttons stay the latest on the page.
    in_place = all(m.updates_prompt for m in messages)
    for position, message in enumerate(messages, start=1):
        if message.updates_prompt and in_place and _redraw(session, visitor, message):
            continue
        rows.append(_row(visitor, update_key, position, "bot", message.text, message.buttons,
                         language))  # fmt: skip
    if not rows:
        # Remember the key even when nothing is shown, so that a repeat stays silent.
        rows.append(_row(visitor, update_key, 0, "none", "", (), language))
    try:
        with session.begin_nested():
            session.add_all(rows)
    except IntegrityError:
        pass  # a concurrent submit of the same form recorded it first


def _redraw(session: Session, visitor: str, message: Message) -> bool:
    """A multiple choice's ticks changed: update the prompt in place, as Telegram edits it."""
    prompt = session.exec(
        select(WebTranscriptEntry)
        .where(WebTranscriptEntry.visitor == visitor, WebTranscriptEntry.sender == "bot")
        .order_by(col(WebTranscriptEntry.id).desc())
    ).first()
    if prompt is None or prompt.buttons_json == "[]":
        return False
    prompt.text = message.text
    prompt.buttons_json = _buttons_json(message.buttons)
    session.add(prompt)
    return True


def lines(*, session: Session, visitor: str) -> list[Line]:
    """The device's transcript, oldest first (the most recent KEPT lines)."""
    rows = session.exec(
        select(WebTranscriptEntry)
        .where(WebTranscriptEntry.visitor == visitor, WebTranscriptEntry.sender != "none")
        .order_by(col(WebTranscriptEntry.id).desc())
        .limit(KEPT)
    ).all()
    return [
        Line(
            id=row.id or 0,
            update_key=row.update_key,
            sender=row.sender,
            text=row.text,
            buttons=tuple(
                tuple(ButtonSpec(b["label"], b["data"]) for b in line)
                for line in json.loads(row.buttons_json)
            ),
            language=row.language,
        )
        for row in reversed(rows)
    ]


def clear(*, session: Session, visitor: str) -> None:
    """Forget a device's transcript (a fresh start on this device, or erasure)."""
    session.exec(delete(WebTranscriptEntry).where(col(WebTranscriptEntry.visitor) == visitor))


def _row(visitor: str, update_key: str, position: int, sender: str, text: str,
         buttons: tuple[tuple[ButtonSpec, ...], ...], language: str) -> WebTranscriptEntry:  # fmt: skip
    return WebTranscriptEntry(
        visitor=visitor,
        update_key=update_key,
        position=position,
        sender=sender,
        text=text,
        buttons_json=_buttons_json(buttons),
        language=language,
    )


def _buttons_json(buttons: tuple[tuple[ButtonSpec, ...], ...]) -> str:
    return json.dumps([[{"label": b.label, "data": b.data} for b in row] for row in buttons],
                      ensure_ascii=False)  # fmt: skip
