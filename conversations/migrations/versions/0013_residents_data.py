"""residents' data: server-issued web devices, newcomers per address, erasable quotes

Revision ID: 0013_residents_data
Revises: 0012_safeguarding_alerts
Create Date: 2026-12-06 00:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0013_residents_data"
down_revision: str | None = "0012_safeguarding_alerts"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "serversecret",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("value", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "webnewcomer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("arrived_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("webnewcomer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_webnewcomer_address"), ["address"], unique=False)
        batch_op.create_index(batch_op.f("ix_webnewcomer_arrived_at"), ["arrived_at"], unique=False)
    with op.batch_alter_table("roundtheme", schema=None) as batch_op:
        batch_op.add_column(sa.Column("quote_answer_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("digest", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("stale", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("digest", schema=None) as batch_op:
        batch_op.drop_column("stale")
    with op.batch_alter_table("roundtheme", schema=None) as batch_op:
        batch_op.drop_column("quote_answer_id")
    with op.batch_alter_table("webnewcomer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webnewcomer_arrived_at"))
        batch_op.drop_index(batch_op.f("ix_webnewcomer_address"))
    op.drop_table("webnewcomer")
    op.drop_table("serversecret")
