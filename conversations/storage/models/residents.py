"""Residents, how each channel knows them, their conversations and answers.

Residents are known everywhere by a pseudonym; the only table that holds a
channel's own user id (a Telegram id, a web cookie's hash) is ChannelIdentity.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from conversations.storage.models.consultations import utcnow


class Resident(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    pseudonym: str = Field(max_length=32, unique=True, index=True)
    language: str = Field(default="en", max_length=8)
    created_at: datetime = Field(default_factory=utcnow)
    # The conversation that free text and button presses go to.
    current_conversation_id: int | None = None
    invitations: bool = True  # False after /stop
    unreachable: bool = False  # the channel told us the resident blocked the bot
    # Answers gathered elsewhere and imported: the batch they came in (removable with it).
    import_batch_id: int | None = Field(default=None, foreign_key="importbatch.id", index=True)


class ChannelIdentity(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    resident_id: int = Field(foreign_key="resident.id", index=True)
    channel: str = Field(max_length=20)
    external_id: str = Field(max_length=128)
    chat_id: str = Field(max_length=128)
    created_at: datetime = Field(default_factory=utcnow)


class Conversation(SQLModel, table=True):
    """One resident's conversation in one round, with the engine's state."""

    __table_args__ = (UniqueConstraint("resident_id", "round_id"),)

    id: int | None = Field(default=None, primary_key=True)
    resident_id: int = Field(foreign_key="resident.id", index=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    state_json: str = Field(sa_column=Column(Text, nullable=False))
    source: str | None = Field(default=None, max_length=40)
    started_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    completed_at: datetime | None = None
    reminded_at: datetime | None = None  # the one gentle reminder, if it was sent
    import_batch_id: int | None = None  # imported, not chatted (ImportBatch)


class Answer(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("conversation_id", "step_id", "iteration"),)

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="conversation.id", index=True)
    resident_id: int = Field(foreign_key="resident.id", index=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    step_id: str = Field(max_length=24)
    iteration: int = 1
    kind: str = Field(max_length=10)  # text | choice
    value: str = Field(sa_column=Column(Text, nullable=False))
    display: str = Field(sa_column=Column(Text, nullable=False))
    profile: str | None = Field(default=None, max_length=24)
    skipped: bool = False
    confirmed: bool = True
    # Never quoted (a safeguarding disclosure, or abuse): stored, counted, not shown.
    withheld: str | None = Field(default=None, max_length=20)
    message_ref: str | None = Field(default=None, max_length=64)
    answered_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    import_batch_id: int | None = None  # imported, not chatted (ImportBatch)


class ResidentContact(SQLModel, table=True):
    """A mobile number or email address a resident chose to leave, only so that a
    channel that cannot reach them (the web chat) can tell them about the next round
    and about decisions on the needs they raised. Never in analysis, digests or
    exports; erased by /forget; the resident can remove it at any time."""

    __table_args__ = (UniqueConstraint("resident_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    resident_id: int = Field(foreign_key="resident.id", index=True)
    kind: str = Field(max_length=8)  # sms | email
    address: str = Field(max_length=320)  # E.164 for a mobile, as given for an email
    created_at: datetime = Field(default_factory=utcnow)
