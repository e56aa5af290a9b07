"""Requests (instances): start, show, and the applicant's and participants' commands."""

from __future__ import annotations

from fastapi import APIRouter, Response

from signoff.api.deps import CallerDep, IdempotencyDep, ServicesDep, VersionDep
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
    Command,
    Resubmit,
    SaveDraft,
    Submit,
    Terminate,
    Urge,
    Withdraw,
)
from signoff.domain.errors import SignoffError
from signoff.service.commands import Outcome, act, copy_request, start
from signoff.service.views import instance_view

router = APIRouter(tags=["instances"])


def outcome_out(outcome: Outcome) -> OutcomeOut:
    return OutcomeOut(
        instance_id=outcome.instance_id,
        version=outcome.version,
        status=outcome.status,
        events=list(outcome.events),
        pending=[{"task_id": t, "assignee": a, "node_id": n} for t, a, n in outcome.pending],
    )


def _choices(raw: dict[str, list[str]]) -> dict[str, tuple[str, ...]]:
    return {k: tuple(v) for k, v in raw.items()}


def _etag(response: Response, version: int) -> None:
    response.headers["ETag"] = f'"{version}"'


@router.post("/instances", status_code=201, response_model=OutcomeOut, summary="Submit a request")
def create(
    body: StartBody, who: CallerDep, svc: ServicesDep, key: IdempotencyDep, response: Response
) -> OutcomeOut:
    """Submit a new request (or save it as a draft with `draft: true`)."""
    name = "SaveDraft" if body.draft else "Submit"
    try:
        outcome = start(
            svc.uow,
            svc.clock,
            actor=who.require_person(),
            template_key=body.template_key,
            form=body.form,
            choices=_choices(body.choices),
            submit=not body.draft,
            idempotency_key=key,
        )
    except SignoffError as error:
        svc.observe_action(name, error.code)
        raise
    svc.observe_action(name, "ok")
    response.headers["Location"] = f"/api/v1/instances/{outcome.instance_id}"
    _etag(response, outcome.version)
    return outcome_out(outcome)


@router.get("/instances/{instance_id}", response_model=InstanceOut, summary="Show a request")
def show(instance_id: str, who: CallerDep, svc: ServicesDep, response: Response) -> InstanceOut:
    """The request as you may see it: form (hidden fields removed), tasks, timeline, who
    must act now, and the actions open to you. 404 when it does not exist or you may not
    see it."""
    view = instance_view(svc.uow(), who, instance_id)
    _etag(response, view.instance.version)
    return InstanceOut.model_validate(view.to_json())


@router.get(
    "/instances/{instance_id}/timeline",
    response_model=list[TimelineOut],
    summary="A request's timeline",
)
def show_timeline(instance_id: str, who: CallerDep, svc: ServicesDep) -> list[TimelineOut]:
    view = instance_view(svc.uow(), who, instance_id)
    return [TimelineOut.model_validate(e) for e in view.to_json()["timeline"]]


def run_command(
    svc: ServicesDep,
    who: CallerDep,
    instance_id: str,
    command: Command,
    version: int | None,
    key: str | None,
    response: Response,
) -> OutcomeOut:
    """One command on one instance, as the caller sees it: counted in the metrics, the new
    version in the ETag. Task routes use it too."""
    try:
        outcome = act(
            svc.uow(),
            svc.clock,
            instance_id,
            command,
            expected_version=version,
            idempotency_key=key,
            viewer=who,
        )
    except SignoffError as error:
        svc.observe_action(type(command).__name__, error.code)
        raise
    svc.observe_action(type(command).__name__, "ok")
    _etag(response, outcome.version)
    return outcome_out(outcome)


@router.put("/instances/{instance_id}/draft", response_model=OutcomeOut, summary="Save a draft")
def save_draft(
    instance_id: str,
    body: FormBody,
    who: CallerDep,
    svc: ServicesDep,
    version: VersionDep,
    key: IdempotencyDep,
    response: Response,
) -> OutcomeOut:
    command = SaveDraft(actor=who.require_person(), form=body.form)
    return run_command(svc, who, instance_id, command, version, key, response)


@router.post("/instances/{instance_id}/submit", response_model=OutcomeOut, summary="Submit a draft")
def submit_draft(
    instance_id: str,
    body: FormBody,
    who: CallerDep,
    svc: ServicesDep,
    version: VersionDep,
    key: IdempotencyDep,
    response: Response,
) -> OutcomeOut:
    command = Submit(
        actor=who.require_person(), form=body.form, serial="", choices=_choices(body.choices)
    )
    return run_command(svc, who, instance_id, command, version, key, response)


@router.post(
    "/instances/{instance_id}/resubmit",
    response_model=OutcomeOut,
    summary="Resubmit a returned request",
)
def resubmit(
    instance_id: str,
    body: FormBody,
    who: CallerDep,
    svc: ServicesDep,
    version: VersionDep,
    key: IdempotencyDep,
    response: Response,
) -> OutcomeOut:
    command = Resubmit(actor=who.require_person(), form=body.form, choices=_choices(body.choices))
    return run_command(svc, who, instance_id, command, version, key, response)


@router.post("/instances/{instance_id}/withdraw", response_model=OutcomeOut, summary="Withdraw")
def withdraw(
    instance_id: str,
    body: CommentBody,
    who: CallerDep,
    svc: ServicesDep,
    version: VersionDep,
    key: IdempotencyDep,
    response: Response,
) -> OutcomeOut:
    command = Withdraw(actor=who.require_person(), comment=body.comment)
    return run_command(svc, who, instance_id, command, version, key, response)


@router.post(
    "/instances/{instance_id}/terminate",
    response_model=OutcomeOut,
    summary="End a running request (template admins)",
)
def terminate(
    instance_id: str,
    body: CommentBody,
    who: CallerDep,
    svc: ServicesDep,
    version: VersionDep,
    key: IdempotencyDep,
    response: Response,
) -> OutcomeOut:
    command = Terminate(actor=who.require_person(), comment=body.comment)
    return run_command(svc, who, instance_id, command, version, key, response)


@router.post("/instances/{instance_id}/urge", response_model=OutcomeOut, summary="Urge (催办)")
def urge(
    instance_id: str,
    body: UrgeBody,
    who: CallerDep,
    svc: ServicesDep,
    version: VersionDep,
    key: IdempotencyDep,
    response: Response,
) -> OutcomeOut:
    command = Urge(actor=who.require_person(), task_ids=tuple(body.task_ids), comment=body.comment)
    return run_command(svc, who, instance_id, command, version, key, response)


@router.post(
    "/instances/{instance_id}/comments", response_model=OutcomeOut, summary="Add a comment"
)
def comment(
    instance_id: str,
    body: TextBody,
    who: CallerDep,
    svc: ServicesDep,
    version: VersionDep,
    key: IdempotencyDep,
    response: Response,
) -> OutcomeOut:
    command = AddComment(actor=who.require_person(), text=body.text)
    return run_command(svc, who, instance_id, command, version, key, response)


@router.post("/instances/{instance_id}/cc", response_model=OutcomeOut, summary="CC people")
def cc(
    instance_id: str,
    body: CcBody,
    who: CallerDep,
    svc: ServicesDep,
    version: VersionDep,
    key: IdempotencyDep,
    response: Response,
) -> OutcomeOut:
    command = Cc(actor=who.require_person(), people=tuple(body.people), comment=body.comment)
    return run_command(svc, who, instance_id, command, version, key, response)


@router.post(
    "/instances/{instance_id}/copy",
    status_code=201,
    response_model=OutcomeOut,
    summary="Copy a finished request into a new draft",
)
def copy(instance_id: str, who: CallerDep, svc: ServicesDep, response: Response) -> OutcomeOut:
    try:
        outcome = copy_request(
            svc.uow(), svc.clock, actor=who.require_person(), instance_id=instance_id, viewer=who
        )
    except SignoffError as error:
        svc.observe_action("Copy", error.code)
        raise
    svc.observe_action("Copy", "ok")
    response.headers["Location"] = f"/api/v1/instances/{outcome.instance_id}"
    return outcome_out(outcome)
