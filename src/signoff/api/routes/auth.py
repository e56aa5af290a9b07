"""Sign-in: password -> access + refresh tokens; refresh; who am I."""

from __future__ import annotations

from fastapi import APIRouter, Request

from signoff.api.deps import CallerDep, ServicesDep
from signoff.api.models import LoginBody, MeOut, RefreshBody, TokensOut
from signoff.service.auth import Tokens, refresh, sign_in

router = APIRouter(tags=["sign-in"])


def _tokens(tokens: Tokens) -> TokensOut:
    return TokensOut(
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires_in=tokens.expires_in,
        principal_id=tokens.principal_id,
        is_admin=tokens.is_admin,
    )


@router.post("/auth/login", response_model=TokensOut, summary="Sign in with a password")
def login(body: LoginBody, request: Request, svc: ServicesDep) -> TokensOut:
    address = request.client.host if request.client else "unknown"
    request.app.state.login_limiter.hit(f"account:{body.principal_id}", f"address:{address}")
    return _tokens(sign_in(svc.uow(), svc.clock, svc.issuer, body.principal_id, body.password))


@router.post("/auth/refresh", response_model=TokensOut, summary="Trade a refresh token")
def refresh_tokens(body: RefreshBody, svc: ServicesDep) -> TokensOut:
    return _tokens(refresh(svc.uow(), svc.clock, svc.issuer, body.refresh_token))


@router.get("/me", response_model=MeOut, summary="Who is signed in, with inbox counts")
def me(who: CallerDep, svc: ServicesDep) -> MeOut:
    if who.app is not None:
        return MeOut(principal_id=None, name=who.app.name, is_admin=False, app_id=who.app.id)
    person_id = who.require_person()
    with svc.uow() as uow:
        person = uow.directory.principal(person_id)
        counts = uow.queries.counts(person_id)
    return MeOut(
        principal_id=person_id,
        name=person.name if person else person_id,
        department_id=person.department_id if person else None,
        roles=sorted(person.roles) if person else [],
        position=person.position if person else None,
        is_admin=who.is_admin,
        counts=counts,
    )
