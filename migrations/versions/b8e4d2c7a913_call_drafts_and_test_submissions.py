"""call drafts, test submissions, archived calls and preview versions

Every call gets one editable draft (its current version's document to start with);
versions say where they came from and who published them; a preview version has a
negative number; submissions and drafts made through a preview link are tests.

Revision ID: b8e4d2c7a913
Revises: a7c3e9d1f024
Create Date: 2026-12-02 04:40:00
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "b8e4d2c7a913"
down_revision = "a7c3e9d1f024"
branch_labels = None
depends_on = None

forms = sa.table(
    "forms", sa.column("id", sa.Integer()), sa.column("current_version_id", sa.Integer())
)
versions = sa.table(
    "form_versions", sa.column("id", sa.Integer()), sa.column("definition", sa.JSON())
)
drafts = sa.table(
    "form_drafts",
    sa.column("form_id", sa.Integer()),
    sa.column("document", sa.JSON()),
    sa.column("revision", sa.Integer()),
    sa.column("updated_at", sa.DateTime(timezone=True)),
    sa.column("edited_in_browser", sa.Boolean()),
    sa.column("published_revision", sa.Integer()),
)


def upgrade():
    op.create_table(
        "form_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("edited_in_browser", sa.Boolean(), nullable=False),
        sa.Column("published_revision", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["form_id"], ["forms.id"]),
        sa.ForeignKeyConstraint(["updated_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("form_id"),
    )
    # Added in place (recreate="never"): rebuilding `submissions` on SQLite would drop the
    # triggers that keep its full-text index current.
    with op.batch_alter_table("forms", recreate="never") as batch:
        batch.add_column(sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("preview_token_hash", sa.String(length=64), nullable=True))
    with op.batch_alter_table("form_versions", recreate="never") as batch:
        batch.add_column(
            sa.Column("origin", sa.String(length=20), server_default="file", nullable=False)
        )
        # Who published it, like audit_log.actor_id (no constraint: SQLite could not drop
        # the column again on downgrade).
        batch.add_column(sa.Column("published_by_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("submissions", recreate="never") as batch:
        batch.add_column(
            sa.Column("is_test", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_index("ix_submissions_is_test", "submissions", ["is_test"])
    with op.batch_alter_table("drafts", recreate="never") as batch:
        batch.add_column(
            sa.Column("is_test", sa.Boolean(), server_default=sa.false(), nullable=False)
        )

    bind = op.get_bind()
    current = bind.execute(
        sa.select(forms.c.id, versions.c.definition).join(
            versions, versions.c.id == forms.c.current_version_id
        )
    ).all()
    if current:
        stamp = datetime.now(UTC)
        op.bulk_insert(
            drafts,
            [
                {
                    "form_id": row.id,
                    "document": row.definition,
                    "revision": 1,
                    "updated_at": stamp,
                    "edited_in_browser": False,
                    "published_revision": 1,
                }
                for row in current
            ],
        )


def downgrade():
    with op.batch_alter_table("drafts", recreate="never") as batch:
        batch.drop_column("is_test")
    op.drop_index("ix_submissions_is_test", "submissions")
    with op.batch_alter_table("submissions", recreate="never") as batch:
        batch.drop_column("is_test")
    # Test submissions and preview versions stay, as ordinary rows: nothing is lost.
    with op.batch_alter_table("form_versions", recreate="never") as batch:
        batch.drop_column("published_by_id")
        batch.drop_column("origin")
    with op.batch_alter_table("forms", recreate="never") as batch:
        batch.drop_column("preview_token_hash")
        batch.drop_column("archived_at")
    op.drop_table("form_drafts")
