"""Officers' digests and each officer's copy."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from conversations.storage.models.consultations import utcnow


class Digest(SQLModel, table=True):
    """A consultation's digest for officers, for one period, built once.

    Its documents quote residents, so they are kept only until every officer has
    had them (a resident who asks to be forgotten later is not kept here).
    """

    __table_args__ = (UniqueConstraint("consultation_id", "kind", "period_end"),)

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id", index=True)
    kind: str = Field(default="weekly", max_length=10)  # weekly | on-demand
    period_start: datetime
    period_end: datetime
    run_id: int | None = None  # the analysis run its themes come from
    built_at: datetime = Field(default_factory=utcnow)
    summary: str = Field(default="", sa_column=Column(Text, nullable=False))
    html: str = Field(default="", sa_column=Column(Text, nullable=False))
    csv: str = Field(default="", sa_column=Column(Text, nullable=False))
    # Figures only (counts, themes, coverage gaps), never residents' words: the body
    # of the digest's email, so it is kept when the documents are dropped.
    figures: str = Field(default="", sa_column=Column(Text, nullable=False))
    # It carries the whole consultation's evidence pack; kept after the documents go,
    # so the archive lists the pack beside it.
    with_pack: bool = False
    # The pack's PDF as sent (it quotes residents: dropped with the documents).
    pack: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    cleared_at: datetime | None = None  # documents dropped once delivered
    # A resident it may quote was forgotten before delivery: rendered again first.
    stale: bool = False


class DigestDelivery(SQLModel, table=True):
    """One officer's copy of a digest, recorded before and after each part is sent."""

    __table_args__ = (UniqueConstraint("digest_id", "officer_id"),)

    id: int | None = Field(default=None, primary_key=True)
    digest_id: int = Field(foreign_key="digest.id", index=True)
    officer_id: int = Field(sa_column=Column(BigInteger, nullable=False))  # a Telegram user id
    # pending -> sending -> sent | blocked | failed
    state: str = Field(default="pending", max_length=10, index=True)
    # The next part to send (0 summary, 1 report, 2 table, then the evidence pack when
    # the digest has one; a quiet week's is its summary, then the pack): a part is
    # counted before it is sent, so a crash mid-send never sends it twice.
    next_part: int = 0
    updated_at: datetime = Field(default_factory=utcnow)


class DigestEmail(SQLModel, table=True):
    """One officer's copy of a digest by email (GOV.UK Notify), claimed before the call.

    pending -> sending -> sent | failed. A row left "sending" (a crash, or Notify's
    answer lost) is settled by asking Notify for the message by its reference before
    anything is sent again (bot/notify/digest_email.py)."""

    __table_args__ = (UniqueConstraint("digest_id", "address"),)

    id: int | None = Field(default=None, primary_key=True)
    digest_id: int = Field(foreign_key="digest.id", index=True)
    address: str = Field(max_length=254)
    state: str = Field(default="pending", max_length=10, index=True)
    attempts: int = 0  # calls made to Notify for it; given up on after a few
    notify_id: str | None = Field(default=None, max_length=36)
    updated_at: datetime = Field(default_factory=utcnow)
