"""Approvals per second through the service layer, next to the same writes as raw SQL.

The physical floor of an approval is its transaction with nothing above the driver:
lock and read the instance row, read its tasks, update the instance, update and insert
the tasks that changed, insert the audit and outbox rows, commit. This module measures
it exactly, with Signoff's own statements:

- `Capture` records every statement the service layer sends to the database (SQL text
  and parameters as handed to the driver), per thread, one list per command;
- `floor` keeps of one command's statements the two reads that lock and load the
  instance and every INSERT / UPDATE / DELETE, and drops every other read (template,
  directory, calendar, idempotency checks);
- `RawClient` replays such a transaction through the bare driver (sqlite3 / psycopg)
  on a second database prepared identically: `BEGIN` (`BEGIN IMMEDIATE` on SQLite),
  the statements with the very same payloads, `COMMIT`. The instance update takes the
  version the locking read returned, so concurrent replays stay correct.

So the ratio service / raw is the cost of everything Signoff does above the driver
(Python, SQLAlchemy, the domain, the extra reads) for the writes it chose to make.
`bench/persisted.py` uses it for every process; this script's own run plays leave
requests. Run: `.venv/bin/python -m bench.store [--approvals N]` (as a module:
`bench/http.py` would hide the standard library's `http` from a script run by path).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from psycopg.types.json import Jsonb
from sqlalchemy import event

from signoff.domain.commands import Approve
from signoff.service.clock import ManualClock
from signoff.service.commands import act, start
from signoff.service.directory_import import import_directory_file
from signoff.store.database import Database
from signoff.store.migrate import upgrade
from signoff.store.schema import instances, metadata, tasks
from signoff.store.uow import SqlUnitOfWork

ROOT = Path(__file__).resolve().parents[1]
LEAVE = {
    "leave_type": "annual",
    "period": ["2026-12-01", "2026-12-05"],
    "days": 5,
    "reason": "family trip",
}
SYNCHRONOUS = os.environ.get("SIGNOFF_SQLITE_SYNCHRONOUS", "FULL").upper()
_LOAD_INSTANCE = re.compile(r"^SELECT .* FROM instances\s+WHERE instances\.id = ", re.S)
_LOAD_TASKS = re.compile(r"^SELECT .* FROM tasks\s+WHERE tasks\.instance_id = ", re.S)
_WRITE = re.compile(r"^(INSERT INTO|UPDATE|DELETE FROM) (\w+)")
_VERSION_COLUMN = [c.name for c in instances.c].index("version")


@dataclass(frozen=True, slots=True)
class Statement:
    sql: str
    params: Any
    many: bool

    @property
    def rows(self) -> int:
        return len(self.params) if self.many else 1

    @property
    def table(self) -> str:
        match = _WRITE.match(self.sql)
        return f"{match[1].split()[0]} {match[2]}" if match else "SELECT"

    def payload_bytes(self) -> int:
        rows = self.params if self.many else [self.params]
        total = 0
        for row in rows:
            for value in row.values() if isinstance(row, dict) else row:
                if isinstance(value, Jsonb):
                    value = json.dumps(value.obj)
                total += len(value.encode()) if isinstance(value, str) else 8
        return total


class Capture:
    """Records what a Database sends to its driver, per thread; `cut()` takes this
    thread's statements since the last cut (one command's, when called after each)."""

    def __init__(self, db: Database) -> None:
        self.engine = db.engine
        self._local = threading.local()
        event.listen(self.engine, "before_cursor_execute", self._record)

    def _record(
        self, _conn: Any, _cursor: Any, sql: str, params: Any, _ctx: Any, many: bool
    ) -> None:
        log = getattr(self._local, "log", None)
        if log is None:
            log = self._local.log = []
        log.append(Statement(sql, params, many))

    def cut(self) -> list[Statement]:
        log: list[Statement] = getattr(self._local, "log", [])
        self._local.log = []
        return log

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._record)


def floor(statements: Sequence[Statement]) -> list[Statement]:
    """Of one command's statements, the ones the physical floor needs."""
    return [
        s
        for s in statements
        if _LOAD_INSTANCE.match(s.sql) or _LOAD_TASKS.match(s.sql) or _WRITE.match(s.sql)
    ]


class RawClient:
    """One bare driver connection replaying transactions (`floor` lists)."""

    def __init__(self, url: str) -> None:
        self.sqlite = url.startswith("sqlite")
        if self.sqlite:
            self.conn: Any = sqlite3.connect(
                url.removeprefix("sqlite:///"), isolation_level=None, check_same_thread=False
            )
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute(f"PRAGMA synchronous={SYNCHRONOUS}")
            self.conn.execute("PRAGMA foreign_keys=ON")
            self.conn.execute("PRAGMA busy_timeout=30000")
        else:
            self.conn = psycopg.connect(pg_dsn(url), autocommit=True)
        self.cursor = self.conn.cursor()

    def run(self, transaction: Sequence[Statement]) -> None:
        cur = self.cursor
        cur.execute("BEGIN IMMEDIATE" if self.sqlite else "BEGIN")
        version = None
        try:
            for stmt in transaction:
                params = stmt.params
                if stmt.sql.startswith("UPDATE instances") and version is not None:
                    params = self._with_version(params, version)
                if stmt.many:
                    cur.executemany(stmt.sql, params)
                else:
                    cur.execute(stmt.sql, params)
                if _LOAD_INSTANCE.match(stmt.sql):
                    row = cur.fetchone()
                    version = row[_VERSION_COLUMN]
                elif _LOAD_TASKS.match(stmt.sql):
                    cur.fetchall()
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise

    def _with_version(self, params: Any, version: int) -> Any:
        """The update's new version and `WHERE version =` from the row just read."""
        if isinstance(params, dict):
            return {**params, "version": version + 1, "_version": version}
        values = list(params)
        values[-1] = version  # WHERE instances.id = ? AND instances.version = ?
        values[self._set_index("version")] = version + 1
        return tuple(values)

    _SET_NAMES = (
        "status",
        "serial",
        "title",
        "form",
        "state",
        "version",
        "audit_head",
        "created_at",
        "submitted_at",
        "finished_at",
        "updated_at",
    )

    def _set_index(self, name: str) -> int:
        return self._SET_NAMES.index(name)

    def close(self) -> None:
        self.conn.close()


def check_update_shape(sql: str) -> None:
    """The positional replay relies on the instance update's column order."""
    names = re.findall(r"(\w+)=\?", sql.split(" WHERE ")[0])
    if names and tuple(names) != RawClient._SET_NAMES:
        raise SystemExit(f"the instance update changed its columns: {names}")


def pg_dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


# ---- databases of their own (PostgreSQL: created and dropped by the benchmark) ---------


def pg_base_url() -> str:
    return os.environ.get("SIGNOFF_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def pg_available() -> bool:
    try:
        psycopg.connect(pg_base_url(), connect_timeout=3).close()
    except psycopg.Error:
        return False
    return True


@contextmanager
def pg_database(suffix: str = "") -> Iterator[str]:
    """A fresh database `signoff_bench_<pid><suffix>` on the bench server, dropped after."""
    base = sa.engine.make_url(pg_base_url())
    name = f"signoff_bench_{os.getpid()}{suffix}"
    with psycopg.connect(pg_base_url(), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(pg_base_url(), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fresh_schema(db: Database) -> None:
    upgrade(db)
    if db.dialect == "postgresql":
        names = ", ".join(t.name for t in metadata.sorted_tables)
        with db.engine.begin() as conn:
            conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


# ---- this script's own run: leave requests --------------------------------------------


def prepare(db: Database, clock: ManualClock, count: int) -> list[str]:
    fresh_schema(db)
    import_directory_file(SqlUnitOfWork(db), ROOT / "examples" / "directory.json")
    with SqlUnitOfWork(db) as uow:
        definition = json.loads((ROOT / "examples/templates/leave.json").read_text())
        uow.templates.publish(definition, None, clock.now())
        uow.commit()
    return [
        start(
            lambda: SqlUnitOfWork(db),
            clock,
            actor="u-zhangsan",
            template_key="leave",
            form=LEAVE,
            instance_id=f"leave-{k:06d}",
        ).instance_id
        for k in range(count)
    ]


def pending_of(db: Database, ids: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
    """Each instance's pending tasks: (task id, assignee)."""
    out: dict[str, list[tuple[str, str]]] = {i: [] for i in ids}
    with db.reader() as conn:
        rows = conn.execute(
            sa.select(tasks.c.instance_id, tasks.c.id, tasks.c.assignee)
            .where(tasks.c.status == "pending", tasks.c.instance_id.in_(ids))
            .order_by(tasks.c.id)
        )
        for row in rows:
            out[row.instance_id].append((row.id, row.assignee))
    return out


def approve_all(
    db: Database,
    clock: ManualClock,
    ids: Sequence[str],
    capture: Capture | None = None,
    on_command: Callable[[list[Statement]], None] | None = None,
) -> tuple[float, float, int]:
    """Approve every pending task of every instance, round by round, one transaction
    each; returns (wall seconds, CPU seconds, approvals)."""
    pending = {i: p for i, p in pending_of(db, ids).items() if p}
    approvals = 0
    wall, cpu = time.perf_counter(), time.process_time()
    while pending:
        for instance_id, waiting in list(pending.items()):
            task_id, person = waiting[0]
            outcome = act(
                SqlUnitOfWork(db), clock, instance_id, Approve(actor=person, task_id=task_id)
            )
            if capture is not None and on_command is not None:
                on_command(capture.cut())
            approvals += 1
            if outcome.pending:
                pending[instance_id] = [(t, p) for t, p, _ in outcome.pending]
            else:
                del pending[instance_id]
    return time.perf_counter() - wall, time.process_time() - cpu, approvals


def replay_all(url: str, transactions: Sequence[Sequence[Statement]]) -> tuple[float, float]:
    client = RawClient(url)
    wall, cpu = time.perf_counter(), time.process_time()
    for transaction in transactions:
        client.run(transaction)
    elapsed = time.perf_counter() - wall, time.process_time() - cpu
    client.close()
    return elapsed


def bench(urls: tuple[str, str], count: int) -> dict[str, float]:
    """Service on the first database, the raw replay on the second (prepared alike)."""
    clock = ManualClock(datetime(2026, 11, 23, 9, tzinfo=UTC))
    service_db, raw_db = Database(urls[0]), Database(urls[1])
    ids = prepare(service_db, clock, count)
    prepare(raw_db, ManualClock(datetime(2026, 11, 23, 9, tzinfo=UTC)), count)
    raw_db.dispose()
    capture = Capture(service_db)
    capture.cut()
    transactions: list[list[Statement]] = []
    service_s, _, service_n = approve_all(
        service_db, clock, ids, capture, lambda s: transactions.append(floor(s))
    )
    capture.close()
    service_db.dispose()
    raw_s, _ = replay_all(urls[1], transactions)
    return {
        "service_per_s": service_n / service_s,
        "raw_per_s": len(transactions) / raw_s,
        "ratio": service_s / raw_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--approvals", type=int, default=300, help="instances (x3 approvals)")
    args = parser.parse_args()
    count = max(10, args.approvals // 3)
    results: list[tuple[str, dict[str, float]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        pair = (f"sqlite:///{Path(tmp) / 'service.db'}", f"sqlite:///{Path(tmp) / 'raw.db'}")
        results.append(("sqlite", bench(pair, count)))
    if pg_available():
        with pg_database("_s") as service, pg_database("_r") as raw:
            results.append(("postgresql", bench((service, raw), count)))
    else:
        print(f"(PostgreSQL skipped: nothing answers at {pg_base_url()})")
    print(f"leave requests, one transaction per approval; SQLite synchronous={SYNCHRONOUS}")
    print(f"{'database':<12}{'service/s':>12}{'raw SQL/s':>12}{'service/raw':>14}")
    for kind, r in results:
        print(f"{kind:<12}{r['service_per_s']:>12,.0f}{r['raw_per_s']:>12,.0f}{r['ratio']:>13.2f}x")


if __name__ == "__main__":
    main()
