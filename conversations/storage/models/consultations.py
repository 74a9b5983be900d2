"""A consultation, its rounds, and residents' consent to take part."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class Consultation(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=40, unique=True, index=True)
    title: str = Field(max_length=500)
    script_toml: str = Field(sa_column=Column(Text, nullable=False))
    script_hash: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Round(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("consultation_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id", index=True)
    number: int
    kind: str = Field(default="needs", max_length=20)
    status: str = Field(default="draft", max_length=10)  # draft | open | closed
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    opened_at: datetime | None = None
    closed_at: datetime | None = None


class ConsentRecord(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    resident_id: int = Field(foreign_key="resident.id", index=True)
    consultation_id: int = Field(foreign_key="consultation.id", index=True)
    version: str = Field(max_length=40)
    given: bool
    channel: str = Field(max_length=20)
    recorded_at: datetime = Field(default_factory=utcnow)
