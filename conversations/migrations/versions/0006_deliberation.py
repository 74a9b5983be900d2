"""deliberation: a prioritise round's themes, and residents' pair and statement votes

Revision ID: 0006_deliberation
Revises: 0005_digests, 0005_pending
Create Date: 2026-11-26 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0006_deliberation"
down_revision: tuple[str, ...] | None = ("0005_digests", "0005_pending")
branch_labels: str | None = None
depends_on: str | None = None


def _vote_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), sa.ForeignKey("round.id"), nullable=False),
        sa.Column("resident_id", sa.Integer(), sa.ForeignKey("resident.id"), nullable=False),
        sa.Column(
            "conversation_id", sa.Integer(), sa.ForeignKey("conversation.id"), nullable=False
        ),
        sa.Column("step_id", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "roundtheme",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), sa.ForeignKey("round.id"), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=False),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("quote", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("round_id", "theme_id"),
    )
    op.create_index("ix_roundtheme_round_id", "roundtheme", ["round_id"])
    op.create_table(
        "pairvote",
        *_vote_columns(),
        sa.Column("low_theme_id", sa.Integer(), nullable=False),
        sa.Column("high_theme_id", sa.Integer(), nullable=False),
        sa.Column("left_theme_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("voted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("round_id", "resident_id", "low_theme_id", "high_theme_id"),
    )
    op.create_index("ix_pairvote_round_id", "pairvote", ["round_id"])
    op.create_index("ix_pairvote_resident_id", "pairvote", ["resident_id"])
    op.create_table(
        "statementvote",
        *_vote_columns(),
        sa.Column("theme_id", sa.Integer(), nullable=False),
        sa.Column("stance", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("voted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("round_id", "resident_id", "theme_id"),
    )
    op.create_index("ix_statementvote_round_id", "statementvote", ["round_id"])
    op.create_index("ix_statementvote_resident_id", "statementvote", ["resident_id"])


def downgrade() -> None:
    for table in ("statementvote", "pairvote"):
        op.drop_index(f"ix_{table}_resident_id", table_name=table)
        op.drop_index(f"ix_{table}_round_id", table_name=table)
        op.drop_table(table)
    op.drop_index("ix_roundtheme_round_id", table_name="roundtheme")
    op.drop_table("roundtheme")
