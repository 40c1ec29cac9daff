"""SQLite: an FTS5 trigram index on the search texts

On SQLite the dashboard's substring search read the JSON of every answer (770 000 at
100 000 submissions, 11 s a search). It now searches `submissions.search_text` through
`submissions_search`, an FTS5 table with the trigram tokenizer (any part of the text of 3
or more characters is found from the index) whose content is the submissions table itself
(external content: the text is not stored twice). `search_text_blind` is not indexed: its
words are all in `search_text`, so the index narrows that search too (services/search.py),
and a second index would double the size (about 2.8 KB a submission for one). Triggers keep
the index current on every insert, change of the text and delete; the index of existing
submissions is built here.

PostgreSQL has its GIN indexes on the same texts (revision 2e731ee1bac7): nothing to do.

Revision ID: f6039d15c30d
Revises: 2e731ee1bac7
Create Date: 2026-11-29 23:30:00

"""

import logging

import sqlalchemy as sa
from alembic import op

log = logging.getLogger("alembic.runtime.migration")

# revision identifiers, used by Alembic.
revision = "f6039d15c30d"
down_revision = "2e731ee1bac7"
branch_labels = None
depends_on = None

# Kept in step with services/search.py (SQLITE_FTS_TABLE): a snapshot, as migrations never
# import the application's code.
TABLE = "submissions_search"
COLUMNS = "search_text"
NEW = "new.search_text"
OLD = "old.search_text"


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    if not _trigram_tokenizer(bind):
        # SQLite before 3.34, or built without FTS5: the search reads the stored text with
        # LIKE instead (services/search.py asks whether the table exists).
        log.warning(
            "SQLite %s has no FTS5 trigram tokenizer: the dashboard's search will work"
            " without an index (slower with many submissions)",
            bind.exec_driver_sql("SELECT sqlite_version()").scalar(),
        )
        return
    op.execute(
        f"CREATE VIRTUAL TABLE {TABLE} USING fts5({COLUMNS}, content='submissions',"
        " content_rowid='id', tokenize='trigram')"
    )
    # An external-content index must be told the old values to remove: exactly what the
    # row held, which the triggers see.
    op.execute(
        f"CREATE TRIGGER {TABLE}_insert AFTER INSERT ON submissions BEGIN"
        f" INSERT INTO {TABLE}(rowid, {COLUMNS}) VALUES (new.id, {NEW}); END"
    )
    op.execute(
        f"CREATE TRIGGER {TABLE}_delete AFTER DELETE ON submissions BEGIN"
        f" INSERT INTO {TABLE}({TABLE}, rowid, {COLUMNS}) VALUES ('delete', old.id, {OLD});"
        " END"
    )
    op.execute(
        f"CREATE TRIGGER {TABLE}_update AFTER UPDATE OF id, search_text"
        " ON submissions BEGIN"
        f" INSERT INTO {TABLE}({TABLE}, rowid, {COLUMNS}) VALUES ('delete', old.id, {OLD});"
        f" INSERT INTO {TABLE}(rowid, {COLUMNS}) VALUES (new.id, {NEW}); END"
    )
    op.execute(f"INSERT INTO {TABLE}({TABLE}) VALUES ('rebuild')")


def _trigram_tokenizer(bind) -> bool:
    try:
        bind.exec_driver_sql("CREATE VIRTUAL TABLE temp.fts5_probe USING fts5(x, tokenize='trigram')")
    except sa.exc.OperationalError:
        return False
    bind.exec_driver_sql("DROP TABLE temp.fts5_probe")
    return True


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    for trigger in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_{trigger}")
    op.execute(f"DROP TABLE IF EXISTS {TABLE}")
