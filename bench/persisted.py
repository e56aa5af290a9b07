"""Approvals committed durably: Signoff's service layer, SpiffWorkflow + SQLite, raw SQL.

Every approval is its own durable transaction. The processes are those of
`bench/processes.py`, with the same people and form.

SQLite (WAL, `synchronous` = $SIGNOFF_SQLITE_SYNCHRONOUS, FULL by default, for all three):

- **Signoff**: `signoff.service.commands.act(SqlUnitOfWork(db), clock, id, Approve(...))`,
  exactly as the API calls it, after `start(...)` submitted the instances;
- **SpiffWorkflow**: a service built on it the usual way, one row per workflow
  (`id, process, state` with the `BpmnWorkflowSerializer` JSON): per approval `BEGIN
  IMMEDIATE`, read the row, deserialize, check the task is the person's, complete it,
  `do_engine_steps()`, ask who is next, serialize, `UPDATE`, `COMMIT` - through the bare
  `sqlite3` driver (no ORM: the cheapest way to run it);
- **raw SQL**: Signoff's own locking reads and writes of each approval, replayed
  through the bare driver (see `bench/store.py`): the physical floor.

PostgreSQL (its own database `signoff_bench_<pid>_*`, created and dropped here; the
server from $SIGNOFF_BENCH_PG_URL, default postgresql://postgres@127.0.0.1:5432/test):
service against raw SQL with 1 client, with 8 clients on different instances, and
with 8 clients all acting on one instance at a time (an `all` node of 8: the 8
approvers of each instance start together and queue on its row lock). Clients are
threads of this one process, as requests are threads of one server process.

Goals: Signoff >= 5x SpiffWorkflow; Signoff <= 1.5x the raw SQL time.
Run: `.venv/bin/python -m bench.persisted [--approvals N] [--quick] [--no-pg]`.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.processes import APPLICANT, CROWD, FORM, PROCESSES, Process, SpiffPlayer, all_node
from bench.processes import directory_json as people
from bench.results import Result, command_line, quantile
from bench.store import (
    SYNCHRONOUS,
    Capture,
    RawClient,
    Statement,
    approve_all,
    check_update_shape,
    floor,
    fresh_schema,
    pending_of,
    pg_available,
    pg_base_url,
    pg_database,
)
from signoff.domain.commands import Approve
from signoff.service.clock import ManualClock
from signoff.service.commands import act, start
from signoff.service.directory_import import import_directory
from signoff.store.database import Database
from signoff.store.uow import SqlUnitOfWork

T0 = datetime(2026, 11, 23, 9, tzinfo=UTC)
ROUNDS = 5  # the systems take turns, a fifth of the instances each time
ALL8 = all_node(8)


@dataclass
class Run:
    seconds: float
    cpu: float
    approvals: int
    latencies: list[float] = field(default_factory=list)

    def __add__(self, other: Run) -> Run:
        return Run(
            self.seconds + other.seconds,
            self.cpu + other.cpu,
            self.approvals + other.approvals,
            self.latencies + other.latencies,
        )

    @property
    def per_s(self) -> float:
        return self.approvals / self.seconds

    @property
    def cpu_us(self) -> float:
        return self.cpu / self.approvals * 1e6


# ---- Signoff ---------------------------------------------------------------------------


def prepare(url: str, plan: dict[str, int]) -> dict[str, list[str]]:
    """Schema, people, templates, and `plan[name]` submitted instances of each process
    (`name` is a template key, or `key@batch` for a second batch of its instances), with
    the same ids, times and contents on every database prepared with the plan."""
    db = Database(url)
    fresh_schema(db)
    import_directory(SqlUnitOfWork(db), ("people.json", json.dumps(people())))
    clock = ManualClock(T0)
    processes = {p.key: p for p in (*PROCESSES, ALL8)}
    ids: dict[str, list[str]] = {}
    with SqlUnitOfWork(db) as uow:
        for key in {name.split("@")[0] for name in plan}:
            uow.templates.publish(processes[key].template_json(), None, clock.now())
        uow.commit()
    for name, count in plan.items():
        ids[name] = [
            start(
                lambda: SqlUnitOfWork(db),
                clock,
                actor=APPLICANT,
                template_key=name.split("@")[0],
                form=FORM,
                instance_id=f"{name.replace('@', '-')}-{k:05d}",
            ).instance_id
            for k in range(count)
        ]
    db.dispose()
    return ids


class SignoffSide:
    """The service layer on one database, recording each approval's floor statements."""

    def __init__(self, url: str) -> None:
        self.db = Database(url)
        self.capture = Capture(self.db)
        self.clock = ManualClock(T0)

    def run(self, ids: Sequence[str]) -> tuple[Run, list[list[Statement]]]:
        self.capture.cut()
        transactions: list[list[Statement]] = []
        wall, cpu, n = approve_all(
            self.db, self.clock, ids, self.capture, lambda s: transactions.append(floor(s))
        )
        return Run(wall, cpu, n), transactions

    def close(self) -> None:
        self.capture.close()
        self.db.dispose()


class RawSide:
    def __init__(self, url: str) -> None:
        self.client = RawClient(url)

    def run(self, transactions: Sequence[Sequence[Statement]]) -> Run:
        wall, cpu = time.perf_counter(), time.process_time()
        for transaction in transactions:
            self.client.run(transaction)
        return Run(time.perf_counter() - wall, time.process_time() - cpu, len(transactions))

    def close(self) -> None:
        self.client.close()


def rounds(ids: Sequence[str], count: int) -> list[Sequence[str]]:
    """The instances split into `count` rounds, so that the systems take turns and share
    the machine's noise."""
    size = -(-len(ids) // count)
    return [ids[k : k + size] for k in range(0, len(ids), size)]


def concurrent(workers: Sequence[Callable[[], list[float]]]) -> Run:
    """Run the workers in threads at once; each returns its commands' latencies."""
    latencies: list[list[float]] = [[] for _ in workers]

    def work(k: int) -> None:
        latencies[k] = workers[k]()

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(workers))]
    wall, cpu = time.perf_counter(), time.process_time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    flat = [x for lat in latencies for x in lat]
    return Run(time.perf_counter() - wall, time.process_time() - cpu, len(flat), flat)


Step = tuple[str, str, str]  # instance id, task id, person


def service_clients(
    url: str, jobs: Sequence[Sequence[str | Step]], barrier: threading.Barrier | None
) -> tuple[Run, list[list[list[Statement]]]]:
    """Each client works through its jobs in order, one transaction per approval: a job
    is an instance to complete (each next task approved by its holder, as the command's
    outcome names them) or one (instance, task, person) approval. With a barrier, all
    clients start each job together."""
    db = Database(url)
    capture = Capture(db)
    clock = ManualClock(T0)
    captured: list[list[list[Statement]]] = [[] for _ in jobs]
    pending = pending_of(db, [j for js in jobs for j in js if isinstance(j, str)])

    def approve(k: int, step: Step, out: list[float]) -> list[tuple[str, str]]:
        instance_id, task_id, person = step
        t0 = time.perf_counter()
        outcome = act(SqlUnitOfWork(db), clock, instance_id, Approve(actor=person, task_id=task_id))
        out.append(time.perf_counter() - t0)
        captured[k].append(floor(capture.cut()))
        return [(t, p) for t, p, _ in outcome.pending]

    def client(k: int) -> Callable[[], list[float]]:
        def run() -> list[float]:
            capture.cut()
            out: list[float] = []
            for job in jobs[k]:
                if barrier is not None:
                    barrier.wait()
                if isinstance(job, str):
                    waiting = pending[job]
                    while waiting:
                        waiting = approve(k, (job, *waiting[0]), out)
                else:
                    approve(k, job, out)
            return out

        return run

    result = concurrent([client(k) for k in range(len(jobs))])
    capture.close()
    db.dispose()
    return result, captured


def raw_clients(
    url: str, captured: Sequence[Sequence[Sequence[Statement]]], barrier: threading.Barrier | None
) -> Run:
    clients = [RawClient(url) for _ in captured]

    def client(k: int) -> Callable[[], list[float]]:
        def run() -> list[float]:
            out = []
            for transaction in captured[k]:
                if barrier is not None:
                    barrier.wait()
                t0 = time.perf_counter()
                clients[k].run(transaction)
                out.append(time.perf_counter() - t0)
            return out

        return run

    result = concurrent([client(k) for k in range(len(captured))])
    for c in clients:
        c.close()
    return result


# ---- SpiffWorkflow + SQLite -----------------------------------------------------------


def spiff_connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={SYNCHRONOUS}")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS workflows "
        "(id TEXT PRIMARY KEY, process TEXT NOT NULL, state TEXT NOT NULL)"
    )
    return conn


class SpiffSide:
    """A SpiffWorkflow service: one row per workflow, its serializer's JSON."""

    def __init__(self, path: Path, process: Process, ids: Sequence[str]) -> None:
        self.conn = spiff_connect(path)
        self.process = process
        self.pending: dict[str, list[tuple[str, str]]] = {}
        self.sizes: list[int] = []
        for instance_id in ids:  # started as the service would, untimed
            player = SpiffPlayer(process)
            self.pending[instance_id] = player.start()
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.execute(
                "INSERT INTO workflows (id, process, state) VALUES (?, ?, ?)",
                (instance_id, process.key, player.to_json()),
            )
            self.conn.execute("COMMIT")

    def run(self, ids: Sequence[str]) -> Run:
        """Approve every task of these workflows, round by round."""
        pending = {i: self.pending[i] for i in ids}
        approvals = 0
        wall, cpu = time.perf_counter(), time.process_time()
        while pending:
            for instance_id, waiting in list(pending.items()):
                task_id, person = waiting[0]
                waiting = self.approve(instance_id, task_id, person)
                approvals += 1
                if waiting:
                    pending[instance_id] = waiting
                else:
                    del pending[instance_id]
        return Run(time.perf_counter() - wall, time.process_time() - cpu, approvals)

    def approve(self, instance_id: str, task_id: str, person: str) -> list[tuple[str, str]]:
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        (state,) = conn.execute(
            "SELECT state FROM workflows WHERE id = ?", (instance_id,)
        ).fetchone()
        player = SpiffPlayer.from_json(self.process, state)
        waiting = player.approve(task_id, person)
        state = player.to_json()
        self.sizes.append(len(state))
        conn.execute("UPDATE workflows SET state = ? WHERE id = ?", (state, instance_id))
        conn.execute("COMMIT")
        if not waiting:
            assert player.outcome == "approved"
        return waiting

    def close(self) -> None:
        self.conn.close()


# ---- the benchmark ---------------------------------------------------------------------


def plan_for(approvals: int) -> dict[str, int]:
    return {p.key: max(2, approvals // p.approvals) for p in PROCESSES}


def volume(transactions: Sequence[Sequence[Statement]]) -> tuple[float, float, float]:
    """Per approval: statements, rows written, payload kB (parameters as sent)."""
    n = max(1, len(transactions))
    statements = sum(len(t) for t in transactions) / n
    rows = sum(s.rows for t in transactions for s in t if s.table != "SELECT") / n
    payload = sum(s.payload_bytes() for t in transactions for s in t) / n / 1024
    return statements, rows, payload


def sqlite_section(result: Result, approvals: int, tmp: Path) -> None:
    plan = plan_for(approvals)
    service_url, raw_url = f"sqlite:///{tmp / 'service.db'}", f"sqlite:///{tmp / 'raw.db'}"
    ids = prepare(service_url, plan)
    prepare(raw_url, plan)
    table = result.table(
        f"SQLite (WAL, synchronous={SYNCHRONOUS}), 1 client: approvals per second",
        [
            "process",
            "approvals",
            "Signoff",
            "SpiffWorkflow",
            "raw SQL",
            "Signoff/Spiff (speed)",
            "Signoff/raw (time)",
            "Signoff/Spiff (CPU speed)",
            "Signoff/raw (CPU)",
            "Signoff CPU µs",
            "Spiff CPU µs",
            "raw CPU µs",
        ],
        "CPU: this process's CPU per approval (the database's work is in it too, SQLite "
        "being a library)",
    )
    writes = result.table(
        "What one approval writes (SQLite)",
        ["process", "statements", "rows written", "payload kB", "Spiff row kB"],
        "statements: Signoff's locking reads and writes per approval (the raw SQL replays "
        "exactly these); payload: the parameters as sent to the driver",
    )
    versus_spiff, versus_raw, cpu_spiff, cpu_raw = {}, {}, {}, {}
    ours, floor_side = SignoffSide(service_url), RawSide(raw_url)
    for process in PROCESSES:
        theirs = SpiffSide(tmp / f"spiff-{process.key}.db", process, ids[process.key])
        service = raw = spiff = Run(0, 0, 0)
        transactions: list[list[Statement]] = []
        for batch in rounds(ids[process.key], ROUNDS):
            done, captured = ours.run(batch)
            for statement in captured[0]:
                if statement.sql.startswith("UPDATE instances"):
                    check_update_shape(statement.sql)
            service += done
            raw += floor_side.run(captured)
            spiff += theirs.run(batch)
            transactions += captured
        spiff_bytes = statistics.mean(theirs.sizes)
        theirs.close()
        versus_spiff[process.key] = service.per_s / spiff.per_s
        versus_raw[process.key] = (
            service.seconds / service.approvals / (raw.seconds / raw.approvals)
        )
        cpu_spiff[process.key] = spiff.cpu_us / service.cpu_us
        cpu_raw[process.key] = service.cpu_us / raw.cpu_us
        table.add(
            process.key,
            service.approvals,
            f"{service.per_s:,.0f}",
            f"{spiff.per_s:,.0f}",
            f"{raw.per_s:,.0f}",
            f"{versus_spiff[process.key]:.2f}x",
            f"{versus_raw[process.key]:.2f}x",
            f"{cpu_spiff[process.key]:.2f}x",
            f"{cpu_raw[process.key]:.2f}x",
            f"{service.cpu_us:,.0f}",
            f"{spiff.cpu_us:,.0f}",
            f"{raw.cpu_us:,.0f}",
        )
        statements, rows, payload = volume(transactions)
        writes.add(
            process.key,
            f"{statements:.1f}",
            f"{rows:.1f}",
            f"{payload:.1f}",
            f"{spiff_bytes / 1024:.1f}",
        )
    ours.close()
    floor_side.close()
    worst = min(versus_spiff, key=versus_spiff.__getitem__)
    result.goal(
        "SQLite: Signoff >= 5x SpiffWorkflow + SQLite (approvals/s)",
        ", ".join(f"{k} {v:.2f}x" for k, v in versus_spiff.items())
        + f" (lowest: {worst}); in CPU per approval: "
        + ", ".join(f"{k} {v:.2f}x" for k, v in cpu_spiff.items()),
        versus_spiff[worst] >= 5,
    )
    worst = max(versus_raw, key=versus_raw.__getitem__)
    result.goal(
        "SQLite: Signoff <= 1.5x the raw SQL time",
        ", ".join(f"{k} {v:.2f}x" for k, v in versus_raw.items())
        + f" (highest: {worst}); in CPU per approval: "
        + ", ".join(f"{k} {v:.2f}x" for k, v in cpu_raw.items()),
        versus_raw[worst] <= 1.5,
    )
    result.data["sqlite"] = {
        "versus_spiff": versus_spiff,
        "versus_raw": versus_raw,
        "cpu_versus_spiff": cpu_spiff,
        "cpu_versus_raw": cpu_raw,
    }


def pg_section(result: Result, approvals: int) -> None:
    plan = plan_for(approvals)
    clients = 8
    per_client = max(2, approvals // 3 // clients)
    plan["sequential@clients"] = clients * per_client
    plan[ALL8.key] = max(2, approvals // 8)
    table = result.table(
        "PostgreSQL: approvals per second, service against raw SQL",
        [
            "scenario",
            "approvals",
            "Signoff/s",
            "raw SQL/s",
            "Signoff/raw (time)",
            "Signoff p50 / p99 ms",
            "raw p50 / p99 ms",
        ],
        "clients are threads of one process; p50/p99: one approval's transaction",
    )
    ratios: dict[str, float] = {}
    with pg_database("_service") as service_url, pg_database("_raw") as raw_url:
        ids = prepare(service_url, plan)
        prepare(raw_url, plan)
        ours, floor_side = SignoffSide(service_url), RawSide(raw_url)
        for process in PROCESSES:
            service = raw = Run(0, 0, 0)
            for batch in rounds(ids[process.key], ROUNDS):
                done, captured = ours.run(batch)
                service += done
                raw += floor_side.run(captured)
            name = f"{process.key}, 1 client"
            ratios[name] = service.seconds / raw.seconds * raw.approvals / service.approvals
            table.add(
                name,
                service.approvals,
                f"{service.per_s:,.0f}",
                f"{raw.per_s:,.0f}",
                f"{ratios[name]:.2f}x",
                "",
                "",
            )
        ours.close()
        floor_side.close()
        # 8 clients, each on instances of its own (sequential: 3 approvals each)
        mine = [
            ids["sequential@clients"][k * per_client : (k + 1) * per_client] for k in range(clients)
        ]
        scenarios: dict[str, tuple[list[list[str | Step]], threading.Barrier | None]] = {
            f"sequential, {clients} clients": (list(mine), None),
            f"all8, {clients} clients on one instance": (
                _one_instance(service_url, ids[ALL8.key]),
                threading.Barrier(clients),
            ),
        }
        for name, (jobs, barrier) in scenarios.items():
            service, captured = service_clients(service_url, jobs, barrier)
            raw_barrier = threading.Barrier(clients) if barrier is not None else None
            raw = raw_clients(raw_url, captured, raw_barrier)
            ratios[name] = (service.seconds / service.approvals) / (raw.seconds / raw.approvals)
            table.add(
                name,
                service.approvals,
                f"{service.per_s:,.0f}",
                f"{raw.per_s:,.0f}",
                f"{ratios[name]:.2f}x",
                _p(service.latencies),
                _p(raw.latencies),
            )
    worst = max(ratios, key=ratios.__getitem__)
    result.goal(
        "PostgreSQL: Signoff <= 1.5x the raw SQL time",
        ", ".join(f"{k} {v:.2f}x" for k, v in ratios.items()) + f" (highest: {worst})",
        ratios[worst] <= 1.5,
    )
    result.data["postgresql"] = ratios


def _p(latencies: Sequence[float]) -> str:
    return f"{quantile(latencies, 0.5) * 1000:.1f} / {quantile(latencies, 0.99) * 1000:.1f}"


def _one_instance(url: str, ids: Sequence[str]) -> list[list[str | Step]]:
    """Client k approves person k's task in every instance, all clients on the same one."""
    db = Database(url)
    pending = pending_of(db, ids)
    db.dispose()
    return [
        [(i, next(t for t, p in pending[i] if p == person), person) for i in ids]
        for person in CROWD[: ALL8.approvals]
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--approvals", type=int, default=300, help="per process and system")
    parser.add_argument("--quick", action="store_true", help="30 approvals per process")
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    args = parser.parse_args()
    if args.quick:
        args.approvals = 30
    result = Result(
        "persisted",
        "Persisted: service layer vs SpiffWorkflow + SQLite vs raw SQL",
        command_line(),
        args.quick,
    )
    result.notes.append(
        f"the systems take turns in {ROUNDS} rounds per process (Signoff, raw SQL, "
        "SpiffWorkflow, a fifth of the instances each), so they share the noise; every "
        "figure from this one run on a shared machine (disk and CPU noisy)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        sqlite_section(result, args.approvals, Path(tmp))
    if args.no_pg:
        result.notes.append("PostgreSQL skipped (--no-pg)")
    elif pg_available():
        pg_section(result, args.approvals)
    else:
        result.notes.append(f"PostgreSQL skipped: nothing answers at {pg_base_url()}")
    result.print()
    result.save()


if __name__ == "__main__":
    main()
