"""Creating and upgrading the schema with Alembic (`signoff db upgrade`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from signoff.store.database import Database

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(db: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # no sqlalchemy.url: env.py uses the connection handed over (and a URL with "%" in it
    # would trip the config file's interpolation)
    del db
    return config


def upgrade(db: Database, revision: str = "head") -> str | None:
    """Bring the schema to `revision`; returns the revision the database is at."""
    config = alembic_config(db)
    with db.engine.connect().execution_options(sqlite_begin="IMMEDIATE") as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
        conn.commit()
    return current(db)


def current(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head() -> str | None:
    return ScriptDirectory.from_config(alembic_config(Database("sqlite://"))).get_current_head()
