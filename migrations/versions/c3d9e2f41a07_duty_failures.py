"""duty failures: background items retried with backoff, then marked failed for admins

Revision ID: c3d9e2f41a07
Revises: b7e5c3a1d902
Create Date: 2026-12-01 22:20:00

"""

import sqlalchemy as sa
from alembic import op

revision = "c3d9e2f41a07"
down_revision = "b7e5c3a1d902"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "duty_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("duty", sa.String(length=40), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("first_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("duty", "item_id"),
    )


def downgrade():
    op.drop_table("duty_failures")
