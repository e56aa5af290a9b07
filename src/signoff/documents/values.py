"""The placeholder values of one instance: its form fields and facts, as text.

    values = document_values(instance, directory)     # tz defaults to Asia/Shanghai
    render(template, values.values, values.tables)

Names (see docs/documents.md for the full table):

    <field>                    a form field, formatted for a contract (below)
    <money>_upper              人民币大写 of a CNY money field: 壹拾万元整
    <range>_start, <range>_end the two dates of a date range
    <table>.<column>           a column of a table field, inside a repeated row;
    <table>.row                the row number 1, 2, ... (unless the table has a `row` column)
    instance.id / serial / title / template / applicant / department
    instance.external_id       the request's id in WeCom (a mirrored request only)
    instance.submitted, instance.submitted_at          2026-12-01 / 2026-12-01 09:30
    instance.approved, instance.approved_at            (only once the request is approved)
    approver.<node>.name / decision / comment / date / time   (only for decided nodes)

Formats: money `1,234,567.80` (the field's scale); numbers as entered; dates `YYYY-MM-DD`; a
date range `2026-12-01 至 2026-12-05`; options by label; several options, people,
departments or files joined by `、`; people and departments by name; times in `tz`.

A field the form defines but the request left empty is `""`: the form allows it. A name
the request cannot give (a typo, a node the flow did not reach, `instance.approved` before
approval) is absent, so rendering names it instead of leaving a blank.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Final
from zoneinfo import ZoneInfo

from signoff.documents.money import UPPER_LIMIT, money_text, rmb_upper
from signoff.domain.aggregate import InstanceState, Task
from signoff.domain.directory import Directory
from signoff.domain.forms import Field, FieldType, as_decimal, is_missing
from signoff.domain.states import InstanceStatus, NodeStatus, TaskKind, TaskStatus

DEFAULT_TZ: Final = "Asia/Shanghai"
JOIN: Final = "、"
DECISIONS: Final = {NodeStatus.APPROVED: "同意", NodeStatus.REJECTED: "驳回"}
_DECIDED: Final = frozenset(
    {TaskStatus.APPROVED, TaskStatus.REJECTED, TaskStatus.RETURNED, TaskStatus.SKIPPED}
)


@dataclass(frozen=True, slots=True)
class DocumentValues:
    """What `render` takes: plain names to text, and each table field's rows."""

    values: dict[str, str] = field(default_factory=dict)
    tables: dict[str, list[dict[str, str]]] = field(default_factory=dict)


def document_values(
    instance: InstanceState, directory: Directory, tz: tzinfo | None = None
) -> DocumentValues:
    """Every name an instance can fill, formatted for a Chinese contract."""
    zone = tz if tz is not None else ZoneInfo(DEFAULT_TZ)
    out = DocumentValues()
    text = _Formatter(directory)
    derived: dict[str, str] = {}
    for f in instance.template.form.fields:
        value = instance.form.get(f.id)
        if f.type is FieldType.TABLE:
            out.tables[f.id] = _rows(f, value, text)
            continue
        own = text.field(f, value)
        out.values[f.id] = own.pop("")
        derived.update({f.id + suffix: v for suffix, v in own.items()})
    for name, value in derived.items():
        out.values.setdefault(name, value)  # a field of that name wins
    out.values.update(_facts(instance, directory, zone))
    out.values.update(_approvers(instance, directory, zone))
    return out


def _rows(f: Field, value: object, text: _Formatter) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for number, row in enumerate(value if isinstance(value, list) else [], start=1):
        cells = row if isinstance(row, Mapping) else {}
        out: dict[str, str] = {}
        derived: dict[str, str] = {"row": str(number)}
        for column in f.columns:
            own = text.field(column, cells.get(column.id))
            out[column.id] = own.pop("")
            derived.update({column.id + suffix: v for suffix, v in own.items()})
        rows.append({**derived, **out})
    return rows


class _Formatter:
    """Field values as text; `""` is the field's own text, other keys are name suffixes."""

    def __init__(self, directory: Directory) -> None:
        self.directory = directory

    def field(self, f: Field, value: object) -> dict[str, str]:
        kind = f.type
        if kind is FieldType.MONEY:
            return self.money(f, value)
        if kind is FieldType.DATE_RANGE:
            dates = [str(v) for v in value] if isinstance(value, list) and len(value) == 2 else []
            start, end = dates or ["", ""]
            return {"": f"{start} 至 {end}" if dates else "", "_start": start, "_end": end}
        if is_missing(value):
            return {"": ""}
        items = value if isinstance(value, list) else [value]
        if kind in (FieldType.SELECT, FieldType.RADIO, FieldType.MULTI_SELECT, FieldType.CHECKBOX):
            labels = {o.value: o.label for o in f.options}
            return {"": JOIN.join(labels.get(str(v), str(v)) for v in items)}
        if kind is FieldType.USER:
            return {"": JOIN.join(_name(self.directory, str(v)) for v in items)}
        if kind is FieldType.DEPARTMENT:
            return {"": JOIN.join(self.department(str(v)) for v in items)}
        if kind is FieldType.ATTACHMENT:
            names = (v.get("name") if isinstance(v, Mapping) else v for v in items)
            return {"": JOIN.join(str(n) for n in names)}
        if kind is FieldType.NUMBER and isinstance(value, float):
            return {"": format(Decimal(repr(value)), "f")}
        return {"": JOIN.join(str(v) for v in items)}

    def money(self, f: Field, value: object) -> dict[str, str]:
        amount = None if is_missing(value) else as_decimal(value)
        if amount is None:
            return {"": "", "_upper": ""} if f.currency == "CNY" else {"": ""}
        out = {"": money_text(amount, f.scale)}
        if f.currency == "CNY" and abs(amount) < UPPER_LIMIT:
            out["_upper"] = rmb_upper(amount)
        return out

    def department(self, department_id: str) -> str:
        found = self.directory.department(department_id)
        return found.name if found is not None else department_id


def _date(at: datetime, zone: tzinfo) -> str:
    return at.astimezone(zone).date().isoformat()


def _time(at: datetime, zone: tzinfo) -> str:
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _facts(instance: InstanceState, directory: Directory, zone: tzinfo) -> dict[str, str]:
    applicant = instance.applicant
    person = directory.principal(instance.applicant_id)
    name = applicant.name if applicant is not None else (person.name if person else "")
    dept_id = applicant.department_id if applicant is not None else None
    if dept_id is None and person is not None:
        dept_id = person.department_id
    dept = directory.department(dept_id) if dept_id else None
    facts = {
        "instance.id": instance.id,
        "instance.serial": instance.serial,
        "instance.title": instance.title,
        "instance.template": instance.template.name,
        "instance.applicant": name,
        "instance.department": dept.name if dept is not None else "",
        "instance.external_id": instance.external[1] if instance.external else "",
    }
    if instance.submitted_at is not None:
        facts["instance.submitted"] = _date(instance.submitted_at, zone)
        facts["instance.submitted_at"] = _time(instance.submitted_at, zone)
    if instance.status is InstanceStatus.APPROVED and instance.finished_at is not None:
        facts["instance.approved"] = _date(instance.finished_at, zone)
        facts["instance.approved_at"] = _time(instance.finished_at, zone)
    return {k: v for k, v in facts.items() if v}


def _approvers(instance: InstanceState, directory: Directory, zone: tzinfo) -> dict[str, str]:
    """`approver.<node>.*` for every approver node that has decided."""
    out: dict[str, str] = {}
    flow = instance.template.flow
    # the flow's approver nodes, and the steps of a mirrored request that are not in it
    node_ids = [n.id for n in flow.approvers()] + [n for n in instance.nodes if not flow.node(n)]
    for node_id in node_ids:
        run = instance.nodes.get(node_id)
        if run is None or run.status not in DECISIONS:
            continue
        tasks: list[Task] = sorted(
            (
                task
                for lane in run.lanes
                for task in (instance.tasks[i] for i in lane)
                if task.kind is not TaskKind.DELEGATED
                and task.status in _DECIDED
                and task.acted_at is not None
            ),
            key=lambda t: (t.acted_at or t.created_at, t.id),
        )
        if not tasks:
            continue
        names = [_name(directory, t.assignee) for t in tasks]
        if len(tasks) == 1:
            comment = tasks[0].comment or ""
        else:
            comment = "；".join(
                f"{n}：{t.comment}" for n, t in zip(names, tasks, strict=True) if t.comment
            )
        last = tasks[-1].acted_at
        assert last is not None  # noqa: S101  # filtered above
        prefix = f"approver.{node_id}."
        out[prefix + "name"] = JOIN.join(dict.fromkeys(names))
        out[prefix + "decision"] = DECISIONS[run.status]
        out[prefix + "comment"] = comment
        out[prefix + "date"] = _date(last, zone)
        out[prefix + "time"] = _time(last, zone)
    return out


def _name(directory: Directory, principal_id: str) -> str:
    found = directory.principal(principal_id)
    return found.name if found is not None else principal_id
