"""A process applying commands is killed with SIGKILL at random moments, on SQLite and
PostgreSQL. Whatever it was doing, every transaction is all or nothing: after each kill
every instance row, its tasks, its audit chain and its outbox rows tell the same story,
and replaying the events sent to the outbox rebuilds exactly the instance the store loads.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from signoff.domain.aggregate import InstanceState
from signoff.domain.instance import Instance
from signoff.domain.notices import replay_notices
from signoff.store.audit import audit_events, verify
from signoff.store.database import Database
from signoff.store.instances import SqlInstanceRepository
from signoff.store.schema import audit, idempotency_keys, instances, outbox, tasks
from signoff.store.templates import SqlTemplateRepository

WORKER = Path(__file__).with_name("crash_worker.py")
ROOT = Path(__file__).resolve().parents[2]
KILLS = 20

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")


@contextmanager
def snapshot(db: Database) -> Iterator[sa.Connection]:
    """One consistent read of the whole database (a late commit cannot slip in between)."""
    if db.is_sqlite:
        with db.reader() as conn:
            yield conn
        return
    conn = db.engine.connect().execution_options(isolation_level="REPEATABLE READ")
    with conn, conn.begin():
        yield conn


def state(instance: InstanceState) -> dict[str, object]:
    keep = (
        "status version seq form form_revision serial title nodes tasks choices approvals "
        "last_approvers cc resume_nodes undo applicant task_counter entry_counter "
        "submitted_at finished_at updated_at"
    ).split()
    return {k: getattr(instance, k) for k in keep}


def committed(log: Path) -> list[dict[str, Any]]:
    """The outcomes the workers saw committed (a line cut short by the kill is left out)."""
    text = log.read_text() if log.exists() else ""
    return [json.loads(line) for line in text.splitlines(keepends=True) if line.endswith("\n")]


def by_instance(conn: sa.Connection, table: sa.Table) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for row in conn.execute(sa.select(table).order_by(table.c.id)).mappings():
        found.setdefault(row["instance_id"], []).append(row)
    return found


def assert_consistent(db: Database, log: Path) -> tuple[int, int]:
    """Check every instance; returns (instances, events) found."""
    with snapshot(db) as conn:
        checked, problems = verify(conn)
        assert problems == [], [str(p) for p in problems[:5]]
        rows = {r.id: r for r in conn.execute(sa.select(instances))}
        audits = by_instance(conn, audit)
        outboxes = by_instance(conn, outbox)
        task_owners = set(conn.execute(sa.select(tasks.c.instance_id).distinct()).scalars())
        key_owners = set(conn.execute(sa.select(idempotency_keys.c.instance_id)).scalars())
        assert set(audits) | set(outboxes) | task_owners | key_owners <= set(rows)
        assert checked == sum(len(v) for v in audits.values())

        repository = SqlInstanceRepository(
            conn, SqlTemplateRepository(conn, db.url).get, lock_rows=False
        )
        versions: dict[str, dict[int, list[str]]] = {}
        for iid, row in rows.items():
            trail = sorted(audits.get(iid, []), key=lambda r: r["seq"])
            seq = row.state["seq"]
            assert len(trail) == seq, iid
            assert [r["event_id"] for r in trail] == [f"{iid}:{n}" for n in range(seq)]
            events = audit_events(conn, iid)
            assert [e.id for e in events] == [r["event_id"] for r in trail]
            # every committed command (version) left its events, and no other command did
            versions[iid] = {}
            for event in events:
                versions[iid].setdefault(event.version, []).append(event.id)
            assert sorted(versions[iid]) == list(range(1, row.version + 1)), iid
            # ... and exactly the outbox rows (notices) those commands make
            template = SqlTemplateRepository(conn, db.url).get(
                row.template_key, row.template_version
            )
            fresh = Instance(iid, template, row.applicant_id)
            expected = [(n.id, n.type) for n in replay_notices(fresh, events)]
            sent = sorted(outboxes.get(iid, []), key=lambda r: r["id"])
            assert [(r["event_id"], r["type"]) for r in sent] == expected, iid

            loaded = repository.get(iid, lock=False)
            replayed = Instance.replay(iid, loaded.template, loaded.applicant_id, events)
            assert state(replayed) == state(loaded), iid
            assert loaded.version == row.version and loaded.status.value == row.status

    for outcome in committed(log):
        iid = outcome["instance_id"]
        assert iid in rows, outcome
        assert versions[iid].get(outcome["version"]) == outcome["events"], outcome
    return len(rows), checked


def run_and_kill(db: Database, log: Path, rng: random.Random, round_: int) -> None:
    """Start a worker, let it run for 0.05-0.5 s once it commits, then SIGKILL it."""
    stderr = log.with_suffix(f".{round_}.err")
    with stderr.open("w") as err:
        worker = subprocess.Popen(  # noqa: S603  # our own script, with our own interpreter
            [sys.executable, str(WORKER), db.url, str(log), str(rng.randrange(2**31))],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )
        out = worker.stdout
        assert out is not None
        try:
            assert out.readline() == "ready\n", stderr.read_text()
            time.sleep(rng.uniform(0.05, 0.5))  # a random moment, not a wait for something
            assert worker.poll() is None, stderr.read_text()  # still busy, not crashed
        finally:
            worker.send_signal(signal.SIGKILL)
            worker.wait()
            out.close()
    assert worker.returncode == -signal.SIGKILL


def test_a_worker_killed_at_random_moments_leaves_every_instance_consistent_after_each_restart(
    seeded: Database, tmp_path: Path
) -> None:
    seed = random.randrange(2**31)  # noqa: S311  # test schedules, not secrets
    rng = random.Random(seed)  # noqa: S311  # replayable from the seed in failures
    log = tmp_path / "committed.jsonl"
    totals = []
    for round_ in range(KILLS):
        run_and_kill(seeded, log, rng, round_)
        try:
            totals.append(assert_consistent(seeded, log))
        except AssertionError as error:
            raise AssertionError(f"after kill {round_ + 1} (seed {seed}): {error}") from error
    count, events = totals[-1]
    commands = len(committed(log))
    assert commands >= KILLS and count >= 1 and events > commands, (totals, seed)
