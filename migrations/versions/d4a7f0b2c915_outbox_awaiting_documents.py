"""outbox: an explicit status for messages waiting for their documents (was awaiting_retry
recognised by its error text)

Revision ID: d4a7f0b2c915
Revises: c3d9e2f41a07
Create Date: 2026-12-02 01:00:00

"""

from alembic import op

revision = "d4a7f0b2c915"
down_revision = "c3d9e2f41a07"
branch_labels = None
depends_on = None


def upgrade():
    op.execute(
        "UPDATE outbox SET status = 'awaiting_documents' "
        "WHERE status = 'awaiting_retry' AND last_error LIKE 'AttachmentNotReady%'"
    )


def downgrade():
    op.execute("UPDATE outbox SET status = 'awaiting_retry' WHERE status = 'awaiting_documents'")
