"""Operations: liveness, readiness (the database answers) and Prometheus metrics."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from signoff.api.deps import ServicesDep
from signoff.store.migrate import current, head

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="The process is up")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz", summary="The database answers", responses={503: {"description": "not ready"}}
)
def readyz(svc: ServicesDep, response: Response) -> dict[str, str]:
    try:
        revision = current(svc.db)
    except sa.exc.SQLAlchemyError as error:
        response.status_code = 503
        return {"status": "unavailable", "database": type(error).__name__}
    if revision != head():
        response.status_code = 503
        return {"status": "unavailable", "database": "schema not upgraded: run signoff db upgrade"}
    return {"status": "ok", "database": svc.db.dialect}


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(request: Request, svc: ServicesDep) -> Response:
    registry = request.app.state.metrics
    with svc.uow() as uow:
        registry.pending_total.set(uow.queries.pending_total())
    return Response(generate_latest(registry.registry), media_type=CONTENT_TYPE_LATEST)
