"""Mirrored requests: an approval that runs in another system (WeCom, ...), recorded here.

The other system decides; Signoff keeps a faithful copy, so that the timeline, the audit
trail, the notices (webhooks, NATS, WebSocket) and contract generation follow exactly as
for a request approved here. `MirrorExternal` carries the whole state the other system
reports now, and `Mirroring.mirror` records what is new as the events a native approval
records: InstanceSubmitted (at the other system's submission time) and ExternalLinked at
first sight; NodeEntered and pending TaskCreated when a step is reached (the first at once,
each next once the one before was approved, or as soon as someone acted on it);
TaskApproved / TaskRejected / TaskTransferred / TaskReturned at the time and by the person
reported; TaskCancelled and NodeCompleted when a step is decided; InstanceApproved /
InstanceRejected / InstanceWithdrawn when the request ends; FormEdited for other form
values; CcSent for people CC'd. Each step is one approver node: a node of the template's
flow when the mapping names one, else an id of its own (`wecom_2`).

Forward only: a report never undoes what was recorded, so a repeated report, or an older
one arriving late, finds nothing new and records nothing (no events, the version stays);
the other system may deliver at least once, in any order. A finished instance takes only
new CCs. A mirrored instance refuses every command that would decide it here
(`ExternallyDecided`); comments and CCs are allowed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from signoff.domain.aggregate import NodeRun, Task
from signoff.domain.commands import SYSTEM, Command
from signoff.domain.errors import CommandInvalid, FormInvalid, UnknownPrincipal
from signoff.domain.events import (
    CcSent,
    ExternalLinked,
    FormEdited,
    InstanceApproved,
    InstanceRejected,
    InstanceWithdrawn,
    NodeCompleted,
    NodeEntered,
    TaskApproved,
    TaskCancelled,
    TaskCreated,
    TaskRejected,
    TaskReturned,
    TaskTransferred,
)
from signoff.domain.flow import ApproverNode
from signoff.domain.forms import FormSchema, validate_form
from signoff.domain.navigation import FlowRunner
from signoff.domain.states import CancelReason, InstanceStatus, NodeStatus, TaskStatus

NODE_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,63}")


class ExternalStatus(StrEnum):
    """The request's status in the other system."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"  # withdrawn or deleted before it was decided


class Verdict(StrEnum):
    """One approver's decision, or a step's, in the other system."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    TRANSFERRED = "transferred"  # handed to the person after them in the step
    RETURNED = "returned"  # sent back to an earlier approver


@dataclass(frozen=True, slots=True)
class ExternalDecision:
    person: str  # principal id
    verdict: Verdict
    comment: str | None = None
    at: datetime | None = None  # None: not acted yet (or the other system does not say)


@dataclass(frozen=True, slots=True)
class ExternalStep:
    """One approval node of the other system, with each approver's decision so far."""

    node_id: str
    verdict: Verdict  # the node's: pending, approved or rejected
    decisions: tuple[ExternalDecision, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class MirrorExternal(Command):
    """The whole state of a request in another system, as it reports it now."""

    actor: str = SYSTEM
    source: str  # which system and tenant: "wecom:<corp id>"
    external_id: str  # the request's id there
    applicant: str  # principal id
    submitted_at: datetime
    status: ExternalStatus
    steps: tuple[ExternalStep, ...] = ()
    form: Mapping[str, Any] | None = None  # None: not known (keep what the instance holds)
    cc: tuple[str, ...] = ()
    serial: str = ""  # the store's counter fills it in at first sight
    title: str | None = None  # None: the template's title pattern


def _fitting(schema: FormSchema, form: Mapping[str, Any]) -> dict[str, Any]:
    """The values that fit the template's form (a mirrored form need not be complete;
    fields the template cannot hold are left out rather than refusing the request)."""
    try:
        return validate_form(schema, form, partial=True)
    except FormInvalid as error:
        bad = {p.path.split("[")[0].split(".")[0] for p in error.problems}
        return validate_form(schema, {k: v for k, v in form.items() if k not in bad}, partial=True)


class Mirroring(FlowRunner):
    """The instance's part that records another system's decisions."""

    def mirror(self, cmd: MirrorExternal) -> None:
        """Record, as events, what `cmd` reports beyond what the instance already holds."""
        self._check_mirror(cmd)
        if self.external is None:
            self._first_sight(cmd)
        elif self.external != (cmd.source, cmd.external_id):
            raise CommandInvalid(
                f"instance {self.id} mirrors {self.external[1]} of {self.external[0]}, "
                f"not {cmd.external_id} of {cmd.source}",
                instance_id=self.id,
            )
        elif not self.status.finished and cmd.form is not None:
            self._form_changes(cmd.form)
        self._mirror_cc(cmd.cc)
        if self.status.finished:
            return
        rejected_at = self._mirror_steps(cmd.steps)
        self._mirror_finish(cmd, rejected_at)

    # ---- checks ---------------------------------------------------------------------------

    def _check_mirror(self, cmd: MirrorExternal) -> None:
        if self.external is None and (self.version or self.status is not InstanceStatus.DRAFT):
            raise CommandInvalid(
                f"instance {self.id} is a request of Signoff's own; it mirrors nothing",
                instance_id=self.id,
            )
        seen: set[str] = set()
        for step in cmd.steps:
            if not NODE_ID.fullmatch(step.node_id) or step.node_id in seen:
                raise CommandInvalid(f"step node id {step.node_id!r} is malformed or repeated")
            seen.add(step.node_id)
            node = self.template.flow.node(step.node_id)
            if node is not None and not isinstance(node, ApproverNode):
                raise CommandInvalid(
                    f"step node {step.node_id!r} is not an approver node of the flow",
                    node_id=step.node_id,
                )
        people = {cmd.applicant, *cmd.cc, *(d.person for s in cmd.steps for d in s.decisions)}
        for person in sorted(people):
            if self._env.directory.principal(person) is None:
                raise UnknownPrincipal(f"no principal {person!r}", principal_id=person)

    # ---- the request -----------------------------------------------------------------------

    def _first_sight(self, cmd: MirrorExternal) -> None:
        directory = self._env.directory
        person = directory.principal(cmd.applicant)
        assert person is not None  # noqa: S101  # _check_mirror found everyone
        dept = directory.department(person.department_id) if person.department_id else None
        form = _fitting(self.template.form, cmd.form or {})
        title = cmd.title or (
            self.template.title_for(
                person, dept.name if dept else "", form, cmd.serial, cmd.submitted_at
            )
            if form
            else f"{person.name}的{self.template.name}"
        )
        at = cmd.submitted_at
        self._emit_submitted(person, form, cmd.serial, title, at=at, actor=person.id)
        self._emit(
            ExternalLinked, at=at, actor=None, source=cmd.source, external_id=cmd.external_id
        )

    def _form_changes(self, reported: Mapping[str, Any]) -> None:
        form = _fitting(self.template.form, reported)
        keys = sorted(set(form) | set(self.form))
        changes = {k: form.get(k) for k in keys if form.get(k) != self.form.get(k)}
        if changes:
            previous = {k: self.form.get(k) for k in changes}
            self._emit(FormEdited, actor=None, task_id=None, changes=changes, previous=previous)

    def _mirror_cc(self, people: tuple[str, ...]) -> None:
        new = tuple(p for p in dict.fromkeys(people) if p not in self.cc)
        if new:
            self._emit(CcSent, actor=None, node_id=None, recipients=new)

    def _mirror_finish(self, cmd: MirrorExternal, rejected_at: str | None) -> None:
        if cmd.status is ExternalStatus.PENDING:
            return
        decided = [d for s in cmd.steps for d in s.decisions if d.at is not None]
        last = max(decided, key=lambda d: d.at or cmd.submitted_at, default=None)
        at = last.at if last is not None and last.at is not None else self._env.now
        actor = last.person if last is not None else None
        for task in self.open_tasks():
            self._mirror_cancel(task, CancelReason.INSTANCE_FINISHED, at)
        if cmd.status is ExternalStatus.APPROVED:
            self._emit(InstanceApproved, at=at, actor=actor)
        elif cmd.status is ExternalStatus.REJECTED:
            self._emit(InstanceRejected, at=at, actor=actor, node_id=rejected_at)
        else:
            self._emit(InstanceWithdrawn, actor=self.applicant_id)

    # ---- steps ----------------------------------------------------------------------------

    def _mirror_steps(self, steps: tuple[ExternalStep, ...]) -> str | None:
        """Enter and decide the steps in order; the node that rejected the request, if any."""
        reached = True  # the first step is reached at submission
        for step in steps:
            acted = step.verdict is not Verdict.PENDING or any(
                d.verdict is not Verdict.PENDING for d in step.decisions
            )
            run = self.nodes.get(step.node_id)
            if run is None:
                if not (reached or acted):
                    return None
                self._mirror_enter(step)
                run = self.nodes[step.node_id]
            if run.status is NodeStatus.ACTIVE:
                self._mirror_decisions(step, run)
                if step.verdict in (Verdict.APPROVED, Verdict.REJECTED):
                    self._mirror_complete(step, run)
            if run.status is NodeStatus.REJECTED:
                return step.node_id
            reached = run.status is NodeStatus.APPROVED
        return None

    def _since(self) -> datetime:
        """Right after the last thing known to have happened."""
        return self.updated_at or self._env.now

    def _mirror_enter(self, step: ExternalStep) -> None:
        at = self._since()
        self._emit(NodeEntered, at=at, actor=None, node_id=step.node_id)
        for person in dict.fromkeys(d.person for d in step.decisions):
            self._mirror_task(step.node_id, person, at)

    def _mirror_task(self, node_id: str, person: str, at: datetime) -> Task:
        task_id = self._new_task_id()
        self._emit(
            TaskCreated,
            at=at,
            actor=None,
            task_id=task_id,
            node_id=node_id,
            lane=len(self.nodes[node_id].lanes),
            position=0,
            assignee=person,
            status=TaskStatus.PENDING,
        )
        return self.tasks[task_id]

    def _task_of(self, node_id: str, person: str) -> Task | None:
        """The person's newest task on the node (a transfer back makes a second one)."""
        found = None
        for task in self.tasks.values():  # in creation order
            if task.node_id == node_id and task.assignee == person:
                found = task
        return found

    def _mirror_decisions(self, step: ExternalStep, run: NodeRun) -> None:
        decisions = step.decisions
        for index, d in enumerate(decisions):
            task = self._task_of(step.node_id, d.person)
            if task is None:  # added in the other system (加签, a transfer's receiver)
                task = self._mirror_task(step.node_id, d.person, self._since())
            if not task.status.open or d.verdict is Verdict.PENDING:
                continue  # already recorded, or nothing to record yet
            at = d.at or self._env.now
            fields: dict[str, Any] = {"at": at, "actor": d.person, "task_id": task.id}
            if d.verdict is Verdict.APPROVED:
                self._emit(TaskApproved, comment=d.comment, **fields)
            elif d.verdict is Verdict.REJECTED:
                self._emit(TaskRejected, comment=d.comment, **fields)
            elif d.verdict is Verdict.RETURNED:
                self._emit(TaskReturned, to_node=None, comment=d.comment, **fields)
            else:  # transferred: to the next person the step names after them
                to = next((n.person for n in decisions[index + 1 :] if n.person != d.person), None)
                if to is None:
                    self._mirror_cancel(task, CancelReason.REMOVED, at)
                    continue
                target = self._task_of(step.node_id, to)
                if target is None or not target.status.open:
                    target = self._mirror_task(step.node_id, to, at)
                self._emit(
                    TaskTransferred, to=to, new_task_id=target.id, comment=d.comment, **fields
                )

    def _mirror_complete(self, step: ExternalStep, run: NodeRun) -> None:
        times = [d.at for d in step.decisions if d.at is not None]
        at = max(times) if times else self._env.now
        for lane in run.lanes:
            for task_id in lane:
                task = self.tasks[task_id]
                if task.status.open:
                    self._mirror_cancel(task, CancelReason.NODE_DECIDED, at)
        outcome = NodeStatus.APPROVED if step.verdict is Verdict.APPROVED else NodeStatus.REJECTED
        self._emit(NodeCompleted, at=at, actor=None, node_id=step.node_id, outcome=outcome)

    def _mirror_cancel(self, task: Task, reason: CancelReason, at: datetime) -> None:
        self._emit(TaskCancelled, at=at, actor=None, task_id=task.id, reason=reason)
