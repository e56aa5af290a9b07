"""The store contract, on SQLite and PostgreSQL: what a command commits is exactly what a
later transaction loads, with its audit trail and outbox rows."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from signoff.domain.commands import Approve, Reject
from signoff.domain.errors import (
    FormInvalid,
    UnknownInstance,
    UnknownPrincipal,
    UnknownTemplate,
    VersionConflict,
)
from signoff.domain.instance import Instance
from signoff.domain.navigation import Env
from signoff.domain.notices import replay_notices
from signoff.service.clock import ManualClock
from signoff.service.commands import act, start
from signoff.store.audit import audit_events, verify
from signoff.store.database import Database
from signoff.store.schema import audit, instances, outbox, tasks
from signoff.store.uow import SqlUnitOfWork
from tests.domain.conftest import demo_directory

DIRECTORY = demo_directory()

LEAVE = {
    "leave_type": "annual",
    "period": ["2026-12-01", "2026-12-05"],
    "days": 5,
    "reason": "family trip",
}


def uow_of(db: Database):  # type: ignore[no-untyped-def]
    return lambda: SqlUnitOfWork(db)


def load(db: Database, instance_id: str) -> Instance:
    with SqlUnitOfWork(db) as uow:
        return uow.instances.get(instance_id, lock=False)


def count(db: Database, table: sa.Table) -> int:
    with db.reader() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def state(instance: Instance) -> dict[str, object]:
    keep = (
        "status form form_revision serial title version seq nodes tasks choices approvals "
        "last_approvers cc resume_nodes undo applicant submitted_at finished_at"
    ).split()
    return {k: getattr(instance, k) for k in keep}


def test_a_leave_request_saved_and_loaded_is_the_same_aggregate_at_every_step(
    seeded: Database, clock: ManualClock
) -> None:
    outcome = start(uow_of(seeded), clock, actor="u-zhangsan", template_key="leave", form=LEAVE)
    assert outcome.status == "pending"
    assert [p[1] for p in outcome.pending] == ["u-chenjie"]
    live = load(seeded, outcome.instance_id)
    assert live.serial == "LEAVE-20261123-0001"
    events = []
    for person in ("u-chenjie", "u-lina", "u-huangli"):
        clock.advance(minutes=5)
        task = next(t for t in live.pending_tasks() if t.assignee == person)
        command = Approve(actor=person, task_id=task.id, comment=f"ok from {person}")
        act(SqlUnitOfWork(seeded), clock, outcome.instance_id, command)
        events += live.execute(command, _env(seeded, clock))
        stored = load(seeded, outcome.instance_id)
        assert state(stored) == state(live)
    assert live.status.value == "approved"
    with seeded.reader() as conn:
        checked, problems = verify(conn)
    assert problems == []
    assert checked == live.seq == count(seeded, audit)
    with seeded.reader() as conn:
        trail = audit_events(conn, outcome.instance_id)
    fresh = Instance(live.id, live.template, live.applicant_id)
    expected = [(n.id, n.type) for n in replay_notices(fresh, trail)]
    assert outbox_notices(seeded, outcome.instance_id) == expected
    assert [t for _, t in outbox_notices(seeded, outcome.instance_id)] == [
        "instance.submitted",
        "task.assigned",
        "task.approved",
        "task.assigned",
        "task.approved",
        "task.assigned",  # the last node: either of two people
        "task.assigned",
        "task.approved",
        "task.cancelled",  # the other one's task
        "cc.received",  # HR is told at the end
        "instance.approved",
    ]


def outbox_notices(db: Database, instance_id: str) -> list[tuple[str, str]]:
    with db.reader() as conn:
        query = sa.select(outbox.c.event_id, outbox.c.type).where(
            outbox.c.instance_id == instance_id
        )
        return [(r.event_id, r.type) for r in conn.execute(query.order_by(outbox.c.id))]


def _env(db: Database, clock: ManualClock) -> Env:
    return Env(clock.now(), DIRECTORY)


def test_serial_numbers_count_up_per_template_and_day(seeded: Database, clock: ManualClock) -> None:
    serials = []
    for _ in range(3):
        o = start(uow_of(seeded), clock, actor="u-zhangsan", template_key="leave", form=LEAVE)
        serials.append(load(seeded, o.instance_id).serial)
    clock.advance(days=1)
    o = start(uow_of(seeded), clock, actor="u-zhangsan", template_key="leave", form=LEAVE)
    serials.append(load(seeded, o.instance_id).serial)
    assert serials == [
        "LEAVE-20261123-0001",
        "LEAVE-20261123-0002",
        "LEAVE-20261123-0003",
        "LEAVE-20261124-0001",
    ]


def test_a_stale_expected_version_is_refused_and_changes_nothing(
    seeded: Database, clock: ManualClock
) -> None:
    o = start(uow_of(seeded), clock, actor="u-zhangsan", template_key="leave", form=LEAVE)
    task = o.pending[0][0]
    with pytest.raises(VersionConflict) as caught:
        act(
            SqlUnitOfWork(seeded),
            clock,
            o.instance_id,
            Approve(actor="u-chenjie", task_id=task),
            expected_version=o.version - 1,
        )
    assert caught.value.code == "version_conflict"
    assert load(seeded, o.instance_id).version == o.version
    done = act(
        SqlUnitOfWork(seeded),
        clock,
        o.instance_id,
        Approve(actor="u-chenjie", task_id=task),
        expected_version=o.version,
    )
    assert done.version == o.version + 1


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"template_key": "nope"}, UnknownTemplate),
        ({"form": {"leave_type": "annual"}}, FormInvalid),
        ({"form": {**LEAVE, "reason": "x" * 300_000}}, FormInvalid),
        ({"actor": "u-ghost"}, UnknownPrincipal),
    ],
    ids=["unknown template", "malformed form", "too large form", "unknown applicant"],
)
def test_bad_input_is_a_typed_error_and_writes_nothing(
    seeded: Database, clock: ManualClock, kwargs: dict[str, object], error: type[Exception]
) -> None:
    args: dict[str, object] = {"actor": "u-zhangsan", "template_key": "leave", "form": LEAVE}
    args.update(kwargs)
    with pytest.raises(error) as caught:
        start(uow_of(seeded), clock, **args)  # type: ignore[arg-type]
    assert caught.value.code  # type: ignore[attr-defined]
    for table in (instances, tasks, audit, outbox):
        assert count(seeded, table) == 0


def test_an_unknown_instance_or_template_version_is_not_found(
    seeded: Database, clock: ManualClock
) -> None:
    with pytest.raises(UnknownInstance):
        act(SqlUnitOfWork(seeded), clock, "i-none", Reject(actor="u-chenjie", task_id="x"))
    with SqlUnitOfWork(seeded) as uow, pytest.raises(UnknownTemplate):
        uow.templates.get("leave", 7)
