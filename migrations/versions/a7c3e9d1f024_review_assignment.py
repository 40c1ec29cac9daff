"""review assignment: submissions assigned to reviewers, and a review deadline per call

Revision ID: a7c3e9d1f024
Revises: e5a7c1f0b9d4
Create Date: 2026-12-02 01:55:00
"""

import sqlalchemy as sa
from alembic import op

revision = "a7c3e9d1f024"
down_revision = "e5a7c1f0b9d4"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "submission_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("assigned_by_id", sa.Integer(), nullable=True),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["assigned_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("submission_id", "user_id"),
    )
    op.create_index(
        "ix_submission_assignments_submission_id", "submission_assignments", ["submission_id"]
    )
    op.create_index("ix_submission_assignments_user_id", "submission_assignments", ["user_id"])
    op.create_table(
        "review_deadlines",
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("set_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["form_id"], ["forms.id"]),
        sa.ForeignKeyConstraint(["set_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("form_id"),
    )


def downgrade():
    op.drop_table("review_deadlines")
    op.drop_index("ix_submission_assignments_user_id", table_name="submission_assignments")
    op.drop_index("ix_submission_assignments_submission_id", table_name="submission_assignments")
    op.drop_table("submission_assignments")
