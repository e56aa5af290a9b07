"""Timers: a pending task whose node has a timeout is reminded, approved, rejected or
escalated when its due time passes — once, whichever worker gets there, and even after a
restart (due times live in the database).

Each test publishes a version of the leave template whose first approver node (the
applicant's team lead) has the timeout under test."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from signoff.domain.calendar import calendar_from_json
from signoff.domain.commands import Resubmit, Return
from signoff.domain.instance import Instance
from signoff.events.dispatcher import Dispatcher
from signoff.service.clock import ManualClock
from signoff.service.commands import Outcome, act, start
from signoff.store.calendar import _cache as calendar_cache
from signoff.store.database import Database
from signoff.store.schema import outbox
from signoff.store.uow import SqlUnitOfWork
from tests.conftest import EXAMPLES
from tests.events.conftest import LEAVE, at_once, rows, settings


def publish_leave(db: Database, clock: ManualClock, action: str, **timeout: Any) -> str:
    """A copy of the leave template whose first approver node (the applicant's team lead)
    times out after 2 hours (wall-clock time) with `action`. Returns its key: a key of its
    own, since parsed templates are cached per process by (database, key, version) and
    every test on PostgreSQL reuses one database."""
    definition = json.loads((EXAMPLES / "templates" / "leave.json").read_text())
    definition["key"] = key = f"leave_{uuid.uuid4().hex[:10]}"
    definition["flow"]["nodes"][0]["timeout"] = {
        "after": {"hours": 2},
        "action": action,
        "working_time": False,
        **timeout,
    }
    with SqlUnitOfWork(db) as uow:
        uow.templates.publish(definition, "u-huangli", clock.now())
        uow.commit()
    return key


def submit(db: Database, clock: ManualClock, key: str, applicant: str = "u-zhangsan") -> Outcome:
    return start(lambda: SqlUnitOfWork(db), clock, actor=applicant, template_key=key, form=LEAVE)


def load(db: Database, instance_id: str) -> Instance:
    with SqlUnitOfWork(db) as uow:
        return uow.instances.get(instance_id, lock=False)


def pending(db: Database, instance_id: str) -> list[tuple[str, str]]:
    """(assignee, node) of each pending task."""
    return [(t.assignee, t.node_id) for t in load(db, instance_id).pending_tasks()]


def timed_out(db: Database, instance_id: str | None = None) -> list[Any]:
    """The task.timed_out notices (of one request), oldest first."""
    where = [outbox.c.type == "task.timed_out"]
    if instance_id is not None:
        where.append(outbox.c.instance_id == instance_id)
    return sorted(rows(db, outbox, *where), key=lambda r: r.id)


def notice_types(db: Database, instance_id: str) -> list[str]:
    found = rows(db, outbox, outbox.c.instance_id == instance_id)
    return [r.type for r in sorted(found, key=lambda r: r.id)]


@pytest.fixture
def timers(seeded: Database, clock: ManualClock) -> Dispatcher:
    return Dispatcher(seeded, clock, settings())


def test_a_timer_not_yet_due_does_nothing(
    seeded: Database, clock: ManualClock, timers: Dispatcher
) -> None:
    key = publish_leave(seeded, clock, "auto_approve")
    outcome = submit(seeded, clock, key)
    assert timers.fire_timers_once() == 0
    clock.advance(hours=1, minutes=59, seconds=59)
    assert timers.fire_timers_once() == 0
    assert timed_out(seeded) == []
    assert pending(seeded, outcome.instance_id) == [("u-chenjie", "team_lead")]


def test_a_reminder_fires_once_per_due_time_and_rearms_until_repeat_is_reached(
    seeded: Database, clock: ManualClock, timers: Dispatcher
) -> None:
    key = publish_leave(seeded, clock, "remind", repeat=3)
    outcome = submit(seeded, clock, key)
    for _ in range(3):
        clock.advance(hours=2)
        assert timers.fire_timers_once() == 1
        assert timers.fire_timers_once() == 0  # once per due time
    for _ in range(3):
        clock.advance(hours=2)
        assert timers.fire_timers_once() == 0  # three reminders, then no more
    reminders = timed_out(seeded, outcome.instance_id)
    assert [r.data["reminders"] for r in reminders] == [1, 2, 3]
    assert {r.data["action"] for r in reminders} == {"remind"}
    assert [r.audience for r in reminders] == [["u-chenjie"]] * 3
    assert pending(seeded, outcome.instance_id) == [("u-chenjie", "team_lead")]
    (task,) = load(seeded, outcome.instance_id).pending_tasks()
    assert (task.reminders, task.due_at) == (3, None)


def test_a_reminder_counts_from_when_the_previous_one_fired(
    seeded: Database, clock: ManualClock, timers: Dispatcher
) -> None:
    key = publish_leave(seeded, clock, "remind", repeat=2)
    submit(seeded, clock, key)
    clock.advance(hours=3)  # the worker was late by an hour
    assert timers.fire_timers_once() == 1
    clock.advance(hours=1, minutes=59)
    assert timers.fire_timers_once() == 0
    clock.advance(minutes=1)
    assert timers.fire_timers_once() == 1


def test_auto_approve_approves_for_the_assignee_and_moves_the_flow_on(
    seeded: Database, clock: ManualClock, timers: Dispatcher
) -> None:
    key = publish_leave(seeded, clock, "auto_approve")
    outcome = submit(seeded, clock, key)
    clock.advance(hours=2)
    assert timers.fire_timers_once() == 1
    instance = load(seeded, outcome.instance_id)
    lead = instance.tasks[outcome.pending[0][0]]
    assert (lead.status.value, lead.auto) == ("skipped", "timeout")  # approved automatically
    assert pending(seeded, outcome.instance_id) == [("u-lina", "dept_head")]  # 5 days: up
    approved = [r for r in rows(seeded, outbox) if r.type == "task.approved"]
    assert [r.data["auto"] for r in approved] == ["timeout"]
    assert notice_types(seeded, outcome.instance_id)[-3:] == [
        "task.timed_out",
        "task.approved",
        "task.assigned",
    ]
    clock.advance(hours=2)
    assert timers.fire_timers_once() == 0  # the head's node has no timeout


def test_auto_reject_rejects_the_request(
    seeded: Database, clock: ManualClock, timers: Dispatcher
) -> None:
    key = publish_leave(seeded, clock, "auto_reject")
    outcome = submit(seeded, clock, key)
    clock.advance(hours=2)
    assert timers.fire_timers_once() == 1
    instance = load(seeded, outcome.instance_id)
    assert instance.status.value == "rejected"
    assert instance.tasks[outcome.pending[0][0]].auto == "timeout"
    assert instance.pending_tasks() == []
    assert "instance.rejected" in notice_types(seeded, outcome.instance_id)


def test_escalate_hands_the_task_to_the_assignees_department_head(
    seeded: Database, clock: ManualClock, timers: Dispatcher
) -> None:
    key = publish_leave(seeded, clock, "escalate")
    outcome = submit(seeded, clock, key)  # u-chenjie heads 后端组; u-lina heads 研发中心 above
    clock.advance(hours=2)
    assert timers.fire_timers_once() == 1
    assert pending(seeded, outcome.instance_id) == [("u-lina", "team_lead")]
    instance = load(seeded, outcome.instance_id)
    assert instance.tasks[outcome.pending[0][0]].status.value == "transferred"
    (fired,) = timed_out(seeded, outcome.instance_id)
    assert (fired.data["action"], fired.data["to"]) == ("escalate", "u-lina")
    assert instance.status.value == "pending"


def test_two_workers_firing_the_same_due_timers_fire_each_exactly_once(
    seeded: Database, clock: ManualClock
) -> None:
    key = publish_leave(seeded, clock, "remind", repeat=3)
    outcomes = [submit(seeded, clock, key, a) for a in ("u-zhangsan", "u-wangwu", "u-lisi")]
    outcomes += [submit(seeded, clock, key) for _ in range(5)]
    clock.advance(hours=2)
    workers = [Dispatcher(seeded, clock, settings()) for _ in range(4)]
    fired = at_once(workers, lambda w: w.fire_timers_once())
    assert sum(fired) == len(outcomes)
    for outcome in outcomes:
        assert [r.data["reminders"] for r in timed_out(seeded, outcome.instance_id)] == [1]


def test_a_due_timer_fires_after_a_restart(seeded: Database, clock: ManualClock) -> None:
    key = publish_leave(seeded, clock, "auto_approve")
    before = Dispatcher(seeded, clock, settings())
    outcome = submit(seeded, clock, key)
    assert before.fire_timers_once() == 0
    del before  # the process stops; the due time is in the database
    clock.advance(hours=5)
    database = Database(seeded.url)  # a new process: its own connections
    try:
        assert Dispatcher(database, clock, settings()).fire_timers_once() == 1
    finally:
        database.dispose()
    assert pending(seeded, outcome.instance_id) == [("u-lina", "dept_head")]


def test_a_request_returned_and_resubmitted_gets_a_fresh_timer(
    seeded: Database, clock: ManualClock, timers: Dispatcher
) -> None:
    key = publish_leave(seeded, clock, "remind", repeat=1)
    outcome = submit(seeded, clock, key)
    clock.advance(hours=2)
    assert timers.fire_timers_once() == 1  # the one reminder of the first round
    task_id = outcome.pending[0][0]
    act(
        SqlUnitOfWork(seeded),
        clock,
        outcome.instance_id,
        Return(actor="u-chenjie", task_id=task_id, comment="请补充交接人"),
    )
    clock.advance(hours=2)
    assert timers.fire_timers_once() == 0  # returned: nobody's turn, no timer
    again: Outcome = act(
        SqlUnitOfWork(seeded),
        clock,
        outcome.instance_id,
        Resubmit(actor="u-zhangsan", form={**LEAVE, "handover": "u-wangwu"}),
    )
    assert [(a, n) for _, a, n in again.pending] == [("u-chenjie", "team_lead")]
    clock.advance(hours=1, minutes=59)
    assert timers.fire_timers_once() == 0
    clock.advance(minutes=1)
    assert timers.fire_timers_once() == 1
    fired = timed_out(seeded, outcome.instance_id)
    assert [r.data["task_id"] for r in fired] == [task_id, again.pending[0][0]]
    assert [r.data["reminders"] for r in fired] == [1, 1]


@pytest.fixture
def no_cached_calendar() -> Iterator[None]:
    """The calendar is cached per database URL for 30 s: what this test sets must not
    leak into the next test on the same (emptied) PostgreSQL database, nor the reverse."""
    calendar_cache.clear()
    yield
    calendar_cache.clear()


@pytest.mark.usefixtures("no_cached_calendar")
def test_a_working_time_timeout_counts_only_the_calendars_working_hours(
    seeded: Database, clock: ManualClock, timers: Dispatcher
) -> None:
    calendar = calendar_from_json({"timezone": "Asia/Shanghai", "holidays": ["2026-11-24"]})
    with SqlUnitOfWork(seeded) as uow:
        uow.calendar.put(calendar, "u-huangli", clock.now())
        uow.commit()
    key = publish_leave(seeded, clock, "remind", repeat=1, working_time=True)
    assert clock.now() == datetime(2026, 11, 23, 9, tzinfo=UTC)  # Monday 17:00 in Shanghai
    outcome = submit(seeded, clock, key)
    # 17:00-18:00 on Monday, Tuesday is a holiday, 09:00-10:00 on Wednesday
    due = datetime(2026, 11, 25, 2, tzinfo=UTC)
    (task,) = load(seeded, outcome.instance_id).pending_tasks()
    assert task.due_at == due
    clock.advance(hours=2)  # two hours of wall-clock time, one of working time
    assert timers.fire_timers_once() == 0
    clock.current = due - timedelta(seconds=1)
    assert timers.fire_timers_once() == 0
    clock.current = due
    assert timers.fire_timers_once() == 1
