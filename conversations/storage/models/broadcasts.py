"""Broadcast invitations and each recipient's state."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from conversations.storage.models.consultations import utcnow


class Broadcast(SQLModel, table=True):
    """An invitation sent to a consultation's opted-in residents (or one group of them)."""

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id", index=True)
    created_by: str = Field(max_length=80)
    message: str = Field(sa_column=Column(Text, nullable=False))
    # The message in other languages, as JSON {"cy": "..."}: each resident is sent theirs
    # (`message` where there is none). A decision's frame is written in each.
    translations: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    group_dimension: str | None = Field(default=None, max_length=24)
    group_value: str | None = Field(default=None, max_length=40)
    window_minutes: int = 0  # spread sending over this long (0: as fast as allowed)
    # draft -> queued -> sending -> done | cancelled
    status: str = Field(default="draft", max_length=10, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    # Where the facilitator watches progress (a Telegram message the bot edits).
    progress_chat_id: str | None = Field(default=None, max_length=64)
    progress_message_id: int | None = None


def in_language(message: str, translations: str | None, language: str) -> str:
    """A broadcast's message in `language`, or as written where it has none."""
    if not translations:
        return message
    try:
        found = json.loads(translations).get(language)
    except (ValueError, AttributeError):
        return message
    return found if isinstance(found, str) and found else message


class BroadcastRecipient(SQLModel, table=True):
    """One resident's invitation, recorded before and after sending so none goes twice."""

    __table_args__ = (
        UniqueConstraint("broadcast_id", "resident_id"),
        # The sender's claim (a broadcast's next pending rows by id) and its progress
        # counts read this alone, however many rows the broadcast has.
        Index("ix_broadcastrecipient_claim", "broadcast_id", "state", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    broadcast_id: int = Field(foreign_key="broadcast.id", index=True)
    resident_id: int = Field(foreign_key="resident.id", index=True)
    # pending -> sending -> sent | failed | blocked | stopped | skipped
    state: str = Field(default="pending", max_length=10, index=True)
    attempts: int = 0
    updated_at: datetime = Field(default_factory=utcnow)
    # How it goes: telegram, whatsapp, or through GOV.UK Notify (sms | email) to a
    # web-chat resident who left contact details; each channel's sender claims its own rows.
    channel: str = Field(default="telegram", max_length=8)
    # The provider's id for the message, once it took it: Notify's notification id, or
    # WhatsApp's wamid (which a status webhook names the message by).
    provider_ref: str | None = Field(default=None, max_length=128, index=True)
    receipt: str | None = Field(default=None, max_length=20)  # delivery status (or why not sent)
    receipt_at: datetime | None = None
