"""Theme analysis runs, their themes and answers' themes, answers' vectors,
officers' edits, and the codebook.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from conversations.storage.models.consultations import utcnow


class AnalysisRun(SQLModel, table=True):
    """One run of the theme analysis over a consultation's answers."""

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id", index=True)
    questions: str = Field(max_length=200)  # the step ids analysed, comma-separated
    created_at: datetime = Field(default_factory=utcnow, index=True)
    created_by: str = Field(max_length=80)
    answers: int = 0
    unthemed: int = 0
    seconds: float = 0.0


class RunTheme(SQLModel, table=True):
    """A theme as one run found it, under its stable id (kept across runs)."""

    __table_args__ = (UniqueConstraint("run_id", "theme_id"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="analysisrun.id", index=True)
    theme_id: int  # stable within a consultation across runs
    label: str = Field(max_length=200)
    keywords_json: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    domains_json: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    # Quotes are answer ids, shown scrubbed; an erased answer's quote disappears.
    quote_answers_json: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    centroid_json: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    size: int = 0
    previous_size: int | None = None
    status: str = Field(max_length=10)  # new | growing | shrinking | steady | gone | merged


class AnswerTheme(SQLModel, table=True):
    """Which theme(s) an answer was given in a run: rank 0 primary, 1-2 secondary."""

    run_id: int = Field(foreign_key="analysisrun.id", primary_key=True)
    answer_id: int = Field(foreign_key="answer.id", primary_key=True, index=True)
    rank: int = Field(primary_key=True)
    theme_id: int = Field(index=True)


class AnswerEmbedding(SQLModel, table=True):
    """An answer's sentence embedding, computed once, off the resident's path.

    Only with the optional semantic extra. The vector is float32, little-endian;
    `answer_version` is the answer's `updated_at` when it was embedded, so a
    corrected answer is embedded again. Erased with the answer."""

    answer_id: int = Field(foreign_key="answer.id", primary_key=True)
    model: str = Field(primary_key=True, max_length=64)
    answer_version: datetime
    dimensions: int
    vector: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    embedded_at: datetime = Field(default_factory=utcnow)


class ThemeEdit(SQLModel, table=True):
    """An officer's rename, merge or split of a theme, replayed on every later run."""

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id", index=True)
    action: str = Field(max_length=10)  # rename | merge | split
    theme_id: int
    other_theme_id: int | None = None  # merge: the theme it went into
    label: str | None = Field(default=None, max_length=200)
    # split: the theme's centroid when it was split (its parts are ThemeSplitPart rows)
    centroid_json: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    actor: str = Field(max_length=80)
    at: datetime = Field(default_factory=utcnow)


class ThemeSplitPart(SQLModel, table=True):
    """One of the two themes an officer's split made, as the split found it.

    Every later run divides the theme that still looks like the split one between
    the parts' centroids (analysis.themes.tracking.apply_splits)."""

    edit_id: int = Field(foreign_key="themeedit.id", primary_key=True)
    position: int = Field(primary_key=True)  # 0: the larger part when split
    theme_id: int  # a new stable id
    label: str = Field(max_length=200)
    centroid_json: str = Field(sa_column=Column(Text, nullable=False))
    size: int = 0


class CodebookTheme(SQLModel, table=True):
    """A theme officers reviewed: in the consultation's codebook, coded against on every run.

    No run renames, renumbers, dissolves or merges it; only officers do (a merge or
    a split retires it, naming where its answers went)."""

    __table_args__ = (UniqueConstraint("consultation_id", "theme_id"),)

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id", index=True)
    theme_id: int  # the theme's stable id (never reused)
    name: str = Field(max_length=200)
    state: str = Field(default="reviewed", max_length=10)  # reviewed | merged | split
    merged_into: int | None = None
    reviewed_by: str = Field(max_length=80)
    reviewed_at: datetime = Field(default_factory=utcnow)


class CodebookExample(SQLModel, table=True):
    """An answer a reviewed theme held when an officer reviewed it: what the coder learns from."""

    __table_args__ = (UniqueConstraint("consultation_id", "theme_id", "answer_id"),)

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id", index=True)
    theme_id: int
    answer_id: int = Field(foreign_key="answer.id", index=True)


class AnswerCode(SQLModel, table=True):
    """An officer's coding of one answer, which wins over the coder on every run.

    Rank 0 is the primary theme, 1-2 further themes; a rank-0 row with no theme
    says the answer is not a need."""

    answer_id: int = Field(foreign_key="answer.id", primary_key=True)
    rank: int = Field(default=0, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id", index=True)
    theme_id: int | None = None
    actor: str = Field(max_length=80)
    coded_at: datetime = Field(default_factory=utcnow)
