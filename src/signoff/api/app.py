"""The FastAPI application: `create_app(settings)` wires everything once."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from signoff import __version__
from signoff.api import errors
from signoff.api.models import Problem
from signoff.api.observability import Metrics, Observability, configure_logging
from signoff.api.ratelimit import SlidingWindow
from signoff.api.routes import (
    apps,
    auth,
    calendar,
    delegations,
    directory,
    documents,
    inbox,
    instances,
    ops,
    tasks,
    templates,
    web,
    webhooks,
    wecom,
    ws,
)
from signoff.bootstrap import Services, build
from signoff.documents.generator import generate_documents_once
from signoff.events.dispatcher import Dispatcher
from signoff.events.fanout import signal_for
from signoff.events.hub import Hub
from signoff.settings import Settings, load_settings

_PROBLEMS = {
    status: {
        "description": errors.TITLES[status],
        "content": {errors.PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    for status in (400, 401, 403, 404, 409, 413, 422, 429)
}


def _document_problem(app: FastAPI) -> None:
    """The error responses refer to the Problem schema: put it in the document."""
    build_schema = app.openapi

    def openapi() -> dict[str, object]:
        if app.openapi_schema is None:
            schema = build_schema()
            components = schema.setdefault("components", {})
            schemas = components.setdefault("schemas", {})
            schemas.setdefault(
                "Problem", Problem.model_json_schema(ref_template="#/components/schemas/{model}")
            )
        return app.openapi_schema or schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend it


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    settings = settings or (services.settings if services else load_settings())
    services = services or build(settings)
    configure_logging(settings.log_level)
    hub = Hub(services.db)
    dispatcher = Dispatcher(
        services.db,
        services.clock,
        settings,
        hub,
        signal_for(services.db.url, settings.redis_url),
        steps=[lambda: generate_documents_once(services.db, services.clock)],
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        """The WebSocket hub's fan-out, and (unless SIGNOFF_WORKER=false) the dispatcher."""
        await dispatcher.start(work=settings.worker)
        try:
            yield
        finally:
            await dispatcher.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="Signoff",
        version=__version__,
        description="The approval center's API. Errors are RFC 9457 problem details "
        "with a stable `code`. See docs/api.md.",
        responses=_PROBLEMS,  # type: ignore[arg-type]  # status codes as keys
    )
    app.state.services = services
    app.state.hub = hub
    app.state.dispatcher = dispatcher
    app.state.metrics = metrics = Metrics()
    services.observe_action = lambda name, outcome: metrics.actions.labels(name, outcome).inc()
    app.state.login_limiter = SlidingWindow(settings.login_attempts_per_minute)
    errors.install(app)
    api = APIRouter(prefix="/api/v1")
    for module in (
        auth,
        templates,
        instances,
        tasks,
        inbox,
        directory,
        apps,
        webhooks,
        calendar,
        delegations,
        documents,
        wecom,
    ):
        api.include_router(module.router)
    app.include_router(api)
    app.include_router(wecom.callbacks)
    app.include_router(ops.router)
    app.include_router(ws.router)
    web.install(app)
    _document_problem(app)
    app.add_middleware(
        Observability,
        metrics=app.state.metrics,
        max_body=settings.max_body_bytes,
        # a Word template (and a multipart envelope around it) may be larger than a request
        uploads=(
            re.compile(r"/api/v1/templates/[^/]+/document"),
            settings.max_document_bytes + 65536,
        ),
    )
    return app
