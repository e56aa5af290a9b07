"""Webhook endpoints of apps, and the deliveries list with dead letters (administrators)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from signoff.api.deps import CallerDep, ServicesDep
from signoff.api.models import (
    DeliveryOut,
    ReplayBody,
    ReplayOut,
    RotateBody,
    WebhookBody,
    WebhookOut,
    WebhookSecretOut,
)
from signoff.domain.errors import CommandInvalid, NotFound, Problem
from signoff.domain.notices import TYPES
from signoff.events.webhooks import new_secret
from signoff.service.auth import UnknownApp
from signoff.service.ids import new_id
from signoff.store.uow import SqlUnitOfWork
from signoff.store.webhooks import Endpoint

router = APIRouter(tags=["events"])


class UnknownWebhook(NotFound):
    code = "unknown_webhook"


def _out(e: Endpoint) -> WebhookOut:
    return WebhookOut(
        id=e.id,
        app_id=e.app_id,
        url=e.url,
        event_types=e.event_types,
        description=e.description,
        created_at=e.created_at,
        disabled_at=e.disabled_at,
    )


def _app(uow: SqlUnitOfWork, app_id: str) -> None:
    if uow.accounts.get_app(app_id) is None:
        raise UnknownApp(f"no app {app_id!r}", app_id=app_id)


def _endpoint(uow: SqlUnitOfWork, app_id: str, endpoint_id: str) -> Endpoint:
    _app(uow, app_id)
    found = uow.webhooks.get(app_id, endpoint_id)
    if found is None:
        raise UnknownWebhook(f"app {app_id!r} has no webhook {endpoint_id!r}", id=endpoint_id)
    return found


@router.get("/events/types", summary="The notice types events and webhooks carry")
def event_types() -> dict[str, str]:
    return {f"signoff.{name}": meaning for name, meaning in TYPES.items()}


@router.post(
    "/apps/{app_id}/webhooks",
    status_code=201,
    response_model=WebhookSecretOut,
    summary="Register a webhook endpoint",
)
def create(
    app_id: str, body: WebhookBody, who: CallerDep, svc: ServicesDep, response: Response
) -> WebhookSecretOut:
    """The signing secret is in this answer only."""
    who.require_admin()
    types = [t.removeprefix("signoff.") for t in body.event_types]
    unknown = [
        Problem(f"event_types[{i}]", "enum", f"no event type {t!r}")
        for i, t in enumerate(types)
        if t != "*" and t not in TYPES
    ]
    if unknown:
        raise CommandInvalid("unknown event types", problems=unknown)
    secret = new_secret()
    endpoint = Endpoint(
        new_id(),
        app_id,
        body.url,
        sorted(set(types)),
        body.description,
        svc.clock.now(),
        None,
        [{"secret": secret, "expires_at": None}],
    )
    with svc.uow() as uow:
        _app(uow, app_id)
        uow.webhooks.add(endpoint)
        uow.commit()
    response.headers["Location"] = f"/api/v1/apps/{app_id}/webhooks/{endpoint.id}"
    return WebhookSecretOut(**_out(endpoint).model_dump(), secret=secret)


@router.get("/apps/{app_id}/webhooks", response_model=list[WebhookOut], summary="An app's webhooks")
def list_endpoints(app_id: str, who: CallerDep, svc: ServicesDep) -> list[WebhookOut]:
    who.require_admin()
    with svc.uow() as uow:
        _app(uow, app_id)
        return [_out(e) for e in uow.webhooks.of_app(app_id)]


@router.delete(
    "/apps/{app_id}/webhooks/{endpoint_id}",
    response_model=WebhookOut,
    summary="Stop a webhook endpoint",
)
def disable(app_id: str, endpoint_id: str, who: CallerDep, svc: ServicesDep) -> WebhookOut:
    who.require_admin()
    with svc.uow() as uow:
        _endpoint(uow, app_id, endpoint_id)
        uow.webhooks.disable(endpoint_id, svc.clock.now())
        found = _endpoint(uow, app_id, endpoint_id)
        uow.commit()
    return _out(found)


@router.post(
    "/apps/{app_id}/webhooks/{endpoint_id}/rotate",
    response_model=WebhookSecretOut,
    summary="Rotate a webhook's signing secret",
)
def rotate(
    app_id: str, endpoint_id: str, body: RotateBody, who: CallerDep, svc: ServicesDep
) -> WebhookSecretOut:
    """Deliveries are signed with the new secret and, for `keep_old_minutes`, the old ones."""
    who.require_admin()
    secret = new_secret()
    with svc.uow() as uow:
        found = _endpoint(uow, app_id, endpoint_id)
        uow.webhooks.rotate(
            found, secret, svc.clock.now(), timedelta(minutes=body.keep_old_minutes)
        )
        uow.commit()
    return WebhookSecretOut(**_out(found).model_dump(), secret=secret)


@router.get("/deliveries", response_model=list[DeliveryOut], summary="Deliveries (dead letters)")
def list_deliveries(
    who: CallerDep,
    svc: ServicesDep,
    status: Literal["pending", "delivered", "dead"] | None = None,
    sink: Literal["webhook", "nats", "mail"] | None = None,
    before: Annotated[
        int | None, Query(ge=1, le=2**63 - 1, description="page: ids below this")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[DeliveryOut]:
    """Newest first. `status=dead`: what ran out of retries and waits for a replay."""
    who.require_admin()
    with svc.uow() as uow:
        rows = uow.webhooks.deliveries(status, sink, before, limit)
    return [DeliveryOut.model_validate(r, from_attributes=True) for r in rows]


@router.post("/deliveries/replay", response_model=ReplayOut, summary="Replay dead deliveries")
def replay(body: ReplayBody, who: CallerDep, svc: ServicesDep) -> ReplayOut:
    """Dead deliveries among `ids` go out again with a fresh retry window; others are
    left alone (the count says how many were replayed)."""
    who.require_admin()
    with svc.uow() as uow:
        count = uow.webhooks.replay(body.ids, svc.clock.now())
        uow.commit()
    return ReplayOut(replayed=count)
