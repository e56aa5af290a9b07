"""The Alembic migrations build exactly the schema the models describe, on SQLite and on
PostgreSQL, and upgrading is safe to repeat."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from signoff.cli import main
from signoff.store.database import Database
from signoff.store.migrate import current, head, upgrade
from signoff.store.schema import metadata, principals


def differences(db: Database) -> list[object]:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, metadata))


def schema(db: Database) -> dict[str, tuple[list[str], list[str]]]:
    """Every table with its columns and index names, as the database reports them."""
    with db.engine.connect() as conn:
        inspector = sa.inspect(conn)
        return {
            table: (
                [c["name"] for c in inspector.get_columns(table)],
                sorted(str(i["name"]) for i in inspector.get_indexes(table)),
            )
            for table in inspector.get_table_names()
        }


def test_the_migrations_produce_the_schema_of_the_models(db: Database) -> None:
    assert differences(db) == []
    tables = set(schema(db))
    assert tables == {t.name for t in metadata.sorted_tables} | {"alembic_version"}


def test_the_database_is_at_the_newest_migration(db: Database) -> None:
    assert head() is not None
    assert current(db) == head()


def test_upgrading_again_changes_nothing_and_keeps_the_data(db: Database) -> None:
    before = schema(db)
    with db.engine.begin() as conn:
        conn.execute(sa.insert(principals).values(id="u-kept", name="Kept", active=True))
    assert upgrade(db) == head()
    assert upgrade(db) == head()
    assert current(db) == head()
    assert schema(db) == before
    assert differences(db) == []
    with db.reader() as conn:
        assert conn.execute(sa.select(principals.c.name)).scalars().all() == ["Kept"]
        assert conn.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar_one() == 1


@pytest.fixture(params=["sqlite", "postgresql"])
def empty(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Database]:
    """A database with nothing in it: a new SQLite file, or on PostgreSQL a new schema put
    first on the search path (through libpq's PGOPTIONS: cheaper than a new database, and
    just as empty to Alembic)."""
    if request.param == "sqlite":
        fresh = Database(f"sqlite:///{tmp_path / 'new.db'}")
        yield fresh
        fresh.dispose()
        return
    url = Database(request.getfixturevalue("pg_url")).url
    name = f"migrate_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url, poolclass=sa.NullPool)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{name}"'))
    monkeypatch.setenv("PGOPTIONS", f"-c search_path={name}")
    fresh = Database(url)
    try:
        yield fresh
    finally:
        fresh.dispose()
        monkeypatch.delenv("PGOPTIONS")
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


def test_an_empty_database_is_upgraded_from_nothing_to_the_models_schema(
    empty: Database,
) -> None:
    assert current(empty) is None
    assert schema(empty) == {}
    assert upgrade(empty) == head()
    assert current(empty) == head()
    assert differences(empty) == []
    with empty.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar_one() == 1


def test_a_database_url_with_a_percent_sign_can_be_upgraded(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Passwords with special characters are percent-encoded in URLs (`p%40ss` for `p@ss`),
    and directories may hold a `%`: `signoff db upgrade` must take such URLs as they are."""
    if db.is_sqlite:
        folder = tmp_path / "100%"
        folder.mkdir()
        url = f"sqlite:///{folder / 'signoff.db'}"
    else:  # the test server trusts local connections, so any password will do
        url = sa.make_url(db.url).set(password="p@ss%word").render_as_string(False)
    assert "%" in url
    assert main(["--database", url, "db", "upgrade"]) == 0, capsys.readouterr().err
    assert capsys.readouterr().out == f"database at revision {head()}\n"
