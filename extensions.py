"""Flask extensions, created unbound; `app.create_app` binds them."""

import threading

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from limits.storage import MemoryStorage
from sqlalchemy import MetaData

from rate_limit_storage import SQLiteStorage  # noqa: F401  (the sqlite:// scheme)

# Named constraints so that Alembic migrations work the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))
migrate = Migrate()


def schema_is_current() -> bool:
    """Whether the database is at the latest migration (in an app context)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from flask import current_app

    script = ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())
    with db.engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_heads()
    return set(current) == set(script.get_heads())


csrf = CSRFProtect()
babel = Babel()
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.session_protection = "strong"


class ThreadSafeMemoryStorage(MemoryStorage):
    """`memory://` from limits 5.8.0 starts its expiry timer without a lock: two threads
    hitting a limit together start the same timer twice ("threads can only be started
    once", a 500 under gunicorn --threads). Fixed upstream (alisaifee/limits#352) but not
    released; registering this class under the same scheme makes `memory://` use it."""

    STORAGE_SCHEME = ["memory"]

    def __init__(self, *args, **kwargs):
        self._expiry_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def _MemoryStorage__schedule_expiry(self) -> None:  # noqa: N802  (the private name)
        with self._expiry_lock:
            super()._MemoryStorage__schedule_expiry()


# Counts in RATELIMIT_STORAGE_URI: by default rate_limit_storage.SQLiteStorage, one file per
# machine (registered as sqlite:// by its import); redis://… across machines.
limiter = Limiter(key_func=get_remote_address, default_limits=[])
mail = Mail()
