"""An instance's state as JSON, and back: what the store keeps in the instance row.

`dump_state` gives everything the engine needs to go on except the tasks (the
store keeps those as rows, where the inbox queries find them) and the fields
the store keeps as columns (status, form, serial, title, version, times).
`load_instance` rebuilds the aggregate from the row, the tasks and the template.

Every command loads and writes it, so it is compact and read without searching
(format 2): each attribute has a fixed shape — the applicant and each node run as
a list in field order (a node run without its trailing defaults), sets as sorted
lists, datetimes as ISO text:

    {"format": 2, "applicant": ["u-zhangsan", "张三", "d-backend", ["d-acme", ...],
     ["staff"], "engineer"], "seq": 21, "nodes": {"team_lead": ["approved",
     "2026-11-23T09:00:00+00:00", 1, [["leave-1.t1"]]], ...}, "cc": ["u-huangli"], ...}

Only the undo journal of the latest approval (拿回; kept while the request is
pending and nothing decisive followed) holds values of any type; they are tagged
so that they come back with their types: `{"$dt": "..."}`, `{"$t": [...]}`,
`{"$fs": [...]}`, `{"$e": "TaskStatus", "v": "pending"}`, `{"$run": {...}}`.
Format 1 (every value tagged so) is still read; the next command writes format 2.
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
    kind = type(value)
    if kind is str or kind is int or value is None or kind is bool or kind is float:
        return value
    encoder = _ENCODERS.get(kind)
    if encoder is None:
        raise TypeError(f"cannot encode {kind.__name__}")
    return encoder(value)


def _enum(value: Enum) -> dict[str, Any]:
    return {"$e": type(value).__name__, "v": value.value}


def _run_tagged(value: NodeRun) -> dict[str, Any]:
    return {"$run": {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}}


# by exact type: the undo journal holds many small values, and a dict lookup beats a chain of
# isinstance checks
_ENCODERS: dict[type, Any] = {
    datetime: lambda v: {"$dt": v.isoformat()},
    tuple: lambda v: {"$t": [encode(x) for x in v]},
    frozenset: lambda v: {"$fs": sorted(encode(x) for x in v)},
    list: lambda v: [encode(x) for x in v],
    dict: lambda v: {k: encode(x) for k, x in v.items()},
    NodeRun: _run_tagged,
    **dict.fromkeys(_ENUMS.values(), _enum),
}


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


_STATE = (  # format 1: every attribute tagged
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


FORMAT = 2
_EMPTY: tuple[Any, ...] = (
    [],
    [],
    0,
    0,
    0,
    [],
    0,
    None,
)  # NodeRun's defaults after `order`, as stored


def _run(run: NodeRun) -> list[Any]:
    tail = [
        [list(lane) for lane in run.lanes],
        list(run.weights),
        run.open_lanes,
        run.approve_weight,
        run.reject_weight,
        list(run.routes),
        run.open_routes,
        run.outcome_reason,
    ]
    n = len(tail)
    while n and tail[n - 1] == _EMPTY[n - 1]:
        n -= 1
    return [run.status.value, run.entered_at.isoformat(), run.order, *tail[:n]]


def _load_run(node_id: str, raw: list[Any]) -> NodeRun:
    full: list[Any] = [*raw[3:], *_EMPTY[len(raw) - 3 :]]
    lanes, weights, open_lanes, approve, reject, routes, open_routes, reason = full
    return NodeRun(
        node_id,
        NodeStatus(raw[0]),
        datetime.fromisoformat(raw[1]),
        raw[2],
        tuple(tuple(lane) for lane in lanes),
        tuple(weights),
        open_lanes,
        approve,
        reject,
        tuple(routes),
        open_routes,
        reason,
    )


def dump_state(instance: Instance) -> dict[str, Any]:
    a = instance.applicant
    return {
        "format": FORMAT,
        "applicant": None
        if a is None
        else [a.id, a.name, a.department_id, sorted(a.department_ids), sorted(a.roles), a.position],
        "form_revision": instance.form_revision,
        "copied_from": instance.copied_from,
        "seq": instance.seq,
        "nodes": {k: _run(run) for k, run in instance.nodes.items()},
        "task_counter": instance.task_counter,
        "entry_counter": instance.entry_counter,
        "choices": {k: list(v) for k, v in instance.choices.items()},
        "approvals": instance.approvals,
        "last_approvers": sorted(instance.last_approvers),
        "cc": list(instance.cc),
        "resume_nodes": list(instance.resume_nodes),
        "undo": encode(instance.undo),
        "external": list(instance.external) if instance.external else None,
    }


def _load_state(inst: Instance, state: dict[str, Any]) -> None:
    a = state["applicant"]
    if a is not None:
        inst.applicant = Applicant(a[0], a[1], a[2], frozenset(a[3]), frozenset(a[4]), a[5])
    inst.form_revision = state["form_revision"]
    inst.copied_from = state["copied_from"]
    inst.seq = state["seq"]
    inst.nodes = {k: _load_run(k, raw) for k, raw in state["nodes"].items()}
    inst.task_counter = state["task_counter"]
    inst.entry_counter = state["entry_counter"]
    inst.choices = {k: tuple(v) for k, v in state["choices"].items()}
    inst.approvals = dict(state["approvals"])
    inst.last_approvers = frozenset(state["last_approvers"])
    inst.cc = tuple(state["cc"])
    inst.resume_nodes = tuple(state["resume_nodes"])
    inst.undo = decode(state["undo"])
    external = state["external"]
    inst.external = (external[0], external[1]) if external else None


def _load_format_1(inst: Instance, state: dict[str, Any]) -> None:
    for name in _STATE:
        raw = state.get(name)
        if name == "applicant":
            value: Any = Applicant(**decode(raw)) if raw else None
        elif name == "nodes":
            value = {k: decode(v) for k, v in (raw or {}).items()}
        else:
            value = decode(raw)
        setattr(inst, name, value)


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
    if state.get("format") == FORMAT:
        _load_state(inst, state)
    else:
        _load_format_1(inst, state)
    inst.tasks = {t.id: t for t in tasks}
    return inst
