"""The directory: people, departments, roles, positions (read by everyone signed in, for
pickers); import and hand-over (administrators)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from signoff.api.commands import outcome_out
from signoff.api.deps import CallerDep, ServicesDep
from signoff.api.errors import problem_body
from signoff.api.models import HandOverBody, HandOverOut, ImportOut, Problem
from signoff.domain.directory import Identity
from signoff.domain.errors import CommandInvalid, SignoffError, UnknownPrincipal
from signoff.service.commands import Outcome, hand_over
from signoff.service.directory_import import import_directory

router = APIRouter(tags=["directory"])


@router.get("/directory/principals", summary="People (search by name or id)")
def principals(
    who: CallerDep,
    svc: ServicesDep,
    q: Annotated[str | None, Query(max_length=100)] = None,
    department: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[dict[str, Any]]:
    with svc.uow() as uow:
        return uow.queries.principals(q, department, limit)


@router.get("/directory/principals/{principal_id}", summary="One person")
def principal(principal_id: str, who: CallerDep, svc: ServicesDep) -> dict[str, Any]:
    with svc.uow() as uow:
        person = uow.directory.principal(principal_id)
    if person is None:
        raise UnknownPrincipal(f"no principal {principal_id!r}", principal_id=principal_id)
    out: dict[str, Any] = {
        "id": person.id,
        "name": person.name,
        "department_id": person.department_id,
        "roles": sorted(person.roles),
        "position": person.position,
        "active": person.active,
    }
    if who.is_admin:
        out["email"] = person.email
        out["identities"] = list(person.identities)
    return out


@router.get("/directory/departments", summary="Departments (a tree by parent_id)")
def departments(who: CallerDep, svc: ServicesDep) -> list[dict[str, Any]]:
    with svc.uow() as uow:
        return uow.queries.departments()


@router.get("/directory/roles", summary="Roles and how many people hold each")
def roles(who: CallerDep, svc: ServicesDep) -> list[dict[str, Any]]:
    with svc.uow() as uow:
        return uow.queries.roles()


@router.get("/directory/positions", summary="Positions and how many people hold each")
def positions(who: CallerDep, svc: ServicesDep) -> list[dict[str, Any]]:
    with svc.uow() as uow:
        return uow.queries.positions()


@router.get("/directory/identities/{identity}", summary="Whose is an external identity")
def identity(identity: str, who: CallerDep, svc: ServicesDep) -> dict[str, str]:
    who.require_admin()
    key = str(Identity.parse(identity))
    with svc.uow() as uow:
        owner = uow.directory.by_identity(key)
    if owner is None:
        raise UnknownPrincipal(f"nobody has identity {key}", identity=key)
    return {"identity": key, "principal_id": owner}


@router.post(
    "/directory/import",
    response_model=ImportOut,
    summary="Import departments and people (JSON or CSV)",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "text/csv": {"schema": {"type": "string"}},
            }
        }
    },
)
async def import_(
    request: Request,
    who: CallerDep,
    svc: ServicesDep,
) -> ImportOut:
    """JSON `{departments: [...], principals: [...]}`, or a CSV file (Content-Type
    text/csv). Nothing is written when any row is rejected: the answer is a 422 problem
    (`import_rejected`) listing every rejected row in `errors`."""
    who.require_admin()
    raw = await request.body()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CommandInvalid("the file is not UTF-8 text") from error
    media = request.headers.get("content-type", "application/json").split(";")[0].strip()
    name = "upload.csv" if media == "text/csv" else "upload.json"
    report = await run_in_threadpool(import_directory, svc.uow(), (name, text))
    if not report.applied:
        raise report.error()
    return ImportOut(
        applied=report.applied,
        departments=report.departments,
        principals=report.principals,
        rejected=[
            {"line": r.line, "kind": r.kind, "id": r.id, "problem": r.problem}
            for r in report.rejected
        ],
    )


@router.post(
    "/directory/hand-over",
    response_model=HandOverOut,
    summary="Give every open task of someone who left to someone else",
)
def hand_over_tasks(body: HandOverBody, who: CallerDep, svc: ServicesDep) -> HandOverOut:
    """One transaction per instance; an instance where the successor already holds a task
    on the same node is listed under `failed` and left for a person to sort out."""
    who.require_admin()
    results = hand_over(
        svc.uow, svc.clock, actor=who.require_person(), from_person=body.from_person, to=body.to
    )
    return HandOverOut(
        moved=[outcome_out(r) for r in results if isinstance(r, Outcome)],
        failed=[Problem(**problem_body(r)) for r in results if isinstance(r, SignoffError)],
    )
