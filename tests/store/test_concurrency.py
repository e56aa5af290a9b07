"""Many people acting on one instance at the same moment, on SQLite and PostgreSQL: real
threads, each with its own unit of work and its own connection, released together by a
barrier. Whatever the interleaving, a decision is taken once, every approval of an `all`
node is kept, and a retried command (same idempotency key) has one effect."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
import sqlalchemy as sa

from signoff.domain.commands import Approve, Reject
from signoff.domain.directory import Principal
from signoff.domain.errors import IdempotencyKeyReused, NodeAlreadyDecided
from signoff.domain.instance import Instance
from signoff.domain.notices import replay_notices
from signoff.service.clock import ManualClock
from signoff.service.commands import Outcome, act, start
from signoff.store.audit import audit_events, verify
from signoff.store.database import Database
from signoff.store.schema import audit, idempotency_keys, instances, outbox, tasks
from signoff.store.templates import SqlTemplateRepository
from signoff.store.uow import SqlUnitOfWork

T = TypeVar("T")

CROWD = 50
APPLICANT = "u-applicant"
FINAL = "u-final"
PEOPLE = [f"u-crowd-{n:02d}" for n in range(CROWD)]
FORM = {"reason": "new laptop"}


def add_people(db: Database) -> None:
    """The applicant, the final approver and the crowd, imported through the directory."""
    everyone = [APPLICANT, FINAL, *PEOPLE]
    with SqlUnitOfWork(db) as uow:
        uow.directory.upsert([], [Principal(p, p.removeprefix("u-")) for p in everyone])
        uow.commit()


def publish(db: Database, clock: ManualClock, mode: str) -> str:
    """A two-node flow: the crowd (in `mode`), then one final approver."""
    key = f"crowd-{mode}"
    definition = {
        "key": key,
        "name": f"Crowd ({mode})",
        "form": {"fields": [{"id": "reason", "type": "text", "label": "Reason"}]},
        "flow": {
            "nodes": [
                {
                    "id": "crowd",
                    "type": "approver",
                    "mode": mode,
                    "assignees": [{"type": "users", "users": PEOPLE}],
                },
                {
                    "id": "final",
                    "type": "approver",
                    "mode": "any",
                    "assignees": [{"type": "users", "users": [FINAL]}],
                },
            ]
        },
    }
    with SqlUnitOfWork(db) as uow:
        uow.templates.publish(definition, None, clock.now())
        uow.commit()
    return key


def submitted(db: Database, clock: ManualClock, mode: str) -> Outcome:
    add_people(db)
    key = publish(db, clock, mode)
    outcome = start(lambda: SqlUnitOfWork(db), clock, actor=APPLICANT, template_key=key, form=FORM)
    assert sorted(p[1] for p in outcome.pending) == PEOPLE
    clock.advance(minutes=1)
    return outcome


def approval(
    db: Database, clock: ManualClock, instance_id: str, task_id: str, person: str
) -> Callable[[], Outcome]:
    command = Approve(actor=person, task_id=task_id)
    return lambda: act(SqlUnitOfWork(db), clock, instance_id, command)


def at_once(calls: list[Callable[[], T]]) -> list[T | Exception]:
    """Run every call on its own thread, all released at the same moment."""
    barrier = threading.Barrier(len(calls), timeout=60)

    def run(call: Callable[[], T]) -> T | Exception:
        barrier.wait()
        try:
            return call()
        except Exception as error:  # the caller counts errors by type
            return error

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def rows(db: Database, table: sa.Table, instance_id: str) -> list[dict[str, Any]]:
    order = table.c.seq if table is audit else table.c.id
    with db.reader() as conn:
        query = sa.select(table).where(table.c.instance_id == instance_id).order_by(order)
        return [dict(r) for r in conn.execute(query).mappings()]


def entered(audit_rows: list[dict[str, Any]], node_id: str) -> int:
    return sum(
        1 for r in audit_rows if r["type"] == "NodeEntered" and r["data"]["node_id"] == node_id
    )


def completed(audit_rows: list[dict[str, Any]], node_id: str) -> int:
    return sum(
        1 for r in audit_rows if r["type"] == "NodeCompleted" and r["data"]["node_id"] == node_id
    )


def version_of(db: Database, instance_id: str) -> int:
    with db.reader() as conn:
        query = sa.select(instances.c.version).where(instances.c.id == instance_id)
        return int(conn.execute(query).scalar_one())


def assert_chain_and_outbox_agree(db: Database, instance_id: str) -> None:
    with db.reader() as conn:
        checked, problems = verify(conn)
    assert problems == []
    trail = [r["event_id"] for r in rows(db, audit, instance_id)]
    assert checked == len(trail)
    with db.reader() as conn:
        events = audit_events(conn, instance_id)
        row = conn.execute(sa.select(instances).where(instances.c.id == instance_id)).one()
        template = SqlTemplateRepository(conn, db.url).get(row.template_key, row.template_version)
    expected = replay_notices(Instance(instance_id, template, row.applicant_id), events)
    sent = sorted(rows(db, outbox, instance_id), key=lambda r: r["id"])
    assert [r["event_id"] for r in sent] == [n.id for n in expected]
    assert trail == [f"{instance_id}:{n}" for n in range(len(trail))]


def test_fifty_approvers_of_an_any_node_at_once_decide_it_once_and_the_rest_get_a_clean_conflict(
    db: Database, clock: ManualClock
) -> None:
    first = submitted(db, clock, "any")
    iid = first.instance_id
    calls = [approval(db, clock, iid, task, person) for task, person, _ in first.pending]

    results = at_once(calls)

    wins = [r for r in results if isinstance(r, Outcome)]
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(wins) == 1, errors[:3]
    assert Counter(type(e) for e in errors) == {NodeAlreadyDecided: CROWD - 1}, errors[:3]
    assert {e.code for e in errors} == {"node_already_decided"}  # type: ignore[attr-defined]
    won = wins[0]
    assert won.version == first.version + 1 == version_of(db, iid)
    assert [p[1:] for p in won.pending] == [(FINAL, "final")]

    trail = rows(db, audit, iid)
    assert entered(trail, "crowd") == 1 and completed(trail, "crowd") == 1
    assert entered(trail, "final") == 1
    assert [r["event_id"] for r in trail[len(first.events) :]] == list(won.events)
    assert sum(1 for r in trail if r["type"] == "TaskApproved") == 1
    by_node = Counter((t["node_id"], t["status"]) for t in rows(db, tasks, iid))
    assert by_node == {
        ("crowd", "approved"): 1,
        ("crowd", "cancelled"): CROWD - 1,
        ("final", "pending"): 1,
    }
    assert_chain_and_outbox_agree(db, iid)


def test_fifty_assignees_of_an_all_node_approving_at_once_are_all_recorded_and_it_completes_once(
    db: Database, clock: ManualClock
) -> None:
    first = submitted(db, clock, "all")
    iid = first.instance_id
    calls = [approval(db, clock, iid, task, person) for task, person, _ in first.pending]

    results = at_once(calls)

    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == []
    outcomes = [r for r in results if isinstance(r, Outcome)]
    assert sorted(o.version for o in outcomes) == [first.version + n for n in range(1, CROWD + 1)]
    assert version_of(db, iid) == first.version + CROWD
    last = max(outcomes, key=lambda o: o.version)
    assert [p[1:] for p in last.pending] == [(FINAL, "final")]

    crowd = [t for t in rows(db, tasks, iid) if t["node_id"] == "crowd"]
    assert sorted(t["assignee"] for t in crowd if t["status"] == "approved") == PEOPLE
    assert len(crowd) == CROWD
    trail = rows(db, audit, iid)
    approved = [r for r in trail if r["type"] == "TaskApproved"]
    assert sorted(r["actor"] for r in approved) == PEOPLE
    assert completed(trail, "crowd") == 1
    assert entered(trail, "final") == 1
    assert [t["assignee"] for t in rows(db, tasks, iid) if t["node_id"] == "final"] == [FINAL]
    assert_chain_and_outbox_agree(db, iid)


def test_the_same_approval_sent_twenty_times_at_once_with_one_key_has_one_effect(
    db: Database, clock: ManualClock
) -> None:
    first = submitted(db, clock, "any")
    iid = first.instance_id
    task, person, _ = first.pending[0]
    command = Approve(actor=person, task_id=task, comment="ok")

    def send() -> Outcome:
        return act(SqlUnitOfWork(db), clock, iid, command, idempotency_key="k1")

    results = at_once([send] * 20)

    assert all(isinstance(r, Outcome) for r in results), [
        r for r in results if not isinstance(r, Outcome)
    ]
    assert len(set(results)) == 1
    outcome = results[0]
    assert isinstance(outcome, Outcome)
    assert outcome.version == first.version + 1 == version_of(db, iid)
    trail = rows(db, audit, iid)
    assert [r["actor"] for r in trail if r["type"] == "TaskApproved"] == [person]
    assert entered(trail, "final") == 1
    assert_chain_and_outbox_agree(db, iid)

    with pytest.raises(IdempotencyKeyReused) as caught:
        act(SqlUnitOfWork(db), clock, iid, Reject(actor=person, task_id=task), idempotency_key="k1")
    assert caught.value.code == "idempotency_key_reused"
    assert send() == outcome
    assert version_of(db, iid) == outcome.version


def test_the_same_new_request_sent_twenty_times_at_once_with_one_key_starts_one_instance(
    db: Database, clock: ManualClock
) -> None:
    add_people(db)
    key = publish(db, clock, "any")

    def send(form: dict[str, str] = FORM) -> Outcome:
        return start(
            lambda: SqlUnitOfWork(db),
            clock,
            actor=APPLICANT,
            template_key=key,
            form=form,
            idempotency_key="k2",
        )

    results = at_once([send] * 20)

    assert all(isinstance(r, Outcome) for r in results), [
        r for r in results if not isinstance(r, Outcome)
    ]
    assert len(set(results)) == 1
    outcome = results[0]
    assert isinstance(outcome, Outcome)
    with db.reader() as conn:
        ids = list(conn.execute(sa.select(instances.c.id)).scalars())
        keys = conn.execute(sa.select(sa.func.count()).select_from(idempotency_keys)).scalar()
        serials = list(conn.execute(sa.select(instances.c.serial)).scalars())
    assert ids == [outcome.instance_id]
    assert keys == 1
    assert serials == [f"CROWD-ANY-{clock.now():%Y%m%d}-0001"]
    assert_chain_and_outbox_agree(db, outcome.instance_id)

    with pytest.raises(IdempotencyKeyReused) as caught:
        send({"reason": "a different laptop"})
    assert caught.value.code == "idempotency_key_reused"
    assert send() == outcome
