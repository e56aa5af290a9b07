"""Acting on one's task: approve, reject, return, transfer, delegate, add or remove
approvers, take back, mark read. Task ids are `<instance id>.t<n>`."""

from __future__ import annotations

from fastapi import APIRouter

from signoff.api.commands import CommandDep, choices
from signoff.api.deps import instance_of_task
from signoff.api.models import (
    AddApproversBody,
    ApproveBody,
    CommentBody,
    OutcomeOut,
    PersonBody,
    ReturnBody,
)
from signoff.domain.commands import (
    AddApprovers,
    Approve,
    Delegate,
    MarkRead,
    Reject,
    RemoveApprover,
    Return,
    TakeBack,
    Transfer,
)

router = APIRouter(tags=["tasks"])


@router.post("/tasks/{task_id}/approve", response_model=OutcomeOut, summary="Approve")
def approve(task_id: str, body: ApproveBody, ctx: CommandDep) -> OutcomeOut:
    """Approve, optionally editing the fields this node may write and choosing the next
    node's approvers when that node is chosen by the previous approver."""
    command = Approve(
        actor=ctx.person,
        task_id=task_id,
        comment=body.comment,
        edits=body.edits,
        choices=choices(body.choices),
    )
    return ctx.run(instance_of_task(task_id), command)


@router.post("/tasks/{task_id}/reject", response_model=OutcomeOut, summary="Reject")
def reject(task_id: str, body: CommentBody, ctx: CommandDep) -> OutcomeOut:
    command = Reject(actor=ctx.person, task_id=task_id, comment=body.comment)
    return ctx.run(instance_of_task(task_id), command)


@router.post("/tasks/{task_id}/return", response_model=OutcomeOut, summary="Send back")
def return_(task_id: str, body: ReturnBody, ctx: CommandDep) -> OutcomeOut:
    """Send back to the applicant (no `to_node`) or to an earlier approved node."""
    command = Return(actor=ctx.person, task_id=task_id, to_node=body.to_node, comment=body.comment)
    return ctx.run(instance_of_task(task_id), command)


@router.post("/tasks/{task_id}/transfer", response_model=OutcomeOut, summary="Transfer (转办)")
def transfer(task_id: str, body: PersonBody, ctx: CommandDep) -> OutcomeOut:
    command = Transfer(actor=ctx.person, task_id=task_id, to=body.to, comment=body.comment)
    return ctx.run(instance_of_task(task_id), command)


@router.post("/tasks/{task_id}/delegate", response_model=OutcomeOut, summary="Delegate (委派)")
def delegate(task_id: str, body: PersonBody, ctx: CommandDep) -> OutcomeOut:
    command = Delegate(actor=ctx.person, task_id=task_id, to=body.to, comment=body.comment)
    return ctx.run(instance_of_task(task_id), command)


@router.post(
    "/tasks/{task_id}/add-approvers", response_model=OutcomeOut, summary="Add approvers (加签)"
)
def add_approvers(task_id: str, body: AddApproversBody, ctx: CommandDep) -> OutcomeOut:
    command = AddApprovers(
        actor=ctx.person,
        task_id=task_id,
        people=tuple(body.people),
        before=body.position == "before",
        comment=body.comment,
    )
    return ctx.run(instance_of_task(task_id), command)


@router.post(
    "/tasks/{task_id}/remove", response_model=OutcomeOut, summary="Remove an added approver (减签)"
)
def remove(task_id: str, body: CommentBody, ctx: CommandDep) -> OutcomeOut:
    command = RemoveApprover(actor=ctx.person, task_id=task_id, comment=body.comment)
    return ctx.run(instance_of_task(task_id), command)


@router.post("/tasks/{task_id}/take-back", response_model=OutcomeOut, summary="Take back (拿回)")
def take_back(task_id: str, body: CommentBody, ctx: CommandDep) -> OutcomeOut:
    command = TakeBack(actor=ctx.person, task_id=task_id, comment=body.comment)
    return ctx.run(instance_of_task(task_id), command)


@router.post("/tasks/{task_id}/read", response_model=OutcomeOut, summary="Mark as read")
def mark_read(task_id: str, ctx: CommandDep) -> OutcomeOut:
    return ctx.run(instance_of_task(task_id), MarkRead(actor=ctx.person, task_id=task_id))
