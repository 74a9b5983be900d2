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
    # Who it is for: a Telegram user id, or (staff not on Telegram) an email address.
    staff_id: int | None = None
    email: str | None = Field(default=None, max_length=254, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None

    @property
    def holder(self) -> int | str:
        """Whose link it is: a Telegram user id or an email address."""
        return self.staff_id if self.staff_id is not None else self.email or ""


class StaffSession(SQLModel, table=True):
    """A signed-in dashboard session (only its hash is kept), with its CSRF token."""

    token_hash: str = Field(primary_key=True, max_length=64)
    staff_id: int | None = Field(default=None, index=True)  # a Telegram user id, or
    email: str | None = Field(default=None, max_length=254)  # an email address
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime

    @property
    def holder(self) -> int | str:
        """Who is signed in: a Telegram user id or an email address."""
        return self.staff_id if self.staff_id is not None else self.email or ""
