"""staff language: the language of the dashboard and of emails to each staff member

Revision ID: b7e5c3a1d902
Revises: 843601793347
Create Date: 2026-12-01 21:45:00

"""

import sqlalchemy as sa
from alembic import op

revision = "b7e5c3a1d902"
down_revision = "843601793347"
branch_labels = None
depends_on = None


def upgrade():
    # Empty until the person signs in: their notifications use the default language till then.
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=True))


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("language")
