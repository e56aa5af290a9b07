"""Notices: what the world outside an instance hears about a command.

A command records a dozen domain events (nodes entered, lanes activated, ...). People
and business systems care about a few of them: a task is theirs now, a request was
approved, someone urged them. `notices_for` turns the events of one command, and the
instance as the command left it, into those few notices — each with its audience, the
people who hear it over WebSocket (and by e-mail when offline). The unit of work writes
them to the outbox in the command's transaction; the relay publishes them afterwards.

Who hears what is decided here, once per event type (one audience function each):

    task.assigned       the assignee (a task became theirs to act on)
    task.cancelled      the assignee (it left their pending list)
    task.approved ...   the applicant (their request moved)
    instance.submitted  the applicant (the approvers hear task.assigned)
    instance.*          everyone taking part: applicant, assignees, CC'd people
    instance.urged      the people urged
    cc.received         the people CC'd
    comment.added       everyone taking part, except the author

A notice's id is its domain event's id (`<instance>:<seq>`), so it is stable across
retries and consumers de-duplicate on it. Its data carries the instance as the command
left it (status, title, who must act now): enough to render a message without a query.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from signoff.domain import events as ev
from signoff.domain.aggregate import InstanceState
from signoff.domain.states import TaskStatus


@dataclass(frozen=True, slots=True)
class Notice:
    id: str  # the domain event's id
    type: str  # "task.assigned", "instance.approved", ... (CloudEvents type: "signoff." + type)
    instance_id: str
    template_key: str
    at: datetime
    actor: str | None
    audience: tuple[str, ...]
    data: dict[str, Any]


# Every notice type, with what it means (docs/events.md lists them with examples).
TYPES: dict[str, str] = {
    "instance.submitted": "a request was submitted",
    "instance.resubmitted": "a returned request was submitted again",
    "instance.approved": "a request was approved: every node passed",
    "instance.rejected": "a request was rejected",
    "instance.returned": "a request was sent back to its applicant",
    "instance.withdrawn": "the applicant withdrew a request",
    "instance.terminated": "an administrator ended a request",
    "instance.urged": "someone urged the people whose turn it is (催办)",
    "task.assigned": "a task became someone's to act on",
    "task.approved": "an approver approved",
    "task.rejected": "an approver rejected",
    "task.returned": "an approver sent the request back",
    "task.transferred": "an approver handed their task to someone else (转办)",
    "task.delegated": "an approver asked someone else to act first (委派)",
    "task.cancelled": "a task was no longer needed (the node was decided, withdrawn, ...)",
    "task.timed_out": "a task's timeout fired (remind, approve, reject or escalate)",
    "approvers.added": "approvers were added to a node (加签)",
    "cc.received": "people were CC'd (抄送)",
    "comment.added": "someone commented",
    "document.generated": "the document of an approved request (a contract) was made",
    "document.failed": "the document of an approved request could not be made",
}


def summary(state: InstanceState) -> dict[str, Any]:
    """The instance as a notice's data carries it (and, for a request mirrored from another
    system, `external`: which system and its id there)."""
    out = {
        "template": state.template.key,
        "template_version": state.template.version,
        "title": state.title,
        "serial": state.serial,
        "applicant": state.applicant_id,
        "status": state.status.value,
        "next_approvers": [t.assignee for t in state.pending_tasks()],
        "version": state.version,
    }
    if state.external is not None:
        out["external"] = {"source": state.external[0], "id": state.external[1]}
    return out


class _Context:
    """The instance as the command left it, computed once for every notice of the command."""

    def __init__(self, state: InstanceState) -> None:
        self.state = state
        self.everyone = tuple(sorted(state.participants()))
        self.summary = summary(state)

    def assignee(self, task_id: str) -> str | None:
        task = self.state.tasks.get(task_id)
        return task.assignee if task is not None else None


Audience = Callable[[ev.Event, _Context], Iterable[str]]


def _everyone(event: ev.Event, ctx: _Context) -> Iterable[str]:
    return ctx.everyone


def _applicant(event: ev.Event, ctx: _Context) -> Iterable[str]:
    return (ctx.state.applicant_id,)


def _task_assignee(event: ev.Event, ctx: _Context) -> Iterable[str]:
    person = ctx.assignee(getattr(event, "task_id", ""))
    return (person,) if person else ()


def _recipients(event: ev.Event, ctx: _Context) -> Iterable[str]:
    return tuple(getattr(event, "recipients", ()))


def _everyone_but_author(event: ev.Event, ctx: _Context) -> Iterable[str]:
    return tuple(p for p in ctx.everyone if p != event.actor)


def _task_fields(event: ev.Event, ctx: _Context) -> dict[str, Any]:
    task_id = getattr(event, "task_id", None)
    task = ctx.state.tasks.get(task_id) if task_id else None
    out: dict[str, Any] = {"task_id": task_id}
    if task is not None:
        out.update(
            node_id=task.node_id,
            assignee=task.assignee,
            on_behalf_of=task.on_behalf_of,
            due_at=task.due_at.isoformat() if task.due_at else None,
        )
    return out


def _fields(*names: str) -> Callable[[ev.Event, _Context], dict[str, Any]]:
    def pick(event: ev.Event, ctx: _Context) -> dict[str, Any]:
        out = {}
        for name in names:
            value = getattr(event, name)
            out[name] = list(value) if isinstance(value, tuple) else value
        return out

    return pick


def _with_task(*names: str) -> Callable[[ev.Event, _Context], dict[str, Any]]:
    pick = _fields(*names)
    return lambda event, ctx: {**_task_fields(event, ctx), **pick(event, ctx)}


Rule = tuple[str, Audience, Callable[[ev.Event, _Context], dict[str, Any]]]

# domain event type -> (notice type, audience, the event's own fields in the data)
_RULES: dict[type[ev.Event], Rule] = {
    ev.InstanceSubmitted: ("instance.submitted", _applicant, _fields()),
    ev.InstanceResubmitted: ("instance.resubmitted", _applicant, _fields("restart")),
    ev.InstanceApproved: ("instance.approved", _everyone, _fields()),
    ev.InstanceRejected: ("instance.rejected", _everyone, _fields("node_id", "comment")),
    ev.InstanceReturned: ("instance.returned", _everyone, _fields("task_id", "comment")),
    ev.InstanceWithdrawn: ("instance.withdrawn", _everyone, _fields("comment")),
    ev.InstanceTerminated: ("instance.terminated", _everyone, _fields("comment")),
    ev.Urged: ("instance.urged", _recipients, _fields("task_ids", "recipients", "comment")),
    ev.TaskApproved: ("task.approved", _applicant, _with_task("comment", "auto")),
    ev.TaskRejected: ("task.rejected", _applicant, _with_task("comment", "auto")),
    ev.TaskReturned: ("task.returned", _applicant, _with_task("to_node", "comment")),
    ev.TaskTransferred: ("task.transferred", _applicant, _with_task("to", "comment", "handover")),
    ev.TaskDelegated: ("task.delegated", _applicant, _with_task("to", "comment")),
    ev.TaskCancelled: ("task.cancelled", _task_assignee, _with_task("reason")),
    ev.TaskTimedOut: ("task.timed_out", _task_assignee, _with_task("action", "reminders", "to")),
    ev.ApproversAdded: ("approvers.added", _applicant, _with_task("people", "before")),
    ev.CcSent: ("cc.received", _recipients, _fields("node_id", "recipients", "comment")),
    ev.CommentAdded: ("comment.added", _everyone_but_author, _fields("text", "task_id")),
}


_ASSIGNED: Rule = ("task.assigned", _task_assignee, _with_task())


def _assigned(event: ev.Event, ctx: _Context) -> bool:
    """A task became someone's turn: created pending, or activated."""
    if isinstance(event, ev.TaskActivated):
        return True
    return isinstance(event, ev.TaskCreated) and event.status is TaskStatus.PENDING


def notices_for(state: InstanceState, events: Sequence[ev.Event]) -> list[Notice]:
    """The notices of one command's events, `state` being the instance after the command."""
    if not events:
        return []
    ctx = _Context(state)
    key = state.template.key
    out: list[Notice] = []
    for event in events:
        rule = _ASSIGNED if _assigned(event, ctx) else _RULES.get(type(event))
        if rule is None:
            continue
        kind, audience, own = rule
        data = own(event, ctx)
        data.update(ctx.summary)
        out.append(
            Notice(
                event.id,
                kind,
                event.instance_id,
                key,
                event.at,
                event.actor,
                tuple(dict.fromkeys(p for p in audience(event, ctx) if p)),
                data,
            )
        )
    return out


def replay_notices(state: InstanceState, events: Iterable[ev.Event]) -> list[Notice]:
    """The notices that the commands which recorded `events` produced, in order, applying
    the events to `state` (a fresh state) — what the outbox must hold for them."""
    out: list[Notice] = []
    command: list[ev.Event] = []
    for event in events:
        if command and event.version != command[0].version:
            out += notices_for(state, command)
            command = []
        state.apply(event)
        command.append(event)
    return out + notices_for(state, command)


def document_notice(
    state: InstanceState, kind: str, notice_id: str, at: datetime, data: dict[str, Any]
) -> Notice:
    """A notice about an instance's document, made by the document worker, not a command:

    document.generated  everyone taking part (the same people who heard the approval)
    document.failed     the applicant and the template's admins (who fix the template)
    """
    if kind == "document.generated":
        audience: tuple[str, ...] = tuple(sorted(state.participants()))
    elif kind == "document.failed":
        audience = tuple(dict.fromkeys((state.applicant_id, *state.template.settings.admins)))
    else:
        raise ValueError(f"not a document notice: {kind}")
    data = {**data, **summary(state)}
    return Notice(notice_id, kind, state.id, state.template.key, at, None, audience, data)
