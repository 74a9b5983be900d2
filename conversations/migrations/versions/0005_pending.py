"""pending updates (fetched, not yet handled) and which service handled an update

Revision ID: 0005_pending
Revises: 0004_themes
Create Date: 2026-11-25 12:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0005_pending"
down_revision: str | None = "0004_themes"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "pendingupdate",
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("update_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("received_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("channel", "update_key"),
    )
    with op.batch_alter_table("pendingupdate", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pendingupdate_received_at"), ["received_at"], unique=False
        )
    with op.batch_alter_table("inboxentry", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("handled_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("inboxentry", schema=None) as batch_op:
        batch_op.drop_column("handled_by")
    with op.batch_alter_table("pendingupdate", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pendingupdate_received_at"))
    op.drop_table("pendingupdate")
