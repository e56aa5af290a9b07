"""The instance's state, changed only by applying events.

`InstanceState` holds everything an instance is: status, form, node runs and
tasks. Its `apply` is the only code that changes it, so `replay(events)` rebuilds
an instance exactly. Every change made while applying goes through a few
mutation helpers that write an undo journal: a failed command is rolled back
from it (the state never changes on an error), and the journal of the latest
approval is kept so that the approver can take it back (拿回) exactly.

Lanes: an approver node's tasks are arranged in lanes, each an ordered tuple of
task ids. `sequential` has one lane holding everyone; `all`, `any` and `vote`
have one lane per assignee. Added approvers (加签), transfers and delegations
are inserted into the actor's lane, so "whose turn is it" is always "the first
open task of each lane", and a node is decided from lanes finishing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from signoff.domain.assignees import Applicant
from signoff.domain.events import (
    ApprovalTakenBack,
    ApproverRemoved,
    ApproversAdded,
    CcSent,
    CommentAdded,
    DraftSaved,
    Event,
    ExternalLinked,
    FormEdited,
    InstanceApproved,
    InstanceRejected,
    InstanceResubmitted,
    InstanceReturned,
    InstanceSubmitted,
    InstanceTerminated,
    InstanceWithdrawn,
    NodeCompleted,
    NodeEntered,
    NodesReset,
    RouteFinished,
    TaskActivated,
    TaskApproved,
    TaskCancelled,
    TaskCreated,
    TaskDeactivated,
    TaskDelegated,
    TaskRead,
    TaskRejected,
    TaskReturned,
    TaskTimedOut,
    TaskTransferred,
    Urged,
)
from signoff.domain.flow import ApproverNode, CcNode
from signoff.domain.states import (
    CancelReason,
    InstanceStatus,
    NodeStatus,
    TaskKind,
    TaskStatus,
    check_instance_transition,
    check_task_transition,
)
from signoff.domain.templates import Template

#: cancellations that end a lane's work without counting as its outcome
_SILENT = frozenset(
    {
        CancelReason.NODE_DECIDED,
        CancelReason.INSTANCE_FINISHED,
        CancelReason.RETURNED,
        CancelReason.TAKEN_BACK,
    }
)
#: events that do not end the chance to take an approval back
_NEUTRAL = frozenset({CommentAdded, Urged, TaskRead, CcSent})
_DECIDED = frozenset({TaskStatus.APPROVED, TaskStatus.SKIPPED, TaskStatus.REJECTED})


@dataclass(slots=True)
class Task:
    id: str
    node_id: str
    lane: int
    assignee: str
    status: TaskStatus
    kind: TaskKind
    created_at: datetime
    origin: str | None = None
    on_behalf_of: str | None = None
    due_at: datetime | None = None
    acted_at: datetime | None = None
    comment: str | None = None
    auto: str | None = None
    cancel_reason: CancelReason | None = None
    read_at: datetime | None = None
    reminders: int = 0  # timeout reminders sent for this task


@dataclass(slots=True)
class NodeRun:
    node_id: str
    status: NodeStatus
    entered_at: datetime
    order: int  # the instance's entry counter when this run began
    lanes: tuple[tuple[str, ...], ...] = ()
    weights: tuple[int, ...] = ()  # vote: each lane's weight
    open_lanes: int = 0
    approve_weight: int = 0
    reject_weight: int = 0
    routes: tuple[str, ...] = ()  # gateways: routes taken
    open_routes: int = 0
    outcome_reason: str | None = None


# Journal entries (old values are restored in reverse order):
#   ("i", attr, old)               an instance attribute
#   ("t", task_id, attr, old)      a task attribute
#   ("t+", task_id)                a task was created
#   ("n", node_id, attr, old)      a node run attribute
#   ("n=", node_id, old_run|None)  a node run was created, replaced or deleted
#   ("a", principal, old|None)     the dedup memory of who approved at which form revision
Entry = tuple[Any, ...]


class InstanceState:
    """State and `apply`. Subclasses decide; only `apply` changes anything."""

    def __init__(self, instance_id: str, template: Template, applicant_id: str) -> None:
        self.id = instance_id
        self.template = template
        self.applicant_id = applicant_id
        self.applicant: Applicant | None = None
        self.status = InstanceStatus.DRAFT
        self.form: dict[str, Any] = {}
        self.form_revision = 0
        self.serial = ""
        self.title = ""
        self.created_at: datetime | None = None
        self.submitted_at: datetime | None = None
        self.finished_at: datetime | None = None
        self.updated_at: datetime | None = None
        self.copied_from: str | None = None
        self.version = 0  # commands applied: the optimistic-lock version and ETag
        self.seq = 0  # events applied
        self.nodes: dict[str, NodeRun] = {}
        self.tasks: dict[str, Task] = {}
        self.task_counter = 0
        self.entry_counter = 0
        self.choices: dict[str, tuple[str, ...]] = {}
        self.approvals: dict[str, int] = {}  # dedup: who approved, at which form revision
        self.last_approvers: frozenset[str] = frozenset()  # of the node approved last
        self.cc: tuple[str, ...] = ()
        self.resume_nodes: tuple[str, ...] = ()
        # (source, id) of the request this instance mirrors from another system, if any
        self.external: tuple[str, str] | None = None
        # 拿回: (task id, version, journal) of the latest personal approval, while nothing
        # decisive has happened after it
        self.undo: tuple[str, int, tuple[Entry, ...]] | None = None
        self._journal: list[Entry] = []
        self._appliers: dict[type[Event], Callable[[Any], None]] = {
            DraftSaved: self._on_draft_saved,
            InstanceSubmitted: self._on_submitted,
            InstanceResubmitted: self._on_resubmitted,
            InstanceApproved: self._on_finished,
            InstanceRejected: self._on_finished,
            InstanceWithdrawn: self._on_finished,
            InstanceTerminated: self._on_finished,
            InstanceReturned: self._on_returned,
            ExternalLinked: self._on_external_linked,
            FormEdited: self._on_form_edited,
            CcSent: self._on_cc_sent,
            NodeEntered: self._on_node_entered,
            NodeCompleted: self._on_node_completed,
            NodesReset: self._on_nodes_reset,
            RouteFinished: self._on_route_finished,
            TaskCreated: self._on_task_created,
            TaskActivated: self._on_task_activated,
            TaskDeactivated: self._on_task_deactivated,
            TaskApproved: self._on_task_approved,
            TaskRejected: self._on_task_rejected,
            TaskReturned: self._on_task_returned,
            TaskCancelled: self._on_task_cancelled,
            TaskTransferred: self._on_task_transferred,
            TaskRead: self._on_task_read,
            ApprovalTakenBack: self._on_taken_back,
            TaskTimedOut: self._on_task_timed_out,
            CommentAdded: self._no_change,
            Urged: self._no_change,
            TaskDelegated: self._no_change,
            ApproversAdded: self._no_change,
            ApproverRemoved: self._no_change,
        }

    # ---- reading ---------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        return self.status.finished

    def pending_tasks(self) -> list[Task]:
        """Whose turn it is now (who must act)."""
        return [t for t in self.tasks.values() if t.status is TaskStatus.PENDING]

    def open_tasks(self) -> list[Task]:
        return [t for t in self.tasks.values() if t.status.open]

    def participants(self) -> set[str]:
        """Applicant, everyone who holds or held a task, everyone CC'd."""
        people = {self.applicant_id, *self.cc}
        people.update(t.assignee for t in self.tasks.values())
        people.update(t.on_behalf_of for t in self.tasks.values() if t.on_behalf_of)
        return people

    def lane_of(self, task: Task) -> tuple[str, ...]:
        return self.nodes[task.node_id].lanes[task.lane]

    def next_open_in_lane(self, run: NodeRun, lane: int) -> Task | None:
        for task_id in run.lanes[lane]:
            task = self.tasks[task_id]
            if task.status.open:
                return task
        return None

    # ---- applying ----------------------------------------------------------------------

    def apply(self, event: Event) -> None:
        mark = len(self._journal)
        self._appliers[type(event)](event)
        self._track_undo(event, mark)
        self.seq = event.seq + 1
        self.version = event.version
        self.updated_at = event.at

    def _track_undo(self, event: Event, mark: int) -> None:
        """Keep the journal of the latest personal approval until something decisive follows."""
        if type(event) in _NEUTRAL:
            return
        if self.status is not InstanceStatus.PENDING:  # finished or sent back: nothing to take
            self.undo = None
            return
        if isinstance(event, TaskApproved) and event.auto is None:
            task = self.tasks[event.task_id]
            if task.kind is not TaskKind.DELEGATED and event.actor == task.assignee:
                self.undo = (event.task_id, event.version, tuple(self._journal[mark:]))
                return
        undo = self.undo
        if (
            undo is not None
            and undo[1] == event.version
            and not isinstance(event, ApprovalTakenBack)
        ):
            self.undo = (undo[0], undo[1], undo[2] + tuple(self._journal[mark:]))
        else:
            self.undo = None

    @classmethod
    def replay(
        cls, instance_id: str, template: Template, applicant_id: str, events: Iterable[Event]
    ) -> InstanceState:
        state = cls(instance_id, template, applicant_id)
        for event in events:
            state.apply(event)
        state._journal.clear()
        return state

    # ---- mutation helpers (journaled) -------------------------------------------------

    def _set(self, attr: str, value: object) -> None:
        self._journal.append(("i", attr, getattr(self, attr)))
        setattr(self, attr, value)

    def _set_task(self, task: Task, attr: str, value: object) -> None:
        self._journal.append(("t", task.id, attr, getattr(task, attr)))
        setattr(task, attr, value)

    def _task_status(self, task: Task, status: TaskStatus) -> None:
        check_task_transition(task.id, task.status, status)
        self._set_task(task, "status", status)

    def _set_run(self, run: NodeRun, attr: str, value: object) -> None:
        self._journal.append(("n", run.node_id, attr, getattr(run, attr)))
        setattr(run, attr, value)

    def _put_run(self, node_id: str, run: NodeRun | None) -> None:
        self._journal.append(("n=", node_id, self.nodes.get(node_id)))
        if run is None:
            self.nodes.pop(node_id, None)
        else:
            self.nodes[node_id] = run

    def _remember_approval(self, person: str, revision: int | None) -> None:
        self._journal.append(("a", person, self.approvals.get(person)))
        if revision is None:
            self.approvals.pop(person, None)
        else:
            self.approvals[person] = revision

    def _restore(self, entries: Iterable[Entry], *, taking_back: bool) -> None:
        """Undo journal entries, newest first.

        Rolling back a failed command restores everything exactly. Taking back an
        approval goes through the journaled helpers instead (so that it can itself
        be rolled back), cancels the tasks the approval created rather than
        deleting them, and keeps counters moving forward.
        """
        for entry in reversed(list(entries)):
            kind = entry[0]
            if kind == "i":
                if taking_back:
                    if entry[1] not in ("task_counter", "entry_counter"):
                        self._set(entry[1], entry[2])
                else:
                    setattr(self, entry[1], entry[2])
            elif kind == "t":
                task = self.tasks[entry[1]]
                if taking_back:
                    self._set_task(task, entry[2], entry[3])
                else:
                    setattr(task, entry[2], entry[3])
            elif kind == "t+":
                if taking_back:
                    task = self.tasks[entry[1]]
                    if task.status.open:
                        self._task_status(task, TaskStatus.CANCELLED)
                        self._set_task(task, "cancel_reason", CancelReason.TAKEN_BACK)
                else:
                    del self.tasks[entry[1]]
            elif kind == "n":
                run = self.nodes[entry[1]]
                if taking_back:
                    self._set_run(run, entry[2], entry[3])
                else:
                    setattr(run, entry[2], entry[3])
            elif kind == "n=":
                if taking_back:
                    self._put_run(entry[1], entry[2])
                elif entry[2] is None:
                    self.nodes.pop(entry[1], None)
                else:
                    self.nodes[entry[1]] = entry[2]
            elif kind == "a":
                if taking_back:
                    self._remember_approval(entry[1], entry[2])
                elif entry[2] is None:
                    self.approvals.pop(entry[1], None)
                else:
                    self.approvals[entry[1]] = entry[2]

    def _rollback(self, mark: int) -> None:
        self._restore(self._journal[mark:], taking_back=False)
        del self._journal[mark:]

    # ---- appliers ----------------------------------------------------------------------

    def _no_change(self, event: Event) -> None:
        return

    def _on_draft_saved(self, e: DraftSaved) -> None:
        check_instance_transition(self.id, self.status, InstanceStatus.DRAFT)
        if self.created_at is None:
            self._set("created_at", e.at)
        self._set("form", dict(e.form))
        self._set("copied_from", e.copied_from or self.copied_from)

    def _on_submitted(self, e: InstanceSubmitted) -> None:
        check_instance_transition(self.id, self.status, InstanceStatus.PENDING)
        self._set("status", InstanceStatus.PENDING)
        if self.created_at is None:
            self._set("created_at", e.at)
        self._set("submitted_at", e.at)
        applicant = Applicant(
            e.applicant_id,
            e.applicant_name,
            e.department_id,
            frozenset(e.department_ids),
            frozenset(e.roles),
            e.position,
        )
        self._set("applicant", applicant)
        self._set("form", dict(e.form))
        self._set("serial", e.serial)
        self._set("title", e.title)
        self._set("choices", dict(e.choices))

    def _on_external_linked(self, e: ExternalLinked) -> None:
        self._set("external", (e.source, e.external_id))

    def _on_resubmitted(self, e: InstanceResubmitted) -> None:
        check_instance_transition(self.id, self.status, InstanceStatus.PENDING)
        self._set("status", InstanceStatus.PENDING)
        self._set("form", dict(e.form))
        self._set("form_revision", self.form_revision + 1)
        self._set("choices", {**self.choices, **e.choices})
        if e.restart:
            for node_id in list(self.nodes):
                self._put_run(node_id, None)
        self._set("resume_nodes", ())

    def _on_finished(self, e: Event) -> None:
        status = {
            InstanceApproved: InstanceStatus.APPROVED,
            InstanceRejected: InstanceStatus.REJECTED,
            InstanceWithdrawn: InstanceStatus.WITHDRAWN,
            InstanceTerminated: InstanceStatus.TERMINATED,
        }[type(e)]
        check_instance_transition(self.id, self.status, status)
        self._set("status", status)
        self._set("finished_at", e.at)
        # nothing runs in a finished instance: close the approver and gateway nodes still
        # open (other parallel branches of a rejected request, say); a `finish` CC's run
        # only records that the walk reached it
        flow = self.template.flow
        for run in self.nodes.values():
            if run.status is NodeStatus.ACTIVE and not isinstance(flow.node(run.node_id), CcNode):
                self._set_run(run, "status", NodeStatus.CANCELLED)

    def _on_returned(self, e: InstanceReturned) -> None:
        check_instance_transition(self.id, self.status, InstanceStatus.RETURNED)
        self._set("status", InstanceStatus.RETURNED)
        self._set("resume_nodes", e.resume_nodes)
        self._forget_approvals()

    def _forget_approvals(self) -> None:
        for person in list(self.approvals):
            self._remember_approval(person, None)
        self._set("last_approvers", frozenset())

    def _on_form_edited(self, e: FormEdited) -> None:
        form = dict(self.form)
        for key, value in e.changes.items():
            if value is None:
                form.pop(key, None)
            else:
                form[key] = value
        self._set("form", form)
        self._set("form_revision", self.form_revision + 1)

    def _on_cc_sent(self, e: CcSent) -> None:
        new = tuple(p for p in e.recipients if p not in self.cc)
        if new:
            self._set("cc", self.cc + new)

    def _on_node_entered(self, e: NodeEntered) -> None:
        self._set("entry_counter", self.entry_counter + 1)
        run = NodeRun(e.node_id, NodeStatus.ACTIVE, e.at, self.entry_counter)
        run.routes = e.routes
        run.open_routes = len(e.routes)
        self._put_run(e.node_id, run)

    def _on_node_completed(self, e: NodeCompleted) -> None:
        run = self.nodes[e.node_id]
        self._set_run(run, "status", e.outcome)
        self._set_run(run, "outcome_reason", e.reason)
        node = self.template.flow.node(e.node_id)
        if isinstance(node, ApproverNode) and e.outcome is NodeStatus.APPROVED:
            approvers = frozenset(
                t.assignee
                for lane in run.lanes
                for t in (self.tasks[i] for i in lane)
                if t.kind is not TaskKind.DELEGATED
                and (t.status is TaskStatus.APPROVED or t.status is TaskStatus.SKIPPED)
            )
            self._set("last_approvers", approvers)

    def _on_nodes_reset(self, e: NodesReset) -> None:
        for node_id in e.node_ids:
            self._put_run(node_id, None)
        self._forget_approvals()

    def _on_route_finished(self, e: RouteFinished) -> None:
        run = self.nodes[e.node_id]
        self._set_run(run, "open_routes", run.open_routes - 1)

    def _on_task_created(self, e: TaskCreated) -> None:
        self._set("task_counter", self.task_counter + 1)
        task = Task(
            e.task_id,
            e.node_id,
            e.lane,
            e.assignee,
            e.status,
            e.kind,
            e.at,
            origin=e.origin,
            on_behalf_of=e.on_behalf_of,
            due_at=e.due_at,
        )
        self._journal.append(("t+", e.task_id))
        self.tasks[e.task_id] = task
        run = self.nodes[e.node_id]
        lanes = run.lanes
        if e.lane == len(lanes):  # a new lane
            self._set_run(run, "lanes", (*lanes, (e.task_id,)))
            self._set_run(run, "open_lanes", run.open_lanes + 1)
            node = self.template.flow.approver(e.node_id)
            if node is not None and node.vote is not None:
                voter = e.on_behalf_of or e.assignee  # a stand-in votes with the absent's weight
                self._set_run(run, "weights", (*run.weights, node.vote.weight(voter)))
        else:
            lane = lanes[e.lane]
            new_lane = (*lane[: e.position], e.task_id, *lane[e.position :])
            self._set_run(run, "lanes", (*lanes[: e.lane], new_lane, *lanes[e.lane + 1 :]))

    def _on_task_activated(self, e: TaskActivated) -> None:
        task = self.tasks[e.task_id]
        self._task_status(task, TaskStatus.PENDING)
        self._set_task(task, "due_at", e.due_at)

    def _on_task_timed_out(self, e: TaskTimedOut) -> None:
        task = self.tasks[e.task_id]
        self._set_task(task, "due_at", e.due_at)
        self._set_task(task, "reminders", e.reminders)

    def _on_task_deactivated(self, e: TaskDeactivated) -> None:
        self._task_status(self.tasks[e.task_id], TaskStatus.WAITING)

    def _decide(self, task: Task, status: TaskStatus, e: Event, comment: str | None) -> None:
        self._task_status(task, status)
        self._set_task(task, "acted_at", e.at)
        self._set_task(task, "comment", comment)
        if task.kind is not TaskKind.DELEGATED:
            self._lane_check(task)

    def _lane_check(self, task: Task) -> None:
        """A lane whose tasks are all closed has finished: count its outcome."""
        run = self.nodes[task.node_id]
        if run.status is not NodeStatus.ACTIVE or self.next_open_in_lane(run, task.lane):
            return
        self._set_run(run, "open_lanes", run.open_lanes - 1)
        if run.weights:
            outcome = next(
                (
                    self.tasks[i].status
                    for i in reversed(run.lanes[task.lane])
                    if self.tasks[i].status in _DECIDED
                ),
                TaskStatus.APPROVED,
            )
            weight = run.weights[task.lane]
            if outcome is TaskStatus.REJECTED:
                self._set_run(run, "reject_weight", run.reject_weight + weight)
            else:
                self._set_run(run, "approve_weight", run.approve_weight + weight)

    def _on_task_approved(self, e: TaskApproved) -> None:
        task = self.tasks[e.task_id]
        status = TaskStatus.SKIPPED if e.auto else TaskStatus.APPROVED
        self._set_task(task, "auto", e.auto)
        self._decide(task, status, e, e.comment)
        if task.kind is not TaskKind.DELEGATED:
            self._remember_approval(task.assignee, self.form_revision)
        if e.choices:
            self._set("choices", {**self.choices, **e.choices})

    def _on_task_rejected(self, e: TaskRejected) -> None:
        task = self.tasks[e.task_id]
        self._set_task(task, "auto", e.auto)
        self._decide(task, TaskStatus.REJECTED, e, e.comment)

    def _on_task_returned(self, e: TaskReturned) -> None:
        task = self.tasks[e.task_id]
        self._task_status(task, TaskStatus.RETURNED)
        self._set_task(task, "acted_at", e.at)
        self._set_task(task, "comment", e.comment)

    def _on_task_cancelled(self, e: TaskCancelled) -> None:
        task = self.tasks[e.task_id]
        self._task_status(task, TaskStatus.CANCELLED)
        self._set_task(task, "cancel_reason", e.reason)
        if e.reason not in _SILENT and task.kind is not TaskKind.DELEGATED:
            self._lane_check(task)

    def _on_task_transferred(self, e: TaskTransferred) -> None:
        task = self.tasks[e.task_id]
        self._task_status(task, TaskStatus.TRANSFERRED)
        self._set_task(task, "acted_at", e.at)
        self._set_task(task, "comment", e.comment)

    def _on_task_read(self, e: TaskRead) -> None:
        task = self.tasks[e.task_id]
        if task.read_at is None:
            self._set_task(task, "read_at", e.at)

    def _on_taken_back(self, e: ApprovalTakenBack) -> None:
        undo = self.undo
        assert undo is not None  # noqa: S101  # take_back checks it before emitting
        self._restore(undo[2], taking_back=True)
