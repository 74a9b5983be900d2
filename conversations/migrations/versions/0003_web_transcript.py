"""web chat transcript

Revision ID: 0003_web
Revises: 0002
Create Date: 2026-11-26 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0003_web"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "webtranscriptentry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visitor", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("update_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sender", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("buttons_json", sa.Text(), nullable=False),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("visitor", "update_key", "position"),
    )
    with op.batch_alter_table("webtranscriptentry", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webtranscriptentry_visitor"), ["visitor"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("webtranscriptentry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webtranscriptentry_visitor"))
    op.drop_table("webtranscriptentry")
