"""theme splits: an officer's split of a theme into two, replayed on every run

Revision ID: 0007_theme_splits
Revises: 0006_deliberation
Create Date: 2026-11-27 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0007_theme_splits"
down_revision: str | None = "0006_deliberation"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("themeedit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("centroid_json", sa.Text(), nullable=True))
    op.create_table(
        "themesplitpart",
        sa.Column("edit_id", sa.Integer(), sa.ForeignKey("themeedit.id"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=False),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("centroid_json", sa.Text(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("edit_id", "position"),
    )


def downgrade() -> None:
    op.drop_table("themesplitpart")
    with op.batch_alter_table("themeedit", schema=None) as batch_op:
        batch_op.drop_column("centroid_json")
