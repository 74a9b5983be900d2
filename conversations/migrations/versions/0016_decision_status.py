"""decisions: where each stands (agreed, under way, done, not going ahead), since when,
and a short public note

Revision ID: 0016_decision_status
Revises: 0015_broadcast_provider_ref
Create Date: 2026-12-08 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0016_decision_status"
down_revision: str | None = "0015_broadcast_provider_ref"
branch_labels: str | None = None
depends_on: str | None = None

TEXT = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    # Decisions recorded before this revision stand as they were recorded: agreed.
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", TEXT(length=16), nullable=False, server_default="agreed")
        )
        batch_op.add_column(
            sa.Column("status_changed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column("status_note", TEXT(length=500), nullable=True))


def downgrade() -> None:
    # A decision's progress is lost; the decision itself stays as recorded.
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.drop_column("status_note")
        batch_op.drop_column("status_changed_at")
        batch_op.drop_column("status")
