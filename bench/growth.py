"""How the cost of the everyday reads and of an approval grows with the database.

For each database (SQLite; PostgreSQL in a database of its own, created and dropped
here) the loader of `bench/loader.py` fills in instances of a 5-step template - 60%
finished, 40% waiting at step 1 to 4 (4 tasks, 18 audit rows, 10 outbox rows per
instance on average) - up to each size in turn (default 10k, 100k, 1M). One person,
`u-target`, has 50 pending tasks and 100 requests of their own among them, made by
real commands after the first fill. At each size, timed one call at a time (p50 / p99):

- **inbox**: what `GET /inbox/pending` does: the first page (20) of u-target's pending
  tasks and the four box counts, in one unit of work;
- **my requests**: the same for `GET /inbox/mine`;
- **instance page**: what `GET /instances/{id}` does: `instance_view` (load, access
  check, timeline, names) and its JSON, for random instances, as their applicant;
- **approve**: `act(Approve)` on a random waiting instance, one durable transaction.

Goal: each grows by less than 2x from 10k to 1M. Then the bytes on disk per finished
4-step instance (instance, tasks, CC, audit trail, outbox and the relay's feed rows,
with their indexes): 2,000 clones (500 with --quick) of one finished instance, relayed
by the real relay, `VACUUM` (FULL on PostgreSQL), measured with `dbstat` on SQLite and
`pg_total_relation_size` on PostgreSQL, minus the same database before. Goal: < 6 KB.

Run: `.venv/bin/python -m bench.growth [--sizes 10000,100000,1000000]
[--pg-sizes 10000,100000] [--quick]`. A script; it writes its database under
$TMPDIR (SQLite needs about 20 GB at 1M).
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa

from bench.loader import POOL, SEED_PEOPLE, SEED_STOPS, Loader, clone_id, clone_people, template
from bench.processes import FORM
from bench.results import Result, command_line, quantile
from bench.store import fresh_schema, pg_available, pg_base_url, pg_database, pg_dsn
from signoff.domain.commands import Approve
from signoff.service.auth import Caller
from signoff.service.clock import ManualClock
from signoff.service.commands import act, start
from signoff.service.readmodel import InboxFilter
from signoff.service.views import instance_view
from signoff.store.database import Database
from signoff.store.outbox import Routing, relay
from signoff.store.schema import tasks
from signoff.store.uow import SqlUnitOfWork

TARGET = "u-target"
NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)
OPS = ("inbox", "my requests", "instance page", "approve")
WAITING = [slot for slot, stop in enumerate(SEED_STOPS) if stop < 5]
TABLES = ("instances", "tasks", "ccs", "audit", "outbox", "feeds")


class Bench:
    """One database being grown and measured."""

    def __init__(self, url: str, samples: int) -> None:
        self.db = Database(url)
        self.samples = samples
        self.clock = ManualClock(NOW)
        self.loader = Loader(self.db)
        self.random = random.Random(7)
        self.approved: set[int] = set()

    def setup(self) -> None:
        fresh_schema(self.db)
        self.loader.setup([TARGET])
        self.loader.publish(template("growth", 5, SEED_PEOPLE[1:], SEED_PEOPLE[3]))
        self.loader.publish(template("for_target", 1, [TARGET], None))
        self.loader.seed("growth")

    def target_work(self) -> None:
        """u-target's 50 pending tasks and 100 requests, by real commands."""
        for n in range(50):
            self.clock.advance(seconds=1)
            start(self._uow, self.clock, actor=f"u-p{n:05d}", template_key="for_target", form=FORM)
        for _ in range(100):
            self.clock.advance(seconds=1)
            start(self._uow, self.clock, actor=TARGET, template_key="growth", form=FORM)

    def _uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.db)

    # ---- the measured operations ------------------------------------------------------

    def inbox(self, box: str) -> Callable[[], None]:
        def run() -> None:
            with SqlUnitOfWork(self.db) as uow:
                page = uow.queries.inbox(TARGET, box, InboxFilter(), None, 20)
                counts = uow.queries.counts(TARGET)
            assert len(page.items) == 20 and counts["pending"] == 50 and counts["mine"] == 100

        return run

    def page(self) -> Callable[[], None]:
        k = self.random.randrange(self.loader.loaded)
        caller = Caller(clone_people(k)[0])

        def run() -> None:
            view = instance_view(SqlUnitOfWork(self.db), caller, clone_id(k))
            assert view.to_json()["id"] == clone_id(k)

        return run

    def approval(self) -> Callable[[], None]:
        seeds = len(SEED_STOPS)
        while True:
            k = self.random.randrange(self.loader.loaded // seeds) * seeds
            k += self.random.choice(WAITING)
            if k < self.loader.loaded and k not in self.approved:
                break
        self.approved.add(k)
        with self.db.reader() as conn:
            task_id, person = conn.execute(
                sa.select(tasks.c.id, tasks.c.assignee).where(
                    tasks.c.instance_id == clone_id(k), tasks.c.status == "pending"
                )
            ).one()
        self.clock.advance(seconds=1)

        def run() -> None:
            act(
                SqlUnitOfWork(self.db),
                self.clock,
                clone_id(k),
                Approve(actor=person, task_id=task_id, comment="同意"),
            )

        return run

    def measure(self) -> dict[str, tuple[float, float]]:
        makers: dict[str, Callable[[], Callable[[], None]]] = {
            "inbox": lambda: self.inbox("pending"),
            "my requests": lambda: self.inbox("mine"),
            "instance page": self.page,
            "approve": self.approval,
        }
        out = {}
        for op, make in makers.items():
            for _ in range(10):  # warm up
                make()()
            times = []
            for _ in range(self.samples):
                call = make()
                t0 = time.perf_counter()
                call()
                times.append(time.perf_counter() - t0)
            out[op] = (quantile(times, 0.5) * 1000, quantile(times, 0.99) * 1000)
        return out

    def size_on_disk(self) -> int:
        if self.db.dialect == "sqlite":
            path = Path(self.db.url.removeprefix("sqlite:///"))
            return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
        with self.db.reader() as conn:
            return int(
                conn.execute(sa.text("SELECT pg_database_size(current_database())")).scalar_one()
            )

    def close(self) -> None:
        self.loader.close()
        self.db.dispose()


def grow(kind: str, url: str, sizes: list[int], samples: int) -> dict[str, Any]:
    bench = Bench(url, samples)
    bench.setup()
    figures: dict[str, Any] = {"sizes": [], "ops": {op: {"p50": [], "p99": []} for op in OPS}}
    figures.update(load_seconds=[], bytes=[])
    for n, size in enumerate(sizes):
        spent = bench.loader.grow(size)
        if bench.db.dialect == "postgresql":
            vacuum_analyze(url)
        if n == 0:
            bench.target_work()
        measured = bench.measure()
        figures["sizes"].append(size)
        figures["load_seconds"].append(spent)
        figures["bytes"].append(bench.size_on_disk())
        for op, (p50, p99) in measured.items():
            figures["ops"][op]["p50"].append(p50)
            figures["ops"][op]["p99"].append(p99)
        cells = "  ".join(f"{op} {p50:.2f}/{p99:.2f} ms" for op, (p50, p99) in measured.items())
        print(f"{kind} {size:>9,}: loaded in {spent:.0f} s; {cells}", flush=True)
    bench.close()
    return figures


def vacuum_analyze(url: str, full: bool = False) -> None:
    with psycopg.connect(pg_dsn(url), autocommit=True) as conn:
        conn.execute("VACUUM (FULL, ANALYZE)" if full else "VACUUM ANALYZE")


# ---- bytes per finished instance ------------------------------------------------------


def table_bytes(db: Database, url: str) -> dict[str, int]:
    if db.dialect == "sqlite":
        db.dispose()
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        conn.execute("VACUUM")
        owner = dict(conn.execute("SELECT name, tbl_name FROM sqlite_master").fetchall())
        sizes: dict[str, int] = {}
        for name, size in conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"):
            table = owner.get(name, name)
            sizes[table] = sizes.get(table, 0) + int(size)
        conn.close()
        return {t: sizes.get(t, 0) for t in TABLES}
    vacuum_analyze(url, full=True)
    with db.reader() as conn:
        return {
            t: int(conn.execute(sa.text(f"SELECT pg_total_relation_size('{t}')")).scalar_one())
            for t in TABLES
        }


def bytes_per_instance(url: str, count: int) -> dict[str, float]:
    db = Database(url)
    fresh_schema(db)
    loader = Loader(db, relayed=False)
    loader.setup()
    loader.publish(template("step4", 4, SEED_PEOPLE[1:], SEED_PEOPLE[3]))
    loader.seed("step4", stops=(4,))
    relay_all(db)
    before = table_bytes(db, url)
    loader.grow(count)
    relay_all(db)
    after = table_bytes(db, url)
    loader.close()
    db.dispose()
    return {t: (after[t] - before[t]) / count for t in TABLES}


def relay_all(db: Database) -> None:
    while True:
        with db.writer() as conn:
            if not relay(conn, NOW, Routing(), limit=5000):
                return


# ---- the report -----------------------------------------------------------------------


def report(result: Result, kind: str, figures: dict[str, Any]) -> None:
    sizes = figures["sizes"]
    table = result.table(
        f"{kind}: p50 / p99 ms at each size",
        ["operation", *(f"{s:,}" for s in sizes), f"p50 {sizes[-1]:,} / {sizes[0]:,}"],
    )
    growth = {}
    for op in OPS:
        p50, p99 = figures["ops"][op]["p50"], figures["ops"][op]["p99"]
        growth[op] = p50[-1] / p50[0]
        table.add(
            op, *(f"{a:.2f} / {b:.2f}" for a, b in zip(p50, p99, strict=True)), f"{growth[op]:.2f}x"
        )
    table.add("database size", *(f"{b / 1e9:.2f} GB" for b in figures["bytes"]), "")
    table.add("load time", *(f"{s:.0f} s" for s in figures["load_seconds"]), "")
    span = f"{sizes[0]:,} -> {sizes[-1]:,}"
    worst = max(growth, key=growth.__getitem__)
    result.goal(
        f"{kind}: each operation grows < 2x from 10k to 1M (p50, measured {span})",
        ", ".join(f"{op} {g:.2f}x" for op, g in growth.items()) + f" (highest: {worst})",
        growth[worst] < 2,
        judged=sizes[-1] >= 1_000_000,
    )


def report_bytes(result: Result, measured: dict[str, dict[str, float]], clones: int) -> None:
    table = result.table(
        "Bytes on disk per finished 4-step instance (rows + indexes)",
        ["database", *TABLES, "total", "without outbox + feeds"],
        f"after VACUUM (FULL on PostgreSQL); {clones:,} clones of one instance approved through "
        "4 steps with a CC at the end, relayed by the real relay",
    )
    for kind, sizes in measured.items():
        total = sum(sizes.values())
        core = total - sizes["outbox"] - sizes["feeds"]
        table.add(kind, *(f"{sizes[t]:,.0f}" for t in TABLES), f"{total:,.0f}", f"{core:,.0f}")
        result.goal(
            f"{kind}: a finished 4-step instance takes < 6 KB on disk, audit included",
            f"{total / 1024:.1f} KB ({core / 1024:.1f} KB without outbox and feeds)",
            total < 6 * 1024,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="SQLite sizes")
    parser.add_argument("--pg-sizes", default="10000,100000", help="PostgreSQL sizes")
    parser.add_argument("--samples", type=int, default=300, help="timed calls per operation")
    parser.add_argument("--quick", action="store_true", help="1k and 10k, 40 samples")
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.sizes = args.pg_sizes = "1000,10000"
        args.samples = 40
    clones = 500 if args.quick else 2000  # finished instances measured for bytes on disk
    sizes = [int(s) for s in args.sizes.split(",")]
    pg_sizes = [int(s) for s in args.pg_sizes.split(",") if s]
    result = Result("growth", "Growth: cost against database size", command_line(), args.quick)
    result.notes.append(
        f"{args.samples} timed calls per operation and size, one at a time, after 10 "
        "untimed ones; PostgreSQL is VACUUM ANALYZEd after each fill (as autovacuum would)"
    )
    bytes_measured: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(dir=os.environ.get("SIGNOFF_BENCH_TMP")) as tmp:
        url = f"sqlite:///{Path(tmp) / 'growth.db'}"
        result.data["sqlite"] = grow("SQLite", url, sizes, args.samples)
        report(result, "SQLite", result.data["sqlite"])
        Path(url.removeprefix("sqlite:///")).unlink()
        bytes_url = f"sqlite:///{Path(tmp) / 'bytes.db'}"
        bytes_measured["SQLite"] = bytes_per_instance(bytes_url, clones)
    if not args.no_pg and pg_sizes and pg_available():
        with pg_database("_growth") as url:
            result.data["postgresql"] = grow("PostgreSQL", url, pg_sizes, args.samples)
        report(result, "PostgreSQL", result.data["postgresql"])
        with pg_database("_bytes") as url:
            bytes_measured["PostgreSQL"] = bytes_per_instance(url, clones)
        if pg_sizes[-1] < sizes[-1]:
            result.notes.append(
                f"PostgreSQL was grown to {pg_sizes[-1]:,} only (SQLite to {sizes[-1]:,}): "
                "the 1M fill takes too long on this machine for one `make bench`"
            )
    else:
        result.notes.append(f"PostgreSQL skipped (--no-pg, or nothing at {pg_base_url()})")
    report_bytes(result, bytes_measured, clones)
    result.data["bytes_per_instance"] = bytes_measured
    result.data["pool"] = POOL
    result.print()
    result.save()


if __name__ == "__main__":
    main()
