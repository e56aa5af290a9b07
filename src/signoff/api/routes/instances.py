"""Requests (instances): start, show, and the applicant's and participants' commands."""

from __future__ import annotations

from fastapi import APIRouter, Response

from signoff.api.commands import CommandDep, choices, counted, outcome_out
from signoff.api.deps import CallerDep, IdempotencyDep, ServicesDep
from signoff.api.models import (
    CcBody,
    CommentBody,
    FormBody,
    InstanceOut,
    OutcomeOut,
    StartBody,
    TextBody,
    TimelineOut,
    UrgeBody,
)
from signoff.domain.commands import (
    AddComment,
    Cc,
    Resubmit,
    SaveDraft,
    Submit,
    Terminate,
    Urge,
    Withdraw,
)
from signoff.service.commands import copy_request, start
from signoff.service.views import instance_view

router = APIRouter(tags=["instances"])


@router.post("/instances", status_code=201, response_model=OutcomeOut, summary="Submit a request")
def create(
    body: StartBody, who: CallerDep, svc: ServicesDep, key: IdempotencyDep, response: Response
) -> OutcomeOut:
    """Submit a new request (or save it as a draft with `draft: true`)."""
    with counted(svc, "SaveDraft" if body.draft else "Submit"):
        outcome = start(
            svc.uow,
            svc.clock,
            actor=who.require_person(),
            template_key=body.template_key,
            form=body.form,
            choices=choices(body.choices),
            submit=not body.draft,
            idempotency_key=key,
            hooks=svc.hooks,
        )
    response.headers["Location"] = f"/api/v1/instances/{outcome.instance_id}"
    response.headers["ETag"] = f'"{outcome.version}"'
    return outcome_out(outcome)


@router.get("/instances/{instance_id}", response_model=InstanceOut, summary="Show a request")
def show(instance_id: str, who: CallerDep, svc: ServicesDep, response: Response) -> InstanceOut:
    """The request as you may see it: form (hidden fields removed), tasks, timeline, who
    must act now, and the actions open to you. 404 when it does not exist or you may not
    see it."""
    view = instance_view(svc.uow(), who, instance_id)
    response.headers["ETag"] = f'"{view.instance.version}"'
    return InstanceOut.model_validate(view.to_json())


@router.get(
    "/instances/{instance_id}/timeline",
    response_model=list[TimelineOut],
    summary="A request's timeline",
)
def show_timeline(instance_id: str, who: CallerDep, svc: ServicesDep) -> list[TimelineOut]:
    view = instance_view(svc.uow(), who, instance_id)
    return [TimelineOut.model_validate(e) for e in view.to_json()["timeline"]]


@router.put("/instances/{instance_id}/draft", response_model=OutcomeOut, summary="Save a draft")
def save_draft(instance_id: str, body: FormBody, ctx: CommandDep) -> OutcomeOut:
    return ctx.run(instance_id, SaveDraft(actor=ctx.person, form=body.form))


@router.post("/instances/{instance_id}/submit", response_model=OutcomeOut, summary="Submit a draft")
def submit_draft(instance_id: str, body: FormBody, ctx: CommandDep) -> OutcomeOut:
    """Submit a saved draft: with the values given, or, with none, those the draft holds."""
    command = Submit(actor=ctx.person, form=body.form, serial="", choices=choices(body.choices))
    return ctx.run(instance_id, command)


@router.post(
    "/instances/{instance_id}/resubmit",
    response_model=OutcomeOut,
    summary="Resubmit a returned request",
)
def resubmit(instance_id: str, body: FormBody, ctx: CommandDep) -> OutcomeOut:
    command = Resubmit(actor=ctx.person, form=body.form, choices=choices(body.choices))
    return ctx.run(instance_id, command)


@router.post("/instances/{instance_id}/withdraw", response_model=OutcomeOut, summary="Withdraw")
def withdraw(instance_id: str, body: CommentBody, ctx: CommandDep) -> OutcomeOut:
    return ctx.run(instance_id, Withdraw(actor=ctx.person, comment=body.comment))


@router.post(
    "/instances/{instance_id}/terminate",
    response_model=OutcomeOut,
    summary="End a running request (template admins)",
)
def terminate(instance_id: str, body: CommentBody, ctx: CommandDep) -> OutcomeOut:
    return ctx.run(instance_id, Terminate(actor=ctx.person, comment=body.comment))


@router.post("/instances/{instance_id}/urge", response_model=OutcomeOut, summary="Urge (催办)")
def urge(instance_id: str, body: UrgeBody, ctx: CommandDep) -> OutcomeOut:
    command = Urge(actor=ctx.person, task_ids=tuple(body.task_ids), comment=body.comment)
    return ctx.run(instance_id, command)


@router.post(
    "/instances/{instance_id}/comments", response_model=OutcomeOut, summary="Add a comment"
)
def comment(instance_id: str, body: TextBody, ctx: CommandDep) -> OutcomeOut:
    return ctx.run(instance_id, AddComment(actor=ctx.person, text=body.text))


@router.post("/instances/{instance_id}/cc", response_model=OutcomeOut, summary="CC people")
def cc(instance_id: str, body: CcBody, ctx: CommandDep) -> OutcomeOut:
    command = Cc(actor=ctx.person, people=tuple(body.people), comment=body.comment)
    return ctx.run(instance_id, command)


@router.post(
    "/instances/{instance_id}/copy",
    status_code=201,
    response_model=OutcomeOut,
    summary="Copy a finished request into a new draft",
)
def copy(instance_id: str, who: CallerDep, svc: ServicesDep, response: Response) -> OutcomeOut:
    with counted(svc, "Copy"):
        outcome = copy_request(
            svc.uow(), svc.clock, actor=who.require_person(), instance_id=instance_id, viewer=who
        )
    response.headers["Location"] = f"/api/v1/instances/{outcome.instance_id}"
    return outcome_out(outcome)
