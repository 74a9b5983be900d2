"""resident contacts: a mobile number or email address left to hear back (GOV.UK Notify),
and broadcast recipients reached through Notify

Revision ID: 0014_resident_contacts
Revises: 0013_residents_data
Create Date: 2026-12-06 05:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0014_resident_contacts"
down_revision: str | None = "0013_residents_data"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "residentcontact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["resident_id"], ["resident.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("resident_id", "kind"),
    )
    with op.batch_alter_table("residentcontact", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_residentcontact_resident_id"), ["resident_id"], unique=False
        )
    # A broadcast's recipient may be reached through GOV.UK Notify: by which channel,
    # Notify's id for the message once sent, and its delivery receipt.
    with op.batch_alter_table("broadcastrecipient", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "channel",
                sqlmodel.sql.sqltypes.AutoString(length=8),
                nullable=False,
                server_default="telegram",
            )
        )
        batch_op.add_column(
            sa.Column("notify_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True)
        )
        batch_op.add_column(
            sa.Column("receipt", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True)
        )
        batch_op.add_column(
            sa.Column("receipt_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("broadcastrecipient", schema=None) as batch_op:
        for column in ("receipt_at", "receipt", "notify_id", "channel"):
            batch_op.drop_column(column)
    with op.batch_alter_table("residentcontact", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_residentcontact_resident_id"))
    op.drop_table("residentcontact")
