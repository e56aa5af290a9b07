"""An instance's state as JSON, and back: what the store keeps in the instance row.

`dump_state` gives everything the engine needs to go on except the tasks (the
store keeps those as rows, where the inbox queries find them) and the fields
the store keeps as columns (status, form, serial, title, version, times).
`load_instance` rebuilds the aggregate from the row, the tasks and the template.

Values inside the state (node runs, the undo journal of the latest approval)
are tagged so that datetimes, tuples, frozensets, enums and node runs come back
with their types: `{"$dt": "..."}`, `{"$t": [...]}`, `{"$fs": [...]}`,
`{"$e": "TaskStatus", "v": "pending"}`, `{"$run": {...}}`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime
from enum import Enum
from typing import Any

from signoff.domain.aggregate import NodeRun, Task
from signoff.domain.assignees import Applicant
from signoff.domain.instance import Instance
from signoff.domain.states import CancelReason, InstanceStatus, NodeStatus, TaskKind, TaskStatus
from signoff.domain.templates import Template

_ENUMS: dict[str, type[Enum]] = {
    e.__name__: e for e in (InstanceStatus, NodeStatus, TaskStatus, TaskKind, CancelReason)
}


def encode(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Enum):
        return {"$e": type(value).__name__, "v": value.value}
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, tuple):
        return {"$t": [encode(v) for v in value]}
    if isinstance(value, frozenset):
        return {"$fs": sorted(encode(v) for v in value)}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, NodeRun):
        return {"$run": {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}}
    raise TypeError(f"cannot encode {type(value).__name__}")


def decode(value: Any) -> Any:
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) <= 2:
        if "$dt" in value:
            return datetime.fromisoformat(value["$dt"])
        if "$t" in value:
            return tuple(decode(v) for v in value["$t"])
        if "$fs" in value:
            return frozenset(decode(v) for v in value["$fs"])
        if "$e" in value:
            return _ENUMS[value["$e"]](value["v"])
        if "$run" in value:
            return NodeRun(**{k: decode(v) for k, v in value["$run"].items()})
    return {k: decode(v) for k, v in value.items()}


_STATE = (
    "applicant",
    "form_revision",
    "copied_from",
    "seq",
    "nodes",
    "task_counter",
    "entry_counter",
    "choices",
    "approvals",
    "last_approvers",
    "cc",
    "resume_nodes",
    "undo",
    "external",
)


def dump_state(instance: Instance) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in _STATE:
        value = getattr(instance, name)
        if name == "applicant" and value is not None:
            value = {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        elif name == "nodes":
            value = {k: encode(run) for k, run in value.items()}
        else:
            value = encode(value)
        out[name] = value
    return out


def load_instance(
    *,
    instance_id: str,
    template: Template,
    applicant_id: str,
    status: str,
    form: dict[str, Any],
    serial: str,
    title: str,
    version: int,
    created_at: datetime | None,
    submitted_at: datetime | None,
    finished_at: datetime | None,
    updated_at: datetime | None,
    state: dict[str, Any],
    tasks: Iterable[Task],
) -> Instance:
    inst = Instance.new(instance_id, template, applicant_id)
    inst.status = InstanceStatus(status)
    inst.form = form
    inst.serial = serial
    inst.title = title
    inst.version = version
    inst.created_at = created_at
    inst.submitted_at = submitted_at
    inst.finished_at = finished_at
    inst.updated_at = updated_at
    for name in _STATE:
        raw = state.get(name)
        if name == "applicant":
            value: Any = Applicant(**decode(raw)) if raw else None
        elif name == "nodes":
            value = {k: decode(v) for k, v in (raw or {}).items()}
        else:
            value = decode(raw)
        setattr(inst, name, value)
    inst.tasks = {t.id: t for t in tasks}
    return inst
