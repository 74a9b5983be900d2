"""safeguarding flags open until acknowledged; deliveries per recipient; leads' notes

Revision ID: 0012_safeguarding_alerts
Revises: 0011_codebook
Create Date: 2026-12-06 00:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0012_safeguarding_alerts"
down_revision: str | None = "0011_codebook"
branch_labels: str | None = None
depends_on: str | None = None

TEXT = sqlmodel.sql.sqltypes.AutoString
WHEN = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    # Flags raised before this revision were never acknowledged: they start open.
    with op.batch_alter_table("safeguardingflag", schema=None) as batch_op:
        batch_op.alter_column("resident_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("channel", TEXT(length=20), nullable=True))
        batch_op.add_column(sa.Column("help_shown", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(
            sa.Column("status", TEXT(length=12), nullable=False, server_default="open")
        )
        batch_op.add_column(sa.Column("acknowledged_at", WHEN(), nullable=True))
        batch_op.add_column(sa.Column("acknowledged_by", TEXT(length=80), nullable=True))
        batch_op.add_column(sa.Column("escalated_at", WHEN(), nullable=True))
        batch_op.add_column(sa.Column("fallback_at", WHEN(), nullable=True))
        batch_op.add_column(sa.Column("outcome", TEXT(length=20), nullable=True))
        batch_op.add_column(sa.Column("closed_at", WHEN(), nullable=True))
        batch_op.add_column(sa.Column("closed_by", TEXT(length=80), nullable=True))
        batch_op.add_column(
            sa.Column("resident_forgotten", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.create_index(batch_op.f("ix_safeguardingflag_status"), ["status"], unique=False)

    op.create_table(
        "safeguardingdelivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("flag_id", sa.Integer(), nullable=False),
        sa.Column("recipient", TEXT(length=200), nullable=False),
        sa.Column("purpose", TEXT(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", WHEN(), nullable=False),
        sa.Column("sent_at", WHEN(), nullable=True),
        sa.Column("last_error", TEXT(length=200), nullable=False),
        sa.Column("created_at", WHEN(), nullable=False),
        sa.ForeignKeyConstraint(["flag_id"], ["safeguardingflag.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("flag_id", "recipient", "purpose"),
    )
    with op.batch_alter_table("safeguardingdelivery", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_safeguardingdelivery_flag_id"), ["flag_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_safeguardingdelivery_next_attempt_at"),
            ["next_attempt_at"],
            unique=False,
        )

    op.create_table(
        "safeguardingnote",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("flag_id", sa.Integer(), nullable=False),
        sa.Column("at", WHEN(), nullable=False),
        sa.Column("author", TEXT(length=80), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["flag_id"], ["safeguardingflag.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("safeguardingnote", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_safeguardingnote_flag_id"), ["flag_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("safeguardingnote", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_safeguardingnote_flag_id"))
    op.drop_table("safeguardingnote")
    with op.batch_alter_table("safeguardingdelivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_safeguardingdelivery_next_attempt_at"))
        batch_op.drop_index(batch_op.f("ix_safeguardingdelivery_flag_id"))
    op.drop_table("safeguardingdelivery")
    # Flags kept after /forget have no resident: they cannot go back to the old shape.
    op.execute("DELETE FROM safeguardingflag WHERE resident_id IS NULL")
    with op.batch_alter_table("safeguardingflag", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_safeguardingflag_status"))
        for column in (
            "resident_forgotten", "closed_by", "closed_at", "outcome", "fallback_at",
            "escalated_at", "acknowledged_by", "acknowledged_at", "status", "help_shown",
            "channel",
        ):  # fmt: skip
            batch_op.drop_column(column)
        batch_op.alter_column("resident_id", existing_type=sa.Integer(), nullable=False)
