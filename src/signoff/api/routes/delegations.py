"""Out of office (代理): new tasks of a person go to a delegate for a date range.

The delegate's task says on whose behalf it is; the absent person still sees the request
and may still act on it. Tasks created before the delegation starts stay where they are.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from signoff.api.deps import CallerDep, ServicesDep
from signoff.api.models import Body
from signoff.domain.directory import Delegation
from signoff.domain.errors import CommandInvalid, Forbidden, NotFound, Problem, UnknownTemplate
from signoff.service.ids import new_id

router = APIRouter(tags=["delegations"])


class UnknownDelegation(NotFound):
    code = "unknown_delegation"


class NotYourDelegation(Forbidden):
    code = "not_your_delegation"


class DelegationBody(Body):
    delegate_id: str = Field(min_length=1, max_length=64)
    starts_at: datetime
    ends_at: datetime
    template_keys: list[str] | None = Field(
        None, max_length=100, description="only these templates; null: every template"
    )
    principal_id: str | None = Field(
        None, max_length=64, description="whose tasks (administrators only; default: yours)"
    )


class DelegationOut(BaseModel):
    id: str
    principal_id: str
    delegate_id: str
    template_keys: list[str] | None
    starts_at: datetime
    ends_at: datetime


def _out(d: Delegation) -> DelegationOut:
    keys = list(d.template_keys) if d.template_keys is not None else None
    return DelegationOut(
        id=d.id,
        principal_id=d.principal_id,
        delegate_id=d.delegate_id,
        template_keys=keys,
        starts_at=d.starts_at,
        ends_at=d.ends_at,
    )


@router.post("/delegations", status_code=201, response_model=DelegationOut, summary="Delegate")
def create(
    body: DelegationBody, who: CallerDep, svc: ServicesDep, response: Response
) -> DelegationOut:
    me = who.principal_id
    owner = body.principal_id or me
    if owner is None:
        raise CommandInvalid("an app must name principal_id")
    if owner != me:
        who.require_admin()
    problems = []
    if body.starts_at.tzinfo is None or body.ends_at.tzinfo is None:
        problems.append(Problem("starts_at", "type", "give times with a time zone"))
    elif body.ends_at <= body.starts_at:
        problems.append(Problem("ends_at", "min", "must be after starts_at"))
    if body.delegate_id == owner:
        problems.append(Problem("delegate_id", "not_self", "delegate to someone else"))
    with svc.uow() as uow:
        delegate = uow.directory.principal(body.delegate_id)
        if delegate is None or not delegate.active:
            problems.append(Problem("delegate_id", "unknown", f"no active {body.delegate_id!r}"))
        if uow.directory.principal(owner) is None:
            problems.append(Problem("principal_id", "unknown", f"no person {owner!r}"))
        for i, key in enumerate(body.template_keys or ()):
            try:
                uow.templates.get(key)
            except UnknownTemplate:
                problems.append(Problem(f"template_keys[{i}]", "unknown", f"no template {key!r}"))
        if problems:
            raise CommandInvalid("the delegation cannot be made", problems=problems)
        keys = tuple(body.template_keys) if body.template_keys is not None else None
        delegation = Delegation(
            new_id(), owner, body.delegate_id, keys, body.starts_at, body.ends_at
        )
        uow.delegations.add(delegation, svc.clock.now())
        uow.commit()
    response.headers["Location"] = f"/api/v1/delegations/{delegation.id}"
    return _out(delegation)


@router.get("/delegations", response_model=list[DelegationOut], summary="My delegations")
def mine(who: CallerDep, svc: ServicesDep) -> list[DelegationOut]:
    """Given and received, not yet ended."""
    if who.principal_id is None:
        return []
    with svc.uow() as uow:
        return [_out(d) for d in uow.delegations.involving(who.principal_id, svc.clock.now())]


@router.delete("/delegations/{delegation_id}", status_code=204, summary="End a delegation")
def revoke(delegation_id: str, who: CallerDep, svc: ServicesDep) -> Response:
    with svc.uow() as uow:
        found = uow.delegations.get(delegation_id)
        if found is None:
            raise UnknownDelegation(f"no delegation {delegation_id!r}", id=delegation_id)
        if found.principal_id != who.principal_id and not who.is_admin:
            raise NotYourDelegation("only its owner or an administrator ends a delegation")
        uow.delegations.revoke(delegation_id, svc.clock.now())
        uow.commit()
    return Response(status_code=204)
