"""Approvals per second through the service layer, next to the same writes as raw SQL.

For each database (SQLite always; PostgreSQL when SIGNOFF_BENCH_PG_URL or
SIGNOFF_TEST_PG_URL is set), in one run:

- service: `act(Approve)` on leave requests, one transaction per approval, exactly as
  the API will call it (load + lock, decide, save instance + tasks + audit + outbox);
- raw: the minimal SQL transaction doing the same writes through the bare driver
  (sqlite3 / psycopg): lock and read the instance row and its tasks, update the
  instance, update the decided task, insert the next task, insert the audit and outbox
  rows - with payloads of the sizes the service wrote.

The figure to keep low is service time / raw time per approval (target: 1.5x).
Run: `.venv/bin/python -m bench.store [--approvals N]` (as a module: `bench/http.py` would
hide the standard library's `http` from a script run by path). A script, not a test.
"""

# ruff: noqa: S608  # the raw SQL is built from constant fragments and placeholders only

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sqlite3
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa

from signoff.domain.commands import Approve
from signoff.service.clock import ManualClock
from signoff.service.commands import act, start
from signoff.service.directory_import import import_directory_file
from signoff.store.database import Database
from signoff.store.migrate import upgrade
from signoff.store.schema import audit, instances, metadata, outbox, tasks
from signoff.store.uow import SqlUnitOfWork

ROOT = Path(__file__).resolve().parents[1]
LEAVE = {
    "leave_type": "annual",
    "period": ["2026-12-01", "2026-12-05"],
    "days": 5,
    "reason": "family trip",
}


def prepare(db: Database, clock: ManualClock, count: int) -> list[str]:
    upgrade(db)
    if db.dialect == "postgresql":
        names = ", ".join(t.name for t in metadata.sorted_tables)
        with db.engine.begin() as conn:
            conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    import_directory_file(SqlUnitOfWork(db), ROOT / "examples" / "directory.json")
    with SqlUnitOfWork(db) as uow:
        definition = json.loads((ROOT / "examples/templates/leave.json").read_text())
        uow.templates.publish(definition, None, clock.now())
        uow.commit()
    ids = []
    for _ in range(count):
        outcome = start(
            lambda: SqlUnitOfWork(db), clock, actor="u-zhangsan", template_key="leave", form=LEAVE
        )
        ids.append(outcome.instance_id)
    return ids


def service_run(db: Database, clock: ManualClock, ids: list[str]) -> tuple[float, int]:
    """Approve every pending task of every instance, round by round; (seconds, approvals)."""
    pending: dict[str, tuple[str, str]] = {}
    with db.reader() as conn:
        for row in conn.execute(
            sa.select(tasks.c.instance_id, tasks.c.id, tasks.c.assignee).where(
                tasks.c.status == "pending", tasks.c.instance_id.in_(ids)
            )
        ):
            pending[row.instance_id] = (row.id, row.assignee)
    approvals = 0
    began = time.perf_counter()
    while pending:
        for instance_id, (task_id, person) in list(pending.items()):
            outcome = act(
                SqlUnitOfWork(db),
                clock,
                instance_id,
                Approve(actor=person, task_id=task_id, comment="ok"),
            )
            approvals += 1
            mine = list(outcome.pending)
            if mine:
                pending[instance_id] = (mine[0][0], mine[0][1])
            else:
                del pending[instance_id]
    return time.perf_counter() - began, approvals


def outbox_rows(db: Database) -> int:
    with db.reader() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(outbox)).scalar_one())


def payload_sizes(db: Database, events: int, approvals: int) -> dict[str, float]:
    """Average sizes the service wrote, for the raw transaction to match."""
    with db.reader() as conn:
        state = conn.execute(sa.select(instances.c.state).limit(50)).scalars().all()
        audit_data = conn.execute(sa.select(audit.c.data).limit(500)).scalars().all()
    return {
        "state": sum(len(json.dumps(s)) for s in state) / max(1, len(state)),
        "event": sum(len(json.dumps(d)) for d in audit_data) / max(1, len(audit_data)),
        "events_per_approval": events / max(1, approvals),
    }


def raw_run(kind: str, url: str, ids: list[str], sizes: dict[str, float]) -> tuple[float, int]:
    """The same writes per approval through the bare driver, one transaction each."""
    events = round(sizes["events_per_approval"])
    state = json.dumps({"blob": "x" * int(sizes["state"])})
    data = json.dumps({"blob": "x" * int(sizes["event"])})
    now = datetime.now(UTC)
    if kind == "sqlite":
        conn: Any = sqlite3.connect(url, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={os.environ.get('SIGNOFF_SQLITE_SYNCHRONOUS', 'FULL')}")
        ph, begin, lock = "?", "BEGIN IMMEDIATE", ""
        stamp: Any = now.replace(tzinfo=None).isoformat(sep=" ")
    else:
        conn = psycopg.connect(url, autocommit=True)
        ph, begin, lock = "%s", "BEGIN", " FOR UPDATE"
        stamp = now
    cur = conn.cursor()
    seqs = dict.fromkeys(ids, 100)
    approvals = 0
    began = time.perf_counter()
    for round_ in range(3):
        for instance_id in ids:
            cur.execute(begin)
            cur.execute(
                f"SELECT id, status, form, state, version, audit_head FROM instances "
                f"WHERE id = {ph}{lock}",
                (instance_id,),
            )
            row = cur.fetchone()
            cur.execute(f"SELECT * FROM tasks WHERE instance_id = {ph}", (instance_id,))
            cur.fetchall()
            version = row[4]
            cur.execute(
                f"UPDATE instances SET state = {ph}, version = {ph}, updated_at = {ph}, "
                f"audit_head = {ph} WHERE id = {ph} AND version = {ph}",
                (state, version + 1, stamp, "h" * 64, instance_id, version),
            )
            cur.execute(
                f"UPDATE tasks SET status = 'approved', acted_at = {ph}, comment = 'ok' "
                f"WHERE id = {ph}",
                (stamp, f"{instance_id}.t1"),
            )
            cur.execute(
                f"INSERT INTO tasks (id, instance_id, template_key, node_id, lane, assignee, "
                f"status, kind, created_at) VALUES ({ph}, {ph}, 'leave', 'n', 0, 'u-x', "
                f"'pending', 'normal', {ph})",
                (f"{instance_id}.raw{round_}", instance_id, stamp),
            )
            prev = "0" * 64
            audit_rows, outbox_rows = [], []
            for k in range(events):
                seq = seqs[instance_id] = seqs[instance_id] + 1
                digest = hashlib.sha256((prev + data).encode()).hexdigest()
                audit_rows.append(
                    (
                        instance_id,
                        seq,
                        f"{instance_id}:{seq}",
                        "TaskApproved",
                        "u-x",
                        stamp,
                        "pending",
                        "pending",
                        data,
                        prev,
                        digest,
                    )
                )
                outbox_rows.append(
                    (f"{instance_id}:{seq}", instance_id, "TaskApproved", data, stamp, stamp)
                )
                prev = digest
                del k
            cur.executemany(
                f"INSERT INTO audit (instance_id, seq, event_id, type, actor, at, from_status, "
                f"to_status, data, prev_hash, hash) VALUES ({', '.join([ph] * 11)})",
                audit_rows,
            )
            cur.executemany(
                f"INSERT INTO outbox (event_id, instance_id, type, payload, created_at, status, "
                f"attempts, next_attempt_at) VALUES ({ph}, {ph}, {ph}, {ph}, {ph}, 'pending', 0, "
                f"{ph})",
                outbox_rows,
            )
            cur.execute("COMMIT")
            approvals += 1
    elapsed = time.perf_counter() - began
    conn.close()
    return elapsed, approvals


def bench(kind: str, url: str, count: int, raw_url: str) -> dict[str, float]:
    db = Database(url)
    clock = ManualClock(datetime(2026, 11, 23, 9, tzinfo=UTC))
    ids = prepare(db, clock, count)
    before = outbox_rows(db)
    service_s, service_n = service_run(db, clock, ids)
    sizes = payload_sizes(db, outbox_rows(db) - before, service_n)
    raw_s, raw_n = raw_run(kind, raw_url, ids, sizes)
    db.dispose()
    return {
        "service_per_s": service_n / service_s,
        "raw_per_s": raw_n / raw_s,
        "ratio": (service_s / service_n) / (raw_s / raw_n),
        "events_per_approval": sizes["events_per_approval"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--approvals", type=int, default=300, help="instances (x3 approvals)")
    args = parser.parse_args()
    count = max(10, args.approvals // 3)
    results: list[tuple[str, dict[str, float]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        results.append(("sqlite", bench("sqlite", f"sqlite:///{path}", count, str(path))))
    pg = os.environ.get("SIGNOFF_BENCH_PG_URL") or os.environ.get("SIGNOFF_TEST_PG_URL")
    if pg:
        results.append(("postgresql", bench("postgresql", pg, count, pg)))
    else:
        print("(PostgreSQL skipped: set SIGNOFF_BENCH_PG_URL)")
    sync = os.environ.get("SIGNOFF_SQLITE_SYNCHRONOUS", "FULL")
    print(f"approvals, one transaction each; SQLite synchronous={sync}")
    print(f"{'database':<12}{'service/s':>12}{'raw SQL/s':>12}{'service/raw':>14}{'events':>9}")
    for kind, r in results:
        print(
            f"{kind:<12}{r['service_per_s']:>12,.0f}{r['raw_per_s']:>12,.0f}"
            f"{r['ratio']:>13.2f}x{r['events_per_approval']:>9.1f}"
        )


if __name__ == "__main__":
    main()
