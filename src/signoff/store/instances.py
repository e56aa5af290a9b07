"""Instances in SQL: one row per instance, its tasks as rows, its CCs, audit and outbox.

Loading reads the instance row (`FOR UPDATE` on PostgreSQL; SQLite's `BEGIN IMMEDIATE`
already holds the writer lock) and the instance's tasks. Saving updates the row with
`WHERE version = <loaded version>`, writes only the tasks that changed, and appends one
audit row per event and one outbox row per notice (`signoff.domain.notices`: the few
events the outside world hears about), all in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from signoff.domain.aggregate import Task
from signoff.domain.errors import UnknownInstance, VersionConflict
from signoff.domain.events import Event
from signoff.domain.instance import Instance
from signoff.domain.notices import Notice, notices_for
from signoff.domain.snapshot import dump_state, load_instance
from signoff.domain.states import CancelReason, TaskKind, TaskStatus
from signoff.domain.templates import Template
from signoff.store.audit import audit_rows, write_audit
from signoff.store.prepared import Prepared, inserting
from signoff.store.schema import ccs, instances, outbox, tasks

_TASK_COLUMNS = (
    "id",
    "node_id",
    "lane",
    "assignee",
    "status",
    "kind",
    "created_at",
    "origin",
    "on_behalf_of",
    "due_at",
    "acted_at",
    "comment",
    "auto",
    "cancel_reason",
    "read_at",
    "reminders",
)
_UPDATABLE = tuple(c for c in _TASK_COLUMNS if c not in ("id", "node_id", "created_at"))

_task_update = Prepared(
    update(tasks)
    .where(tasks.c.id == bindparam("_id"))
    .values({c: bindparam(c) for c in _UPDATABLE})
)


_task_tuple = attrgetter(*_TASK_COLUMNS)

# every command runs these: compiled once, run on the driver (signoff.store.prepared)
_select = select(instances).where(instances.c.id == bindparam("id"))
_load = Prepared(_select)
_load_locked = Prepared(_select.with_for_update())
_load_tasks = Prepared(select(tasks).where(tasks.c.instance_id == bindparam("id")))
_save = Prepared(
    update(instances)
    .where(instances.c.id == bindparam("_id"), instances.c.version == bindparam("_version"))
    .values(
        {
            c: bindparam(c)
            for c in (
                "status",
                "serial",
                "title",
                "form",
                "state",
                "version",
                "created_at",
                "submitted_at",
                "finished_at",
                "updated_at",
                "audit_head",
            )
        }
    )
)
_insert_tasks = inserting(tasks, ("instance_id", "template_key", *_TASK_COLUMNS))
_insert_ccs = inserting(ccs, ("instance_id", "principal_id", "at"))
_insert_outbox = inserting(
    outbox, ("event_id", "instance_id", "template_key", "type", "at", "actor", "audience", "data")
)


def task_from_row(row: Any) -> Task:
    return Task(
        row.id,
        row.node_id,
        row.lane,
        row.assignee,
        TaskStatus(row.status),
        TaskKind(row.kind),
        row.created_at,
        origin=row.origin,
        on_behalf_of=row.on_behalf_of,
        due_at=row.due_at,
        acted_at=row.acted_at,
        comment=row.comment,
        auto=row.auto,
        cancel_reason=CancelReason(row.cancel_reason) if row.cancel_reason else None,
        read_at=row.read_at,
        reminders=row.reminders,
    )


def _task_values(task: Task) -> dict[str, Any]:
    return {c: getattr(task, c) for c in _TASK_COLUMNS}


class SqlInstanceRepository:
    def __init__(
        self, conn: Connection, templates: Callable[[str, int], Template], lock_rows: bool
    ) -> None:
        self.conn = conn
        self.templates = templates
        self.lock_rows = lock_rows
        # what was loaded, to write only differences: version, status, audit head, tasks, ccs
        self._loaded: dict[str, tuple[int, str, str | None, dict[str, tuple[Any, ...]], int]] = {}

    def get(self, instance_id: str, *, lock: bool = True) -> Instance:
        query = _load_locked if lock and self.lock_rows else _load
        row = query.one_or_none(self.conn, {"id": instance_id})
        if row is None:
            raise UnknownInstance(f"no instance {instance_id!r}", instance_id=instance_id)
        task_rows = _load_tasks.all(self.conn, {"id": instance_id})
        loaded_tasks = [task_from_row(r) for r in task_rows]
        instance = load_instance(
            instance_id=row.id,
            template=self.templates(row.template_key, row.template_version),
            applicant_id=row.applicant_id,
            status=row.status,
            form=row.form,
            serial=row.serial or "",
            title=row.title,
            version=row.version,
            created_at=row.created_at,
            submitted_at=row.submitted_at,
            finished_at=row.finished_at,
            updated_at=row.updated_at,
            state=row.state,
            tasks=loaded_tasks,
        )
        self._loaded[instance_id] = (
            row.version,
            row.status,
            row.audit_head,
            {t.id: _task_tuple(t) for t in loaded_tasks},
            len(instance.cc),
        )
        return instance

    def _row(self, instance: Instance) -> dict[str, Any]:
        now = instance.updated_at
        return {
            "status": instance.status.value,
            "serial": instance.serial or None,
            "title": instance.title,
            "form": instance.form,
            "state": dump_state(instance),
            "version": instance.version,
            "created_at": instance.created_at or now,
            "submitted_at": instance.submitted_at,
            "finished_at": instance.finished_at,
            "updated_at": now,
        }

    def add(self, instance: Instance, events: Sequence[Event]) -> None:
        rows, head = audit_rows(events, "draft", None)
        values = self._row(instance)
        values.update(
            id=instance.id,
            template_key=instance.template.key,
            template_version=instance.template.version,
            applicant_id=instance.applicant_id,
            audit_head=head,
        )
        self.conn.execute(insert(instances).values(values))
        self._write_children(instance, {}, 0, events, rows)

    def save(self, instance: Instance, events: Sequence[Event]) -> None:
        loaded = self._loaded.get(instance.id)
        if loaded is None:
            raise RuntimeError(f"instance {instance.id} was not loaded in this unit of work")
        version, status, head, old_tasks, old_cc = loaded
        rows, new_head = audit_rows(events, status, head)
        values = self._row(instance)
        values["audit_head"] = new_head
        values["_id"] = instance.id
        values["_version"] = version
        if _save.execute(self.conn, values) != 1:
            raise VersionConflict(
                f"instance {instance.id} changed since version {version}",
                instance_id=instance.id,
                expected_version=version,
            )
        self._write_children(instance, old_tasks, old_cc, events, rows)

    def _write_children(
        self,
        instance: Instance,
        old_tasks: dict[str, tuple[Any, ...]],
        old_cc: int,
        events: Sequence[Event],
        audit: list[dict[str, Any]],
    ) -> None:
        new: list[dict[str, Any]] = []
        changed: list[dict[str, Any]] = []
        for task in instance.tasks.values():
            before = old_tasks.get(task.id)
            if before is None:
                values = _task_values(task)
                values["instance_id"] = instance.id
                values["template_key"] = instance.template.key
                new.append(values)
            elif before != _task_tuple(task):
                values = {c: getattr(task, c) for c in _UPDATABLE}
                values["_id"] = task.id
                changed.append(values)
        if new:
            _insert_tasks.executemany(self.conn, new)
        if changed:
            _task_update.executemany(self.conn, changed)
        if len(instance.cc) > old_cc:
            at = instance.updated_at
            _insert_ccs.executemany(
                self.conn,
                [
                    {"instance_id": instance.id, "principal_id": p, "at": at}
                    for p in instance.cc[old_cc:]
                ],
            )
        write_audit(self.conn, audit)
        notices = notices_for(instance, events)
        if notices:
            _insert_outbox.executemany(self.conn, [outbox_row(n) for n in notices])
        self._loaded[instance.id] = (
            instance.version,
            instance.status.value,
            audit[-1]["hash"] if audit else self._loaded.get(instance.id, (0, "", None))[2],
            {t.id: _task_tuple(t) for t in instance.tasks.values()},
            len(instance.cc),
        )

    def with_open_tasks_of(self, principal_id: str) -> list[str]:
        query = (
            select(tasks.c.instance_id)
            .where(
                tasks.c.assignee == principal_id,
                tasks.c.status.in_((TaskStatus.PENDING.value, TaskStatus.WAITING.value)),
            )
            .distinct()
        )
        return sorted(self.conn.execute(query).scalars())


def outbox_row(notice: Notice) -> dict[str, Any]:
    """The outbox row of a notice (also for notices written outside a command: documents)."""
    return {
        "event_id": notice.id,
        "instance_id": notice.instance_id,
        "template_key": notice.template_key,
        "type": notice.type,
        "at": notice.at,
        "actor": notice.actor,
        "audience": list(notice.audience),
        "data": notice.data,
    }
