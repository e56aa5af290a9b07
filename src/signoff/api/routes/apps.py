"""Apps: business systems that integrate through API keys (administrators)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from signoff.api.deps import CallerDep, ServicesDep
from signoff.api.models import AppBody, AppCreatedOut, AppOut
from signoff.service.auth import UnknownApp, create_app
from signoff.service.ports import App

router = APIRouter(tags=["apps"])


def _out(app: App) -> AppOut:
    return AppOut(
        id=app.id,
        name=app.name,
        key_prefix=app.key_prefix,
        created_at=app.created_at,
        revoked_at=app.revoked_at,
        templates=sorted(app.templates),
        acts_as=app.acts_as,
    )


@router.post("/apps", status_code=201, response_model=AppCreatedOut, summary="Create an app")
def create(body: AppBody, who: CallerDep, svc: ServicesDep, response: Response) -> AppCreatedOut:
    """The API key is in this answer only; store it now."""
    who.require_admin()
    app, key = create_app(svc.uow(), svc.clock, body.name, tuple(body.templates), body.acts_as)
    response.headers["Location"] = f"/api/v1/apps/{app.id}"
    return AppCreatedOut(**_out(app).model_dump(), api_key=key)


@router.get("/apps", response_model=list[AppOut], summary="Apps")
def list_apps(who: CallerDep, svc: ServicesDep) -> list[AppOut]:
    who.require_admin()
    with svc.uow() as uow:
        return [_out(a) for a in uow.accounts.list_apps()]


@router.get("/apps/{app_id}", response_model=AppOut, summary="An app")
def show(app_id: str, who: CallerDep, svc: ServicesDep) -> AppOut:
    who.require_admin()
    with svc.uow() as uow:
        app = uow.accounts.get_app(app_id)
    if app is None:
        raise UnknownApp(f"no app {app_id!r}", app_id=app_id)
    return _out(app)


@router.delete("/apps/{app_id}", response_model=AppOut, summary="Revoke an app's API key")
def revoke(app_id: str, who: CallerDep, svc: ServicesDep) -> AppOut:
    who.require_admin()
    with svc.uow() as uow:
        if (
            not uow.accounts.revoke_app(app_id, svc.clock.now())
            and uow.accounts.get_app(app_id) is None
        ):
            raise UnknownApp(f"no app {app_id!r}", app_id=app_id)
        app = uow.accounts.get_app(app_id)
        uow.commit()
    assert app is not None  # noqa: S101  # checked above
    return _out(app)
