"""the evidence pack with the digest: whether a digest carries one, and its PDF until sent

Revision ID: 0021_digest_packs
Revises: 0019_digest_emails
Create Date: 2026-12-06 10:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0021_digest_packs"
down_revision: str | None = "0019_digest_emails"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("digest", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("with_pack", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("pack", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("digest", schema=None) as batch_op:
        batch_op.drop_column("pack")
        batch_op.drop_column("with_pack")
