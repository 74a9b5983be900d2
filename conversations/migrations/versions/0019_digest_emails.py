"""officers not on Telegram: the digest by email, and sign-in links by email

Revision ID: 0019_digest_emails
Revises: 0018_imports
Create Date: 2026-12-06 09:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0019_digest_emails"
down_revision: str | None = "0018_imports"
branch_labels: str | None = None
depends_on: str | None = None

TEXT = sqlmodel.sql.sqltypes.AutoString
WHEN = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("digest", schema=None) as batch_op:
        batch_op.add_column(sa.Column("figures", sa.Text(), nullable=False, server_default=""))
    op.create_table(
        "digestemail",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest_id", sa.Integer(), nullable=False),
        sa.Column("address", TEXT(length=254), nullable=False),
        sa.Column("state", TEXT(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("notify_id", TEXT(length=36), nullable=True),
        sa.Column("updated_at", WHEN(), nullable=False),
        sa.ForeignKeyConstraint(["digest_id"], ["digest.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("digest_id", "address"),
    )
    with op.batch_alter_table("digestemail", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_digestemail_digest_id"), ["digest_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_digestemail_state"), ["state"], unique=False)
    # A sign-in link or session is for a Telegram user id or, now, an email address.
    with op.batch_alter_table("stafflogin", schema=None) as batch_op:
        batch_op.alter_column("staff_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("email", TEXT(length=254), nullable=True))
        batch_op.create_index(batch_op.f("ix_stafflogin_email"), ["email"], unique=False)
    with op.batch_alter_table("staffsession", schema=None) as batch_op:
        batch_op.alter_column("staff_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("email", TEXT(length=254), nullable=True))


def downgrade() -> None:
    # Email sign-ins cannot be kept without their column: they are dropped.
    op.execute("DELETE FROM staffsession WHERE staff_id IS NULL")
    op.execute("DELETE FROM stafflogin WHERE staff_id IS NULL")
    with op.batch_alter_table("staffsession", schema=None) as batch_op:
        batch_op.drop_column("email")
        batch_op.alter_column("staff_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("stafflogin", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stafflogin_email"))
        batch_op.drop_column("email")
        batch_op.alter_column("staff_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("digestemail", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_digestemail_state"))
        batch_op.drop_index(batch_op.f("ix_digestemail_digest_id"))
    op.drop_table("digestemail")
    with op.batch_alter_table("digest", schema=None) as batch_op:
        batch_op.drop_column("figures")
