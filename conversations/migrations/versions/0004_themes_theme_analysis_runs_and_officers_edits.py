"""theme analysis runs and officers' edits

Revision ID: 0004_themes
Revises: 0003_web
Create Date: 2026-11-25 12:37:21.652506
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0004_themes"
down_revision: str | None = "0003_web"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "analysisrun",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("questions", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("answers", sa.Integer(), nullable=False),
        sa.Column("unthemed", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultation.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("analysisrun", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_analysisrun_consultation_id"), ["consultation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_analysisrun_created_at"), ["created_at"], unique=False)

    op.create_table(
        "themeedit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=False),
        sa.Column("other_theme_id", sa.Integer(), nullable=True),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultation.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("themeedit", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_themeedit_consultation_id"), ["consultation_id"], unique=False
        )

    op.create_table(
        "runtheme",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=False),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("keywords_json", sa.Text(), nullable=False),
        sa.Column("domains_json", sa.Text(), nullable=False),
        sa.Column("quote_answers_json", sa.Text(), nullable=False),
        sa.Column("centroid_json", sa.Text(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("previous_size", sa.Integer(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["analysisrun.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("run_id", "theme_id"),
    )
    with op.batch_alter_table("runtheme", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_runtheme_run_id"), ["run_id"], unique=False)

    op.create_table(
        "answertheme",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("answer_id", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["answer_id"],
            ["answer.id"],
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["analysisrun.id"],
        ),
        sa.PrimaryKeyConstraint("run_id", "answer_id", "rank"),
    )
    with op.batch_alter_table("answertheme", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_answertheme_answer_id"), ["answer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_answertheme_theme_id"), ["theme_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("answertheme", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_answertheme_theme_id"))
        batch_op.drop_index(batch_op.f("ix_answertheme_answer_id"))

    op.drop_table("answertheme")
    with op.batch_alter_table("runtheme", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_runtheme_run_id"))

    op.drop_table("runtheme")
    with op.batch_alter_table("themeedit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_themeedit_consultation_id"))

    op.drop_table("themeedit")
    with op.batch_alter_table("analysisrun", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_analysisrun_created_at"))
        batch_op.drop_index(batch_op.f("ix_analysisrun_consultation_id"))

    op.drop_table("analysisrun")
