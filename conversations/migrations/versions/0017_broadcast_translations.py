"""broadcasts: the message in other languages, so that each resident is sent theirs

Revision ID: 0017_broadcast_translations
Revises: 0016_decision_status
Create Date: 2026-12-06 08:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0017_broadcast_translations"
down_revision: str | None = "0016_decision_status"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("broadcast", schema=None) as batch_op:
        batch_op.add_column(sa.Column("translations", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("broadcast", schema=None) as batch_op:
        batch_op.drop_column("translations")
