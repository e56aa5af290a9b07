"""The processes the engine and persistence benchmarks play, in both engines.

Each process exists twice, with the same people and the same form:

- as a Signoff template (built here, in code, in the JSON of docs/templates.md), and
- as a BPMN file under bench/bpmn/ for SpiffWorkflow, whose user tasks take their
  assignees from the start data (`assignees` by task, or `approvers` for a
  multi-instance task) and whose rejections end the process at once (a terminate end
  event), as a rejection ends a Signoff instance.

- `sequential`: three `any` nodes of one person each (team lead, department head, HR);
  BPMN: three user tasks, an exclusive gateway after each;
- `parallel`: a `parallel` node (legal, finance), then a final approver; BPMN: parallel
  split and join, then a user task;
- `all3`, `all30`: one `all` node (会签) of 3 / 30 people; BPMN: a parallel
  multi-instance user task with the completion condition `decision == 'reject'`;
- `any3`: one `any` node (或签) of 3 people; BPMN: the same, complete after the first
  decision.

`SignoffPlayer` and `SpiffPlayer` drive one instance each in memory the way a service
would: start it with the form, approve the task a person holds by its id (checking it
is theirs), and ask who must act now after each command.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser import BpmnParser
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.util.task import TaskState

from signoff.domain.commands import Approve, Submit
from signoff.domain.directory import InMemoryDirectory
from signoff.domain.instance import Instance
from signoff.domain.navigation import Env
from signoff.domain.templates import Template, parse_template

BPMN = Path(__file__).resolve().parent / "bpmn"
T0 = datetime(2026, 11, 23, 9, tzinfo=UTC)
APPLICANT = "u-applicant"
FORM: dict[str, Any] = {
    "leave_type": "annual",
    "period": ["2026-12-01", "2026-12-05"],
    "days": 5,
    "reason": "family trip",
}
FORM_FIELDS = [
    {
        "id": "leave_type",
        "type": "radio",
        "label": "请假类型",
        "required": True,
        "options": [{"value": v, "label": v} for v in ("annual", "sick", "personal")],
    },
    {"id": "period", "type": "date_range", "label": "请假时间", "required": True},
    {"id": "days", "type": "number", "label": "天数", "required": True, "min": 0.5},
    {"id": "reason", "type": "textarea", "label": "事由", "required": True},
]
CROWD = tuple(f"u-p{k:02d}" for k in range(32))  # members of the all / any nodes


@dataclass(frozen=True, eq=False)  # hashed by identity: `template` is cached per process
class Process:
    key: str
    title: str
    bpmn: str  # file and process id under bench/bpmn/
    assignees: Mapping[str, str]  # BPMN user task id -> person (single-person tasks)
    approvers: tuple[str, ...]  # the multi-instance task's people
    nodes: tuple[dict[str, Any], ...]  # the Signoff flow

    @property
    def approvals(self) -> int:
        """Approvals that complete one instance."""
        if self.key.startswith("any"):
            return 1
        return len(self.assignees) + len(self.approvers)

    def spiff_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"form": dict(FORM)}
        if self.assignees:
            data["assignees"] = dict(self.assignees)
        if self.approvers:
            data["approvers"] = list(self.approvers)
        return data

    def template_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.title,
            "version": 1,
            "settings": {"admins": ["u-admin"], "serial": {"prefix": self.key.upper()}},
            "form": {"fields": FORM_FIELDS},
            "flow": {"nodes": list(self.nodes)},
        }

    @cache  # noqa: B019  # a handful of frozen module-level processes
    def template(self) -> Template:
        return parse_template(self.template_json())


def _approver(node_id: str, people: tuple[str, ...], mode: str = "any") -> dict[str, Any]:
    return {
        "id": node_id,
        "type": "approver",
        "name": node_id,
        "mode": mode,
        "assignees": [{"type": "users", "users": list(people)}],
    }


SEQUENTIAL = Process(
    "sequential",
    "team lead -> department head -> HR",
    "sequential",
    {"team_lead": "u-lead", "dept_head": "u-head", "hr": "u-hr"},
    (),
    (
        _approver("team_lead", ("u-lead",)),
        _approver("dept_head", ("u-head",)),
        _approver("hr", ("u-hr",)),
    ),
)
PARALLEL = Process(
    "parallel",
    "legal + finance in parallel, then final",
    "parallel",
    {"legal": "u-legal", "finance": "u-finance", "final": "u-final"},
    (),
    (
        {
            "id": "reviews",
            "type": "parallel",
            "branches": [
                {"id": "b_legal", "name": "legal", "nodes": [_approver("legal", ("u-legal",))]},
                {
                    "id": "b_finance",
                    "name": "finance",
                    "nodes": [_approver("finance", ("u-finance",))],
                },
            ],
        },
        _approver("final", ("u-final",)),
    ),
)


def all_node(size: int) -> Process:
    people = CROWD[:size]
    return Process(
        f"all{size}",
        f"all node (会签) of {size}",
        "all_node",
        {},
        people,
        (_approver("all", people, "all"),),
    )


ANY3 = Process(
    "any3", "any node (或签) of 3", "any_node", {}, CROWD[:3], (_approver("any", CROWD[:3]),)
)
PROCESSES = (SEQUENTIAL, PARALLEL, all_node(3), all_node(30), ANY3)


def directory_json() -> dict[str, Any]:
    """The people of every process, in one department (examples/directory.json's shape)."""
    people = [
        APPLICANT,
        "u-admin",
        "u-lead",
        "u-head",
        "u-hr",
        "u-legal",
        "u-finance",
        "u-final",
        *CROWD,
    ]
    return {
        "departments": [{"id": "d-bench", "name": "Bench", "parent_id": None, "head_ids": []}],
        "principals": [
            {"id": p, "name": p, "department_id": "d-bench", "roles": ["staff"]} for p in people
        ],
    }


@cache
def directory() -> InMemoryDirectory:
    return InMemoryDirectory.from_json(directory_json())


# ---- Signoff, in memory ----------------------------------------------------------------


class SignoffPlayer:
    """One Signoff instance: `start` submits it; `approve` runs one approval."""

    def __init__(self, process: Process, instance_id: str, now: datetime = T0) -> None:
        self.instance = Instance.new(instance_id, process.template(), APPLICANT)
        self.env = Env(now, directory())

    def start(self) -> list[tuple[str, str]]:
        self.instance.execute(Submit(actor=APPLICANT, form=FORM, serial="S-1"), self.env)
        return self.pending()

    def pending(self) -> list[tuple[str, str]]:
        """(task id, person) of every task waiting for a decision."""
        return [(t.id, t.assignee) for t in self.instance.pending_tasks()]

    def approve(self, task_id: str, person: str) -> list[tuple[str, str]]:
        self.instance.execute(Approve(actor=person, task_id=task_id, comment="ok"), self.env)
        return self.pending()

    @property
    def outcome(self) -> str:
        return self.instance.status.value


# ---- SpiffWorkflow, in memory -------------------------------------------------------------


@cache
def spiff_spec(name: str) -> Any:
    parser = BpmnParser()
    parser.add_bpmn_file(str(BPMN / f"{name}.bpmn"))
    return parser.get_spec(name)


@cache
def spiff_serializer() -> BpmnWorkflowSerializer:
    return BpmnWorkflowSerializer()


class SpiffPlayer:
    """One SpiffWorkflow workflow, driven as a service built on it would drive it."""

    def __init__(self, process: Process, workflow: BpmnWorkflow | None = None) -> None:
        self.process = process
        self.workflow = workflow or BpmnWorkflow(spiff_spec(process.bpmn))

    def start(self) -> list[tuple[str, str]]:
        start = self.workflow.get_tasks(state=TaskState.READY)[0]
        start.data.update(self.process.spiff_data())
        self.workflow.do_engine_steps()
        return self.pending()

    def pending(self) -> list[tuple[str, str]]:
        return [
            (str(t.id), self._assignee(t))
            for t in self.workflow.get_tasks(state=TaskState.READY, manual=True)
        ]

    @staticmethod
    def _assignee(task: Any) -> str:
        person = task.data.get("approver")
        if person is None:
            person = task.data["assignees"][task.task_spec.bpmn_id]
        return str(person)

    def approve(self, task_id: str, person: str) -> list[tuple[str, str]]:
        task = self.workflow.get_task_from_id(uuid.UUID(task_id))
        if task.state != TaskState.READY or self._assignee(task) != person:
            raise RuntimeError(f"task {task_id} is not {person}'s to decide")
        task.data["decision"] = "approve"
        task.data["comment"] = "ok"
        task.run()
        self.workflow.do_engine_steps()
        return self.pending()

    @property
    def outcome(self) -> str:
        if not self.workflow.is_completed():
            return "pending"
        done = self.workflow.get_tasks(state=TaskState.COMPLETED)
        return "approved" if any(t.task_spec.bpmn_id == "approved" for t in done) else "rejected"

    def to_json(self) -> str:
        text: str = spiff_serializer().serialize_json(self.workflow)
        return text

    @classmethod
    def from_json(cls, process: Process, text: str) -> SpiffPlayer:
        return cls(process, spiff_serializer().deserialize_json(text))


def play(player: SignoffPlayer | SpiffPlayer) -> int:
    """Complete one instance (each pending task approved by its holder, in order)."""
    pending = player.start()
    approvals = 0
    while pending:
        task_id, person = pending[0]
        pending = player.approve(task_id, person)
        approvals += 1
    return approvals


def dump_directory(path: Path) -> Path:
    path.write_text(json.dumps(directory_json()))
    return path
