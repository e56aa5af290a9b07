"""The read side (`signoff.store.queries`) on SQLite and PostgreSQL: a person's four
boxes with their counts, keyset paging, filters, an instance's timeline, who takes part,
and the indexes the inbox queries walk."""

from __future__ import annotations

import base64
import itertools
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from signoff.domain.commands import Approve, Reject, Return, Transfer
from signoff.domain.errors import CommandInvalid
from signoff.service.clock import ManualClock
from signoff.service.commands import Outcome, act, start
from signoff.service.readmodel import BOXES, InboxFilter, InboxItem
from signoff.store.database import Database
from signoff.store.queries import (
    DONE_STATUSES,
    counts,
    encode_cursor,
    inbox,
    inbox_query,
    timeline,
)
from signoff.store.schema import ccs, instances, tasks
from signoff.store.uow import SqlUnitOfWork

LEAVE = {
    "leave_type": "annual",
    "period": ["2026-12-01", "2026-12-02"],
    "days": 2,
    "reason": "family visit",
}
EXPENSE = {
    "expense_type": "office",
    "items": [{"date": "2026-11-02", "category": "supplies", "amount": "120"}],
    "total": "120.00",
    "invoices": [{"id": "f-1", "name": "i.pdf", "size": 10, "content_type": "application/pdf"}],
    "payee": "u-zhangsan",
}
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def submit(
    db: Database,
    clock: ManualClock,
    actor: str = "u-zhangsan",
    template: str = "leave",
    form: dict[str, Any] | None = None,
) -> Outcome:
    return start(
        lambda: SqlUnitOfWork(db),
        clock,
        actor=actor,
        template_key=template,
        form=form or (LEAVE if template == "leave" else EXPENSE),
    )


def task_of(db: Database, instance_id: str, person: str) -> str:
    with db.reader() as conn:
        return str(
            conn.execute(
                sa.select(tasks.c.id).where(
                    tasks.c.instance_id == instance_id,
                    tasks.c.assignee == person,
                    tasks.c.status == "pending",
                )
            ).scalar_one()
        )


def approve(
    db: Database, clock: ManualClock, instance_id: str, person: str, comment: str | None = None
) -> Outcome:
    task = task_of(db, instance_id, person)
    command = Approve(actor=person, task_id=task, comment=comment)
    return act(SqlUnitOfWork(db), clock, instance_id, command)


def reject(
    db: Database, clock: ManualClock, instance_id: str, person: str, comment: str
) -> Outcome:
    task = task_of(db, instance_id, person)
    return act(
        SqlUnitOfWork(db), clock, instance_id, Reject(actor=person, task_id=task, comment=comment)
    )


def key(item: InboxItem) -> str:
    """What identifies a row of a box: the task in task boxes, else the instance."""
    return item.task_id or item.instance_id


def keys(items: list[InboxItem]) -> list[str]:
    return [key(i) for i in items]


@dataclass
class Office:
    """A small morning at Acme (every step one minute after 09:00):

    0  张三 asks for leave A             -> 陈杰
    1  张三 claims expense C              -> 陈杰
    2  王五 asks for leave D             -> 刘洋
    3  陈杰 approves A ("去吧")           -> 黄莉 / 徐婷 (HR, any one of them)
    4  黄莉 approves A ("批准")           -> approved, CC'd to 黄莉 and 徐婷 (whose task ends)
    5  张三 asks for leave B             -> 陈杰
    6  陈杰 rejects B ("项目上线期间")
    """

    a: str
    b: str
    c: str
    d: str


@pytest.fixture
def office(seeded: Database, clock: ManualClock) -> Office:
    a = submit(seeded, clock).instance_id
    clock.advance(minutes=1)
    c = submit(seeded, clock, template="expense").instance_id
    clock.advance(minutes=1)
    d = submit(seeded, clock, actor="u-wangwu").instance_id
    clock.advance(minutes=1)
    approve(seeded, clock, a, "u-chenjie", "去吧")
    clock.advance(minutes=1)
    approve(seeded, clock, a, "u-huangli", "批准")
    clock.advance(minutes=1)
    b = submit(seeded, clock).instance_id
    clock.advance(minutes=1)
    reject(seeded, clock, b, "u-chenjie", "项目上线期间")
    return Office(a, b, c, d)


def box(db: Database, person: str, name: str, **where: Any) -> list[InboxItem]:
    with db.reader() as conn:
        return inbox(conn, person, name, InboxFilter(**where), limit=100).items


def test_a_person_sees_each_box_with_what_entered_it_and_when(
    seeded: Database, office: Office
) -> None:
    chenjie = {name: box(seeded, "u-chenjie", name) for name in BOXES}
    assert [(i.instance_id, i.task_status, i.at) for i in chenjie["pending"]] == [
        (office.c, "pending", at(1))
    ]
    assert chenjie["pending"][0].template_key == "expense"
    assert chenjie["pending"][0].node_id == "dept_head"
    assert [(i.instance_id, i.task_status, i.status, i.at) for i in chenjie["done"]] == [
        (office.b, "rejected", "rejected", at(6)),
        (office.a, "approved", "approved", at(3)),
    ]
    assert chenjie["cc"] == chenjie["mine"] == []

    mine = box(seeded, "u-zhangsan", "mine")
    assert [(i.instance_id, i.status, i.at) for i in mine] == [
        (office.b, "rejected", at(5)),
        (office.c, "pending", at(1)),
        (office.a, "approved", at(0)),
    ]
    assert all(i.task_id is None and i.applicant_id == "u-zhangsan" for i in mine)
    assert mine[2].title == "张三的请假申请（2天）"
    assert mine[2].serial == "LEAVE-20261123-0001"

    assert [i.instance_id for i in box(seeded, "u-huangli", "done")] == [office.a]
    for person in ("u-huangli", "u-xuting"):
        assert [(i.instance_id, i.at) for i in box(seeded, person, "cc")] == [(office.a, at(4))]
    # 徐婷's HR task was cancelled when 黄莉 approved: it is neither to do nor done
    assert box(seeded, "u-xuting", "pending") == box(seeded, "u-xuting", "done") == []
    assert [i.instance_id for i in box(seeded, "u-liuyang", "pending")] == [office.d]


def test_counts_match_the_boxes_for_everyone(seeded: Database, office: Office) -> None:
    expected = {
        "u-chenjie": {"pending": 1, "done": 2, "cc": 0, "mine": 0},
        "u-zhangsan": {"pending": 0, "done": 0, "cc": 0, "mine": 3},
        "u-huangli": {"pending": 0, "done": 1, "cc": 1, "mine": 0},
        "u-xuting": {"pending": 0, "done": 0, "cc": 1, "mine": 0},
        "u-liuyang": {"pending": 1, "done": 0, "cc": 0, "mine": 0},
        "u-wangwu": {"pending": 0, "done": 0, "cc": 0, "mine": 1},
        "u-nobody": {"pending": 0, "done": 0, "cc": 0, "mine": 0},
    }
    with seeded.reader() as conn:
        for person, boxes in expected.items():
            assert counts(conn, person) == boxes, person
            assert {name: len(box(seeded, person, name)) for name in BOXES} == boxes
    with SqlUnitOfWork(seeded) as uow:
        assert uow.queries.counts("u-chenjie") == expected["u-chenjie"]
        assert uow.queries.pending_total() == 2


def test_returned_and_transferred_tasks_are_done_for_the_person_who_acted(
    seeded: Database, clock: ManualClock
) -> None:
    returned = submit(seeded, clock).instance_id
    transferred = submit(seeded, clock).instance_id
    clock.advance(minutes=10)
    task = task_of(seeded, returned, "u-chenjie")
    act(
        SqlUnitOfWork(seeded),
        clock,
        returned,
        Return(actor="u-chenjie", task_id=task, comment="补充证明"),
    )
    clock.advance(minutes=1)
    task = task_of(seeded, transferred, "u-chenjie")
    act(
        SqlUnitOfWork(seeded),
        clock,
        transferred,
        Transfer(actor="u-chenjie", task_id=task, to="u-lina", comment="请李娜处理"),
    )
    done = box(seeded, "u-chenjie", "done")
    assert [(i.instance_id, i.task_status, i.at) for i in done] == [
        (transferred, "transferred", at(11)),
        (returned, "returned", at(10)),
    ]
    assert [i.instance_id for i in box(seeded, "u-lina", "pending")] == [transferred]
    statuses = {i.instance_id: i.status for i in box(seeded, "u-zhangsan", "mine")}
    assert statuses == {returned: "returned", transferred: "pending"}


# ---- keyset paging -------------------------------------------------------------------


@pytest.fixture
def busy(seeded: Database, clock: ManualClock) -> Database:
    """Nine leave requests by 张三 with ties in time (three at once, then pairs); 陈杰
    approves four of them (three at once), 黄莉 approves three (two at once)."""
    ids = []
    for minute in (0, 0, 0, 1, 1, 2, 2, 3, 4):
        clock.current = at(minute)
        ids.append(submit(seeded, clock).instance_id)
    for minute, instance_id in zip((10, 10, 10, 11), ids[:4], strict=True):
        clock.current = at(minute)
        approve(seeded, clock, instance_id, "u-chenjie")
    for minute, instance_id in zip((20, 20, 21), ids[:3], strict=True):
        clock.current = at(minute)
        approve(seeded, clock, instance_id, "u-huangli")
    return seeded


def expected_box(db: Database, person: str, name: str) -> list[str]:
    """The box straight from the tables, newest first by (time, id): the oracle."""
    with db.reader() as conn:
        if name == "pending":
            rows = conn.execute(
                sa.select(tasks.c.created_at, tasks.c.id).where(
                    tasks.c.assignee == person, tasks.c.status == "pending"
                )
            )
        elif name == "done":
            rows = conn.execute(
                sa.select(tasks.c.acted_at, tasks.c.id).where(
                    tasks.c.assignee == person,
                    tasks.c.acted_at.is_not(None),
                    tasks.c.status.in_(DONE_STATUSES),
                )
            )
        elif name == "cc":
            rows = conn.execute(
                sa.select(ccs.c.at, ccs.c.instance_id).where(ccs.c.principal_id == person)
            )
        else:
            rows = conn.execute(
                sa.select(instances.c.created_at, instances.c.id).where(
                    instances.c.applicant_id == person
                )
            )
        return [ident for _, ident in sorted((tuple(r) for r in rows), reverse=True)]


def walk(
    db: Database, person: str, name: str, limit: int, where: InboxFilter | None = None
) -> tuple[list[InboxItem], int]:
    items: list[InboxItem] = []
    cursor = None
    pages = 0
    while True:
        with db.reader() as conn:
            page = inbox(conn, person, name, where, cursor, limit)
        pages += 1
        assert len(page.items) <= limit
        items += page.items
        if page.next_cursor is None:
            return items, pages
        assert len(page.items) == limit
        cursor = page.next_cursor
        assert pages < 100, "paging does not end"


@pytest.mark.parametrize(
    ("person", "name", "size"),
    [
        ("u-chenjie", "pending", 5),
        ("u-chenjie", "done", 4),
        ("u-huangli", "done", 3),
        ("u-xuting", "cc", 3),
        ("u-zhangsan", "mine", 9),
    ],
)
def test_walking_every_page_of_two_gives_each_row_once_newest_first(
    busy: Database, person: str, name: str, size: int
) -> None:
    items, pages = walk(busy, person, name, limit=2)
    expected = expected_box(busy, person, name)
    assert len(expected) == size
    assert keys(items) == expected
    assert len(set(keys(items))) == len(items)
    assert pages == math.ceil(size / 2)
    order = [(i.at, key(i)) for i in items]
    assert order == sorted(order, reverse=True)


def test_rows_arriving_between_pages_neither_repeat_nor_hide_older_rows(
    busy: Database, clock: ManualClock
) -> None:
    before = expected_box(busy, "u-zhangsan", "mine")
    with busy.reader() as conn:
        first = inbox(conn, "u-zhangsan", "mine", None, None, 2)
    clock.current = at(30)
    newer = submit(busy, clock).instance_id
    seen = keys(first.items)
    cursor = first.next_cursor
    while cursor is not None:
        with busy.reader() as conn:
            page = inbox(conn, "u-zhangsan", "mine", None, cursor, 2)
        seen += keys(page.items)
        cursor = page.next_cursor
    assert seen == before
    assert newer not in seen


def test_a_limit_is_kept_within_one_and_the_maximum_page(busy: Database) -> None:
    with busy.reader() as conn:
        assert len(inbox(conn, "u-zhangsan", "mine", None, None, 0).items) == 1
        assert len(inbox(conn, "u-zhangsan", "mine", None, None, -5).items) == 1
        page = inbox(conn, "u-zhangsan", "mine", None, None, 10_000)
    assert len(page.items) == 9
    assert page.next_cursor is None


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "%%% not a cursor %%%",
        "abc",
        _b64("not json"),
        _b64("{}"),
        _b64('["2026-11-23T09:00:00+00:00"]'),
        _b64('["yesterday", "x"]'),
        _b64("[1, 2]"),
    ],
    ids=[
        "garbage",
        "short",
        "not json",
        "object",
        "one item",
        "not a time",
        "numbers",
    ],
)
def test_a_cursor_the_server_did_not_give_out_is_invalid(db: Database, cursor: str) -> None:
    with db.reader() as conn, pytest.raises(CommandInvalid) as caught:
        inbox(conn, "u-zhangsan", "mine", None, cursor, 2)
    assert caught.value.code == "command_invalid"


def test_an_unknown_box_is_invalid(db: Database) -> None:
    with db.reader() as conn, pytest.raises(CommandInvalid):
        inbox(conn, "u-zhangsan", "archive")


# ---- filters -------------------------------------------------------------------------


FILTERS: list[tuple[str, str, dict[str, Any], list[str]]] = [
    ("u-chenjie", "pending", {"template_key": "expense"}, ["c"]),
    ("u-chenjie", "pending", {"template_key": "leave"}, []),
    ("u-chenjie", "done", {"template_key": "leave"}, ["b", "a"]),
    ("u-zhangsan", "mine", {"template_key": "expense"}, ["c"]),
    ("u-zhangsan", "mine", {"status": "approved"}, ["a"]),
    ("u-zhangsan", "mine", {"status": "rejected"}, ["b"]),
    ("u-zhangsan", "mine", {"status": "pending"}, ["c"]),
    ("u-chenjie", "done", {"status": "approved"}, ["a"]),
    ("u-huangli", "cc", {"status": "approved"}, ["a"]),
    ("u-huangli", "cc", {"template_key": "expense"}, []),
    # since is inclusive, until exclusive
    ("u-zhangsan", "mine", {"since": at(1), "until": at(5)}, ["c"]),
    ("u-zhangsan", "mine", {"since": at(1)}, ["b", "c"]),
    ("u-zhangsan", "mine", {"until": at(1)}, ["a"]),
    ("u-chenjie", "done", {"since": at(3), "until": at(6)}, ["a"]),
    ("u-chenjie", "done", {"since": at(4)}, ["b"]),
    ("u-zhangsan", "mine", {"template_key": "leave", "status": "rejected"}, ["b"]),
    ("u-zhangsan", "mine", {"template_key": "leave", "since": at(0), "until": at(1)}, ["a"]),
]


def test_filters_narrow_a_box_by_template_status_and_time(seeded: Database, office: Office) -> None:
    """Each case: whose box, which box, the filter, and the instances (of `Office`) left."""
    for person, name, where, expected in FILTERS:
        case = f"{person} {name} {where}"
        items = box(seeded, person, name, **where)
        assert [i.instance_id for i in items] == [getattr(office, x) for x in expected], case
        with seeded.reader() as conn:
            assert counts(conn, person, InboxFilter(**where))[name] == len(expected), case


def test_paging_keeps_to_the_filter(busy: Database, clock: ManualClock) -> None:
    clock.current = at(2)
    submit(busy, clock, template="expense")
    where = InboxFilter(template_key="leave", since=at(1), until=at(4))
    items, pages = walk(busy, "u-zhangsan", "mine", 1, where)
    assert [i.at for i in items] == [at(3), at(2), at(2), at(1), at(1)]
    assert pages == 5
    assert all(i.template_key == "leave" for i in items)


# ---- timeline and participants -------------------------------------------------------


def test_a_timeline_lists_the_audit_rows_in_order_with_statuses_and_comments(
    seeded: Database, office: Office
) -> None:
    with seeded.reader() as conn:
        approved = timeline(conn, office.a)
        rejected = timeline(conn, office.b)
        assert timeline(conn, "i-none") == []
    for entries in (approved, rejected):
        assert [e.seq for e in entries] == list(range(len(entries)))
        assert len({e.event_id for e in entries}) == len(entries)
        for before, after in itertools.pairwise(entries):
            assert before.to_status == after.from_status
            assert before.at <= after.at

    first = approved[0]
    assert (first.type, first.actor, first.from_status, first.to_status, first.at) == (
        "InstanceSubmitted",
        "u-zhangsan",
        "draft",
        "pending",
        at(0),
    )
    assert first.data["form"] == LEAVE
    decisions = [
        (e.actor, e.data.get("comment"), e.at) for e in approved if e.type == "TaskApproved"
    ]
    assert decisions == [("u-chenjie", "去吧", at(3)), ("u-huangli", "批准", at(4))]
    end = next(e for e in approved if e.type == "InstanceApproved")
    assert (end.from_status, end.to_status, end.at) == ("pending", "approved", at(4))
    assert approved[-1].to_status == "approved"

    refused = next(e for e in rejected if e.type == "TaskRejected")
    assert (refused.actor, refused.data["comment"]) == ("u-chenjie", "项目上线期间")
    end = next(e for e in rejected if e.type == "InstanceRejected")
    assert (end.from_status, end.to_status) == ("pending", "rejected")


def test_participants_are_the_applicant_the_assignees_and_those_cced(
    seeded: Database, office: Office
) -> None:
    people = {"u-zhangsan", "u-chenjie", "u-huangli", "u-xuting", "u-wangwu", "u-liuyang"}
    with SqlUnitOfWork(seeded) as uow:

        def everyone(instance_id: str) -> set[str]:
            return uow.instances.get(instance_id, lock=False).participants() & people

        # 徐婷 held a task on A (cancelled) and was CC'd on it
        assert everyone(office.a) == {"u-zhangsan", "u-chenjie", "u-huangli", "u-xuting"}
        assert everyone(office.b) == {"u-zhangsan", "u-chenjie"}
        assert everyone(office.d) == {"u-wangwu", "u-liuyang"}


# ---- the indexes the inbox walks -----------------------------------------------------


def plan(conn: sa.Connection, statement: sa.Select[Any]) -> list[str]:
    sql = str(statement.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    if conn.dialect.name == "sqlite":
        return [str(r[-1]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql)]
    return [str(r[0]) for r in conn.exec_driver_sql("EXPLAIN " + sql)]


def bulk(db: Database, size: int) -> None:
    """`size` instances of 50 applicants, two tasks each (one done, one pending) for 100
    other people, and two CCs each, straight into the tables; then ANALYZE."""
    rows = []
    task_rows = []
    cc_rows = []
    for n in range(size):
        ident = f"bulk-{n:06d}"
        when = T0 - timedelta(minutes=n)
        rows.append(
            {
                "id": ident,
                "template_key": "leave",
                "template_version": 1,
                "applicant_id": f"u-bulk-a{n % 50}",
                "status": "pending",
                "title": "bulk",
                "form": {},
                "state": {},
                "version": 1,
                "created_at": when,
                "updated_at": when,
            }
        )
        for j in range(2):
            task_rows.append(
                {
                    "id": f"{ident}.t{j}",
                    "instance_id": ident,
                    "template_key": "leave",
                    "node_id": "n",
                    "lane": 0,
                    "assignee": f"u-bulk-b{(2 * n + j) % 100}",
                    "status": "approved" if j == 0 else "pending",
                    "kind": "normal",
                    "created_at": when,
                    "acted_at": when + timedelta(seconds=30) if j == 0 else None,
                }
            )
            cc_rows.append(
                {"instance_id": ident, "principal_id": f"u-bulk-c{(2 * n + j) % 100}", "at": when}
            )
    with db.engine.begin() as conn:
        conn.execute(sa.insert(instances), rows)
        conn.execute(sa.insert(tasks), task_rows)
        conn.execute(sa.insert(ccs), cc_rows)
    with db.engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()


BOX_INDEX = [
    ("pending", "u-bulk-b1", "tasks", "ix_tasks_inbox"),
    ("done", "u-bulk-b0", "tasks", "ix_tasks_done"),
    ("mine", "u-bulk-a7", "instances", "ix_instances_applicant"),
    ("cc", "u-bulk-c3", "ccs", "ix_ccs_person"),
]


def assert_uses(lines: list[str], dialect: str, table: str, index: str) -> None:
    text = "\n".join(lines)
    assert index in text, text
    if dialect == "sqlite":
        assert not any(line.startswith(f"SCAN {table}") for line in lines), text
    else:
        assert f"Seq Scan on {table}" not in text, text


def test_the_inbox_queries_walk_their_indexes_on_both_databases(busy: Database) -> None:
    """SQLite's planner without statistics, then both planners with a few thousand rows of
    other people's work and fresh statistics: every box searches its index, on the first
    page and on a later one (the keyset condition), never scanning the table."""
    cursor = encode_cursor(T0 - timedelta(minutes=100), "bulk-000100.t1")
    if busy.is_sqlite:
        with busy.reader() as conn:
            for name, _, table, index in BOX_INDEX:
                for after in (None, cursor):
                    query = inbox_query("u-chenjie", name, InboxFilter(), after, 21)
                    assert_uses(plan(conn, query), "sqlite", table, index)
    bulk(busy, 3000)
    with busy.reader() as conn:
        for name, person, table, index in BOX_INDEX:
            for after in (None, cursor):
                query = inbox_query(person, name, InboxFilter(), after, 21)
                assert_uses(plan(conn, query), busy.dialect, table, index)
        # the pending box with a template filter still searches the inbox index
        query = inbox_query("u-bulk-b1", "pending", InboxFilter(template_key="leave"), None, 21)
        assert_uses(plan(conn, query), busy.dialect, "tasks", "ix_tasks_inbox")
        # and the boxes still answer right with the crowd around them
        page = inbox(conn, "u-bulk-b1", "pending", None, None, 5)
        assert [i.instance_id for i in page.items] == [f"bulk-{n:06d}" for n in range(0, 250, 50)]
        assert counts(conn, "u-chenjie")["pending"] == 5
