"""Running the flow tree: entering nodes, creating tasks, deciding nodes, finishing.

The flow is run with a work list of (sequence, index) positions. Entering a
node either finishes at once (a CC, an approver node nobody needs to act on, a
gateway whose routes are all empty) and the walk goes on, or it stays active and
the walk stops there until a task decision completes it. The end of a route
finishes one route of its gateway; the end of the root sequence approves the
instance.

Every change is made by emitting an event (`_emit` applies it at once), so the
decisions here read the state as the events left it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from signoff.domain.aggregate import InstanceState, NodeRun, Task
from signoff.domain.assignees import Applicant, active, on_applicant, resolve
from signoff.domain.conditions import Facts
from signoff.domain.directory import Directory, Principal
from signoff.domain.events import (
    CcSent,
    Choices,
    Event,
    InstanceApproved,
    InstanceRejected,
    InstanceSubmitted,
    NodeCompleted,
    NodeEntered,
    RouteFinished,
    TaskActivated,
    TaskApproved,
    TaskCancelled,
    TaskCreated,
)
from signoff.domain.flow import (
    ROOT,
    ApproverNode,
    CcNode,
    CcWhen,
    GatewayNode,
    Mode,
    Node,
    OnApplicant,
    OnEmpty,
    taken_routes,
)
from signoff.domain.states import CancelReason, NodeStatus, TaskKind, TaskStatus
from signoff.domain.templates import Dedup


class WorkCalendar(Protocol):
    """Adds a duration counted in working time (working hours, weekends, holidays)."""

    @property
    def day_length(self) -> timedelta: ...

    def add(self, start: datetime, duration: timedelta) -> datetime: ...


@dataclass(frozen=True, slots=True)
class Env:
    """What a command needs from outside the instance: the time and the directory."""

    now: datetime
    directory: Directory
    calendar: WorkCalendar | None = None


class FlowRunner(InstanceState):
    _env: Env
    _actor: str | None
    _out: list[Event]
    _entering: str | None = None
    _cmd_version: int = 0

    # ---- emitting -----------------------------------------------------------------------

    def _emit(self, cls: type[Event], **fields: Any) -> Any:
        """Record and apply an event of the running command. It happens now, by the
        command's actor, unless `at` / `actor` say otherwise (a mirrored decision keeps
        the time and the person of the system it happened in)."""
        fields.setdefault("at", self._env.now)
        fields.setdefault("actor", self._actor)
        event = cls(instance_id=self.id, seq=self.seq, version=self._cmd_version, **fields)
        self.apply(event)
        self._out.append(event)
        return event

    def _emit_submitted(
        self,
        person: Principal,
        form: dict[str, Any],
        serial: str,
        title: str,
        choices: Choices | None = None,
        **when: Any,  # `at` / `actor` when they are not now and the command's actor
    ) -> None:
        """The instance starts: who applied, from where, with which form (one place)."""
        applicant = Applicant.of(person, self._env.directory)
        self._emit(
            InstanceSubmitted,
            **when,
            template_key=self.template.key,
            template_version=self.template.version,
            applicant_id=person.id,
            applicant_name=person.name,
            department_id=person.department_id,
            department_ids=tuple(sorted(applicant.department_ids)),
            roles=tuple(sorted(person.roles)),
            position=person.position,
            form=form,
            serial=serial,
            title=title,
            choices=choices or {},
        )

    def _new_task_id(self) -> str:
        return f"{self.id}.t{self.task_counter + 1}"

    def _facts(self) -> Facts:
        a = self.applicant
        assert a is not None  # noqa: S101  # only submitted instances run
        return Facts(self.form, a.id, a.department_ids, a.roles, a.position)

    def _due(self, node: ApproverNode) -> datetime | None:
        if node.timeout is None:
            return None
        now = self._env.now
        calendar = self._env.calendar
        if node.timeout.working_time and calendar is not None:
            days = node.timeout.days  # in working time a day is a working day's hours
            after = node.timeout.after - timedelta(days=days) + calendar.day_length * days
            return calendar.add(now, after)
        return now + node.timeout.after

    # ---- walking the tree --------------------------------------------------------------

    def _run(self, work: list[tuple[str, int]]) -> None:
        flow = self.template.flow
        while work:
            if self.status.finished:
                return
            seq, index = work.pop()
            nodes = flow.sequences[seq]
            while index < len(nodes):
                if not self._enter(nodes[index], work):
                    break
                index += 1
            else:
                if self.status.finished:
                    return
                if seq == ROOT:
                    self._approve_instance()
                    return
                gateway_id = flow.owners[seq]
                self._emit(RouteFinished, node_id=gateway_id, route_id=seq)
                if self.nodes[gateway_id].open_routes == 0:
                    self._emit(NodeCompleted, node_id=gateway_id, outcome=NodeStatus.APPROVED)
                    place = flow.places[gateway_id]
                    work.append((place.seq, place.index + 1))

    def _continue_after(self, node_id: str) -> None:
        place = self.template.flow.places[node_id]
        self._run([(place.seq, place.index + 1)])

    def _enter(self, node: Node, work: list[tuple[str, int]]) -> bool:
        """Enter a node; True when it finished at once and the walk goes on."""
        if self.status.finished:
            return False
        if isinstance(node, CcNode):
            if node.when is CcWhen.REACHED:
                self._send_cc(node)
            elif node.when is CcWhen.FINISH:
                self._emit(NodeEntered, node_id=node.id)  # remembered until the approval
            return True
        if isinstance(node, GatewayNode):
            routes = taken_routes(node, self._facts())
            self._emit(NodeEntered, node_id=node.id, routes=tuple(r.id for r in routes))
            work.extend((r.id, 0) for r in reversed(routes))
            return False
        assert isinstance(node, ApproverNode)  # noqa: S101  # the three node kinds
        self._entering = node.id
        try:
            self._enter_approver(node)
        finally:
            self._entering = None
        run = self.nodes[node.id]
        return run.status is NodeStatus.APPROVED

    def _send_cc(self, node: CcNode) -> None:
        assert self.applicant is not None  # noqa: S101  # only submitted instances run
        people = resolve(
            node.recipients,
            node_id=node.id,
            applicant=self.applicant,
            form=self.form,
            choices=self.choices,
            directory=self._env.directory,
        )
        if people:
            self._emit(CcSent, node_id=node.id, recipients=tuple(people))

    def _send_cc_when(self, when: CcWhen) -> None:
        """`start` CCs (top level) at submission; `finish` CCs the walk reached, at approval."""
        flow = self.template.flow
        for node in flow.by_id.values():
            if not isinstance(node, CcNode) or node.when is not when:
                continue
            if when is CcWhen.START or node.id in self.nodes:
                self._send_cc(node)

    # ---- approver nodes ------------------------------------------------------------------

    def _enter_approver(self, node: ApproverNode) -> None:
        applicant = self.applicant
        assert applicant is not None  # noqa: S101  # only submitted instances run
        directory = self._env.directory
        people = resolve(
            node.assignees,
            node_id=node.id,
            applicant=applicant,
            form=self.form,
            choices=self.choices,
            directory=directory,
        )
        people = on_applicant(people, node, applicant, directory)
        if node.on_applicant is OnApplicant.SKIP and applicant.id in people:
            people = [p for p in people if p != applicant.id]
            if not people:  # the applicant was the only one: nobody needs to be asked
                self._emit(NodeEntered, node_id=node.id)
                self._emit(
                    NodeCompleted, node_id=node.id, outcome=NodeStatus.APPROVED, reason="applicant"
                )
                return
        kind = TaskKind.NORMAL
        if not people:
            if node.on_empty is OnEmpty.ADMINS:
                people = active(self.template.settings.admins, directory)
                if node.on_applicant is OnApplicant.SKIP:  # not even as an admin
                    people = [p for p in people if p != applicant.id]
                kind = TaskKind.ADMIN
            if not people:
                self._emit(NodeEntered, node_id=node.id)
                if node.on_empty is OnEmpty.AUTO_REJECT:
                    self._emit(
                        NodeCompleted, node_id=node.id, outcome=NodeStatus.REJECTED, reason="empty"
                    )
                    self._reject_instance(node.id, None)
                else:
                    self._emit(
                        NodeCompleted, node_id=node.id, outcome=NodeStatus.APPROVED, reason="empty"
                    )
                return
        self._emit(NodeEntered, node_id=node.id)
        due = self._due(node)
        sequential = node.mode is Mode.SEQUENTIAL
        for i, person in enumerate(people):
            status = TaskStatus.WAITING if sequential and i else TaskStatus.PENDING
            stand_in = self._env.directory.stand_in(person, self.template.key, self._env.now)
            absent = stand_in is not None and stand_in not in people
            self._emit(
                TaskCreated,
                task_id=self._new_task_id(),
                node_id=node.id,
                lane=0 if sequential else i,
                position=i if sequential else 0,
                assignee=stand_in if absent else person,
                status=status,
                kind=kind,
                on_behalf_of=person if absent else None,
                due_at=due if status is TaskStatus.PENDING else None,
            )
        run = self.nodes[node.id]
        for lane in range(len(run.lanes)):
            if run.status is not NodeStatus.ACTIVE:
                break
            task = self.next_open_in_lane(run, lane)
            if task is not None and task.status is TaskStatus.PENDING:
                self._auto_decide(task)

    def _auto_reason(self, task: Task) -> str | None:
        """Why a task that just became someone's turn is approved without them, if it is."""
        if task.kind is not TaskKind.NORMAL:
            return None
        dedup = self.template.settings.dedup
        if dedup is Dedup.OFF:
            return None
        revision = self.approvals.get(task.assignee)
        if revision is None or revision != self.form_revision:
            return None
        if dedup is Dedup.ANY or task.assignee in self.last_approvers:
            return "dedup"
        return None

    def _auto_decide(self, task: Task) -> None:
        reason = self._auto_reason(task)
        if reason is not None:
            self._emit(TaskApproved, task_id=task.id, auto=reason)
            self._after_decision(task)

    def _after_decision(self, task: Task) -> None:
        """A task was approved, rejected or removed: move its lane and maybe decide its node."""
        run = self.nodes[task.node_id]
        if run.status is not NodeStatus.ACTIVE:
            return
        node = self.template.flow.approver(task.node_id)
        assert node is not None  # noqa: S101  # tasks live on approver nodes
        following = self.next_open_in_lane(run, task.lane)
        if task.status is TaskStatus.REJECTED and task.kind is not TaskKind.DELEGATED:
            if node.mode is not Mode.VOTE:
                self._decide_node(node, run, NodeStatus.REJECTED)
                return
        elif following is not None:
            if following.status is TaskStatus.WAITING:
                self._emit(TaskActivated, task_id=following.id, due_at=self._due(node))
                self._auto_decide(following)
            return
        if following is not None:  # a rejected vote whose lane still runs: count at its end
            return
        outcome = self._outcome(node, run)
        if outcome is not None:
            self._decide_node(node, run, outcome)

    def _outcome(self, node: ApproverNode, run: NodeRun) -> NodeStatus | None:
        if node.mode is Mode.ANY:
            return NodeStatus.APPROVED
        if node.mode is not Mode.VOTE:
            return NodeStatus.APPROVED if run.open_lanes == 0 else None
        vote = node.vote
        assert vote is not None  # noqa: S101  # parse_flow requires it
        total = sum(run.weights)
        if run.approve_weight >= vote.pass_ratio * total:
            return NodeStatus.APPROVED
        remaining = total - run.approve_weight - run.reject_weight
        if (
            run.reject_weight >= vote.reject_ratio * total
            or run.approve_weight + remaining < vote.pass_ratio * total
        ):
            return NodeStatus.REJECTED
        return None

    def _decide_node(self, node: ApproverNode, run: NodeRun, outcome: NodeStatus) -> None:
        for lane in run.lanes:
            for task_id in lane:
                if self.tasks[task_id].status.open:
                    self._emit(TaskCancelled, task_id=task_id, reason=CancelReason.NODE_DECIDED)
        self._emit(NodeCompleted, node_id=node.id, outcome=outcome)
        if outcome is NodeStatus.REJECTED:
            self._reject_instance(node.id, None)
        elif self._entering != node.id:
            self._continue_after(node.id)

    # ---- finishing -----------------------------------------------------------------------

    def _cancel_open(self, reason: CancelReason) -> None:
        for task in self.open_tasks():
            self._emit(TaskCancelled, task_id=task.id, reason=reason)

    def _approve_instance(self) -> None:
        self._send_cc_when(CcWhen.FINISH)
        self._emit(InstanceApproved)

    def _reject_instance(self, node_id: str | None, comment: str | None) -> None:
        self._cancel_open(CancelReason.INSTANCE_FINISHED)
        self._emit(InstanceRejected, node_id=node_id, comment=comment)
