"""Answers gathered elsewhere (paper forms, a partner's survey, another platform's
export), imported as a batch; and a file uploaded on the dashboard, kept until it is
imported or dropped."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary, Text
from sqlmodel import Field, SQLModel

from conversations.storage.models.consultations import utcnow


class ImportBatch(SQLModel, table=True):
    """One file's answers, imported together under a named source and removable together.

    The residents, conversations, answers and safeguarding flags it made name it
    (`import_batch_id`); removed, the batch stays (with `removed_at`) as the record."""

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id", index=True)
    round_id: int = Field(foreign_key="round.id")
    source: str = Field(max_length=40)
    file_name: str = Field(max_length=200)
    rows: int = 0  # residents imported (one a row)
    answers: int = 0
    imported_by: str = Field(max_length=80)
    created_at: datetime = Field(default_factory=utcnow)
    removed_at: datetime | None = None
    removed_by: str | None = Field(default=None, max_length=80)


class ImportUpload(SQLModel, table=True):
    """A file a member of staff uploaded to import, between its preview and the import.

    Any worker may serve the next step, so it is kept here, not in memory; it goes
    when imported or dropped, and after a day whatever happened."""

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id", index=True)
    file_name: str = Field(max_length=200)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    source: str = Field(default="", max_length=40)
    # The column mapping as chosen on the preview: JSON {"heading": "step id" or ""}.
    mapping_json: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    uploaded_by: str = Field(max_length=80)
    created_at: datetime = Field(default_factory=utcnow, index=True)
