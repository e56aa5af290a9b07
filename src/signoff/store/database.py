"""Connecting to SQLite or PostgreSQL, the same way for both.

SQLite (the default, `sqlite:///signoff.db`) runs in WAL mode with foreign keys
on and `synchronous=FULL` (every commit is on disk before it returns; set
`SIGNOFF_SQLITE_SYNCHRONOUS=NORMAL` to trade the last commits on power loss for
speed), and every write transaction starts with `BEGIN IMMEDIATE`: the writer lock is
taken up front, so two commands never both read and then fight to write. Read-only
work uses `Database.reader()`, whose transactions are `BEGIN DEFERRED`.

PostgreSQL URLs (`postgresql://...`) use psycopg 3. Commands lock the instance
row with `SELECT ... FOR UPDATE`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

DEFAULT_URL = "sqlite:///signoff.db"


def normalise_url(url: str) -> str:
    """`postgresql://` means psycopg 3 here."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


class Database:
    def __init__(self, url: str | None = None, *, echo: bool = False) -> None:
        self.url = normalise_url(url or os.environ.get("SIGNOFF_DATABASE_URL") or DEFAULT_URL)
        self.engine: Engine = _engine(self.url, echo)
        self.dialect = self.engine.dialect.name
        # SQLite has one writer at a time: queue this process's writers on a lock instead
        # of letting them poll SQLite's busy handler (which sleeps, and spikes latency)
        self.write_lock = _writer_lock(self.url) if self.is_sqlite else None
        self.commit_listeners: list[Callable[[], None]] = []

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @contextmanager
    def reader(self) -> Iterator[Connection]:
        """A read-only connection (on SQLite: a deferred transaction, no writer lock)."""
        conn = self.engine.connect().execution_options(sqlite_begin="DEFERRED")
        with conn, conn.begin():
            yield conn

    @contextmanager
    def writer(self) -> Iterator[Connection]:
        """A write transaction outside the unit of work (the relay, deliveries, presence):
        committed when the block ends without an error."""
        lock = self.write_lock
        if lock is not None:
            lock.acquire()
        try:
            with self.engine.connect() as conn, conn.begin():
                yield conn
        finally:
            if lock is not None:
                lock.release()

    def committed(self) -> None:
        """A command committed: wake whoever waits for new outbox rows (the relay)."""
        for listener in list(self.commit_listeners):
            listener()

    def dispose(self) -> None:
        self.engine.dispose()


_writer_locks: dict[str, threading.RLock] = {}


def _writer_lock(url: str) -> threading.RLock:
    return _writer_locks.setdefault(url, threading.RLock())


def _engine(url: str, echo: bool) -> Engine:
    if not url.startswith("sqlite"):
        return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20)
    memory = url in ("sqlite://", "sqlite:///:memory:")
    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 30}}
    engine = create_engine(url, echo=echo, **kwargs)
    synchronous = os.environ.get("SIGNOFF_SQLITE_SYNCHRONOUS", "FULL").upper()
    if synchronous not in ("OFF", "NORMAL", "FULL", "EXTRA"):
        raise ValueError(
            f"SIGNOFF_SQLITE_SYNCHRONOUS={synchronous!r}: use OFF, NORMAL, FULL or EXTRA"
        )

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine
