"""the themes codebook: reviewed themes, their examples, and officers' codes of answers

Officers' earlier edits (renames, merges, splits) are carried over: each theme they
touched that is current in the latest run becomes a reviewed theme, with the
answers it holds there as its examples.

Revision ID: 0011_codebook
Revises: 0010_broadcast_claim_index
Create Date: 2026-12-06 01:00:00
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0011_codebook"
down_revision: str | None = "0010_broadcast_claim_index"
branch_labels: str | None = None
depends_on: str | None = None

RETIRED = ("gone", "merged", "split")


def upgrade() -> None:
    op.create_table(
        "codebooktheme",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "consultation_id", sa.Integer(), sa.ForeignKey("consultation.id"), nullable=False
        ),
        sa.Column("theme_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("merged_into", sa.Integer(), nullable=True),
        sa.Column("reviewed_by", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("reviewed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("consultation_id", "theme_id"),
    )
    op.create_index("ix_codebooktheme_consultation_id", "codebooktheme", ["consultation_id"])
    op.create_table(
        "codebookexample",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "consultation_id", sa.Integer(), sa.ForeignKey("consultation.id"), nullable=False
        ),
        sa.Column("theme_id", sa.Integer(), nullable=False),
        sa.Column("answer_id", sa.Integer(), sa.ForeignKey("answer.id"), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("consultation_id", "theme_id", "answer_id"),
    )
    op.create_index("ix_codebookexample_consultation_id", "codebookexample", ["consultation_id"])
    op.create_index("ix_codebookexample_answer_id", "codebookexample", ["answer_id"])
    op.create_table(
        "answercode",
        sa.Column("answer_id", sa.Integer(), sa.ForeignKey("answer.id"), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column(
            "consultation_id", sa.Integer(), sa.ForeignKey("consultation.id"), nullable=False
        ),
        sa.Column("theme_id", sa.Integer(), nullable=True),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("coded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("answer_id", "rank"),
    )
    op.create_index("ix_answercode_consultation_id", "answercode", ["consultation_id"])
    _carry_over_edits()


def _carry_over_edits() -> None:
    """Themes officers renamed, merged into or split off become reviewed themes."""
    connection = op.get_bind()
    now = datetime.now(UTC)
    for (consultation_id,) in connection.execute(sa.text("SELECT id FROM consultation")).all():
        run_id = connection.execute(
            sa.text("SELECT max(id) FROM analysisrun WHERE consultation_id = :c"),
            {"c": consultation_id},
        ).scalar()
        if run_id is None:
            continue
        touched = {
            row[0]
            for row in connection.execute(
                sa.text(
                    "SELECT CASE WHEN action = 'merge' THEN other_theme_id ELSE theme_id END "
                    "FROM themeedit WHERE consultation_id = :c AND action IN ('rename', 'merge') "
                    "UNION SELECT p.theme_id FROM themesplitpart p "
                    "JOIN themeedit e ON e.id = p.edit_id WHERE e.consultation_id = :c"
                ),
                {"c": consultation_id},
            ).all()
        }
        for theme_id, label, status in connection.execute(
            sa.text("SELECT theme_id, label, status FROM runtheme WHERE run_id = :r"),
            {"r": run_id},
        ).all():
            if theme_id not in touched or status in RETIRED:
                continue
            connection.execute(
                sa.text(
                    "INSERT INTO codebooktheme (consultation_id, theme_id, name, state, "
                    "reviewed_by, reviewed_at) VALUES (:c, :t, :n, 'reviewed', 'migration', :at)"
                ),
                {"c": consultation_id, "t": theme_id, "n": label, "at": now},
            )
            connection.execute(
                sa.text(
                    "INSERT INTO codebookexample (consultation_id, theme_id, answer_id) "
                    "SELECT :c, :t, answer_id FROM answertheme "
                    "WHERE run_id = :r AND theme_id = :t AND rank = 0"
                ),
                {"c": consultation_id, "t": theme_id, "r": run_id},
            )


def downgrade() -> None:
    op.drop_table("answercode")
    op.drop_table("codebookexample")
    op.drop_table("codebooktheme")
