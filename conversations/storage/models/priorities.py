"""Prioritise rounds: the themes shown, residents' votes, and the decisions
told back to the residents who raised a theme.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from conversations.storage.models.consultations import utcnow


class RoundTheme(SQLModel, table=True):
    """A theme as a prioritise round shows it, fixed when the round opens."""

    __table_args__ = (UniqueConstraint("round_id", "theme_id"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    theme_id: int  # the stable theme id of the analysis run it came from
    label: str = Field(max_length=200)
    quote: str = Field(default="", sa_column=Column(Text, nullable=False))  # scrubbed
    # The answer the quote came from: when its resident is forgotten, the quote goes.
    quote_answer_id: int | None = None
    position: int = 0


class PairVote(SQLModel, table=True):
    """A resident's answer to "which matters more?" on a pair of themes: once per pair a round."""

    __table_args__ = (UniqueConstraint("round_id", "resident_id", "low_theme_id", "high_theme_id"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    resident_id: int = Field(foreign_key="resident.id", index=True)
    conversation_id: int = Field(foreign_key="conversation.id")
    step_id: str = Field(max_length=24)
    position: int  # the resident's nth pair
    low_theme_id: int
    high_theme_id: int
    left_theme_id: int  # the one shown first
    outcome: str = Field(max_length=10)  # low | high | same | unsure
    voted_at: datetime = Field(default_factory=utcnow)


class StatementVote(SQLModel, table=True):
    """A resident's agree / disagree / pass on a theme's statement: once per theme a round."""

    __table_args__ = (UniqueConstraint("round_id", "resident_id", "theme_id"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    resident_id: int = Field(foreign_key="resident.id", index=True)
    conversation_id: int = Field(foreign_key="conversation.id")
    step_id: str = Field(max_length=24)
    position: int
    theme_id: int
    stance: str = Field(max_length=10)  # agree | disagree | pass
    voted_at: datetime = Field(default_factory=utcnow)


# Where a decision stands, as residents read it on the public results page: agreed
# when recorded, then under way, done, or not going ahead (bot/actions/decision_status.py).
DECISION_STATUSES = ("agreed", "under_way", "done", "not_going_ahead")
MAX_STATUS_NOTE = 500


class Decision(SQLModel, table=True):
    """What was decided on a theme ("you said, we did"), told to the residents who raised it,
    and where it stands now."""

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id", index=True)
    theme_id: int
    theme_label: str = Field(max_length=200)
    run_id: int  # the analysis run whose residents were told
    text: str = Field(sa_column=Column(Text, nullable=False))
    actor: str = Field(max_length=80)
    decided_at: datetime = Field(default_factory=utcnow, index=True)
    broadcast_id: int | None = Field(default=None, foreign_key="broadcast.id")
    residents_told: int = 0
    status: str = Field(default="agreed", max_length=16)  # one of DECISION_STATUSES
    status_changed_at: datetime | None = None  # None: as it was recorded (agreed)
    status_note: str | None = Field(default=None, max_length=MAX_STATUS_NOTE)  # public
