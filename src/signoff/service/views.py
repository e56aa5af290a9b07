"""What a person sees of an instance: the form as they may see it, the tasks, the
timeline, who must act now, and which actions are open to them."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from signoff.domain.aggregate import Task
from signoff.domain.forms import Access, redact
from signoff.domain.instance import Instance
from signoff.domain.states import InstanceStatus, TaskKind, TaskStatus
from signoff.service.access import access_instance, field_access, visible_form
from signoff.service.auth import Caller
from signoff.service.ports import UnitOfWork
from signoff.service.readmodel import TimelineEntry

_FORM_KEYS = ("form", "changes", "previous")  # event data holding form values


@dataclass(frozen=True, slots=True)
class InstanceView:
    instance: Instance
    form: dict[str, Any]
    timeline: list[TimelineEntry]
    actions: list[str]
    names: dict[str, str]
    writable: list[str]

    def task(self, task: Task) -> dict[str, Any]:
        node = self.instance.template.flow.node(task.node_id)
        return {
            "id": task.id,
            "node_id": task.node_id,
            "node_name": node.name if node else task.node_id,
            "assignee": task.assignee,
            "assignee_name": self.names.get(task.assignee),
            "status": task.status.value,
            "kind": task.kind.value,
            "created_at": task.created_at,
            "acted_at": task.acted_at,
            "due_at": task.due_at,
            "comment": task.comment,
            "auto": task.auto,
            "on_behalf_of": task.on_behalf_of,
            "origin": task.origin,
        }

    def to_json(self) -> dict[str, Any]:
        inst = self.instance
        return {
            "id": inst.id,
            "template_key": inst.template.key,
            "template_version": inst.template.version,
            "template_name": inst.template.name,
            "title": inst.title,
            "serial": inst.serial or None,
            "status": inst.status.value,
            "version": inst.version,
            "applicant_id": inst.applicant_id,
            "form": self.form,
            "created_at": inst.created_at,
            "submitted_at": inst.submitted_at,
            "finished_at": inst.finished_at,
            "pending": [self.task(t) for t in inst.pending_tasks()],
            "tasks": [self.task(t) for t in inst.tasks.values()],
            "cc": list(inst.cc),
            "timeline": [
                {
                    "seq": e.seq,
                    "event_id": e.event_id,
                    "type": e.type,
                    "actor": e.actor,
                    "at": e.at,
                    "from_status": e.from_status,
                    "to_status": e.to_status,
                    "data": e.data,
                }
                for e in self.timeline
            ],
            "actions": self.actions,
            "writable": self.writable,
            "names": self.names,
            "external": (
                {"source": inst.external[0], "id": inst.external[1]} if inst.external else None
            ),
        }


def actions_for(caller: Caller, instance: Instance) -> list[str]:
    person = caller.principal_id
    settings = instance.template.settings
    status = instance.status
    out: list[str] = []
    if person is None:
        return out
    if instance.external is not None:  # mirrored: decided in the other system, talked about here
        talks = person in instance.participants() or person in settings.admins
        return ["comment", "cc"] if talks else []
    if person == instance.applicant_id:
        if status is InstanceStatus.DRAFT:
            out += ["save_draft", "submit"]
        if settings.allow_withdraw and status in (InstanceStatus.PENDING, InstanceStatus.RETURNED):
            out.append("withdraw")
        if status is InstanceStatus.RETURNED:
            out.append("resubmit")
        if status.finished:
            out.append("copy")
    template_admin = person in settings.admins
    if status is InstanceStatus.PENDING and (person == instance.applicant_id or template_admin):
        out.append("urge")
    mine = [t for t in instance.pending_tasks() if person in (t.assignee, t.on_behalf_of)]
    if mine and status is InstanceStatus.PENDING:
        out += ["approve", "reject", "return", "transfer"]
        if any(t.kind is not TaskKind.DELEGATED for t in mine):
            out += ["delegate", "add_approvers"]
    undo = instance.undo
    if undo is not None and settings.allow_take_back and status is InstanceStatus.PENDING:
        task = instance.tasks.get(undo[0])
        if task is not None and task.assignee == person and task.status is TaskStatus.APPROVED:
            out.append("take_back")
    if status is not InstanceStatus.DRAFT and (person in instance.participants() or template_admin):
        out += ["comment", "cc"]
    if template_admin and status in (InstanceStatus.PENDING, InstanceStatus.RETURNED):
        out.append("terminate")
    return out


def _redact_timeline(
    entries: list[TimelineEntry], instance: Instance, access: dict[str, Access] | None
) -> list[TimelineEntry]:
    """Form values inside events are hidden fields' too: redact them as the form is."""
    if access is None or all(a is not Access.HIDDEN for a in access.values()):
        return entries
    schema = instance.template.form
    out = []
    for entry in entries:
        data = dict(entry.data)
        for key in _FORM_KEYS:
            value = data.get(key)
            if isinstance(value, dict):
                data[key] = redact(schema, value, access)
        out.append(dataclasses.replace(entry, data=data))
    return out


def instance_view(uow: UnitOfWork, caller: Caller, instance_id: str) -> InstanceView:
    with uow:
        instance = access_instance(uow, caller, instance_id)
        timeline = uow.queries.timeline(instance_id)
        people = {t.assignee for t in instance.tasks.values()} | {instance.applicant_id}
        people |= {t.on_behalf_of for t in instance.tasks.values() if t.on_behalf_of}
        people |= set(instance.cc) | {e.actor for e in timeline if e.actor}
        names = {}
        for person in people:
            found = uow.directory.principal(person)
            if found is not None:
                names[person] = found.name
    access = field_access(caller, instance)
    return InstanceView(
        instance,
        visible_form(caller, instance),
        _redact_timeline(timeline, instance, access),
        actions_for(caller, instance),
        names,
        writable_fields(caller, instance),
    )


def writable_fields(caller: Caller, instance: Instance) -> list[str]:
    """The form fields the caller may edit when approving their pending task now."""
    person = caller.principal_id
    out: set[str] = set()
    if instance.external is not None:  # mirrored: nobody approves it here
        return []
    for task in instance.pending_tasks():
        if person in (task.assignee, task.on_behalf_of) and task.kind is not TaskKind.DELEGATED:
            node = instance.template.flow.approver(task.node_id)
            if node is not None:
                out |= {p for p, a in node.permissions.items() if a is Access.WRITE}
    return sorted(out)
