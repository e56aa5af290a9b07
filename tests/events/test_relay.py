"""The relay: committed notices get gap-free positions in commit order, feeds for their
audience and one delivery per receiver; nothing else ever leaves."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from signoff.domain.commands import Approve
from signoff.domain.errors import NotAssignee
from signoff.events.dispatcher import Dispatcher
from signoff.service.clock import ManualClock
from signoff.service.commands import act
from signoff.store.database import Database
from signoff.store.schema import deliveries, feeds, outbox
from signoff.store.uow import SqlUnitOfWork
from tests.events.conftest import approve_next, rows, submit_leave


def test_relayed_notices_get_gap_free_positions_in_commit_order(
    seeded: Database, clock: ManualClock, dispatcher: Dispatcher
) -> None:
    first = submit_leave(seeded, clock)
    second = submit_leave(seeded, clock, applicant="u-lisi")
    approve_next(seeded, clock, first)
    assert dispatcher.relay_once()
    sent = sorted(rows(seeded, outbox), key=lambda r: r.position)
    assert [r.position for r in sent] == list(range(1, len(sent) + 1))
    assert [r.id for r in sent] == sorted(r.id for r in sent)  # commit order is id order here
    assert not dispatcher.relay_once()  # nothing new: nothing happens
    approve_next(seeded, clock, second)
    later = dispatcher.relay_once()
    assert later.first == len(sent) + 1


def test_each_person_in_a_notices_audience_gets_it_in_their_feed(
    seeded: Database, clock: ManualClock, dispatcher: Dispatcher
) -> None:
    outcome = submit_leave(seeded, clock)
    dispatcher.relay_once()
    assigned = [r for r in rows(seeded, outbox) if r.type == "task.assigned"]
    assert [r.audience for r in assigned] == [["u-chenjie"]]
    mine = rows(seeded, feeds, feeds.c.principal_id == "u-chenjie")
    assert [f.position for f in mine] == [assigned[0].position]
    submitted = rows(seeded, outbox, outbox.c.type == "instance.submitted")[0]
    assert submitted.audience == ["u-zhangsan"]
    assert submitted.data["next_approvers"] == ["u-chenjie"]
    assert submitted.data["status"] == "pending"
    assert submitted.instance_id == outcome.instance_id


def test_a_refused_command_leaves_no_notice_behind(
    seeded: Database, clock: ManualClock, dispatcher: Dispatcher
) -> None:
    outcome = submit_leave(seeded, clock)
    before = len(rows(seeded, outbox))
    task_id = outcome.pending[0][0]
    with pytest.raises(NotAssignee):
        act(
            SqlUnitOfWork(seeded),
            clock,
            outcome.instance_id,
            Approve(actor="u-zhangsan", task_id=task_id),
        )
    assert len(rows(seeded, outbox)) == before
    dispatcher.relay_once()
    assert rows(seeded, deliveries) == []  # no receivers configured: nothing to deliver


def test_the_relay_is_idempotent_when_two_run_one_after_the_other(
    seeded: Database, clock: ManualClock, dispatcher: Dispatcher
) -> None:
    submit_leave(seeded, clock)
    other = Dispatcher(seeded, clock, dispatcher.settings)
    a, b = dispatcher.relay_once(), other.relay_once()
    assert a and not b
    with seeded.reader() as conn:
        unrelayed = conn.execute(
            sa.select(sa.func.count()).select_from(outbox).where(outbox.c.position.is_(None))
        ).scalar_one()
    assert unrelayed == 0
