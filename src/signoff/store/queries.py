"""The read side: inboxes with counts and keyset paging, an instance with its timeline.

Every list is ordered newest first by (time, id) and paged by keyset: the cursor is
the (time, id) of the last row seen, and the next page is `WHERE (time, id) <
cursor`, which walks an index instead of counting past skipped rows, so page 1000
costs what page 1 costs. The boxes:

| box | rows | index |
|---|---|---|
| `pending` | my tasks whose turn it is | `ix_tasks_inbox` (assignee, status, created_at, id) |
| `done` | tasks I decided or transferred | `ix_tasks_done` (assignee, acted_at, id) |
| `cc` | instances I was CC'd on | `ix_ccs_person` (principal_id, at, instance_id) |
| `mine` | my requests | `ix_instances_applicant` (applicant_id, created_at, id) |
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, func, select, tuple_

from signoff.domain.errors import CommandInvalid
from signoff.service.readmodel import BOXES, InboxFilter, InboxItem, Page, TimelineEntry
from signoff.store.schema import (
    audit,
    ccs,
    department_heads,
    departments,
    instances,
    principal_roles,
    principals,
    tasks,
)

DONE_STATUSES = ("approved", "rejected", "returned", "transferred")
MAX_PAGE = 200


def encode_cursor(at: datetime, ident: str) -> str:
    raw = json.dumps([at.isoformat(), ident]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        at, ident = json.loads(base64.urlsafe_b64decode(padded))
        return datetime.fromisoformat(at), str(ident)
    except (ValueError, TypeError) as error:
        raise CommandInvalid(f"cursor {cursor!r} is not one this server gave out") from error


def _box_query(person: str, box: str) -> tuple[Any, Any, Any]:
    """The query of a box, with its time and id columns (the keyset)."""
    cols = (
        instances.c.id.label("instance_id"),
        instances.c.template_key,
        instances.c.title,
        instances.c.serial,
        instances.c.status,
        instances.c.applicant_id,
    )
    task_cols = (tasks.c.id.label("task_id"), tasks.c.node_id, tasks.c.status.label("task_status"))
    if box == "pending":
        query = (
            select(*cols, tasks.c.created_at.label("at"), *task_cols)
            .join(instances, instances.c.id == tasks.c.instance_id)
            .where(tasks.c.assignee == person, tasks.c.status == "pending")
        )
        return query, tasks.c.created_at, tasks.c.id
    if box == "done":
        query = (
            select(*cols, tasks.c.acted_at.label("at"), *task_cols)
            .join(instances, instances.c.id == tasks.c.instance_id)
            .where(
                tasks.c.assignee == person,
                tasks.c.acted_at.is_not(None),
                tasks.c.status.in_(DONE_STATUSES),
            )
        )
        return query, tasks.c.acted_at, tasks.c.id
    if box == "cc":
        query = (
            select(*cols, ccs.c.at.label("at"))
            .join(instances, instances.c.id == ccs.c.instance_id)
            .where(ccs.c.principal_id == person)
        )
        return query, ccs.c.at, ccs.c.instance_id
    if box == "mine":
        query = select(*cols, instances.c.created_at.label("at")).where(
            instances.c.applicant_id == person
        )
        return query, instances.c.created_at, instances.c.id
    raise CommandInvalid(f"unknown box {box!r}; one of {', '.join(BOXES)}", box=box)


def _filtered(query: Select[Any], at: Any, box: str, where: InboxFilter) -> Select[Any]:
    if where.template_key:
        column = tasks.c.template_key if box in ("pending", "done") else instances.c.template_key
        query = query.where(column == where.template_key)
    if where.status:
        query = query.where(instances.c.status == where.status)
    if where.since:
        query = query.where(at >= where.since)
    if where.until:
        query = query.where(at < where.until)
    return query


def inbox_query(
    person: str, box: str, where: InboxFilter, cursor: str | None, limit: int
) -> Select[Any]:
    query, at, ident = _box_query(person, box)
    query = _filtered(query, at, box, where)
    if cursor:
        after_at, after_id = decode_cursor(cursor)
        query = query.where(tuple_(at, ident) < tuple_(after_at, after_id))
    return query.order_by(at.desc(), ident.desc()).limit(limit)


def inbox(
    conn: Connection,
    person: str,
    box: str,
    where: InboxFilter | None = None,
    cursor: str | None = None,
    limit: int = 20,
) -> Page:
    limit = max(1, min(limit, MAX_PAGE))
    rows = conn.execute(inbox_query(person, box, where or InboxFilter(), cursor, limit + 1))
    items = [
        InboxItem(
            r.instance_id,
            r.template_key,
            r.title,
            r.serial,
            r.status,
            r.applicant_id,
            r.at,
            getattr(r, "task_id", None),
            getattr(r, "node_id", None),
            getattr(r, "task_status", None),
        )
        for r in rows
    ]
    more = len(items) > limit
    items = items[:limit]
    last = items[-1] if more else None
    next_cursor = None
    if last is not None:
        next_cursor = encode_cursor(
            last.at,
            last.task_id if box in ("pending", "done") and last.task_id else last.instance_id,
        )
    return Page(items, next_cursor)


def counts(conn: Connection, person: str, where: InboxFilter | None = None) -> dict[str, int]:
    out: dict[str, int] = {}
    for box in BOXES:
        query, at, _ = _box_query(person, box)
        query = _filtered(query, at, box, where or InboxFilter())
        out[box] = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    return out


def timeline(conn: Connection, instance_id: str) -> list[TimelineEntry]:
    rows = conn.execute(
        select(audit).where(audit.c.instance_id == instance_id).order_by(audit.c.seq)
    )
    return [
        TimelineEntry(r.seq, r.event_id, r.type, r.actor, r.at, r.from_status, r.to_status, r.data)
        for r in rows
    ]


class SqlQueries:
    """The read side bound to one unit of work's connection (`uow.queries`)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def inbox(
        self, person: str, box: str, where: InboxFilter, cursor: str | None, limit: int
    ) -> Page:
        return inbox(self.conn, person, box, where, cursor, limit)

    def counts(self, person: str) -> dict[str, int]:
        return counts(self.conn, person)

    def timeline(self, instance_id: str) -> list[TimelineEntry]:
        return timeline(self.conn, instance_id)

    def principals(
        self, query: str | None, department_id: str | None, limit: int
    ) -> list[dict[str, Any]]:
        stmt = select(principals).where(principals.c.active.is_(True))
        if query:
            pattern = f"%{query}%"
            stmt = stmt.where(principals.c.name.like(pattern) | principals.c.id.like(pattern))
        if department_id:
            stmt = stmt.where(principals.c.department_id == department_id)
        rows = self.conn.execute(stmt.order_by(principals.c.id).limit(limit)).mappings()
        return [{k: r[k] for k in ("id", "name", "department_id", "position")} for r in rows]

    def departments(self) -> list[dict[str, Any]]:
        heads: dict[str, list[str]] = {}
        for row in self.conn.execute(select(department_heads).order_by(department_heads.c.rank)):
            heads.setdefault(row.department_id, []).append(row.principal_id)
        return [
            {"id": r.id, "name": r.name, "parent_id": r.parent_id, "head_ids": heads.get(r.id, [])}
            for r in self.conn.execute(select(departments).order_by(departments.c.id))
        ]

    def roles(self) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            select(principal_roles.c.role, func.count())
            .group_by(principal_roles.c.role)
            .order_by(principal_roles.c.role)
        )
        return [{"role": r[0], "members": r[1]} for r in rows]

    def positions(self) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            select(principals.c.position, func.count())
            .where(principals.c.position.is_not(None))
            .group_by(principals.c.position)
            .order_by(principals.c.position)
        )
        return [{"position": r[0], "members": r[1]} for r in rows]

    def pending_total(self) -> int:
        return int(
            self.conn.execute(
                select(func.count()).select_from(tasks).where(tasks.c.status == "pending")
            ).scalar_one()
        )
