"""an index for the broadcast sender's claim: a broadcast's pending recipients in id order

Revision ID: 0010_broadcast_claim_index
Revises: 0009_abuse_pause
Create Date: 2026-12-05 09:00:00
"""

from __future__ import annotations

from alembic import op

revision: str = "0010_broadcast_claim_index"
down_revision: str | None = "0009_abuse_pause"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_index(
        "ix_broadcastrecipient_claim",
        "broadcastrecipient",
        ["broadcast_id", "state", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_broadcastrecipient_claim", table_name="broadcastrecipient")
