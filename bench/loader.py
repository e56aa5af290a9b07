"""A fast loader: millions of instances whose rows are exactly Signoff's.

How it works (the same on SQLite and PostgreSQL):

1. **Seeds by real commands.** A few seed instances of one template are played through
   the service layer (`start`, then `act(Approve)`) by placeholder people
   (`u-seed-app`, `u-seed-1` ... `u-seed-5`), each stopped at a different point: most
   finished, some waiting at step 1, 2, 3 or 4. Their rows (instance, tasks, CCs, audit
   trail, outbox) are what Signoff writes, byte for byte.
2. **Clones in SQL.** Clone `k` copies seed `k mod S` with `INSERT ... SELECT` inside the
   database: every text and JSON column goes through `replace()` for the seed's
   instance id (`g` + k in 25 digits, so ids have the length of Signoff's ULIDs and
   arrive in key order, as time-ordered ULIDs do), its serial (`GROWTH-` + k in 13
   digits, unique) and the six placeholder people (people of a pool of `POOL` real
   principals, spread by k). Timestamps stay the seed's. Outbox rows get positions
   as the relay would give them. Nothing crosses into Python per row: a batch of
   50,000 instances is six statements.
3. What differs from rows written one command at a time: the audit hash chains of
   clones are the seed's (`signoff audit verify` would report them; nothing measured
   reads them), relayed notices have no `feeds` rows, and every clone of a seed has the
   same timestamps.

`Loader(db).seed(...)` then `Loader.grow(n)` (repeatable: 10k, then up to 100k, then
1M) is what `bench/growth.py` uses.
"""

# ruff: noqa: S608  # the SQL is built from the schema's names and integers only

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from bench.processes import FORM, FORM_FIELDS
from signoff.domain.commands import Approve
from signoff.service.clock import ManualClock
from signoff.service.commands import act, start
from signoff.service.directory_import import import_directory
from signoff.store.database import Database
from signoff.store.schema import audit, ccs, instances, outbox, relay_state, tasks
from signoff.store.uow import SqlUnitOfWork

POOL = 2000  # principals the clones' people are drawn from
SPREAD = 333  # clone k's people: pool k, k + 333, k + 666, ... (six different people)
SEED_PEOPLE = ("u-seed-app", "u-seed-1", "u-seed-2", "u-seed-3", "u-seed-4", "u-seed-5")
SEED_TIME = datetime(2025, 1, 1, 9, tzinfo=UTC)
BATCH = 50_000
# where each seed stops: approvals done (5 = finished); 10 seeds: 6 finished, 4 waiting
SEED_STOPS = (5, 5, 5, 5, 5, 5, 0, 1, 2, 3)
# the columns holding an instance id, a person, or anything (JSON, the title), by name
_IDS = frozenset({"id", "instance_id", "event_id", "origin"})
_PEOPLE = frozenset({"applicant_id", "assignee", "actor", "principal_id", "on_behalf_of"})
_FULL = frozenset({"title", "state", "data", "audience"})
_JSON = frozenset({"state", "data", "audience"})  # JSON columns among those replaced
_REPLACED = _IDS | _PEOPLE | _FULL | {"serial"}
_CLONED = {instances: "id", tasks: "instance_id", ccs: "instance_id", audit: "instance_id"}


def pool_person(n: int) -> str:
    return f"u-p{n % POOL:05d}"


def clone_id(k: int) -> str:
    return f"g{k:025d}"


def clone_people(k: int) -> tuple[str, ...]:
    """The applicant and the five approvers of clone k (as the SQL computes them)."""
    return tuple(pool_person(k + j * SPREAD) for j in range(6))


def directory(extra: Sequence[str] = ()) -> dict[str, Any]:
    people = [*SEED_PEOPLE, *(pool_person(n) for n in range(POOL)), *extra]
    return {
        "departments": [{"id": "d-all", "name": "All", "parent_id": None, "head_ids": []}],
        "principals": [
            {"id": p, "name": p, "department_id": "d-all", "roles": ["staff"]} for p in people
        ],
    }


def template(key: str, steps: int, people: Sequence[str], cc: str | None) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = [
        {
            "id": f"step{n + 1}",
            "type": "approver",
            "name": f"step {n + 1}",
            "mode": "any",
            "assignees": [{"type": "users", "users": [people[n]]}],
        }
        for n in range(steps)
    ]
    if cc is not None:
        nodes.append(
            {
                "id": "cc_done",
                "type": "cc",
                "name": "cc",
                "recipients": [{"type": "users", "users": [cc]}],
                "when": "finish",
            }
        )
    return {
        "key": key,
        "name": f"{steps}-step request",
        "version": 1,
        "settings": {"serial": {"prefix": "GROWTH", "digits": 4}},
        "form": {"fields": FORM_FIELDS},
        "flow": {"nodes": nodes},
    }


@dataclass
class Seed:
    instance_id: str
    serial: str


class Loader:
    def __init__(self, db: Database, *, relayed: bool = True) -> None:
        """`relayed`: clones' outbox rows get positions, as if the relay had run (their
        `feeds` rows are not made); otherwise they wait for the real relay."""
        self.db = db
        self.relayed = relayed
        self.pg = db.dialect == "postgresql"
        self.seeds: list[Seed] = []
        self.loaded = 0  # clones so far
        self.seconds = 0.0  # spent cloning
        self._sqlite_loader: sa.Engine | None = None

    # ---- 1. seeds ---------------------------------------------------------------------

    def setup(self, extra_people: Sequence[str] = ()) -> None:
        import_directory(
            SqlUnitOfWork(self.db), ("people.json", json.dumps(directory(extra_people)))
        )

    def publish(self, definition: dict[str, Any]) -> None:
        with SqlUnitOfWork(self.db) as uow:
            uow.templates.publish(definition, None, SEED_TIME)
            uow.commit()

    def seed(self, key: str, stops: Sequence[int] = SEED_STOPS) -> None:
        """Seed instances of template `key` (its steps approved by u-seed-1...), each
        stopped after `stops[i]` approvals."""
        clock = ManualClock(SEED_TIME)
        for n, stop in enumerate(stops):
            instance_id = f"seed{n:022d}"  # the length of a ULID, like the clones' ids
            outcome = start(
                lambda: SqlUnitOfWork(self.db),
                clock,
                actor=SEED_PEOPLE[0],
                template_key=key,
                form=FORM,
                instance_id=instance_id,
            )
            for _ in range(stop):
                clock.advance(minutes=5)
                task_id, person, _node = outcome.pending[0]
                outcome = act(
                    SqlUnitOfWork(self.db),
                    clock,
                    instance_id,
                    Approve(actor=person, task_id=task_id, comment="同意"),
                )
            with self.db.reader() as conn:
                serial = conn.execute(
                    sa.select(instances.c.serial).where(instances.c.id == instance_id)
                ).scalar_one()
            self.seeds.append(Seed(instance_id, serial))
        self._seed_table()

    def _seed_table(self) -> None:
        with self.db.writer() as conn:
            conn.execute(sa.text("DROP TABLE IF EXISTS bench_seeds"))
            conn.execute(
                sa.text(
                    "CREATE TABLE bench_seeds (slot INTEGER PRIMARY KEY, seed_id VARCHAR(64), "
                    "serial VARCHAR(64))"
                )
            )
            conn.execute(
                sa.text("INSERT INTO bench_seeds VALUES (:slot, :seed_id, :serial)"),
                [
                    {"slot": n, "seed_id": s.instance_id, "serial": s.serial}
                    for n, s in enumerate(self.seeds)
                ],
            )

    # ---- 2. clones ---------------------------------------------------------------------

    def grow(self, total: int) -> float:
        """Clone until there are `total` clones; returns the seconds it took."""
        began = time.perf_counter()
        while self.loaded < total:
            upto = min(total, self.loaded + BATCH)
            self._batch(self.loaded, upto)
            self.loaded = upto
        spent = time.perf_counter() - began
        self.seconds += spent
        return spent

    def _batch(self, first: int, upto: int) -> None:
        with self._writer() as conn:
            conn.execute(sa.text("DROP TABLE IF EXISTS bench_clones"))
            conn.execute(sa.text(self._clones_sql(first, upto - 1)))
            for table in (instances, tasks, ccs, audit):
                conn.execute(sa.text(self._copy_sql(table)))
            base = conn.execute(sa.select(sa.func.coalesce(sa.func.max(outbox.c.position), 0)))
            conn.execute(sa.text(self._copy_sql(outbox, int(base.scalar_one()))))
            if self.relayed:
                top = conn.execute(sa.select(sa.func.max(outbox.c.position))).scalar_one()
                conn.execute(sa.update(relay_state).values(position=top))

    @contextmanager
    def _writer(self) -> Iterator[sa.Connection]:
        """A loading transaction: PostgreSQL's commit does not wait for the disk; SQLite's
        connection has a 2 GB page cache and does not sync (the database stays in WAL
        mode; only the loader's own commits skip the fsync)."""
        if self.pg:
            with self.db.writer() as conn:
                conn.execute(sa.text("SET LOCAL synchronous_commit = off"))
                yield conn
            return
        if self._sqlite_loader is None:
            self._sqlite_loader = sa.create_engine(self.db.url, poolclass=sa.pool.StaticPool)

            @sa.event.listens_for(self._sqlite_loader, "connect")
            def _pragmas(dbapi: Any, _record: Any) -> None:
                dbapi.isolation_level = None
                for pragma in ("synchronous=OFF", "cache_size=-2000000", "temp_store=MEMORY"):
                    dbapi.execute(f"PRAGMA {pragma}")

        with self._sqlite_loader.connect() as conn:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            yield conn
            conn.exec_driver_sql("COMMIT")

    def close(self) -> None:
        if self._sqlite_loader is not None:
            self._sqlite_loader.dispose()

    def _fmt(self, expr: str, width: int) -> str:
        if self.pg:
            return f"lpad(({expr})::text, {width}, '0')"
        return f"printf('%0{width}d', {expr})"

    def _clones_sql(self, first: int, last: int) -> str:
        """Clone k's seed, id, serial and people (numbers formatted in: PostgreSQL takes
        no parameters in CREATE TABLE AS)."""
        numbers = (
            f"generate_series({first}, {last}) AS n(k)"
            if self.pg
            else f"(WITH RECURSIVE r(k) AS (SELECT {first} UNION ALL SELECT k + 1 FROM r "
            f"WHERE k < {last}) SELECT k FROM r) AS n"
        )
        people = ", ".join(
            f"'u-p' || {self._fmt(f'({p}) % {POOL}', 5)} AS p{j}"
            for j, p in enumerate(f"n.k + {j * SPREAD}" for j in range(6))
        )
        return (
            "CREATE TABLE bench_clones AS SELECT n.k AS k, s.seed_id AS seed_id, "
            f"s.serial AS seed_serial, 'g' || {self._fmt('n.k', 25)} AS new_id, "
            f"'GROWTH-' || {self._fmt('n.k', 13)} AS serial, {people} "
            f"FROM {numbers} JOIN bench_seeds s ON s.slot = n.k % {len(self.seeds)}"
        )

    def _replaced(self, column: str) -> str:
        """The clone's value of a column: only the placeholders it can hold are replaced."""
        expr = f"t.{column}"
        if column not in _REPLACED:
            return expr
        if self.pg and column in _JSON:
            expr = f"{expr}::text"
        if column in _IDS or column in _FULL:
            expr = f"replace({expr}, c.seed_id, c.new_id)"
        if column == "serial" or column in _FULL:
            expr = f"replace({expr}, c.seed_serial, c.serial)"
        if column in _PEOPLE or column in _FULL:
            for j, person in enumerate(SEED_PEOPLE):
                expr = f"replace({expr}, '{person}', c.p{j})"
        if self.pg and column in _JSON:
            expr = f"({expr})::jsonb"
        return expr

    def _copy_sql(self, table: sa.Table, base: int = 0) -> str:
        link = _CLONED.get(table, "instance_id")
        names, exprs = [], []
        for column in table.c:
            if column.name == "id" and table.name in ("audit", "outbox"):
                continue  # autoincrement
            names.append(column.name)
            if column.name == "position":
                exprs.append(
                    f"{base} + row_number() OVER (ORDER BY c.k, t.id)" if self.relayed else "NULL"
                )
                continue
            exprs.append(self._replaced(column.name))
        order = "c.k, t.seq" if table is audit else "c.k, t.id" if table is not ccs else "c.k"
        return (
            f"INSERT INTO {table.name} ({', '.join(names)}) SELECT {', '.join(exprs)} "
            f"FROM bench_clones c JOIN {table.name} t ON t.{link} = c.seed_id ORDER BY {order}"
        )
