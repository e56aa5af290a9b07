"""Fixtures shared by every layer's tests: databases (SQLite and PostgreSQL), a seeded
demo company, a manual clock.

PostgreSQL tests run when SIGNOFF_TEST_PG_URL is set (`.ci/run` sets it) and are
skipped with a visible reason otherwise; under CI a missing PostgreSQL is a failure.
Each xdist worker gets its own PostgreSQL database; each test starts from empty tables.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import settings

from signoff.service.clock import ManualClock
from signoff.service.directory_import import import_directory_file
from signoff.store.calendar import _cache as calendar_cache
from signoff.store.database import Database
from signoff.store.directory import _caches as directory_caches
from signoff.store.migrate import upgrade
from signoff.store.schema import metadata
from signoff.store.templates import _cache as template_cache
from signoff.store.uow import SqlUnitOfWork

# CI explores the same examples on every run (a red CI always means the change); locally
# Hypothesis keeps looking for new ones.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
PG_ENV = "SIGNOFF_TEST_PG_URL"


def pg_base_url() -> str | None:
    url = os.environ.get(PG_ENV)
    if not url:
        if os.environ.get("CI"):
            pytest.fail(f"{PG_ENV} is not set: CI must run the PostgreSQL tests")
        pytest.skip(
            f"PostgreSQL tests need {PG_ENV} (CI sets it; e.g. postgresql://postgres@127.0.0.1:5432/test)"
        )
    return url


@pytest.fixture(scope="session")
def pg_url(worker_id: str) -> Iterator[str]:
    base = pg_base_url()
    assert base is not None
    # unique per session: two test runs on one server must not drop each other's database
    name = f"signoff_test_{worker_id}_{os.getpid()}".replace("-", "_")
    admin = sa.create_engine(Database(base).url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = (
        sa.engine.make_url(Database(base).url)
        .set(database=name)
        .render_as_string(hide_password=False)
    )
    db = Database(url)
    upgrade(db)
    db.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _empty(db: Database) -> None:
    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty, migrated database of each kind."""
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'signoff.db'}")
        upgrade(database)
    else:
        database = Database(request.getfixturevalue("pg_url"))
        _empty(database)
        # emptied tables restart the directory generation and template versions, and
        # drop the calendar: forget what this process cached of the previous test's
        directory_caches.clear()
        template_cache.clear()
        calendar_cache.clear()
    yield database
    database.dispose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))


def seed(db: Database, clock: ManualClock) -> None:
    """The demo company and the four example templates."""
    import json

    report = import_directory_file(SqlUnitOfWork(db), EXAMPLES / "directory.json")
    assert report.applied, report.rejected
    with SqlUnitOfWork(db) as uow:
        for path in sorted((EXAMPLES / "templates").glob("*.json")):
            uow.templates.publish(json.loads(path.read_text()), "u-huangli", clock.now())
        uow.commit()


@pytest.fixture
def seeded(db: Database, clock: ManualClock) -> Database:
    seed(db, clock)
    return db
