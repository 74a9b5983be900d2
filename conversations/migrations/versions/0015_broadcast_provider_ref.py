"""broadcast recipients: the provider's message id (GOV.UK Notify's, or WhatsApp's wamid),
indexed so that a WhatsApp status webhook finds its row

Revision ID: 0015_broadcast_provider_ref
Revises: 0014_resident_contacts
Create Date: 2026-12-07 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0015_broadcast_provider_ref"
down_revision: str | None = "0014_resident_contacts"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # Notify's ids are UUIDs (36 characters); a wamid is longer ("wamid." and base64).
    with op.batch_alter_table("broadcastrecipient", schema=None) as batch_op:
        batch_op.alter_column(
            "notify_id",
            new_column_name="provider_ref",
            existing_type=sa.String(length=36),
            type_=sa.String(length=128),
            existing_nullable=True,
        )
    with op.batch_alter_table("broadcastrecipient", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_broadcastrecipient_provider_ref"), ["provider_ref"], unique=False
        )


def downgrade() -> None:
    # A wamid does not fit the old column: those rows lose it (and with it their receipts).
    op.execute(
        sa.text("UPDATE broadcastrecipient SET provider_ref = NULL WHERE channel = 'whatsapp'")
    )
    with op.batch_alter_table("broadcastrecipient", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_broadcastrecipient_provider_ref"))
    with op.batch_alter_table("broadcastrecipient", schema=None) as batch_op:
        batch_op.alter_column(
            "provider_ref",
            new_column_name="notify_id",
            existing_type=sa.String(length=128),
            type_=sa.String(length=36),
            existing_nullable=True,
        )
