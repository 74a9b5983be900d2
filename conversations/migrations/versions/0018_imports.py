"""imports: answers gathered elsewhere, as named batches linked from what they made;
files uploaded on the dashboard between preview and import

Revision ID: 0018_imports
Revises: 0017_broadcast_translations
Create Date: 2026-12-06 09:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0018_imports"
down_revision: str | None = "0017_broadcast_translations"
branch_labels: str | None = None
depends_on: str | None = None

TEXT = sqlmodel.sql.sqltypes.AutoString
WHEN = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "importbatch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("source", TEXT(length=40), nullable=False),
        sa.Column("file_name", TEXT(length=200), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("answers", sa.Integer(), nullable=False),
        sa.Column("imported_by", TEXT(length=80), nullable=False),
        sa.Column("created_at", WHEN(), nullable=False),
        sa.Column("removed_at", WHEN(), nullable=True),
        sa.Column("removed_by", TEXT(length=80), nullable=True),
        sa.ForeignKeyConstraint(["consultation_id"], ["consultation.id"]),
        sa.ForeignKeyConstraint(["round_id"], ["round.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("importbatch", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_importbatch_consultation_id"), ["consultation_id"], unique=False
        )
    op.create_table(
        "importupload",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("file_name", TEXT(length=200), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("source", TEXT(length=40), nullable=False),
        sa.Column("mapping_json", sa.Text(), nullable=False),
        sa.Column("uploaded_by", TEXT(length=80), nullable=False),
        sa.Column("created_at", WHEN(), nullable=False),
        sa.ForeignKeyConstraint(["consultation_id"], ["consultation.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("importupload", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_importupload_consultation_id"), ["consultation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_importupload_created_at"), ["created_at"], unique=False
        )
    with op.batch_alter_table("resident", schema=None) as batch_op:
        batch_op.add_column(sa.Column("import_batch_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_resident_import_batch_id"), ["import_batch_id"], unique=False
        )
        batch_op.create_foreign_key(
            "fk_resident_import_batch_id", "importbatch", ["import_batch_id"], ["id"]
        )
    for table in ("conversation", "answer", "safeguardingflag"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("import_batch_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    for table in ("safeguardingflag", "answer", "conversation"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("import_batch_id")
    with op.batch_alter_table("resident", schema=None) as batch_op:
        batch_op.drop_constraint("fk_resident_import_batch_id", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_resident_import_batch_id"))
        batch_op.drop_column("import_batch_id")
    with op.batch_alter_table("importupload", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_importupload_created_at"))
        batch_op.drop_index(batch_op.f("ix_importupload_consultation_id"))
    op.drop_table("importupload")
    with op.batch_alter_table("importbatch", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_importbatch_consultation_id"))
    op.drop_table("importbatch")
