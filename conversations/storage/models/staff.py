"""Staff: the audit log of their actions, sign-in links and dashboard sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from conversations.storage.models.consultations import utcnow


class AuditEntry(SQLModel, table=True):
    """Who did what, when, on what: every staff action."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(max_length=80)
    action: str = Field(max_length=60)
    target: str = Field(max_length=200)
    detail: str = Field(default="", sa_column=Column(Text, nullable=False))


class StaffLogin(SQLModel, table=True):
    """A one-time sign-in link for the dashboard (only its hash is kept)."""

    token_hash: str = Field(primary_key=True, max_length=64)
    staff_id: int
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None


class StaffSession(SQLModel, table=True):
    """A signed-in dashboard session (only its hash is kept), with its CSRF token."""

    token_hash: str = Field(primary_key=True, max_length=64)
    staff_id: int = Field(index=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
