"""The unit of work: one transaction, and the repositories bound to it.

with SqlUnitOfWork(db) as uow:        # BEGIN (SQLite: BEGIN IMMEDIATE)
    instance = uow.instances.get(id)  # SELECT ... FOR UPDATE on PostgreSQL
    ...
    uow.instances.save(instance, events)
    uow.commit()                      # COMMIT; leaving without it rolls back
"""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import Connection, RootTransaction

from signoff.store.accounts import SqlAccountStore
from signoff.store.calendar import SqlCalendarStore
from signoff.store.counters import SqlIdempotencyStore, SqlSerialCounter
from signoff.store.database import Database
from signoff.store.delegations import SqlDelegationStore
from signoff.store.directory import SqlDirectory, shared_cache
from signoff.store.documents import SqlDocumentStore
from signoff.store.instances import SqlInstanceRepository
from signoff.store.integrations import SqlExternalLinks, SqlWecomApps
from signoff.store.queries import SqlQueries
from signoff.store.templates import SqlTemplateRepository
from signoff.store.webhooks import SqlWebhookStore


class SqlUnitOfWork:
    conn: Connection
    instances: SqlInstanceRepository
    templates: SqlTemplateRepository
    serials: SqlSerialCounter
    idempotency: SqlIdempotencyStore
    directory: SqlDirectory
    accounts: SqlAccountStore
    queries: SqlQueries
    webhooks: SqlWebhookStore
    calendar: SqlCalendarStore
    delegations: SqlDelegationStore
    documents: SqlDocumentStore
    external_links: SqlExternalLinks
    wecom: SqlWecomApps

    def __init__(self, db: Database) -> None:
        self.db = db
        self._tx: RootTransaction | None = None

    def __enter__(self) -> SqlUnitOfWork:
        lock = self.db.write_lock
        if lock is not None:
            lock.acquire()
        try:
            return self._begin()
        except BaseException:
            if lock is not None:
                lock.release()
            raise

    def _begin(self) -> SqlUnitOfWork:
        self.conn = self.db.engine.connect()
        self._tx = self.conn.begin()
        self.templates = SqlTemplateRepository(self.conn, self.db.url)
        self.instances = SqlInstanceRepository(
            self.conn, self.templates.get, lock_rows=not self.db.is_sqlite
        )
        self.serials = SqlSerialCounter(self.conn)
        self.idempotency = SqlIdempotencyStore(self.conn)
        self.directory = SqlDirectory(self.conn, shared_cache(self.db.url))
        self.accounts = SqlAccountStore(self.conn)
        self.queries = SqlQueries(self.conn)
        self.webhooks = SqlWebhookStore(self.conn)
        self.calendar = SqlCalendarStore(self.conn, self.db.url)
        self.delegations = SqlDelegationStore(self.conn, self.directory)
        self.documents = SqlDocumentStore(self.conn)
        self.external_links = SqlExternalLinks(self.conn)
        self.wecom = SqlWecomApps(self.conn)
        return self

    def commit(self) -> None:
        assert self._tx is not None  # noqa: S101  # only inside `with`
        self._tx.commit()
        self._tx = None
        self.db.committed()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._tx is not None:
                self._tx.rollback()
                self._tx = None
        finally:
            self.conn.close()
            if self.db.write_lock is not None:
                self.db.write_lock.release()
