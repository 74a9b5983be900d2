"""inbox entries flagged as abuse, so that repeated abuse pauses a resident's text

Revision ID: 0009_abuse_pause
Revises: 0008_answer_embeddings
Create Date: 2026-11-25 15:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0009_abuse_pause"
down_revision: str | None = "0008_answer_embeddings"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("inboxentry", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("flag", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("inboxentry", schema=None) as batch_op:
        batch_op.drop_column("flag")
