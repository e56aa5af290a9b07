"""Prepared statements (the driver-level path every command takes) write and read exactly
what SQLAlchemy's own execution does, on both databases, and stay visible to listeners."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from signoff.service.clock import ManualClock
from signoff.service.commands import start
from signoff.store.database import Database
from signoff.store.prepared import Prepared, inserting
from signoff.store.schema import outbox, tasks
from signoff.store.uow import SqlUnitOfWork

T = datetime(2026, 11, 23, 9, 30, 15, 123456, tzinfo=UTC)
TASK = {
    "id": "p-1.x1",
    "instance_id": "p-1",
    "template_key": "leave",
    "node_id": "team_lead",
    "lane": 0,
    "assignee": "u-chenjie",
    "status": "pending",
    "kind": "approve",
    "created_at": T,
    "due_at": T.astimezone(timezone(timedelta(hours=8))),  # stored as UTC
    "comment": "同意\n第二行",
    "reminders": 2,
}
NOTICE = {
    "event_id": "p-1:x1",
    "instance_id": "p-1",
    "template_key": "leave",
    "type": "task.assigned",
    "at": T,
    "actor": None,
    "audience": ["u-chenjie"],
    "data": {"title": "张三的请假", "next": ["u-chenjie"], "nested": {"n": 1.5}},
}
_by_id = Prepared(sa.select(tasks).where(tasks.c.id == sa.bindparam("id")))
_count_status = Prepared(
    sa.select(sa.func.count()).select_from(tasks).where(tasks.c.reminders == 2)
)


@pytest.fixture
def stored(seeded: Database, clock: ManualClock) -> Database:
    """The demo company with the leave request `p-1`, whose rows the tests add to."""
    form = {
        "leave_type": "annual",
        "period": ["2026-12-01", "2026-12-01"],
        "days": 1,
        "reason": "体检",
    }
    factory = lambda: SqlUnitOfWork(seeded)  # noqa: E731
    start(factory, clock, actor="u-zhangsan", template_key="leave", form=form, instance_id="p-1")
    return seeded


def columns(row: Any, names: list[str]) -> dict[str, Any]:
    return {n: getattr(row, n) for n in names}


def test_rows_written_by_a_prepared_insert_read_back_as_sqlalchemy_writes_them(
    stored: Database,
) -> None:
    db = stored
    twin = {**TASK, "id": "p-1.x2"}
    with db.writer() as conn:
        inserting(tasks, list(TASK)).executemany(conn, [TASK])
        conn.execute(sa.insert(tasks).values(twin))
        inserting(outbox, list(NOTICE)).executemany(conn, [NOTICE])
    with db.reader() as conn:
        mine, theirs = (
            conn.execute(sa.select(tasks).where(tasks.c.id == i)).one()
            for i in ("p-1.x1", "p-1.x2")
        )
        assert columns(mine, list(TASK)) == {**columns(theirs, list(TASK)), "id": "p-1.x1"}
        assert mine.due_at == T and mine.due_at.tzinfo is not None
        stored = conn.execute(sa.select(outbox).where(outbox.c.event_id == "p-1:x1")).one()
        assert columns(stored, list(NOTICE)) == NOTICE


def test_a_prepared_select_reads_what_sqlalchemy_reads(stored: Database) -> None:
    db = stored
    with db.writer() as conn:
        conn.execute(sa.insert(tasks).values(TASK))
    with db.reader() as conn:
        theirs = conn.execute(sa.select(tasks).where(tasks.c.id == "p-1.x1")).one()
        mine = _by_id.one_or_none(conn, {"id": "p-1.x1"})
        assert tuple(mine) == tuple(theirs)
        assert mine.created_at == T and mine.assignee == "u-chenjie"
        assert _by_id.one_or_none(conn, {"id": "nobody"}) is None
        assert _count_status.one_or_none(conn, {})[0] == 1  # a value written into the SQL


def test_a_prepared_update_counts_rows_and_listeners_see_each_statement(
    stored: Database,
) -> None:
    db = stored
    update = Prepared(
        sa.update(tasks)
        .where(tasks.c.id == sa.bindparam("_id"), tasks.c.status == sa.bindparam("_was"))
        .values(status=sa.bindparam("status"), acted_at=sa.bindparam("acted_at"))
    )
    seen: list[str] = []

    def record(_c: Any, _cur: Any, sql: str, *_: Any) -> None:
        seen.append(sql.split()[0])

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        with db.writer() as conn:
            conn.execute(sa.insert(tasks).values(TASK))
            changed = {"_id": "p-1.x1", "_was": "pending", "status": "approved", "acted_at": T}
            assert update.execute(conn, changed) == 1
            assert update.execute(conn, changed) == 0  # no longer pending
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert seen[-2:] == ["UPDATE", "UPDATE"]
    with db.reader() as conn:
        row = conn.execute(sa.select(tasks).where(tasks.c.id == "p-1.x1")).one()
        assert (row.status, row.acted_at) == ("approved", T)
