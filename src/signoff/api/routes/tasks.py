"""Acting on one's task: approve, reject, return, transfer, delegate, add or remove
approvers, take back, mark read. Task ids are `<instance id>.t<n>`."""

from __future__ import annotations

from fastapi import APIRouter, Response

from signoff.api.deps import CallerDep, IdempotencyDep, ServicesDep, VersionDep, instance_of_task
from signoff.api.models import (
    AddApproversBody,
    ApproveBody,
    CommentBody,
    OutcomeOut,
    PersonBody,
    ReturnBody,
)
from signoff.api.routes.instances import run_command
from signoff.domain.commands import (
    AddApprovers,
    Approve,
    Command,
    Delegate,
    MarkRead,
    Reject,
    RemoveApprover,
    Return,
    TakeBack,
    Transfer,
)

router = APIRouter(tags=["tasks"])


def _run(
    svc: ServicesDep,
    who: CallerDep,
    task_id: str,
    command: Command,
    version: int | None,
    key: str | None,
    response: Response,
) -> OutcomeOut:
    return run_command(svc, who, instance_of_task(task_id), command, version, key, response)


@router.post("/tasks/{task_id}/approve", response_model=OutcomeOut, summary="Approve")
def approve(
    task_id: str,
    body: ApproveBody,
    who: CallerDep,
    svc: ServicesDep,
    version: VersionDep,
    key: IdempotencyDep,
    response: Response,
) -> OutcomeOut:
    """Approve, optionally editing the fields this node may write and choosing the next
    node's approvers when that node is chosen by the previous approver."""
    command = Approve(
        actor=who.require_person(),
        task_id=task_id,
        comment=body.comment,
        edits=body.edits,
        choices={k: tuple(v) for k, v in body.choices.items()},
    )
    return _run(svc, who, task_id, command, version, key, response)


@router.post("/tasks/{task_id}/reject", response_model=OutcomeOut, summary="Reject")
def reject(
    task_id: str,
    body: CommentBody,
    who: CallerDep,
    svc: ServicesDep,
    version: VersionDep,
    key: IdempotencyDep,
    response: Response,
) -> OutcomeOut:
    command = Reject(actor=who.require_person(), task_id=task_id, comment=body.comment)
    return _run(svc, who, task_id, command, version, key, response)


@router.post("/tasks/{task_id}/return", response_model=OutcomeOut, summary="Send back")
def return_(
    task_id: str,
    body: ReturnBody,
    who: CallerDep,
    svc: ServicesDep,
    version: VersionDep,
    key: IdempotencyDep,
    response: Response,
) -> OutcomeOut:
    """Send back to the applicant (no `to_node`) or to an earlier approved node."""
    command = Return(
        actor=who.require_person(), task_id=task_id, to_node=body.to_node, comment=body.comment
    )
    return _run(svc, who, task_id, command, version, key, response)


@router.post("/tasks/{task_id}/transfer", response_model=OutcomeOut, summary="Transfer (转办)")
def transfer(
    task_id: str,
    body: PersonBody,
    who: CallerDep,
    svc: ServicesDep,
    version: VersionDep,
    key: IdempotencyDep,
    response: Response,
) -> OutcomeOut:
    command = Transfer(
        actor=who.require_person(), task_id=task_id, to=body.to, comment=body.comment
    )
    return _run(svc, who, task_id, command, version, key, response)


@router.post("/tasks/{task_id}/delegate", response_model=OutcomeOut, summary="Delegate (委派)")
def delegate(
    task_id: str,
    body: PersonBody,
    who: CallerDep,
    svc: ServicesDep,
    version: VersionDep,
    key: IdempotencyDep,
    response: Response,
) -> OutcomeOut:
    command = Delegate(
        actor=who.require_person(), task_id=task_id, to=body.to, comment=body.comment
    )
    return _run(svc, who, task_id, command, version, key, response)


@router.post(
    "/tasks/{task_id}/add-approvers", response_model=OutcomeOut, summary="Add approvers (加签)"
)
def add_approvers(
    task_id: str,
    body: AddApproversBody,
    who: CallerDep,
    svc: ServicesDep,
    version: VersionDep,
    key: IdempotencyDep,
    response: Response,
) -> OutcomeOut:
    command = AddApprovers(
        actor=who.require_person(),
        task_id=task_id,
        people=tuple(body.people),
        before=body.position == "before",
        comment=body.comment,
    )
    return _run(svc, who, task_id, command, version, key, response)


@router.post(
    "/tasks/{task_id}/remove", response_model=OutcomeOut, summary="Remove an added approver (减签)"
)
def remove(
    task_id: str,
    body: CommentBody,
    who: CallerDep,
    svc: ServicesDep,
    version: VersionDep,
    key: IdempotencyDep,
    response: Response,
) -> OutcomeOut:
    command = RemoveApprover(actor=who.require_person(), task_id=task_id, comment=body.comment)
    return _run(svc, who, task_id, command, version, key, response)


@router.post("/tasks/{task_id}/take-back", response_model=OutcomeOut, summary="Take back (拿回)")
def take_back(
    task_id: str,
    body: CommentBody,
    who: CallerDep,
    svc: ServicesDep,
    version: VersionDep,
    key: IdempotencyDep,
    response: Response,
) -> OutcomeOut:
    command = TakeBack(actor=who.require_person(), task_id=task_id, comment=body.comment)
    return _run(svc, who, task_id, command, version, key, response)


@router.post("/tasks/{task_id}/read", response_model=OutcomeOut, summary="Mark as read")
def mark_read(
    task_id: str,
    who: CallerDep,
    svc: ServicesDep,
    key: IdempotencyDep,
    response: Response,
) -> OutcomeOut:
    command = MarkRead(actor=who.require_person(), task_id=task_id)
    return _run(svc, who, task_id, command, None, key, response)
