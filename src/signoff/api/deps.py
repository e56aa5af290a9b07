"""Dependencies shared by the routers: the wired services, the caller, request headers."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from signoff.bootstrap import Services
from signoff.domain.errors import CommandInvalid, UnknownTask
from signoff.service.auth import API_KEY_PREFIX, Caller, NotAuthenticated, app_caller

bearer = HTTPBearer(auto_error=False, description="an access token or an app's API key")
ETAG = re.compile(r'^(?:W/)?"?v?(\d{1,9})"?$')


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


ServicesDep = Annotated[Services, Depends(services)]


def caller(
    request: Request,
    svc: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    if credentials is None or not credentials.credentials:
        raise NotAuthenticated("sign in first: send Authorization: Bearer <access token>")
    token = credentials.credentials
    if token.startswith(API_KEY_PREFIX):
        who = app_caller(svc.uow(), token)
    else:
        who = svc.issuer.read_access_token(token, svc.clock.now())
    request.state.caller = who.name
    return who


CallerDep = Annotated[Caller, Depends(caller)]


def idempotency_key(
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            max_length=200,
            description="retries with the same key return the first result and change nothing",
        ),
    ] = None,
) -> str | None:
    return key


IdempotencyDep = Annotated[str | None, Depends(idempotency_key)]


def expected_version(
    if_match: Annotated[
        str | None,
        Header(
            alias="If-Match",
            max_length=40,
            description='the instance version (ETag) you saw, e.g. "7"; refused with 409 if stale',
        ),
    ] = None,
) -> int | None:
    if if_match is None or if_match.strip() == "*":
        return None
    match = ETAG.match(if_match.strip())
    if match is None:
        raise CommandInvalid(f'If-Match {if_match!r} is not an instance version such as "7"')
    return int(match[1])


VersionDep = Annotated[int | None, Depends(expected_version)]


def instance_of_task(task_id: str) -> str:
    """Task ids are `<instance id>.t<n>`."""
    instance_id, sep, number = task_id.rpartition(".t")
    if not sep or not instance_id or not number.isdigit():
        raise UnknownTask(f"no task {task_id!r}", task_id=task_id)
    return instance_id
