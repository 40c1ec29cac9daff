"""workflow snapshot per form version: its submissions follow the workflow it had

A version's submissions follow the workflow it was published with, whatever later happens
to the workflow's file.

Revision ID: d4a7b1c9e053
Revises: d4a7f0b2c915
Create Date: 2026-12-02 00:40:00

"""

from pathlib import Path

import sqlalchemy as sa
import yaml
from alembic import op
from flask import current_app

revision = "d4a7b1c9e053"
down_revision = "d4a7f0b2c915"
branch_labels = None
depends_on = None

versions = sa.table(
    "form_versions",
    sa.column("id", sa.Integer()),
    sa.column("definition", sa.JSON()),
    sa.column("workflow_snapshot", sa.JSON()),
)


def upgrade():
    with op.batch_alter_table("form_versions") as batch:
        batch.add_column(sa.Column("workflow_snapshot", sa.JSON(), nullable=True))
    _backfill()


def _backfill():
    """Existing versions take their workflow's file as it is now (the best there is: the
    file they were published with is gone). A missing file leaves None, and the service
    then reads the file by name, as before; `flask forms load` fills what is left."""
    try:
        folder = Path(current_app.config["FORMDESK_WORKFLOWS_DIR"])
    except (RuntimeError, KeyError):
        return
    bind = op.get_bind()
    read: dict[str, dict | None] = {}
    for row in bind.execute(sa.select(versions.c.id, versions.c.definition)).all():
        name = (row.definition or {}).get("workflow")
        if name not in read:
            path = folder / f"{name}.yaml"
            read[name] = (
                yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None
            )
        if read[name] is not None:
            bind.execute(
                versions.update()
                .where(versions.c.id == row.id)
                .values(workflow_snapshot=read[name])
            )


def downgrade():
    # Dropped in place (SQLite 3.35+): rebuilding `form_versions` would fail on the
    # submissions that refer to it while foreign keys are enforced.
    with op.batch_alter_table("form_versions", recreate="never") as batch:
        batch.drop_column("workflow_snapshot")
