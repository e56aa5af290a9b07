"""The instance aggregate: one request (申请) moving through its template's flow.

    instance = Instance.new("i-1", template, applicant_id="u-ann")
    events = instance.execute(Submit(actor="u-ann", form={...}, serial="LEAVE-..."), env)
    events = instance.execute(Approve(actor="u-lead", task_id=...), env)

`execute` checks the command against the state (typed errors with stable codes),
decides, and returns the events that happened; the instance has already applied
them. If anything fails, every change is rolled back: the state never changes on
an error. A command that changes something raises `version` by one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from signoff.domain.aggregate import Task
from signoff.domain.assignees import Applicant, check_choice, check_known, heads_above
from signoff.domain.commands import (
    SYSTEM,
    AddApprovers,
    AddComment,
    Approve,
    Cc,
    Command,
    Delegate,
    FireTimeout,
    HandOver,
    MarkRead,
    Reject,
    RemoveApprover,
    Resubmit,
    Return,
    SaveDraft,
    Submit,
    TakeBack,
    Terminate,
    Transfer,
    Urge,
    Withdraw,
)
from signoff.domain.directory import Directory, require_principal
from signoff.domain.errors import (
    ActionNotAllowed,
    CommandInvalid,
    CommentRequired,
    ExternallyDecided,
    FieldNotWritable,
    FormInvalid,
    InstanceFinished,
    InvalidTransition,
    NodeAlreadyDecided,
    NotApplicant,
    NotAssignee,
    NotInitiator,
    NotParticipant,
    NotTemplateAdmin,
    NotYourTurn,
    TakeBackTooLate,
    TaskAlreadyDone,
    TimerNotDue,
    UnknownNode,
    UnknownTask,
)
from signoff.domain.events import (
    ApprovalTakenBack,
    ApproverRemoved,
    ApproversAdded,
    CcSent,
    CommentAdded,
    DraftSaved,
    Event,
    FormEdited,
    InstanceResubmitted,
    InstanceReturned,
    InstanceTerminated,
    InstanceWithdrawn,
    NodesReset,
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
from signoff.domain.flow import ROOT, ApproverNode, CcWhen, Mode, RuleKind, TimeoutAction
from signoff.domain.forms import merge_edits, validate_form
from signoff.domain.mirror import MirrorExternal, Mirroring
from signoff.domain.navigation import Env
from signoff.domain.preview import choices_needed
from signoff.domain.states import CancelReason, InstanceStatus, NodeStatus, TaskKind, TaskStatus
from signoff.domain.templates import Resubmit as ResubmitPolicy
from signoff.domain.templates import Template

MAX_COMMENT = 2000


class Instance(Mirroring):
    @classmethod
    def new(cls, instance_id: str, template: Template, applicant_id: str) -> Instance:
        """A request not yet saved: version 0, status draft, no events."""
        return cls(instance_id, template, applicant_id)

    @classmethod
    def copy_of(
        cls, source: Instance, instance_id: str, template: Template, actor: str, env: Env
    ) -> tuple[Instance, list[Event]]:
        """复制: a finished request of the actor's becomes a new draft with the same values.

        Values that no longer fit `template` (a newer version, say) are left out.
        """
        if actor != source.applicant_id:
            raise NotApplicant(f"only the applicant may copy {source.id}", instance_id=source.id)
        if not source.finished:
            raise InvalidTransition(
                f"instance {source.id} is {source.status.value}; only finished requests are copied",
                instance_id=source.id,
            )
        form = dict(source.form)
        try:
            form = validate_form(template.form, form, partial=True)
        except FormInvalid as error:
            bad = {p.path.split("[")[0].split(".")[0] for p in error.problems}
            form = validate_form(
                template.form, {k: v for k, v in form.items() if k not in bad}, partial=True
            )
        copy = cls(instance_id, template, actor)
        events = copy._command(actor, env, lambda: copy._emit_draft(form, copied_from=source.id))
        return copy, events

    # ---- the front door ------------------------------------------------------------------

    def execute(self, command: Command, env: Env) -> list[Event]:
        handler = _HANDLERS.get(type(command))
        if handler is None:
            raise CommandInvalid(f"unknown command {type(command).__name__}")
        if self.external is not None and type(command) not in _ON_MIRRORED:
            raise ExternallyDecided(
                f"instance {self.id} mirrors {self.external[1]} of {self.external[0]} and is "
                "decided there; comment or CC here instead",
                instance_id=self.id,
                source=self.external[0],
            )
        actor = None if command.actor == SYSTEM else command.actor
        return self._command(actor, env, lambda: handler(self, command))

    def _command(self, actor: str | None, env: Env, run: Callable[[], None]) -> list[Event]:
        saved = (self.seq, self.version, self.updated_at, self.undo)
        mark = len(self._journal)
        self._env, self._actor, self._out = env, actor, []
        self._cmd_version = self.version + 1
        try:
            run()
        except BaseException:
            self._rollback(mark)
            self.seq, self.version, self.updated_at, self.undo = saved
            raise
        finally:
            self._journal.clear()
        return self._out

    # ---- checks --------------------------------------------------------------------------

    def _require_applicant(self, actor: str) -> None:
        if actor != self.applicant_id:
            raise NotApplicant(
                f"only the applicant may do this on {self.id}", instance_id=self.id, actor=actor
            )

    def _require_status(self, *allowed: InstanceStatus) -> None:
        if self.status in allowed:
            return
        if self.status.finished:
            raise InstanceFinished(
                f"instance {self.id} is already {self.status.value}",
                instance_id=self.id,
                status=self.status.value,
            )
        raise InvalidTransition(
            f"instance {self.id} is {self.status.value}", instance_id=self.id, status=self.status
        )

    def _require_participant(self, actor: str) -> None:
        if actor not in self.participants() and actor not in self.template.settings.admins:
            raise NotParticipant(f"{actor} takes no part in {self.id}", instance_id=self.id)

    def _task(self, task_id: str) -> Task:
        task = self.tasks.get(task_id)
        if task is None:
            raise UnknownTask(f"instance {self.id} has no task {task_id!r}", task_id=task_id)
        return task

    def _my_turn(self, task_id: str, actor: str) -> Task:
        """The actor's task, which must be their turn now."""
        task = self._task(task_id)
        if actor not in (task.assignee, task.on_behalf_of):  # the absent may still act
            raise NotAssignee(f"task {task_id} is not {actor}'s", task_id=task_id, actor=actor)
        self._require_status(InstanceStatus.PENDING)
        if task.status is TaskStatus.PENDING:
            return task
        ids = {"task_id": task_id, "node_id": task.node_id}
        if task.status is TaskStatus.WAITING:
            raise NotYourTurn(f"task {task_id} is waiting for someone before {actor}", **ids)
        if task.cancel_reason is CancelReason.NODE_DECIDED:
            raise NodeAlreadyDecided(f"node {task.node_id} was already decided", **ids)
        raise TaskAlreadyDone(f"task {task_id} is already {task.status.value}", **ids)

    def _node_of(self, task: Task) -> ApproverNode:
        node = self.template.flow.approver(task.node_id)
        assert node is not None  # noqa: S101  # tasks live on approver nodes
        return node

    @staticmethod
    def _comment(comment: str | None, required: bool, action: str) -> str | None:
        text = (comment or "").strip()
        if required and not text:
            raise CommentRequired(f"a comment is required to {action}")
        if len(text) > MAX_COMMENT:
            raise CommandInvalid(f"a comment has at most {MAX_COMMENT} characters")
        return text or None

    def _check_people(self, people: tuple[str, ...], actor: str, run_node: str | None) -> None:
        if not people:
            raise CommandInvalid("name at least one person")
        if len(set(people)) != len(people):
            raise CommandInvalid("a person is named twice")
        check_known(people, self._env.directory)
        if actor in people:
            raise CommandInvalid(f"{actor} cannot name themself")
        if run_node is not None:
            holders = {t.assignee for t in self.open_tasks() if t.node_id == run_node}
            already = [p for p in people if p in holders]
            if already:
                raise CommandInvalid(
                    f"{already[0]} already has an open task on node {run_node}",
                    principal_id=already[0],
                )

    def _check_choices(
        self, choices: Mapping[str, tuple[str, ...]], kind: RuleKind, directory: Directory
    ) -> dict[str, tuple[str, ...]]:
        out: dict[str, tuple[str, ...]] = {}
        for node_id, people in choices.items():
            node = self.template.flow.approver(node_id)
            if node is None:
                raise UnknownNode(f"no approver node {node_id!r}", node_id=node_id)
            rule = next((r for r in node.assignees if r.kind is kind), None)
            if rule is None:
                raise CommandInvalid(
                    f"node {node_id!r} is not chosen by {kind.value}", node_id=node_id
                )
            out[node_id] = check_choice(rule, node_id, tuple(people), directory)
        return out

    # ---- drafts and submission --------------------------------------------------------------

    def _emit_draft(self, form: dict[str, Any], copied_from: str | None = None) -> None:
        self._emit(
            DraftSaved,
            template_key=self.template.key,
            template_version=self.template.version,
            applicant_id=self.applicant_id,
            form=form,
            copied_from=copied_from,
        )

    def save_draft(self, cmd: SaveDraft) -> None:
        self._require_applicant(cmd.actor)
        self._require_status(InstanceStatus.DRAFT)
        self._emit_draft(validate_form(self.template.form, cmd.form, partial=True))

    def submit(self, cmd: Submit) -> None:
        self._require_applicant(cmd.actor)
        self._require_status(InstanceStatus.DRAFT)
        directory = self._env.directory
        person = require_principal(directory, self.applicant_id)
        if not self.template.settings.initiators.allow(person, directory):
            raise NotInitiator(
                f"{person.id} may not start {self.template.key}", template=self.template.key
            )
        # submitting a saved draft without values submits what the draft holds
        form = validate_form(self.template.form, cmd.form or self.form)
        applicant = Applicant.of(person, directory)
        choices = self._check_choices(cmd.choices, RuleKind.APPLICANT_CHOICE, directory)
        for node_id in choices_needed(self.template, form, applicant, directory):
            if node_id not in choices:
                check_choice(self._choice_rule(node_id), node_id, (), directory)
        dept = directory.department(person.department_id) if person.department_id else None
        title = self.template.title_for(
            person, dept.name if dept else "", form, cmd.serial, self._env.now
        )
        self._emit_submitted(person, form, cmd.serial, title, choices)
        self._send_cc_when(CcWhen.START)
        self._run([(ROOT, 0)])

    def _choice_rule(self, node_id: str) -> Any:
        node = self.template.flow.approver(node_id)
        assert node is not None  # noqa: S101  # from choices_needed
        return next(r for r in node.assignees if r.kind is RuleKind.APPLICANT_CHOICE)

    def resubmit(self, cmd: Resubmit) -> None:
        self._require_applicant(cmd.actor)
        self._require_status(InstanceStatus.RETURNED)
        form = validate_form(self.template.form, cmd.form)
        directory = self._env.directory
        choices = self._check_choices(cmd.choices, RuleKind.APPLICANT_CHOICE, directory)
        resume = self.resume_nodes
        restart = self.template.settings.resubmit is ResubmitPolicy.RESTART or not resume
        self._emit(InstanceResubmitted, form=form, choices=choices, restart=restart)
        if restart:
            self._run([(ROOT, 0)])
            return
        places = self.template.flow.places
        self._run([(places[n].seq, places[n].index) for n in reversed(resume)])

    # ---- deciding tasks ----------------------------------------------------------------------

    def approve(self, cmd: Approve) -> None:
        task = self._my_turn(cmd.task_id, cmd.actor)
        node = self._node_of(task)
        comment = self._comment(cmd.comment, node.comment_on_approve, "approve")
        directory = self._env.directory
        choices = self._check_choices(cmd.choices, RuleKind.PREVIOUS_APPROVER_CHOICE, directory)
        changes: dict[str, Any] = {}
        if cmd.edits:
            if task.kind is TaskKind.DELEGATED:
                raise FieldNotWritable("a delegate answers but does not edit the form")
            values, changed = merge_edits(
                self.template.form, self.form, cmd.edits, node.permissions
            )
            changes = {f: values.get(f) for f in changed}
        self._emit(TaskApproved, task_id=task.id, comment=comment, choices=choices)
        if changes:
            previous = {f: self.form.get(f) for f in changes}
            self._emit(FormEdited, task_id=task.id, changes=changes, previous=previous)
        self._after_decision(task)

    def reject(self, cmd: Reject) -> None:
        task = self._my_turn(cmd.task_id, cmd.actor)
        node = self._node_of(task)
        required = node.comment_on_reject and task.kind is not TaskKind.DELEGATED
        comment = self._comment(cmd.comment, required, "reject")
        self._emit(TaskRejected, task_id=task.id, comment=comment)
        self._after_decision(task)

    def return_(self, cmd: Return) -> None:
        task = self._my_turn(cmd.task_id, cmd.actor)
        node = self._node_of(task)
        if task.kind is TaskKind.DELEGATED:
            raise ActionNotAllowed("a delegate cannot return the request", task_id=task.id)
        comment = self._comment(cmd.comment, node.comment_on_reject, "return")
        flow = self.template.flow
        if cmd.to_node is None:
            resume = tuple(
                run.node_id
                for run in self.nodes.values()
                if run.status is NodeStatus.ACTIVE and flow.approver(run.node_id)
            )
            self._emit(TaskReturned, task_id=task.id, to_node=None, comment=comment)
            self._cancel_open(CancelReason.RETURNED)
            self._emit(InstanceReturned, task_id=task.id, comment=comment, resume_nodes=resume)
            return
        target = cmd.to_node
        if flow.node(target) is None:
            raise UnknownNode(f"no node {target!r}", node_id=target)
        target_run = self.nodes.get(target)
        if (
            flow.approver(target) is None
            or target not in flow.dominators(task.node_id)
            or target_run is None
            or target_run.status is not NodeStatus.APPROVED
        ):
            raise CommandInvalid(
                f"node {target!r} is not an earlier, approved node of {task.node_id!r}",
                node_id=target,
            )
        self._emit(TaskReturned, task_id=task.id, to_node=target, comment=comment)
        region = [n for n in (target, *flow.region_after(target)) if n in self.nodes]
        in_region = set(region)
        for other in self.open_tasks():
            if other.node_id in in_region:
                self._emit(TaskCancelled, task_id=other.id, reason=CancelReason.RETURNED)
        self._emit(NodesReset, node_ids=tuple(region))
        place = flow.places[target]
        self._run([(place.seq, place.index)])

    def take_back(self, cmd: TakeBack) -> None:
        if not self.template.settings.allow_take_back:
            raise ActionNotAllowed(f"template {self.template.key} does not allow taking back")
        task = self._task(cmd.task_id)
        if task.assignee != cmd.actor:
            raise NotAssignee(f"task {task.id} is not {cmd.actor}'s", task_id=task.id)
        self._require_status(InstanceStatus.PENDING)
        if self.undo is None or self.undo[0] != task.id:
            raise TakeBackTooLate(
                f"task {task.id} cannot be taken back: someone acted after it", task_id=task.id
            )
        comment = self._comment(cmd.comment, False, "take back")
        self._emit(ApprovalTakenBack, task_id=task.id, comment=comment)

    # ---- moving tasks ------------------------------------------------------------------------

    def _position(self, task: Task) -> int:
        return self.lane_of(task).index(task.id)

    def transfer(self, cmd: Transfer) -> None:
        task = self._my_turn(cmd.task_id, cmd.actor)
        self._check_people((cmd.to,), cmd.actor, task.node_id)
        comment = self._comment(cmd.comment, False, "transfer")
        self._move(task, cmd.to, comment, handover=False)

    def _move(self, task: Task, to: str, comment: str | None, *, handover: bool) -> None:
        new_id = self._new_task_id()
        self._emit(
            TaskCreated,
            task_id=new_id,
            node_id=task.node_id,
            lane=task.lane,
            position=self._position(task) + 1,
            assignee=to,
            status=task.status,
            kind=task.kind,
            origin=task.id,
            on_behalf_of=task.on_behalf_of,
            due_at=task.due_at,
        )
        self._emit(
            TaskTransferred,
            task_id=task.id,
            to=to,
            new_task_id=new_id,
            comment=comment,
            handover=handover,
        )

    def delegate(self, cmd: Delegate) -> None:
        task = self._my_turn(cmd.task_id, cmd.actor)
        if task.kind is TaskKind.DELEGATED:
            raise ActionNotAllowed("a delegated task cannot be delegated again", task_id=task.id)
        self._check_people((cmd.to,), cmd.actor, task.node_id)
        comment = self._comment(cmd.comment, False, "delegate")
        new_id = self._new_task_id()
        self._emit(
            TaskCreated,
            task_id=new_id,
            node_id=task.node_id,
            lane=task.lane,
            position=self._position(task),
            assignee=cmd.to,
            status=TaskStatus.PENDING,
            kind=TaskKind.DELEGATED,
            origin=task.id,
            due_at=task.due_at,
        )
        self._emit(TaskDeactivated, task_id=task.id)
        self._emit(TaskDelegated, task_id=task.id, to=cmd.to, new_task_id=new_id, comment=comment)

    def add_approvers(self, cmd: AddApprovers) -> None:
        task = self._my_turn(cmd.task_id, cmd.actor)
        node = self._node_of(task)
        if node.mode is Mode.VOTE:
            raise ActionNotAllowed(f"approvers cannot be added to vote node {node.id}")
        if task.kind is TaskKind.DELEGATED:
            raise ActionNotAllowed("a delegate cannot add approvers", task_id=task.id)
        self._check_people(cmd.people, cmd.actor, task.node_id)
        comment = self._comment(cmd.comment, False, "add approvers")
        start = self._position(task) + (0 if cmd.before else 1)
        new_ids: list[str] = []
        for k, person in enumerate(cmd.people):
            new_ids.append(self._new_task_id())
            first_before = cmd.before and k == 0
            self._emit(
                TaskCreated,
                task_id=new_ids[-1],
                node_id=task.node_id,
                lane=task.lane,
                position=start + k,
                assignee=person,
                status=TaskStatus.PENDING if first_before else TaskStatus.WAITING,
                kind=TaskKind.ADDED,
                origin=task.id,
                due_at=task.due_at if first_before else None,
            )
        if cmd.before:
            self._emit(TaskDeactivated, task_id=task.id)
        self._emit(
            ApproversAdded,
            task_id=task.id,
            people=cmd.people,
            before=cmd.before,
            new_task_ids=tuple(new_ids),
            comment=comment,
        )

    def remove_approver(self, cmd: RemoveApprover) -> None:
        task = self._task(cmd.task_id)
        self._require_status(InstanceStatus.PENDING)
        if task.kind is not TaskKind.ADDED:
            raise ActionNotAllowed(f"task {task.id} was not added by an approver", task_id=task.id)
        if not task.status.open:
            raise TaskAlreadyDone(f"task {task.id} is already {task.status.value}", task_id=task.id)
        adder = self._adder_of(task)
        if (adder is None or adder.assignee != cmd.actor) and (
            cmd.actor not in self.template.settings.admins
        ):
            raise NotAssignee(f"only whoever added task {task.id} may remove it", task_id=task.id)
        comment = self._comment(cmd.comment, False, "remove an approver")
        for other in self.open_tasks():  # whoever the removed approver delegated to goes too
            if other.origin == task.id and other.kind is TaskKind.DELEGATED:
                self._emit(TaskCancelled, task_id=other.id, reason=CancelReason.REMOVED)
        self._emit(TaskCancelled, task_id=task.id, reason=CancelReason.REMOVED)
        self._emit(ApproverRemoved, task_id=task.id, comment=comment)
        self._after_decision(task)

    def _adder_of(self, task: Task) -> Task | None:
        """The task of whoever added this approver (through transfers and hand-overs)."""
        current = task
        while True:
            origin = self.tasks.get(current.origin or "")
            if origin is None or not (
                origin.kind is TaskKind.ADDED and origin.status is TaskStatus.TRANSFERRED
            ):
                return origin
            current = origin

    def hand_over(self, cmd: HandOver) -> None:
        """The caller (the service layer) checks that the actor is an administrator."""
        check_known((cmd.to,), self._env.directory)
        if cmd.to == cmd.from_person:
            raise CommandInvalid("hand over to someone else")
        moving = [t for t in self.open_tasks() if t.assignee == cmd.from_person]
        holding = {t.node_id for t in self.open_tasks() if t.assignee == cmd.to}
        for task in moving:
            if task.node_id in holding:
                raise CommandInvalid(
                    f"{cmd.to} already has an open task on node {task.node_id}; "
                    "transfer that task to someone else",
                    node_id=task.node_id,
                    principal_id=cmd.to,
                )
        for task in moving:
            self._move(task, cmd.to, None, handover=True)

    # ---- ending ---------------------------------------------------------------------------

    def withdraw(self, cmd: Withdraw) -> None:
        self._require_applicant(cmd.actor)
        if not self.template.settings.allow_withdraw:
            raise ActionNotAllowed(f"template {self.template.key} does not allow withdrawing")
        self._require_status(InstanceStatus.DRAFT, InstanceStatus.PENDING, InstanceStatus.RETURNED)
        comment = self._comment(cmd.comment, False, "withdraw")
        self._cancel_open(CancelReason.INSTANCE_FINISHED)
        self._emit(InstanceWithdrawn, comment=comment)

    def terminate(self, cmd: Terminate) -> None:
        if cmd.actor not in self.template.settings.admins:
            raise NotTemplateAdmin(
                f"{cmd.actor} is not an admin of {self.template.key}", template=self.template.key
            )
        self._require_status(InstanceStatus.PENDING, InstanceStatus.RETURNED)
        comment = self._comment(cmd.comment, False, "terminate")
        self._cancel_open(CancelReason.INSTANCE_FINISHED)
        self._emit(InstanceTerminated, comment=comment)

    # ---- talking ----------------------------------------------------------------------------

    def send_cc(self, cmd: Cc) -> None:
        self._require_participant(cmd.actor)
        if self.status is InstanceStatus.DRAFT:
            raise InvalidTransition(f"instance {self.id} is not submitted yet")
        check_known(cmd.people, self._env.directory)
        if not cmd.people:
            raise CommandInvalid("name at least one person to CC")
        comment = self._comment(cmd.comment, False, "CC")
        self._emit(
            CcSent, node_id=None, recipients=tuple(dict.fromkeys(cmd.people)), comment=comment
        )

    def add_comment(self, cmd: AddComment) -> None:
        self._require_participant(cmd.actor)
        if self.status is InstanceStatus.DRAFT:
            raise InvalidTransition(f"instance {self.id} is not submitted yet")
        text = self._comment(cmd.text, True, "comment")
        self._emit(CommentAdded, text=text)

    def urge(self, cmd: Urge) -> None:
        if cmd.actor != self.applicant_id and cmd.actor not in self.template.settings.admins:
            raise NotApplicant(f"only the applicant may urge {self.id}", instance_id=self.id)
        self._require_status(InstanceStatus.PENDING)
        tasks = [self._task(t) for t in cmd.task_ids] if cmd.task_ids else self.pending_tasks()
        for task in tasks:
            if task.status is not TaskStatus.PENDING:
                raise TaskAlreadyDone(f"task {task.id} is not pending", task_id=task.id)
        comment = self._comment(cmd.comment, False, "urge")
        self._emit(
            Urged,
            task_ids=tuple(t.id for t in tasks),
            recipients=tuple(dict.fromkeys(t.assignee for t in tasks)),
            comment=comment,
        )

    def fire_timeout(self, cmd: FireTimeout) -> None:
        """A timeout is due: remind (re-armed until `repeat`), approve, reject or escalate.
        Exactly once: it must be due now, and firing it moves or clears the due time, so a
        second worker firing the same timer gets `TimerNotDue`."""
        task = self._task(cmd.task_id)
        node = self._node_of(task)
        now = self._env.now
        due = task.due_at
        if task.status is not TaskStatus.PENDING or due is None or due > now or not node.timeout:
            raise TimerNotDue(f"task {task.id} has no timeout due at {now}", task_id=task.id)
        action = node.timeout.action
        if action is TimeoutAction.REMIND:
            sent = task.reminders + 1
            again = self._due(node) if sent < node.timeout.repeat else None
            self._emit(TaskTimedOut, task_id=task.id, action=action, reminders=sent, due_at=again)
            return
        head = None
        if action is TimeoutAction.ESCALATE:
            person = self._env.directory.principal(task.assignee)
            dept = person.department_id if person else None
            head = next(iter(heads_above(self._env.directory, dept, task.assignee)), None)
        self._emit(TaskTimedOut, task_id=task.id, action=action, reminders=task.reminders, to=head)
        if action is TimeoutAction.AUTO_APPROVE:
            self._emit(TaskApproved, task_id=task.id, auto="timeout")
            self._after_decision(task)
        elif action is TimeoutAction.AUTO_REJECT:
            self._emit(TaskRejected, task_id=task.id, auto="timeout")
            self._after_decision(task)
        elif head is not None:  # no head to escalate to: the timer just stops
            self._move(task, head, None, handover=False)

    def mark_read(self, cmd: MarkRead) -> None:
        task = self._task(cmd.task_id)
        if task.assignee != cmd.actor:
            raise NotAssignee(f"task {task.id} is not {cmd.actor}'s", task_id=task.id)
        if task.read_at is None:
            self._emit(TaskRead, task_id=task.id)


_HANDLERS: dict[type[Command], Callable[[Instance, Any], None]] = {
    SaveDraft: Instance.save_draft,
    Submit: Instance.submit,
    Approve: Instance.approve,
    Reject: Instance.reject,
    Return: Instance.return_,
    Resubmit: Instance.resubmit,
    Withdraw: Instance.withdraw,
    TakeBack: Instance.take_back,
    Transfer: Instance.transfer,
    Delegate: Instance.delegate,
    AddApprovers: Instance.add_approvers,
    RemoveApprover: Instance.remove_approver,
    HandOver: Instance.hand_over,
    Terminate: Instance.terminate,
    Cc: Instance.send_cc,
    AddComment: Instance.add_comment,
    Urge: Instance.urge,
    MarkRead: Instance.mark_read,
    FireTimeout: Instance.fire_timeout,
    MirrorExternal: Instance.mirror,
}

#: what a request mirrored from another system still takes here (signoff.domain.mirror)
_ON_MIRRORED = frozenset({MirrorExternal, AddComment, Cc, MarkRead})
