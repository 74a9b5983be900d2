"""answer embeddings: each answer's sentence embedding, stored once (semantic extra)

Revision ID: 0008_answer_embeddings
Revises: 0007_theme_splits
Create Date: 2026-11-27 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0008_answer_embeddings"
down_revision: str | None = "0007_theme_splits"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "answerembedding",
        sa.Column("answer_id", sa.Integer(), sa.ForeignKey("answer.id"), nullable=False),
        sa.Column("model", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("answer_version", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("dimensions", sa.Integer(), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("embedded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("answer_id", "model"),
    )


def downgrade() -> None:
    op.drop_table("answerembedding")
