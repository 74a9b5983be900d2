"""Safeguarding flags, the alerts about them, and the leads' notes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from conversations.storage.models.consultations import utcnow


class SafeguardingFlag(SQLModel, table=True):
    """A resident's words that suggest a risk of harm, open until a lead acknowledges it.

    status: open (no lead has acknowledged it) | acknowledged | closed (an outcome
    is recorded). After /forget an unclosed flag stays, without its resident, so that
    the disclosure still reaches a person (docs/safeguarding.md).
    """

    id: int | None = Field(default=None, primary_key=True)
    resident_id: int | None = Field(default=None, foreign_key="resident.id", index=True)
    consultation_id: int | None = Field(default=None, foreign_key="consultation.id", index=True)
    categories: str = Field(max_length=200)
    excerpt: str = Field(sa_column=Column(Text, nullable=False))
    channel: str | None = Field(default=None, max_length=20)
    help_shown: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    raised_at: datetime = Field(default_factory=utcnow)
    notified_at: datetime | None = Field(default=None, index=True)  # first alert delivered
    status: str = Field(default="open", max_length=12, index=True)
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = Field(default=None, max_length=80)
    escalated_at: datetime | None = None  # unacknowledged in time: every lead again
    fallback_at: datetime | None = None  # still unacknowledged: the configured fallback
    outcome: str | None = Field(default=None, max_length=20)
    closed_at: datetime | None = None
    closed_by: str | None = Field(default=None, max_length=80)
    resident_forgotten: bool = False
    # Raised on an imported answer (ImportBatch): the leads see which source and file.
    import_batch_id: int | None = None


class SafeguardingDelivery(SQLModel, table=True):
    """One alert about a flag to one recipient ("telegram:<id>" or "email:<address>").

    Retried with backoff until sent; a recipient added later gets a row then."""

    __table_args__ = (UniqueConstraint("flag_id", "recipient", "purpose"),)
    id: int | None = Field(default=None, primary_key=True)
    flag_id: int = Field(foreign_key="safeguardingflag.id", index=True)
    recipient: str = Field(max_length=200)
    purpose: str = Field(max_length=12)  # alert | escalation | fallback
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, index=True)
    sent_at: datetime | None = None
    last_error: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow)


class SafeguardingNote(SQLModel, table=True):
    """A lead's note on a flag (what was done, who was called)."""

    id: int | None = Field(default=None, primary_key=True)
    flag_id: int = Field(foreign_key="safeguardingflag.id", index=True)
    at: datetime = Field(default_factory=utcnow)
    author: str = Field(max_length=80)
    text: str = Field(sa_column=Column(Text, nullable=False))
